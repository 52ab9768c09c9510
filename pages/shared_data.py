"""Read-only data shared by every session of the server: catalog layers, facility
completeness lines, the one coverage service and the saved workspace layers."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import streamlit as st

from geo.errors import AtlasError

if TYPE_CHECKING:
    from geo.service import CoverageService


@st.cache_resource(show_spinner=False, max_entries=32)
def _cached_layer(layer_id: str, version: tuple[str, float | None]):
    from geo.catalog import load_layer

    return load_layer(layer_id)


def layer_version(layer_id: str) -> tuple[str, float | None]:
    """(path, modification time) of a catalog layer's file: part of every cache key."""
    from geo.catalog import get_catalog

    path = get_catalog().layer(layer_id).path
    return str(path), (path.stat().st_mtime if path.exists() else None)


def cached_layer(layer_id: str):  # GeoDataFrame
    """A catalog layer, read once per file version and shared (read-only) by all sessions.

    GeoDataFrames are not hashable by ``st.cache_data``: this caches the object itself,
    keyed by layer id and file modification time. Failures raise ``AtlasError`` and are
    not cached, so a repaired file is picked up on the next run.
    """
    return _cached_layer(layer_id, layer_version(layer_id))


@st.cache_data(show_spinner=False, max_entries=16)
def _facility_summaries(lang: str, versions: tuple, register: tuple) -> list[str]:  # cache key
    from geo.completeness import province_summaries

    return province_summaries(lang)


def facility_summaries(lang: str) -> list[str]:
    """The province's facility completeness lines ("biết 1 trên 92 trạm y tế xã/phường"),
    cached per data file version and declared register; ``[]`` when the data cannot be read
    (the page has already said which file is missing or damaged)."""
    from geo.completeness import NORMS
    from geo.register import authoritative_source

    try:
        register = tuple(str(authoritative_source(c)) for c in NORMS)
        return _facility_summaries(lang, (layer_version("wards_2025"), layer_version("infrastructure")), register)
    except AtlasError:
        return []


_SERVICE: list = []
_SERVICE_LOCK = threading.Lock()


def coverage_service() -> CoverageService:
    """The app's one coverage service, shared by every session of this server process.

    Sessions asking the same question get the same answer object, per-cell cost array and
    labelled cells (one computation even when they ask at the same moment); its caches are
    bounded in bytes (``ATLAS_COVERAGE_CACHE_MB``). A module-level object rather than
    ``st.cache_resource`` so that tests and benchmarks can read its hit counters.
    """
    from geo.service import CoverageService


    with _SERVICE_LOCK:
        if not _SERVICE:
            _SERVICE.append(CoverageService(loader=cached_layer))
        return _SERVICE[0]


def workspace_layers() -> dict:
    """Saved user vector layers as ``{name: loader}`` (rasters are not drawn on the map).

    Each loader carries ``saved_at`` so caches see a layer saved again under the same name.
    Empty when the workspace is unavailable.
    """
    from geo import workspace

    try:
        entries = [e for e in workspace.list_layers() if e.get("kind") != "raster"]
    except AtlasError:  # a damaged or locked workspace must not break the map
        return {}

    def loader(name: str, saved_at: str):
        def load():
            return workspace.read_layer(name)
        load.saved_at = saved_at  # type: ignore[attr-defined]
        return load

    return {e["name"]: loader(e["name"], str(e.get("saved_at", ""))) for e in entries}

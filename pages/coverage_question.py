"""Coverage page: the question — the sidebar's choices (facilities, units, population surface,
straight-line or network reach) read into one ``geo.service.CoverageRequest`` dictionary, with
the planner's uploads and saved layers read once (cached by content digest or save time)."""
from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from geo import coverage as cov
from geo import workspace
from geo.catalog import Catalog, service_reach
from geo.errors import AtlasError
from geo.i18n import t
from geo.network import RoadGraph, build_graph
from geo.population import read_population_raster
from geo.service import CoverageRequest
from geo.units import numbered_units
from pages.common import choose_one, end_page, show_error, tr, uploader
from pages.shared_data import coverage_service

UNIT_CHOICES = {"cities": "smart_cities", "districts": "districts", "communes": "communes", "wards": "wards_2025"}
POP_CHOICES = {"commune": "communes", "ward": "wards_2025"}  # census-modelled surfaces of geo.service
MAX_PAGE_CELLS = 8_000_000  # the page keeps its cells in memory (~50 B each); bigger → CLI (chunked)
FAC_UPLOAD = "upload"  # facility source: a file uploaded on this page


@dataclass(frozen=True)
class SavedLayers:
    """The workspace's saved layers: save time by name (part of cache keys), names by kind."""

    saved_at: dict[str, str]
    of: dict[str, list[str]]

    @classmethod
    def read(cls) -> SavedLayers:
        entries = [e for e in workspace.list_layers() if e.get("name")]
        return cls({e["name"]: str(e.get("saved_at", "")) for e in entries},
                   {kind: [e["name"] for e in entries if e.get("kind") == kind]
                    for kind in ("points", "polygons", "lines", "raster")})


@dataclass(frozen=True)
class Choices:
    """What the sidebar asks (widget values as chosen; uploads as Streamlit gives them)."""

    fac_source: str
    fac_upload: Any
    unit_choice: str
    pop_choice: str
    pop_upload: Any
    mode: str
    detour: float
    roads_saved: str | None
    roads_upload: Any
    profile: str
    minutes: float | None
    radius: float | None
    show_2sfca: bool


@st.cache_resource(show_spinner=False, max_entries=4)
def raster_grid(key: str, _read):
    """A population GeoTIFF (uploaded: keyed by content digest; saved: by name + save time)."""
    return _read()


@st.cache_resource(show_spinner=False, max_entries=4)
def road_graph(key: str, _read, profile: str, crs: str):
    """Road graph of a line layer (keyed by content digest or name + save time, profile, CRS)."""
    return build_graph(_read(), profile, crs)


def digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def read_upload(upload):
    """A vector upload (GeoJSON / GeoPackage / zipped shapefile / CSV) via the import module."""
    with tempfile.TemporaryDirectory(prefix="atlas_up_") as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        return cov.read_vector_file(path, display_name=upload.name)


def read_raster_upload(upload):
    with tempfile.TemporaryDirectory(prefix="atlas_pop_") as tmp:
        path = Path(tmp) / "population.tif"
        path.write_bytes(upload.getvalue())
        return read_population_raster(path)


def saved_name(choice: str, lang: str) -> str:
    """A saved layer's label ("ws:<name>" or "ws:<name>|<saved at>")."""
    return t("coverage.facilities_workspace", lang, name=choice.split(":", 1)[1].rsplit("|", 1)[0])


def reach_defaults(catalog: Catalog) -> None:
    """Radius and minutes of the chosen facility category (``layers/catalog.toml``): set when
    the page opens and whenever the category changes (the planner may then edit them)."""
    cat = st.session_state.get("cov_facilities")
    radius, minutes = service_reach(cat if cat in catalog.categories else next(iter(catalog.categories)))
    st.session_state["cov_radius"], st.session_state["cov_minutes"] = int(radius), int(minutes)


def radius_input() -> int:
    """The distance limit (m): straight-line radius, or network distance."""
    return st.number_input(tr("coverage.radius"), min_value=100, max_value=100_000, step=250, key="cov_radius")


def ask_sidebar(lang: str, catalog: Catalog, saved: SavedLayers) -> Choices:
    """The question's widgets in the sidebar (keys ``cov_*``), in the page's order."""
    ws_of, ws_saved = saved.of, saved.saved_at
    if "cov_radius" not in st.session_state:
        reach_defaults(catalog)
    with st.sidebar:
        fac_source = choose_one(tr("coverage.facilities"), list(catalog.categories) + [FAC_UPLOAD]
                                + [f"ws:{n}" for n in ws_of["points"] + ws_of["polygons"]], key="cov_facilities",
                                on_change=reach_defaults, args=(catalog,),
                                format_func=lambda c: catalog.categories[c].title(lang)
                                if c in catalog.categories else t("coverage.facilities_upload", lang)
                                if c == FAC_UPLOAD else saved_name(c, lang))
        fac_upload = uploader(tr("coverage.facilities_upload_file"), ["geojson", "json", "gpkg", "zip", "csv"],
                              key="cov_fac_file") if fac_source == FAC_UPLOAD else None
        unit_choice = choose_one(tr("coverage.units"), list(UNIT_CHOICES) + [f"ws:{n}|{ws_saved[n]}" for n in
                                                                               ws_of["polygons"]], index=1,
                                 key="cov_units", format_func=lambda u: saved_name(u, lang) if u.startswith("ws:")
                                 else t(f"coverage.units_{u}", lang))
        pop_choice = choose_one(tr("coverage.population_source"), ["commune", "ward", "upload"]
                                + [f"ws:{n}" for n in ws_of["raster"]], key="cov_pop",
                                format_func=lambda p: saved_name(p, lang) if p.startswith("ws:")
                                else t(f"coverage.pop_{p}", lang))
        pop_upload = uploader(tr("coverage.pop_upload"), ["tif", "tiff"], key="cov_pop_file") \
            if pop_choice == "upload" else None
        mode = st.radio(tr("coverage.mode"), ["euclidean", "network"], key="cov_mode", horizontal=True,
                        format_func=lambda m: t(f"coverage.mode_{m}", lang))
        detour, roads_saved, roads_upload, profile, minutes, radius = 1.0, None, None, "walk", None, None
        if mode == "euclidean":
            radius = radius_input()
            detour = st.number_input(tr("coverage.detour"), min_value=1.0, max_value=3.0, value=1.0, step=0.1,
                                     key="cov_detour")
        else:
            roads_saved = choose_one(tr("coverage.roads_saved"), [None] + ws_of["lines"], key="cov_roads_saved",
                                     format_func=lambda n: t("coverage.capacity_none", lang) if n is None
                                     else saved_name(f"ws:{n}", lang)) if ws_of["lines"] else None
            roads_upload = uploader(tr("coverage.roads_upload"), ["geojson", "json", "gpkg", "zip"],
                                    key="cov_roads") if roads_saved is None else None
            profile = st.radio(tr("coverage.speed_profile"), ["walk", "motorbike"], key="cov_profile", horizontal=True,
                               format_func=lambda p: t(f"coverage.profile_{p}", lang))
            if st.radio(tr("coverage.network_limit"), ["time", "distance"], key="cov_limit", horizontal=True,
                        format_func=lambda k: t(f"coverage.limit_{k}", lang)) == "time":
                minutes = st.number_input(tr("coverage.minutes_limit"), min_value=1, max_value=240, step=5,
                                          key="cov_minutes")
            else:
                radius = radius_input()
        show_2sfca = st.checkbox(tr("coverage.access_ratio"), key="cov_2sfca") if mode == "euclidean" else False
    return Choices(fac_source, fac_upload, unit_choice, pop_choice, pop_upload, mode, detour, roads_saved,
                   roads_upload, profile, minutes, radius, show_2sfca)


def build_request(c: Choices, catalog: Catalog, saved: SavedLayers) -> tuple[dict, RoadGraph | None, Any]:
    """The request's fields (population, units, facilities, roads), the road graph (network
    mode) and the facilities before any what-if. Stops the page with a prompt when an upload
    is still missing, or with the refusal (``AtlasError``) in one sentence."""
    ws_saved = saved.saved_at
    service = coverage_service()
    try:
        q: dict = {"mode": c.mode, "detour": float(c.detour),
                   "radius_m": float(c.radius) if c.radius is not None else None,
                   "minutes": float(c.minutes) if c.minutes is not None else None, "profile": c.profile}
        # population surface
        if c.pop_choice in POP_CHOICES:
            q["population"] = POP_CHOICES[c.pop_choice]
        elif c.pop_choice == "upload":
            if c.pop_upload is None:
                st.info(tr("coverage.pop_upload_prompt"))
                end_page()
            q["grid_key"] = "raster:" + digest(c.pop_upload.getvalue())
            q["grid"] = raster_grid(q["grid_key"], lambda: read_raster_upload(c.pop_upload))
        else:
            name = c.pop_choice[3:]
            q["grid_key"] = f"ws:{name}:{ws_saved.get(name, '')}"
            q["grid"] = raster_grid(q["grid_key"], lambda: read_population_raster(workspace.raster_path(name)))
        grid, _ = service.grid(CoverageRequest(**q))
        if grid.values.size > MAX_PAGE_CELLS:
            raise AtlasError("coverage_errors.grid_too_big", cells=grid.values.size)
        # units
        if c.unit_choice.startswith("ws:"):
            frame, uid, uname = numbered_units(workspace.read_layer(c.unit_choice[3:].rsplit("|", 1)[0]))
            q.update(units=c.unit_choice, units_frame=frame, unit_id=uid, unit_name=uname)
        else:
            q["units"] = UNIT_CHOICES[c.unit_choice]
        # facilities
        if c.fac_source in catalog.categories:
            q["category"] = c.fac_source
        elif c.fac_source == FAC_UPLOAD:
            if c.fac_upload is None:
                st.info(tr("coverage.facilities_upload_prompt"))
                end_page()
            q.update(facilities=read_upload(c.fac_upload), facilities_key=digest(c.fac_upload.getvalue()))
        else:
            q.update(facilities=workspace.read_layer(c.fac_source[3:]),
                     facilities_key=f"{c.fac_source}:{ws_saved.get(c.fac_source[3:], '')}")
        # roads (network mode)
        graph = None
        if c.mode == "network":
            if c.roads_saved is not None:
                q["roads_key"] = f"ws:{c.roads_saved}:{ws_saved.get(c.roads_saved, '')}"
                graph = road_graph(q["roads_key"], lambda: workspace.read_layer(c.roads_saved), c.profile, grid.crs)
            elif c.roads_upload is not None:
                q["roads_key"] = digest(c.roads_upload.getvalue())
                graph = road_graph(q["roads_key"], lambda: read_upload(c.roads_upload), c.profile, grid.crs)
            else:
                st.warning(tr("coverage.no_roads"))
                end_page()
            q["roads"] = graph
            st.caption(tr("coverage.roads_loaded", edges=graph.n_edges, nodes=graph.n_nodes))
        base, _ = service.facilities(CoverageRequest(**q))
    except AtlasError as err:
        show_error(err)
        end_page()
    return q, graph, base

"""Parts of the My data page (pages/data.py): staging an upload in the session's private
folder, reading it with the chosen options (``geo.io``), the preview map and the
rename/delete panel for saved layers."""
from __future__ import annotations

import hashlib
import shutil
import unicodedata
from pathlib import Path

import streamlit as st

from geo import io as gio
from geo import staging, workspace
from geo.cancel import Cancelled
from geo.catalog import get_catalog
from geo.errors import AtlasError
from geo.safezip import Limits
from layers.render import add_catalog_layer, add_gdf_layer, finish_map, geometry_kind, new_map
from pages.common import choose_one, current_lang, plain, tr, tr_plain
from pages.map_component import show_map
from pages.shared_data import cached_layer
from pages.sidebar import current_basemap

UPLOAD_TYPES = ["zip", "shp", "gpkg", "geojson", "json", "kml", "kmz", "gpx", "dxf", "csv", "txt", "tsv", "xlsx", "tif",
                "tiff"]
TABLE_TYPES = (".csv", ".txt", ".tsv", ".xlsx")
PREVIEW_MAX = 5000
# refusals the reading options can resolve: the options open by themselves
CHOICE_ERRORS = {"import_errors.choose_layer", "import_errors.layer_not_found", "import_errors.mixed_geometry",
                 "import_errors.kind_absent", "import_errors.crs_unknown", "import_errors.bad_crs",
                 "import_errors.crs_transform", "import_errors.bad_encoding", "import_errors.no_coord_columns",
                 "import_errors.bad_header_row"}


def say_error(err: AtlasError) -> None:
    """A refusal as one sentence, shown literally."""
    st.error(plain(err.message(current_lang())))


def _tmpdir() -> Path:
    """This session's private staging folder (``geo.staging``): deleted when the session ends
    (the folder object lives in the session), stale ones swept, their total size capped."""
    folder = st.session_state["data_tmpdir"]
    if not isinstance(folder, staging.StagingFolder) or not folder.path.is_dir():
        folder = staging.StagingFolder()
        st.session_state["data_tmpdir"] = folder
    staging.sweep(keep=folder.path)
    return folder.path


def _stage(name: str, data: bytes) -> Path:
    """Write an upload to the session's private temp folder (only the extension is kept)."""
    folder = _tmpdir()
    for old in folder.iterdir():  # (a statement, not an expression: Streamlit's magic would print None)
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    suffix = Path(name).suffix.lower()
    suffix = suffix if suffix.lstrip(".") in UPLOAD_TYPES else ".bin"
    path = folder / f"upload{suffix}"
    path.write_bytes(data)
    return path


def stage(name: str, data: bytes) -> dict:
    """Write the upload once per content and list the layers it offers."""
    digest = hashlib.sha256(data).hexdigest()
    staged = st.session_state["data_staged"]
    if staged is not None and staged["digest"] == digest and staged["name"] == name \
            and Path(staged["path"] or "/nonexistent").is_file():
        return staged
    staged = {"digest": digest, "name": name, "path": None, "layers": [], "error": None}
    try:
        limits = Limits.from_env()
        if len(data) > limits.max_file_bytes:
            raise AtlasError("import_errors.too_big", file=name, size_mb=round(len(data) / 1048576, 1),
                             cap_mb=round(limits.max_file_bytes / 1048576, 1))
        staged["path"] = str(_stage(name, data))
        try:
            staged["layers"] = gio.list_layers_in(staged["path"], limits)
        except AtlasError:
            staged["layers"] = []
    except Cancelled:
        raise
    except AtlasError as err:
        staged["error"] = err
    st.session_state["data_staged"] = staged
    st.session_state["data_import"] = None
    return staged


def do_import(staged: dict, layer: str | None, crs: str, encoding: str, kind: str | None,
              header_row: int | None = None) -> dict:
    """Read a staged upload (re-read only when the file or an option changes)."""
    key = (staged["digest"], staged["name"], layer, crs, encoding, kind, header_row)
    current = st.session_state["data_import"]
    if current is not None and current["key"] == key:
        return current
    name = staged["name"]
    result = {"key": key, "name": name, "gdf": None, "raster": None, "report": None, "error": staged["error"]}
    if result["error"] is None:
        try:
            path = Path(staged["path"])
            limits = Limits.from_env()
            if gio.is_raster(path):
                result["raster"], result["report"] = gio.read_raster(path, crs=crs or None, limits=limits,
                                                                     display_name=name)
            else:
                result["gdf"], result["report"] = gio.read_any(path, layer=layer, crs=crs or None,
                                                               encoding=encoding, kind=kind, limits=limits,
                                                               display_name=name, header_row=header_row)
        except Cancelled:  # the session ended: nothing to keep for it
            raise
        except AtlasError as err:
            result["error"] = err
    st.session_state["data_import"] = result
    return result


def preview_map(gdf, name: str, key: str) -> None:
    """The layer on an offline map (tooltips escaped by layers.render)."""
    shown = gdf.head(PREVIEW_MAX)
    minx, miny, maxx, maxy = shown.total_bounds
    pad_x, pad_y = max((maxx - minx) * 0.1, 0.005), max((maxy - miny) * 0.1, 0.005)
    minx, miny, maxx, maxy = minx - pad_x, miny - pad_y, maxx + pad_x, maxy + pad_y
    lang = current_lang()
    m = new_map(lang, basemap=current_basemap(), bounds=[[miny, minx], [maxy, maxx]], height=420)
    try:  # the province outline for context (with basemap "none" the preview works offline)
        add_catalog_layer(m, get_catalog().layer("province_post2025"), cached_layer("province_post2025"), lang)
    except AtlasError:
        pass
    fields = [c for c in shown.columns if c != "geometry"][:4]
    add_gdf_layer(m, shown, lang, name, fields, geometry_kind(shown))
    finish_map(m, lang)
    show_map(m, key=key, height=420, returned_objects=[])


def manage_layers(names: list[str], editor) -> None:  # geo.auth.Editor
    """Rename or delete a saved layer (editors only; each change is an audit-log row)."""
    with st.expander(tr("data.manage")):
        after = st.session_state.pop("data_manage_after", None)  # set by a rename/delete before its rerun
        if after is not None:
            st.session_state["data_manage_pick"] = after if after in names else names[0]
            st.session_state["data_new_name"] = ""
            st.session_state["data_confirm_delete"] = False
        elif st.session_state.get("data_manage_pick") not in names:
            st.session_state.pop("data_manage_pick", None)
        target = choose_one(tr("data.pick_layer"), names, key="data_manage_pick")
        new_name = st.text_input(tr("data.new_name"), key="data_new_name")
        if st.button(tr("data.rename"), key="data_rename"):
            try:
                workspace.rename_layer(target, new_name, editor=editor)
                st.session_state["data_flash"] = tr_plain("data.renamed", old=target, new=new_name.strip())
                st.session_state["data_manage_after"] = unicodedata.normalize("NFC", new_name.strip())
                st.rerun()
            except AtlasError as err:
                say_error(err)
        sure = st.checkbox(tr("data.confirm_delete"), key="data_confirm_delete")
        if st.button(tr("data.delete"), key="data_delete", disabled=not sure):
            try:
                workspace.delete_layer(target, editor=editor)
                st.session_state["data_flash"] = tr_plain("data.deleted", name=target)
                st.session_state["data_manage_after"] = ""
                st.rerun()
            except AtlasError as err:
                say_error(err)

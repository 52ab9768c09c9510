"""My data: upload a file, read the import report, preview it, save/rename/delete layers.

Thin page: upload → ``geo.io.read_any`` / ``read_raster`` → ``layers.render`` → ``geo.workspace``.
Every text that came from a file (names, columns, file names) is shown as plain text or
with Markdown escaped; map tooltips are escaped by ``layers.render``.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from geo import io as gio
from geo import workspace
from geo.encoding import ENCODINGS
from geo.errors import AtlasError
from pages.common import choose_one, current_lang, ensure_app_entry, plain, plain_table, tr, tr_plain, uploader
from pages.data_parts import (
    CHOICE_ERRORS,
    TABLE_TYPES,
    UPLOAD_TYPES,
    do_import,
    manage_layers,
    preview_map,
    say_error,
    stage,
)
from pages.sidebar import editor_sign_in

ensure_app_entry()

lang = current_lang()
for key, value in {"data_import": None, "data_staged": None, "data_tmpdir": None, "data_pending": None, "data_flash": None,
                   "data_upload_n": 0}.items():
    st.session_state.setdefault(key, value)

# ---- page ------------------------------------------------------------------------------
st.title(tr("data.title"), anchor=False)
st.caption(tr("data.intro"))
editor = editor_sign_in()   # saving, renaming and deleting are editor actions; checking a file is not
flash = st.session_state["data_flash"]
if flash:
    st.success(flash)
    st.session_state["data_flash"] = None

upload = uploader(tr("data.upload"), list(UPLOAD_TYPES), key=f"data_upload_{st.session_state['data_upload_n']}")
pending = st.session_state["data_pending"]  # (name, bytes): set by tests and scripts
source = (upload.name, upload.getvalue()) if upload is not None else pending

if source is not None:
    name, data = source
    staged = stage(name, data)
    # read once with the options as they stand, so the options open when the file needs a choice
    ss = st.session_state
    wanted = ss.get("data_layer") if len(staged["layers"]) > 1 and ss.get("data_layer") in staged["layers"] else None
    first = do_import(staged, wanted, str(ss.get("data_crs") or "").strip(), ss.get("data_encoding") or "auto",
                      ss.get("data_kind") or None, int(ss.get("data_header_row") or 0) or None)
    needs_choice = first["error"] is not None and first["error"].key in CHOICE_ERRORS
    with st.expander(tr("data.options"), expanded=len(staged["layers"]) > 1 or needs_choice):
        layer_choices = staged["layers"]
        auto = tr("data.kind_auto")
        # "" = automatic (a None option would show Streamlit's untranslated "Choose an option")
        layer_labels = {"": auto, **{v: v for v in layer_choices}}
        layer = (choose_one(tr("data.layer"), list(layer_labels), key="data_layer", format_func=layer_labels.get)
                 or None) if len(layer_choices) > 1 else None
        crs = st.text_input(tr("data.crs"), key="data_crs").strip()
        enc_labels = {e: tr(f"data.enc_label_{e}") for e in ENCODINGS}
        encoding = choose_one(tr("data.encoding"), list(ENCODINGS), key="data_encoding", format_func=enc_labels.get)
        kind_labels = {"": auto, **{k: tr(f"import_report.kind_{k}") for k in gio.KINDS}}
        kind = choose_one(tr("data.kind"), list(kind_labels), key="data_kind", format_func=kind_labels.get) or None
        header_row = None
        if Path(name).suffix.lower() in TABLE_TYPES:  # 0 = found automatically (title rows, two-row headers)
            header_row = int(st.number_input(tr("data.header_row"), min_value=0, max_value=10_000, step=1,
                                             key="data_header_row")) or None
    result = do_import(staged, layer, crs, encoding, kind, header_row)
    if result["error"] is not None:
        say_error(result["error"])
    else:
        report = result["report"]
        st.subheader(tr("data.report"), anchor=False)
        lossy = getattr(report, "lossy", False)
        lost = report.lost_line(lang) if lossy else None
        st.text("\n".join(line for line in report.lines(lang, warnings=False) if line != lost))
        if lossy:  # a lossy read is never shown as plain success: said once, as a warning
            st.warning(plain(lost))
        if report.warnings:
            st.warning("\n\n".join(plain(w) for w in report.warning_texts(lang)))
        if result["gdf"] is not None:
            gdf = result["gdf"]
            st.subheader(tr("data.preview"), anchor=False)
            preview_map(gdf, name, key="data_preview_map")
            st.caption(tr("data.attributes"))
            st.dataframe(pd.DataFrame(gdf.drop(columns="geometry").head(20)), hide_index=True)
        else:
            st.info(tr("data.raster_note"))
        default_name = Path(name).stem[:80] or "layer"
        if editor is None:
            st.info(tr("data.sign_in_to_save"))
        else:
            save_name = st.text_input(tr("data.save_name"), value=default_name, key="data_save_name")
        if editor is not None and st.button(tr("data.save"), key="data_save", type="primary"):
            try:
                meta = {"source": name, "report": report.to_dict()}
                if result["gdf"] is not None:
                    info = workspace.save_layer(save_name, result["gdf"], meta, editor=editor)
                else:
                    info = workspace.save_raster(save_name, result["raster"].path, meta, editor=editor)
                st.session_state["data_flash"] = tr_plain("data.saved", name=info["name"], features=info["features"])
                st.session_state["data_import"] = None
                st.session_state["data_staged"] = None
                st.session_state["data_pending"] = None
                st.session_state["data_upload_n"] += 1
                st.rerun()
            except AtlasError as err:
                say_error(err)

# ---- saved layers -------------------------------------------------------------------------
st.divider()
st.subheader(tr("data.saved_layers"), anchor=False)
try:
    saved = workspace.list_layers()
except AtlasError as err:   # damaged or busy workspace: say what happened (and how to recover)
    say_error(err)
    saved = []
if not saved:
    st.info(tr("data.no_saved"))
else:
    def kind_label(k: str) -> str:
        return tr("data.kind_raster") if k == "raster" else tr(f"import_report.kind_{k}")

    # st.table renders cells as Markdown: every cell shown literally (names, sources, bare URLs)
    table = pd.DataFrame({
        tr("data.col_name"): [x["name"] for x in saved],
        tr("data.col_kind"): [kind_label(x["kind"]) for x in saved],
        tr("data.col_features"): [x["features"] for x in saved],
        tr("data.col_source"): [x["source"] for x in saved],
        tr("data.col_saved_at"): [x["saved_at"][:19].replace("T", " ") for x in saved],
    })
    st.table(plain_table(table))
    names = [x["name"] for x in saved]
    vectors = [x["name"] for x in saved if x["kind"] != "raster"]
    if vectors:
        shown = choose_one(tr("data.preview"), vectors, key="data_show_saved")
        try:
            preview_map(workspace.read_layer(shown), shown, key="data_saved_map")
        except AtlasError as err:
            say_error(err)
    if editor is None:
        st.caption(tr("data.sign_in_to_manage"))
    else:
        manage_layers(names, editor)

# ---- official facility register: which saved layer is the authoritative source of a category
from geo.catalog import get_catalog
from geo.register import authoritative_source, declarations, declare_authoritative


def register_section() -> None:
    """Which saved layer is each category's authoritative source; an editor declares one."""
    st.divider()
    st.subheader(tr("register.sources_title"), anchor=False)
    st.caption(tr("register.sources_caption"))

    _cats = get_catalog().categories
    _current = {cid: authoritative_source(cid) for cid in _cats if cid != "other"}
    st.table(pd.DataFrame({
        tr("register.col_category"): [_cats[c].title(lang) for c in _current],
        tr("register.col_source"): [plain(d.layer) if d else tr("register.osm_default") for d in _current.values()],
        tr("register.col_by"): [plain(d.declared_by) if d else "" for d in _current.values()],
        tr("register.col_at"): [d.declared_at[:19].replace("T", " ") if d else "" for d in _current.values()],
    }))
    _editor = editor  # the one sign-in of the page (pages.common.editor_sign_in)
    _points = [x["name"] for x in workspace.list_layers() if x["kind"] == "points"]
    if _points and _editor is None:
        st.info(tr("register.sign_in_first"))
    elif _points:
        _cat = choose_one(tr("register.pick_category"), list(_current), format_func=lambda c: _cats[c].title(lang),
                          key="reg_category")
        _osm = tr("register.osm_default")
        _layer = choose_one(tr("register.pick_layer"), [""] + _points, key="reg_layer",
                            format_func=lambda n: _osm if n == "" else n)
        if st.button(tr("register.declare"), key="reg_declare"):
            try:
                declare_authoritative(_editor, _cat, _layer or None)
                st.rerun()
            except AtlasError as err:
                say_error(err)
        with st.expander(tr("register.history")):
            st.table(declarations().map(plain))


try:
    register_section()
except AtlasError as err:  # damaged or busy workspace: said once more here, the page goes on
    say_error(err)

"""Export & present: data downloads, print maps, the council deck, a standalone HTML map and
presentation mode (full-width map, large type, saved views stepped through with the keyboard).
"""
from __future__ import annotations

import streamlit as st

from geo.catalog import get_catalog
from geo.errors import AtlasError
from geo.export import FORMATS, RASTER_FORMATS, VECTOR_FORMATS, source_choices
from geo.i18n import t
from pages.common import choose_one, current_lang, end_page, ensure_app_entry, show_error, tr
from pages.export_deck import deck_tab
from pages.present_views import (
    STYLE_KEYS,
    build_map_of,
    default_views,
    present,
    unit_label,
    unit_options,
    units,
    view_caption,
    view_from_url,
    view_name,
)
from pages.shared_data import cached_layer, workspace_layers
from pages.url_codec import unit_key
from pages.urlstate import VIEW_KEYS, current_view, read_state, write_state

ensure_app_entry()

lang = current_lang()
for _key, _default in {"export_file": None, "print_file": None, "print_preview": None, "deck_file": None,
                       "html_file": None,
                       "present_views": None, "present_on": False, "present_index": 0}.items():
    st.session_state.setdefault(_key, _default)

url_state = read_state()  # what the address says (presentation links: present, view, the view itself)
view_state = current_view()  # the map to act on: the URL's view, else the map page's last view
if view_state and not any(k in url_state for k in ("layers", "bbox", "unit", "indicator")):
    write_state(remember=False, **{k: v for k, v in view_state.items() if k in VIEW_KEYS})  # a copied link acts on it too


# ---------------------------------------------------------------------------- helpers


def _download(slot: str) -> None:
    """The download button of a prepared file (name, bytes, mime) kept in session state."""
    prepared = st.session_state.get(slot)
    if prepared:
        name, data, mime = prepared
        st.download_button(tr("present.download", name=name), data=data, file_name=name, mime=mime,
                           key=f"{slot}_download")


# ---------------------------------------------------------------------------- page

if st.session_state["present_views"] is None:
    try:
        st.session_state["present_views"] = default_views()
    except AtlasError:
        st.session_state["present_views"] = []
if url_state.get("present") and not st.session_state.get("_present_seeded"):
    st.session_state["present_on"] = True
    st.session_state["present_index"] = url_state.get("view", 0)
    _views = st.session_state["present_views"]
    _idx = st.session_state["present_index"]
    if 0 <= _idx < len(_views) and ("layers" in url_state or "bounds" in url_state):
        # the link carries the view itself: it wins over this session's copy of that view
        _views[_idx] = {**_views[_idx], **{k: url_state[k] for k in ("layers", "basemap", "bounds", "unit",
                                                                        "indicator", *STYLE_KEYS) if k in url_state}}
        if "unit" in url_state:
            _views[_idx]["unit"] = unit_key(url_state["unit"])
st.session_state["_present_seeded"] = True

if st.session_state["present_on"]:
    present(st.session_state["present_views"])
    end_page()

st.title(tr("present.page_title"), anchor=False)
tab_data, tab_print, tab_deck, tab_html, tab_present = st.tabs(
    [tr("present.tab_data"), tr("present.tab_print"), tr("present.tab_deck"), tr("present.tab_html"),
     tr("present.tab_present")])

# ---- data downloads ----------------------------------------------------------------------
with tab_data:
    catalog = get_catalog()
    sources = source_choices(lang, dict.fromkeys(workspace_layers(), "vector"))  # saved vector layers
    source_id = choose_one(tr("present.choose_layer"), list(sources), format_func=lambda s: sources[s][0],
                           key="export_layer")
    is_raster = sources[source_id][1]
    fmts = RASTER_FORMATS if is_raster else VECTOR_FORMATS
    fmt = choose_one(tr("present.choose_format"), list(fmts), format_func=lambda f: tr(f"export.fmt_{f}"),
                     key="export_format")
    crs_choice = st.radio(tr("present.choose_crs"), ["4326", "9213"], horizontal=True, key="export_crs",
                          format_func=lambda c: tr("present.crs_wgs84") if c == "4326" else tr("present.crs_vn2000"),
                          disabled=FORMATS[fmt].wgs84_only)
    csv_geometry = "wkt"
    if fmt == "csv":
        csv_geometry = st.radio(tr("present.csv_geometry"), ["wkt", "latlon"], horizontal=True, key="export_csv",
                                format_func=lambda g: tr(f"present.csv_{g}"))
    if not is_raster and source_id in catalog.layers and catalog.layers[source_id].derived:
        st.warning(tr("export.derived_note"))
    if st.button(tr("present.prepare"), key="export_prepare", type="primary"):
        from geo.export import export_bytes, layer_credits, resolve_source, workspace_source

        resampling = "nearest"
        try:
            with st.spinner(tr("present.prepare")):
                if source_id.startswith("workspace:"):
                    src = workspace_source(source_id.split(":", 1)[1], lang)
                    if src is None:
                        raise AtlasError("export.not_found", name=source_id.split(":", 1)[1])
                    data = src.raster if src.is_raster else src.gdf
                    credits, name = src.credits, src.name
                elif source_id in catalog.layers:
                    data, credits = cached_layer(source_id), layer_credits(source_id, lang)
                    name = source_id
                else:
                    src = resolve_source(source_id, lang)
                    data = src.raster if src.is_raster else src.gdf
                    credits, name, resampling = src.credits, src.name, src.resampling
                crs = None if FORMATS[fmt].wgs84_only or crs_choice == "4326" else int(crs_choice)
                st.session_state["export_file"] = export_bytes(data, fmt, credits=credits, crs=crs, lang=lang,
                                                               name=name, csv_geometry=csv_geometry,
                                                               resampling=resampling)
        except AtlasError as err:
            st.session_state["export_file"] = None
            show_error(err)
    _download("export_file")
    # the official facility register: an empty XLSX to fill from the departments' lists (geo.register)
    from geo.register import template_xlsx

    st.markdown(f"**{tr('register.template_title')}**")
    st.caption(tr("register.template_caption"))
    st.download_button(tr("register.template_download"), data=template_xlsx(lang),
                       file_name=tr("register.template_file"), key="register_template",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

# ---- print map ---------------------------------------------------------------------------
with tab_print:
    units_opts = unit_options()
    p_source = st.radio(tr("present.print_source"), ["unit", "view"], horizontal=True, key="print_source",
                        format_func=lambda v: tr(f"present.print_{v}"))
    p_unit = units_opts[0]
    if p_source == "unit":
        _wanted = unit_key(view_state.get("unit"))
        p_unit = choose_one(tr("present.choose_unit"), units_opts, format_func=unit_label, key="print_unit",
                            index=units_opts.index(_wanted) if _wanted in units_opts else 0)
        default_title = t("print.title_default", lang, name=unit_label(p_unit))
    else:
        print_view = view_from_url(tr("present.view_title"), view_state)
        st.caption(view_caption(print_view))
        default_title = tr("present.view_title")
    c1, c2 = st.columns(2)
    paper = c1.radio(tr("present.paper"), ["A4", "A3"], horizontal=True, key="print_paper")
    p_fmt = c2.radio(tr("present.print_format"), ["png", "pdf"], horizontal=True, key="print_fmt",
                     format_func=str.upper)
    p_title = st.text_input(tr("present.map_title"), value=default_title, key=f"print_title_{p_source}_{p_unit}_{lang}")
    p_subtitle = st.text_input(tr("present.map_subtitle"), value="", key=f"print_subtitle_{p_source}_{p_unit}_{lang}")
    if st.button(tr("present.render"), key="print_render", type="primary"):
        from geo.export import _safe_layer_name
        from geo.printmap import figure_bytes, unit_map_figure, view_map_figure

        try:
            with st.spinner(tr("present.render")):
                if p_source == "unit":
                    fig = unit_map_figure(p_unit, lang=lang, paper=paper, title=p_title,
                                          subtitle=p_subtitle or None)
                    stem = _safe_layer_name(unit_label(p_unit))
                else:
                    indicator = print_view.get("indicator") or ""
                    choro = tuple(indicator.split(":", 1)) if ":" in indicator else None
                    fig = view_map_figure(print_view["layers"], lang=lang, paper=paper, title=p_title,
                                          subtitle=p_subtitle, extent=view_state.get("bbox"), choropleth=choro,
                                          loader=cached_layer)
                    stem = _safe_layer_name(p_title)
                data = figure_bytes(fig, p_fmt)
                preview = figure_bytes(fig, "png", dpi=80) if p_fmt == "pdf" else data
            st.session_state["print_file"] = (f"{stem}_{paper}.{p_fmt}", data,
                                              "application/pdf" if p_fmt == "pdf" else "image/png")
            st.session_state["print_preview"] = preview
        except AtlasError as err:
            st.session_state["print_file"] = None
            show_error(err)
    if st.session_state.get("print_file") and st.session_state.get("print_preview"):
        st.image(st.session_state["print_preview"], width="stretch")
    _download("print_file")

# ---- council deck ------------------------------------------------------------------------
with tab_deck:
    deck_tab(unit_key(view_state.get("unit")), lang)
    _download("deck_file")

# ---- standalone HTML ---------------------------------------------------------------------
with tab_html:
    st.caption(tr("present.html_note"))
    html_view = view_from_url(tr("export.standalone"), view_state)
    if st.button(tr("present.html_button"), key="html_build", type="primary"):
        try:
            from layers.render import standalone_html

            with st.spinner(tr("present.html_button")):
                html = standalone_html(build_map_of(html_view))
            st.session_state["html_file"] = ("atlas_map.html", html.encode("utf-8"), "text/html")
        except AtlasError as err:
            show_error(err)
    _download("html_file")

# ---- presentation ------------------------------------------------------------------------
with tab_present:
    views = st.session_state["present_views"]
    st.subheader(tr("present.views"), anchor=False)
    if views:
        st.dataframe([{tr("present.view_name"): view_name(v), tr("present.layers"): ", ".join(v.get("layers") or []),
                       tr("present.basemap"): v.get("basemap") or "", tr("present.indicator"): v.get("indicator") or ""}
                      for v in views], hide_index=True, width="stretch")
    else:
        st.info(tr("present.no_views"))
    c1, c2 = st.columns([3, 1])
    new_name = c1.text_input(tr("present.view_name"), value="", key="present_new_name")
    if c2.button(tr("present.save_view"), key="present_save"):
        _new = view_from_url(new_name or tr("present.view_default", n=len(views) + 1))
        if not new_name and _new.get("unit") in units():
            _new["auto_name"] = True  # named after its unit, in the language of the moment
        views.append(_new)
        st.rerun()
    st.caption(tr("present.keys_hint"))
    if st.button(tr("present.start"), key="present_start", type="primary", disabled=not views):
        st.session_state["present_on"] = True
        st.session_state["present_index"] = 0
        st.rerun()
    st.caption(tr("present.share_note"))

"""Map explorer: boundaries, choropleths, infrastructure, search, zoom, unit details."""
from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from geo.catalog import get_catalog
from geo.errors import AtlasError
from geo.i18n import fmt_number
from geo.units import (
    PROGRAMME_CITY_KEYS,
    UNIT_LAYERS,
    bounds_latlon,
    missing_ward_polygons,
    programme_cities,
    search_units,
    unit_at,
    unit_code,
    unit_facts,
    unit_from_code,
)
from layers.render import PROVINCE_BOUNDS, SCHEMES, center_zoom
from layers.views import MapView, default_view
from pages.common import (
    choose_many,
    choose_one,
    current_lang,
    end_page,
    ensure_app_entry,
    map_first_view,
    markdown_table,
    plain,
    tr,
    tr_plain,
)
from pages.map_cache import UserLayers, cached_map, view_key
from pages.map_component import show_map
from pages.shared_data import cached_layer, facility_summaries, workspace_layers
from pages.sidebar import current_basemap
from pages.url_codec import CLASS_RANGE
from pages.urlstate import read_state, write_state

ensure_app_entry()

lang = current_lang()


def wkey(name: str) -> str:
    """Widget key per language: labels are translated, so a switch starts widgets afresh."""
    return f"{name}_{lang}"

def zoom_of(bounds: list[list[float]] | None) -> str:
    """The zoom choice whose extent a shared link's is (a programme city's), else "province"."""
    try:
        districts = cached_layer("districts") if bounds else None
    except AtlasError:
        districts = None
    for code, key in PROGRAMME_CITY_KEYS.items() if districts is not None else ():
        rows = districts[districts[UNIT_LAYERS["districts"].id_col].astype(str) == code]
        city = bounds_latlon(rows.geometry.union_all()) if not rows.empty else None
        if city and all(abs(a - b) < 1e-4 for p, q in zip(city, bounds) for a, b in zip(p, q)):
            return key
    return "province"


def link_focus(state: dict) -> tuple[list[float], int] | None:
    """The centre and zoom a shared link asks for (``center=lat,lon``, ``zoom=``) when it gives
    no extent (``bbox`` wins); a missing half comes from the province view."""
    if state.get("bounds") or not ("center" in state or "zoom" in state):
        return None
    center, zoom = center_zoom(PROVINCE_BOUNDS)
    return state.get("center", center), state.get("zoom", zoom)


catalog = get_catalog()
url = read_state()  # shared links: layers, basemap, extent, unit, indicator, classes (pages/urlstate.py)
first_run = "_map_seeded" not in st.session_state
if first_run:
    st.session_state.update({"_map_seeded": True, "map_bounds": url.get("bounds"), "selected_unit": None,
                             "last_click": None, "_last_zoom": zoom_of(url.get("bounds")),
                             "_url_unit": url.get("unit"), "map_focus": link_focus(url)})
url_layer, _, url_column = str(url.get("indicator", "")).partition(":")

st.title(tr("map.title"), anchor=False)
st.caption(tr("map.caption"))

# ---- controls -------------------------------------------------------------------------
def controls_view(draw: bool) -> tuple[MapView, UserLayers]:
    """The view the sidebar's controls make, and the planner's own layers chosen (name → loader).

    ``draw``: show the widgets and return their values; otherwise return the values they
    start with (a shared link's, else the default view's) without drawing anything — a
    session's first run uses that to send the map before the widgets (below)."""
    def many(label: str, options: list, default: list, key: str, fmt) -> list:
        return choose_many(label, options, default=default, key=key, format_func=fmt) if draw else list(default)

    def one(label: str, options: list, index: int, key: str, fmt, radio: bool = False):
        if not draw:
            return options[index]
        if radio:
            return st.radio(label, options, key=key, index=index, format_func=fmt, horizontal=True)
        return choose_one(label, options, key=key, index=index, format_func=fmt)

    view = default_view(lang, catalog)
    view.basemap = current_basemap()  # one choice for the whole app (sidebar, app.py)
    view.layers = many(tr("map.layers"), list(catalog.layers), url.get("layers", view.layers), wkey("layers"),
                       lambda lid: catalog.layers[lid].title(lang))
    polygon_layers = [lid for lid in view.layers if catalog.layers[lid].choropleth]
    mode = one(tr("map.units_display"), ["outline", "choropleth"], 1 if url_layer in polygon_layers else 0,
               wkey("units_mode"), lambda m: tr(f"map.mode_{m}"), radio=True)
    if mode == "choropleth" and polygon_layers:
        view.choropleth_layer = one(tr("map.choropleth_layer"), polygon_layers,
                                    polygon_layers.index(url_layer) if url_layer in polygon_layers else 0,
                                    wkey("choro_layer"), lambda lid: catalog.layers[lid].title(lang))
        cols = list(catalog.layers[view.choropleth_layer].choropleth)
        view.choropleth_column = one(tr("map.choropleth_column"), cols,
                                     cols.index(url_column) if url_column in cols else 0, wkey("choro_column"),
                                     lambda c: catalog.field_label(c, lang))
        view.scheme = one(tr("map.scheme"), list(SCHEMES), SCHEMES.index(url.get("scheme", view.scheme)),
                          wkey("scheme"), lambda s: tr(f"map.scheme_{s}"))
        k = url.get("classes", view.k)
        view.k = st.slider(tr("map.classes"), *CLASS_RANGE, k, key=wkey("classes")) if draw else k
    if "infrastructure" in view.layers:
        view.categories = many(tr("map.infra_categories"), list(catalog.categories),
                               url.get("categories", catalog.default_categories()), wkey("categories"),
                               lambda c: catalog.categories[c].title(lang))
    mine = workspace_layers() if draw else {}
    chosen = choose_many(tr("map.my_layers"), list(mine), key=wkey("my_layers")) if mine else []
    return view, {name: mine[name] for name in chosen}


def current_focus() -> tuple[tuple[list[float], int] | None, list[float], int]:
    """A link's or search's centre + zoom (``None`` when the map shows an extent), and the
    centre and zoom the map is moved to: the map is built for the province; zooming moves it
    without a rebuild (an extent, else a link's centre + zoom, else the province)."""
    focus = None if st.session_state["map_bounds"] else st.session_state["map_focus"]
    center, zoom = focus or center_zoom(st.session_state["map_bounds"] or PROVINCE_BOUNDS)
    return focus, center, zoom


# A session's first run sends the map before the sidebar's widgets and the zoom/search row
# (their places in the page are fixed by the containers below, not by the order they are sent
# in): the browser starts the map's frame while it still draws the widgets (bench_startup.py,
# 5 interleaved runs each: first map 0.1 s sooner for a new browser, 0.2 s for a returning
# tab). A browser's very first view goes further: the map (and the row above it) alone, the
# rest on the rerun the map asks for once painted (pages.common.map_first_view; 4 interleaved
# runs each against 4f716c3: cold 3.31 → 2.52 s, new browser 2.98 → 2.50 s, returning 2.82 →
# 2.50 s; README). Later runs draw the widgets first: their values make the view.
controls = st.container()
map_col, panel_col = st.columns([3, 1.3])


def zoom_and_search() -> tuple[str, str, DeltaGenerator]:
    """The row above the map: zoom to the province or a programme city, and the unit search
    box; their values and the search column (for its messages)."""
    zoom_col, search_col = controls.columns([3, 2])
    with zoom_col:
        zooms = ["province", *PROGRAMME_CITY_KEYS.values()]   # a new radio (link, language) shows the last choice
        try:  # the cities named as the unit registry names them (one naming across the atlas)
            city_names = {PROGRAMME_CITY_KEYS.get(u.code, u.code): u.short_label(lang) for u in programme_cities()}
        except AtlasError:
            city_names = {}
        zoom_choice = st.radio(tr("map.zoom_to"), zooms, horizontal=True, key=wkey("zoom_to"),
                               index=zooms.index(st.session_state["_last_zoom"]),
                               format_func=lambda z: tr("map.zoom_province") if z == "province" else city_names.get(z, z))
    with search_col:
        query = st.text_input(tr("map.search"), key=wkey("unit_search"))
    return zoom_choice, query, search_col


if first_run:
    map_alone = map_first_view()
    early_view, _ = controls_view(draw=False)
    fmap, failures = cached_map(view_key(early_view, {}), early_view, {})
    _, early_center, early_zoom = current_focus()
    with map_col:
        out = show_map(fmap, key="explorer_map", height=620, center=early_center, zoom=early_zoom,
                       report_drawn=map_alone)
    if map_alone:   # with the row above the map, which would otherwise push the drawn map down
        zoom_and_search()
        end_page()
with st.sidebar:
    view, user_layers = controls_view(draw=True)
if first_run and view_key(view, user_layers) != view_key(early_view, {}):   # a widget did not start as predicted
    logging.getLogger("atlas").warning("map page: the map sent before the widgets was not their view; drawn again")
    st.rerun()


problems: dict[str, str] = {}  # layer id → one clear message, shown once above the map


def load_or_note(layer_id: str) -> gpd.GeoDataFrame | None:
    """A catalog layer from the cache, or None with its problem noted for display."""
    try:
        return cached_layer(layer_id)
    except AtlasError as err:
        problems.setdefault(layer_id, err.message(lang))
        return None


def search_label(hit) -> str:  # geo.units.UnitHit
    """ "Thành phố Phổ Yên — Thành phố · đô thị thông minh (chương trình 2020)": the type as
    the official name writes it, then what the unit is in the atlas."""
    what = tr("map.programme_city") if hit.programme_city else tr("map.level_" + catalog.layers[hit.layer].unit_level)
    return f"{hit.name} — {hit.unit_type} · {what}" if hit.unit_type else f"{hit.name} — {what}"


# ---- zoom and search ----------------------------------------------------------------
zoom_choice, query, search_col = zoom_and_search()

unit_frames = {lid: gdf for lid in UNIT_LAYERS if (gdf := load_or_note(lid)) is not None}
districts = unit_frames.get("districts")
if zoom_choice != st.session_state["_last_zoom"]:
    st.session_state["_last_zoom"] = zoom_choice
    st.session_state["map_bounds"] = None
    st.session_state["map_focus"] = None
    if zoom_choice != "province" and districts is not None:
        code = next(c for c, k in PROGRAMME_CITY_KEYS.items() if k == zoom_choice)
        rows = districts[districts[UNIT_LAYERS["districts"].id_col].astype(str) == code]
        if not rows.empty:
            st.session_state["map_bounds"] = bounds_latlon(rows.geometry.union_all())
            st.session_state["selected_unit"] = ("districts", int(rows.index[0]))

if st.session_state["_url_unit"]:  # a shared link names a unit: select it once
    st.session_state["selected_unit"] = unit_from_code(st.session_state["_url_unit"], unit_frames)
    st.session_state["_url_unit"] = None
if query:
    hits = search_units(query, unit_frames)
    if not hits:  # said under the search box, where the eye is
        search_col.info(tr_plain("map.search_none", q=query))
    else:
        labels = {search_label(h): h for h in hits}
        pick = choose_one(tr("map.search_pick"), list(labels), key=wkey("search_pick"))
        hit = labels[pick]
        if st.session_state.get("_last_pick") != pick:
            st.session_state["_last_pick"] = pick
            st.session_state["selected_unit"] = (hit.layer, hit.index)
            st.session_state["map_bounds"] = bounds_latlon(unit_frames[hit.layer].geometry.loc[hit.index])
            st.session_state["map_focus"] = None

focus, focus_center, focus_zoom = current_focus()

# one map per distinct view, shared by all sessions (pages/map_cache.py; the default one is built at start-up)
if not first_run:
    fmap, failures = cached_map(view_key(view, user_layers), view, user_layers)
with controls:
    if "wards_2025" in view.layers:
        st.caption(tr("map.derived_note"))
        try:
            without = missing_ward_polygons(cached_layer("wards_2025_points"), cached_layer("wards_2025"))
        except AtlasError:
            without = []
        if without:
            st.caption(tr_plain("map.wards_without_polygon", names=", ".join(without)))
    for layer_id, err in failures:
        problems.setdefault(layer_id, err.message(lang))
    infra = load_or_note("infrastructure")  # the side panel counts facilities from it
    for message in problems.values():
        st.warning(plain(message))

if not first_run:
    with map_col:
        out = show_map(fmap, key="explorer_map", height=620, center=focus_center, zoom=focus_zoom)
with panel_col:
    st.subheader(tr("map.panel_title"), anchor=False)
    click_layers = [lid for lid in UNIT_LAYERS if lid in unit_frames]
    click_layer = choose_one(tr("map.panel_layer"), click_layers, key=wkey("click_layer"),
                             format_func=lambda lid: tr("map.level_" + catalog.layers[lid].unit_level))
    clicked = (out or {}).get("last_clicked")
    if clicked and clicked != st.session_state["last_click"]:
        st.session_state["last_click"] = clicked
        idx = unit_at(unit_frames[click_layer], clicked["lng"], clicked["lat"])
        if idx is not None:
            st.session_state["selected_unit"] = (click_layer, idx)
    selected = st.session_state["selected_unit"]
    if not selected or selected[0] not in unit_frames:
        st.info(tr("map.panel_hint"))
    else:
        layer_id, idx = selected
        facts = unit_facts(layer_id, unit_frames[layer_id].loc[idx], infra)
        st.markdown(f"### {plain(facts['name'])}")
        st.caption(f"{plain(facts['type'])} · {tr('map.level_' + catalog.layers[layer_id].unit_level)}")
        if catalog.layers[layer_id].derived:
            st.caption(tr("map.derived_note"))
        c1, c2 = st.columns(2)
        c1.metric(tr("map.population_year", year=str(facts["population_year"])), fmt_number(facts["population"], lang, 0))
        c2.metric(f"{tr('common.area')} ({tr('common.km2')})", fmt_number(facts["area_km2"], lang, 1))
        st.metric(f"{tr('common.density')} ({tr('common.per_km2')})", fmt_number(facts["density"], lang, 0))
        st.markdown(f"**{tr('map.facilities_inside')}**")
        counts = facts["facilities"]
        table = pd.DataFrame({
            tr("common.type"): [catalog.categories[c].title(lang) for c in catalog.categories],
            tr("map.count"): [int(counts.get(c, 0)) for c in catalog.categories],
        })
        st.markdown(markdown_table(table))
        for line in facility_summaries(lang):  # counts above are what the data holds, not reality
            st.caption(plain(line))

write_state(layers=view.layers, basemap=view.basemap, bounds=st.session_state["map_bounds"],
            center=focus[0] if focus else None, zoom=focus[1] if focus else None,
            unit=unit_code(st.session_state["selected_unit"], unit_frames),
            indicator=f"{view.choropleth_layer}:{view.choropleth_column}" if view.choropleth_column else None,
            scheme=view.scheme if view.choropleth_column else None, classes=view.k if view.choropleth_column else None,
            categories=view.categories if "infrastructure" in view.layers else None)

with st.expander(tr("common.credits")):
    rows = [{tr("common.name"): layer.title(lang), tr("common.source"): layer.source_text(lang),
             tr("common.licence"): layer.licence_text(lang), tr("common.vintage"): layer.vintage_text(lang)}
            for layer in catalog.layers.values()]
    st.markdown(markdown_table(pd.DataFrame(rows)))

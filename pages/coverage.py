"""Service coverage: who is within reach of a kind of facility, and what a change would do.

Thin page: widgets → ``geo.population`` / ``geo.coverage`` / ``geo.network`` → ``layers.render``.
Heavy objects are cached so that a rerun changing only the distance re-thresholds cached
per-cell distances (no reloading, reprojecting or re-gridding):

* population grid per source (``st.cache_resource``), cells labelled with their unit per
  (grid, unit layer) (``st.cache_resource``), facilities in the grid CRS per source;
* nearest-facility distances (or network costs) per (grid, units, facility set) in the
  session, computed in chunks with a progress bar.
"""
from __future__ import annotations

import hashlib
import importlib
import re
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from geo import coverage as cov
from geo.errors import AtlasError
from geo.text import spreadsheet_safe
from geo.i18n import fmt_number, fmt_percent, t
from geo.population import census_grid, read_population_raster
from geo.text import escape
from geo.catalog import get_catalog, service_reach
from geo.numbers import whole_people
from geo.units import UNIT_LAYERS, unit_frame
from pages.common import cached_layer, current_basemap, current_lang, ensure_app_entry, show_error, tr

ensure_app_entry()

lang = current_lang()
catalog = get_catalog()
for key, value in {"cov_added": [], "cov_closed": [], "cov_last_click": None, "cov_click_adds": False,
                   "_cov_costs": {}}.items():
    st.session_state.setdefault(key, value)

UNIT_CHOICES = {"cities": "smart_cities", "districts": "districts", "communes": "communes", "wards": "wards_2025"}
POP_CHOICES = {"commune": UNIT_LAYERS["communes"], "ward": UNIT_LAYERS["wards_2025"]}  # census-modelled grids
MAX_PAGE_CELLS = 8_000_000  # the page keeps its cells in memory (~50 B each); bigger → CLI (chunked)
COST_CACHE_SIZE = 6
FAC_UPLOAD = "upload"  # facility source: a file uploaded on this page
MAX_MAP_ROAD_EDGES = 20_000  # road segments drawn on the map (more would make the page heavy)


# ---- cached building blocks ------------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=4)
def census_grid_for(source: str):
    """Census-modelled population grid (100 m) for ``source`` in POP_CHOICES."""
    spec = POP_CHOICES[source]
    return census_grid(cached_layer(spec.layer), spec.pop_col, 100.0, label_key=spec.pop_label_key)


@st.cache_resource(show_spinner=False, max_entries=4)
def raster_grid_for(digest: str, _data: bytes, name: str):
    """A user's population GeoTIFF (keyed by content digest)."""
    with tempfile.TemporaryDirectory(prefix="atlas_pop_") as tmp:
        path = Path(tmp) / "population.tif"
        path.write_bytes(_data)
        return read_population_raster(path)


def units_for(choice: str) -> tuple[gpd.GeoDataFrame, str, str]:
    """The unit layer, its id column and name column.

    ``ws:NAME|SAVED_AT`` is a polygon layer saved in the workspace: units are numbered in
    file order and named by their first text column.
    """
    if choice.startswith("ws:"):
        gdf = importlib.import_module("geo.workspace").read_layer(choice[3:].rsplit("|", 1)[0])
        text_cols = [c for c in gdf.columns if c != gdf.geometry.name and pd.api.types.is_string_dtype(gdf[c])]
        gdf = gdf.reset_index(drop=True).assign(
            unit_id=lambda d: (d.index + 1).astype(str),
            unit_name=lambda d: d[text_cols[0]].astype(str) if text_cols else d["unit_id"])
        return gdf, "unit_id", "unit_name"
    return unit_frame(UNIT_CHOICES[choice], loader=cached_layer)


@st.cache_resource(show_spinner=False, max_entries=8)
def cells_for(grid_key: str, unit_choice: str, _grid):
    """Populated cells of the grid labelled with their unit (centre rule)."""
    units, uid, uname = units_for(unit_choice)
    return cov.prepare_cells(_grid, units, uid, uname)


@st.cache_resource(show_spinner=False, max_entries=16)
def units_geo(unit_choice: str):
    """Unit polygons in EPSG:4326 (for the map and exports)."""
    units, _, _ = units_for(unit_choice)
    return units.to_crs(4326)


def workspace_entries() -> list[dict]:
    """Saved user layers from ``geo.workspace`` (only if that module exists): dicts with
    name, kind (points/lines/polygons/raster) and saved_at."""
    try:
        ws = importlib.import_module("geo.workspace")
    except ImportError:
        return []
    try:
        return [x for x in ws.list_layers() if isinstance(x, dict) and x.get("name")]
    except Exception:  # noqa: BLE001 — no workspace: no layers
        return []


def workspace_point_layers(entries: list[dict]) -> dict:
    """``{"ws:NAME": loader}`` for saved point/polygon layers (facilities)."""
    ws = importlib.import_module("geo.workspace") if entries else None
    return {f"ws:{e['name']}": (lambda n=e["name"]: ws.read_layer(n)) for e in entries
            if e.get("kind") in ("points", "polygons")}


@st.cache_resource(show_spinner=False, max_entries=4)
def workspace_raster_grid(name: str, saved_at: str):
    """A population raster saved in the workspace (keyed by name + save time)."""
    ws = importlib.import_module("geo.workspace")
    return read_population_raster(ws.raster_path(name))


@st.cache_resource(show_spinner=False, max_entries=4)
def workspace_road_graph(name: str, saved_at: str, profile: str, crs: str):
    """Road graph of a saved line layer (keyed by name + save time + profile + CRS)."""
    from geo.network import build_graph

    ws = importlib.import_module("geo.workspace")
    return build_graph(ws.read_layer(name), profile, crs)


def base_facilities(source: str, user_layers: dict, upload=None) -> gpd.GeoDataFrame:
    if source == FAC_UPLOAD:
        return read_upload(upload)
    if source.startswith("ws:"):
        return user_layers[source]()
    infra = cached_layer("infrastructure")
    return infra[infra["category"] == source]


def digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def read_upload(upload) -> gpd.GeoDataFrame:
    """A vector upload (GeoJSON / GeoPackage / zipped shapefile) via the import module."""
    data = upload.getvalue()
    with tempfile.TemporaryDirectory(prefix="atlas_up_") as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(data)
        return cov.read_vector_file(path, display_name=upload.name)


@st.cache_resource(show_spinner=False, max_entries=4)
def road_graph_for(key: str, _upload, profile: str, crs: str):
    """Road graph of an uploaded line layer (keyed by content digest + profile + CRS)."""
    from geo.network import build_graph

    return build_graph(read_upload(_upload), profile, crs)


def costs_with_progress(key: tuple, cells, make_cost) -> np.ndarray:
    """Per-cell cost, cached in the session; computed (``make_cost()`` builds the cost
    function only on a miss) in chunks with a progress bar."""
    store: dict = st.session_state["_cov_costs"]
    if key in store:
        return store[key]
    cost_fn = make_cost()
    bar = st.progress(0.0, text=tr("coverage.computing"))
    n = len(cells.pop)
    out = np.empty(n)
    step = 250_000
    for s in range(0, n, step):
        out[s:s + step] = cost_fn(cells.xy[s:s + step])
        bar.progress(min(1.0, (s + step) / max(n, 1)), text=tr("coverage.computing"))
    quantiles = cov.cost_quantiles(cells, out)  # radius-independent: computed once per facility set
    bar.empty()
    if len(store) >= COST_CACHE_SIZE:
        store.pop(next(iter(store)))
    store[key] = (out, quantiles)
    return store[key]


def reach_defaults() -> None:
    """Radius and minutes of the chosen facility category (``layers/catalog.toml``): set when
    the page opens and whenever the category changes (the planner may then edit them)."""
    cat = st.session_state.get("cov_facilities")
    radius, minutes = service_reach(cat) if cat in catalog.categories else service_reach(next(iter(catalog.categories)))
    st.session_state["cov_radius"] = int(radius)
    st.session_state["cov_minutes"] = int(minutes)


def radius_input() -> int:
    """The distance limit (m): straight-line radius, or network distance (not shown for a time limit)."""
    return st.number_input(tr("coverage.radius"), min_value=100, max_value=100_000, step=250, key="cov_radius")


def clear_scenario() -> None:
    """Button callback: forget proposed/closed facilities (widget state included) and stop
    adding facilities by clicking (else the next click would silently start a new scenario).
    The last click is kept: the map keeps reporting it, and forgetting it would add it again."""
    st.session_state["cov_click_adds"] = False
    st.session_state["cov_added"] = []
    st.session_state["cov_closed"] = []
    st.session_state["cov_closed_pick"] = []


def fmt_table(df: pd.DataFrame, shares: tuple[str, ...], decimals: dict | None = None) -> pd.DataFrame:
    """Numbers as the language writes them (vi 1.286.751 / 45,6%); people rounded to whole persons."""
    decimals = decimals or {}
    out = df.copy()
    for c in out.columns:
        if c in shares:
            out[c] = [fmt_percent(v, lang) for v in out[c]]
        elif pd.api.types.is_numeric_dtype(out[c]):
            d = decimals.get(c, 0)
            out[c] = [fmt_number(round(float(v), d), lang, d) if pd.notna(v) else "—" for v in out[c]]
    return out


# ---- page --------------------------------------------------------------------------------

st.title(tr("coverage.title"))
st.caption(tr("coverage.intro"))
st.info(tr("coverage.rule"))

ws_entries = workspace_entries()
ws_saved = {e["name"]: str(e.get("saved_at", "")) for e in ws_entries}
user_layers = workspace_point_layers(ws_entries)
ws_rasters = [e["name"] for e in ws_entries if e.get("kind") == "raster"]
ws_lines = [e["name"] for e in ws_entries if e.get("kind") == "lines"]
fac_options = list(catalog.categories) + [FAC_UPLOAD] + list(user_layers)

if "cov_radius" not in st.session_state:
    reach_defaults()
with st.sidebar:
    fac_source = st.selectbox(tr("coverage.facilities"), fac_options, key="cov_facilities", on_change=reach_defaults,
                              format_func=lambda c: catalog.categories[c].title(lang) if c in catalog.categories
                              else t("coverage.facilities_upload", lang) if c == FAC_UPLOAD
                              else t("coverage.facilities_workspace", lang, name=c[3:]))
    fac_upload = st.file_uploader(tr("coverage.facilities_upload_file"), type=["geojson", "json", "gpkg", "zip", "csv"],
                                  key="cov_fac_file") if fac_source == FAC_UPLOAD else None
    ws_units = [f"ws:{e['name']}|{e.get('saved_at', '')}" for e in ws_entries if e.get("kind") == "polygons"]
    unit_choice = st.selectbox(tr("coverage.units"), list(UNIT_CHOICES) + ws_units, index=1, key="cov_units",
                               format_func=lambda u: t("coverage.facilities_workspace", lang,
                                                       name=u[3:].rsplit("|", 1)[0]) if u.startswith("ws:")
                               else t(f"coverage.units_{u}", lang))
    pop_choice = st.selectbox(tr("coverage.population_source"),
                              ["commune", "ward", "upload"] + [f"ws:{n}" for n in ws_rasters], key="cov_pop",
                              format_func=lambda p: t("coverage.facilities_workspace", lang, name=p[3:])
                              if p.startswith("ws:") else t(f"coverage.pop_{p}", lang))
    pop_upload = st.file_uploader(tr("coverage.pop_upload"), type=["tif", "tiff"], key="cov_pop_file") \
        if pop_choice == "upload" else None
    mode = st.radio(tr("coverage.mode"), ["euclidean", "network"], key="cov_mode", horizontal=True,
                    format_func=lambda m: t(f"coverage.mode_{m}", lang))
    detour = 1.0
    roads_upload = roads_saved = None
    profile, limit_kind, minutes, radius = "walk", "distance", None, None
    if mode == "euclidean":
        radius = radius_input()
        detour = st.number_input(tr("coverage.detour"), min_value=1.0, max_value=3.0, value=1.0, step=0.1,
                                 key="cov_detour")
    else:
        roads_saved = st.selectbox(tr("coverage.roads_saved"), [None] + ws_lines, key="cov_roads_saved",
                                   format_func=lambda n: t("coverage.capacity_none", lang) if n is None
                                   else t("coverage.facilities_workspace", lang, name=n)) if ws_lines else None
        roads_upload = st.file_uploader(tr("coverage.roads_upload"), type=["geojson", "json", "gpkg", "zip"],
                                        key="cov_roads") if roads_saved is None else None
        profile = st.radio(tr("coverage.speed_profile"), ["walk", "motorbike"], key="cov_profile", horizontal=True,
                           format_func=lambda p: t(f"coverage.profile_{p}", lang))
        limit_kind = st.radio(tr("coverage.network_limit"), ["time", "distance"], key="cov_limit", horizontal=True,
                              format_func=lambda k: t(f"coverage.limit_{k}", lang))
        if limit_kind == "time":
            minutes = st.number_input(tr("coverage.minutes_limit"), min_value=1, max_value=240, step=5,
                                      key="cov_minutes")
        else:
            radius = radius_input()
    show_2sfca = st.checkbox(tr("coverage.access_ratio"), key="cov_2sfca") if mode == "euclidean" else False

# ---- population grid ----------------------------------------------------------------------
try:
    with st.spinner(tr("coverage.building_grid")):
        if pop_choice.startswith("ws:"):
            grid_key = f"ws:{pop_choice[3:]}:{ws_saved.get(pop_choice[3:], '')}"
            grid = workspace_raster_grid(pop_choice[3:], ws_saved.get(pop_choice[3:], ""))
        elif pop_choice == "upload":
            if pop_upload is None:
                st.info(tr("coverage.pop_upload_prompt"))
                st.stop()
            data = pop_upload.getvalue()
            grid_key = "raster:" + digest(data)
            grid = raster_grid_for(grid_key, data, pop_upload.name)
        else:
            grid_key = "census:" + pop_choice
            grid = census_grid_for(pop_choice)
        if grid.values.size > MAX_PAGE_CELLS:
            raise AtlasError("coverage_errors.grid_too_big", cells=grid.values.size)
        cells = cells_for(grid_key, unit_choice, grid)
        unit_pop = cells.unit_population()
        if float(unit_pop.sum()) <= 0:
            raise AtlasError("coverage_errors.no_overlap")
except AtlasError as err:
    show_error(err)
    st.stop()
st.caption(f"{tr('coverage.population_source')}: {tr(grid.label_key)}")
if pop_choice not in POP_CHOICES and (unit_pop <= 0).any():  # a raster that misses some units
    empty_names = [str(n) for n in cells.unit_names[unit_pop <= 0]]
    st.warning(tr("coverage.pop_partial", count=len(empty_names),
                  names=", ".join(empty_names[:5]) + (", …" if len(empty_names) > 5 else "")))

# ---- facilities and scenario ----------------------------------------------------------------
if fac_source == FAC_UPLOAD and fac_upload is None:
    st.info(tr("coverage.facilities_upload_prompt"))
    st.stop()
try:
    fac_all = base_facilities(fac_source, user_layers, fac_upload)
except AtlasError as err:
    show_error(err)
    st.stop()
fac_label = cov.facility_label(fac_source if fac_source in catalog.categories else None, lang)
names = (fac_all["name"] if "name" in fac_all.columns else pd.Series("", index=fac_all.index)).fillna("").astype(str)

with st.expander(tr("coverage.whatif"), expanded=bool(st.session_state["cov_added"] or st.session_state["cov_closed"])):
    st.caption(tr("coverage.whatif_help"))
    st.toggle(tr("coverage.whatif_add_click"), key="cov_click_adds")
    proposed_upload = st.file_uploader(tr("coverage.whatif_upload"), type=["geojson", "json", "gpkg", "zip", "csv"],
                                       key="cov_proposed")
    closed = st.multiselect(tr("coverage.whatif_closed"), list(fac_all.index),
                            default=[i for i in st.session_state["cov_closed"] if i in fac_all.index],
                            format_func=lambda i: f"{names.get(i) or '—'} (#{i})", key="cov_closed_pick",
                            placeholder=tr("coverage.whatif_closed_placeholder"))
    st.session_state["cov_closed"] = list(closed)
    st.button(tr("coverage.whatif_clear"), key="cov_clear", on_click=clear_scenario)

proposed_gdf = None
if proposed_upload is not None:
    try:
        proposed_gdf = read_upload(proposed_upload)
    except AtlasError as err:
        show_error(err)
added = [tuple(p) for p in st.session_state["cov_added"]]
scenario = bool(added or st.session_state["cov_closed"] or (proposed_gdf is not None and len(proposed_gdf)))
fac_after = cov.scenario_facilities(fac_all, added, st.session_state["cov_closed"], proposed_gdf) if scenario else fac_all

# ---- costs ----------------------------------------------------------------------------------
fac_key = (fac_source, len(fac_all), ws_saved.get(fac_source[3:], "") if fac_source.startswith("ws:")
           else digest(fac_upload.getvalue()) if fac_upload is not None else "")


def scenario_key() -> tuple:
    up = digest(proposed_upload.getvalue()) if proposed_upload is not None else ""
    return (tuple(added), tuple(st.session_state["cov_closed"]), up)


threshold = float(radius) if radius is not None else float("nan")
cost_label = "distance"
try:
    if mode == "euclidean":
        cost_before = costs_with_progress(("euclid", grid_key, unit_choice, fac_key), cells,
                                          lambda: cov.euclidean_cost(cov.facility_xy(fac_all, grid.crs)))
        cost_after = None
        if scenario:
            cost_after = costs_with_progress(("euclid", grid_key, unit_choice, fac_key, scenario_key()), cells,
                                             lambda: cov.euclidean_cost(cov.facility_xy(fac_after, grid.crs)))
        cost_before = (cost_before[0] * detour, tuple(q * detour for q in cost_before[1]))
        cost_after = (cost_after[0] * detour, tuple(q * detour for q in cost_after[1])) \
            if cost_after is not None else None
    else:
        if roads_saved is not None:
            roads_key = f"ws:{roads_saved}:{ws_saved.get(roads_saved, '')}"
            graph = workspace_road_graph(roads_saved, ws_saved.get(roads_saved, ""), profile, grid.crs)
        elif roads_upload is not None:
            roads_key = digest(roads_upload.getvalue())
            graph = road_graph_for(f"{roads_key}:{profile}:{grid.crs}", roads_upload, profile, grid.crs)
        else:
            st.warning(tr("coverage.no_roads"))
            st.stop()
        st.caption(tr("coverage.roads_loaded", edges=graph.n_edges, nodes=graph.n_nodes))
        from geo.network import network_cost_fn

        metric = "time" if limit_kind == "time" else "distance"
        threshold = float(minutes) if metric == "time" else float(radius)  # radius shown for a distance limit
        cost_label = metric
        cost_before = costs_with_progress(("net", grid_key, unit_choice, fac_key, roads_key, profile, metric), cells,
                                          lambda: network_cost_fn(graph, cov.facility_xy(fac_all, grid.crs), metric))
        cost_after = None
        if scenario:
            cost_after = costs_with_progress(
                ("net", grid_key, unit_choice, fac_key, roads_key, profile, metric, scenario_key()), cells,
                lambda: network_cost_fn(graph, cov.facility_xy(fac_after, grid.crs), metric))
except AtlasError as err:
    show_error(err)
    st.stop()

before = cov.coverage_from_costs(cells, cost_before[0], threshold, cost_before[1])
after = cov.coverage_from_costs(cells, cost_after[0], threshold, cost_after[1]) if cost_after is not None else None
result = after if after is not None else before
if cost_label == "time":
    result = result.rename(columns={"median_distance_m": "median_minutes", "p90_distance_m": "p90_minutes"})
if show_2sfca:
    units_gdf, uid, uname = units_for(unit_choice)
    # numeric columns that can be a capacity (identifiers such as osm_id and coordinates are not)
    numeric = [c for c in fac_all.columns if c != fac_all.geometry.name
               and not re.search(r"(^|_)(id|fid|code|ma)$|^osm_|^(lon|lng|long|lat|longitude|latitude|x|y"
                                 r"|kinh_?do|vi_?do)$", str(c).lower())
               and pd.to_numeric(fac_all[c], errors="coerce").notna().any()]
    cap_col = st.selectbox(tr("coverage.capacity"), [None] + numeric, key="cov_capacity",
                           format_func=lambda c: t("coverage.capacity_none", lang) if c is None else str(c))
    acc = cov.two_step_fca(fac_after, units_gdf, grid, float(radius), uid, uname, capacity_col=cap_col, detour=detour)
    result = result.assign(access_ratio=acc["access_ratio"].to_numpy())
if len(fac_after) == 0:
    st.warning(tr("coverage.no_facilities"))

reach_kw = {"minutes": minutes} if cost_label == "time" else {"radius_m": threshold}
total_line = cov.total_sentence(result, lang, fac_label, **reach_kw)
st.subheader(total_line)

# ---- map ----------------------------------------------------------------------------------
from geo.catalog import Catalog, Layer  # noqa: E402
from layers.render import add_catalog_layer, add_choropleth, finish_map, new_map  # noqa: E402
from pages.map_component import show_map  # noqa: E402

# Property keys sent to the browser are plain identifiers (folium writes the first unique
# one as ``feature.properties.<key>`` into JavaScript); labels come from this page catalog.
MAP_FIELDS = {
    "unit_name": "coverage.col_unit_name", "share_pct": "coverage.map_title", "share_txt": "coverage.col_covered_share",
    "population": "coverage.col_population", "beyond": "coverage.col_beyond_population", "name": "common.name",
}
map_catalog = Catalog(layers={}, categories=catalog.categories,
                      fields={k: {"vi": t(v, "vi"), "en": t(v, "en")} for k, v in MAP_FIELDS.items()})


def page_layer(layer_id: str, title_key: str, kind: str, style: dict, tooltip: tuple = ()) -> Layer:
    """A map layer of this page (not a catalog file): title from the strings, own style."""
    return Layer(id=layer_id, title_vi=t(title_key, "vi"), title_en=t(title_key, "en"), file="", kind=kind,
                 category="coverage", source="", licence="", vintage="", tooltip=tooltip, style=style)


final_cost = (cost_after if cost_after is not None else cost_before)[0]
map_key = ("cov_map", lang, current_basemap(), grid_key, unit_choice, fac_key, scenario_key() if scenario else None, mode, detour,
           threshold, cost_label, roads_key if mode == "network" else None)
if st.session_state.get("_cov_map_key") != map_key:
    ugeo = units_geo(unit_choice)
    shown = gpd.GeoDataFrame({
        "unit_name": result["unit_name"].astype(str).to_numpy(),
        "share_pct": result["covered_share"].to_numpy() * 100,
        "share_txt": [fmt_percent(s, lang) for s in result["covered_share"]],
        "population": result["population"].round().to_numpy(),
        "beyond": result["beyond_population"].round().to_numpy(),
    }, geometry=ugeo.geometry.to_numpy(), crs=4326)
    minx, miny, maxx, maxy = ugeo.total_bounds  # fit the chosen units (the 3 cities are a small part)
    m = new_map(lang, current_basemap(), bounds=[[float(miny), float(minx)], [float(maxy), float(maxx)]])
    add_choropleth(m, shown, "share_pct", lang, tr("coverage.map_title"),
                   tooltip_fields=["unit_name", "share_txt", "population", "beyond"], scheme="equal_interval", k=5,
                   legend_title=f"{tr('coverage.map_title')} (%) — {tr(grid.label_key)}", palette="RdYlGn",
                   catalog=map_catalog)
    area = cov.mask_polygons(cov.covered_mask(cells, final_cost, threshold), grid.transform, grid.crs)
    if not area.geometry.iloc[0].is_empty:
        add_catalog_layer(m, page_layer("coverage_area", "coverage.covered_area", "polygon",
                                        {"color": "#2563eb", "weight": 1, "fill_opacity": 0.15}),
                          area[["geometry"]], lang, catalog=map_catalog)
    if mode == "network" and graph.n_edges <= MAX_MAP_ROAD_EDGES:  # the roads the travel times follow
        segs = shapely.linestrings(np.stack((graph.node_xy[graph.edge_a], graph.node_xy[graph.edge_b]), axis=1))
        add_catalog_layer(m, page_layer("coverage_roads", "coverage.roads_layer", "line",
                                        {"color": "#6b7280", "weight": 1}),
                          gpd.GeoDataFrame(geometry=segs, crs=graph.crs).to_crs(4326), lang, catalog=map_catalog)
    hs = cov.hotspots(cells, final_cost, threshold, top=15)
    if len(hs):
        hs_show = gpd.GeoDataFrame({"unit_name": hs["unit_name"].astype(str).to_numpy(),
                                    "beyond": hs["people_beyond"].round().to_numpy()},
                                   geometry=hs.geometry.to_numpy(), crs=hs.crs)
        add_catalog_layer(m, page_layer("coverage_hotspots", "coverage.hotspots", "polygon",
                                        {"color": "#9333ea", "weight": 2, "fill_opacity": 0.3},
                                        ("unit_name", "beyond")), hs_show, lang, catalog=map_catalog)
    if len(fac_all):
        keep = fac_all.drop(index=[i for i in st.session_state["cov_closed"] if i in fac_all.index])
        pts = gpd.GeoDataFrame({"name": names.loc[keep.index].to_numpy()},
                               geometry=shapely.point_on_surface(keep.geometry.to_numpy()), crs=fac_all.crs).to_crs(4326)
        add_catalog_layer(m, page_layer("coverage_existing", "coverage.existing", "point",
                                        {"color": "#111827", "radius": 4}, ("name",)), pts, lang, catalog=map_catalog)
    new_pts = fac_after[fac_after.get("proposed", pd.Series(False, index=fac_after.index)).fillna(False).astype(bool)] \
        if scenario else fac_after.iloc[0:0]
    if len(new_pts):
        add_catalog_layer(m, page_layer("coverage_proposed", "coverage.proposed", "point",
                                        {"color": "#dc2626", "radius": 7}),
                          new_pts[[new_pts.geometry.name]].to_crs(4326), lang, catalog=map_catalog)
    finish_map(m, lang)
    st.session_state["_cov_map"] = m
    st.session_state["_cov_map_key"] = map_key
# one map component per unit layer: a new unit layer is fitted afresh (the 3 cities are a small
# part of the province); other changes (radius, what-if points) rebuild in place, keeping the view
out = show_map(st.session_state["_cov_map"], key=f"coverage_map_{unit_choice}", height=560)

clicked = (out or {}).get("last_clicked")
if clicked and clicked != st.session_state["cov_last_click"]:
    st.session_state["cov_last_click"] = clicked
    if st.session_state["cov_click_adds"]:
        st.session_state["cov_added"] = st.session_state["cov_added"] + [[float(clicked["lng"]), float(clicked["lat"])]]
        st.rerun()
if st.session_state["cov_last_click"]:
    c = st.session_state["cov_last_click"]
    st.caption(tr("coverage.whatif_clicked", lat=fmt_number(round(c["lat"], 5), lang, 5),
                  lon=fmt_number(round(c["lng"], 5), lang, 5)))

# ---- what-if summary ---------------------------------------------------------------------
if after is not None:
    st.markdown(f"#### {tr('coverage.whatif')}")
    n_added = len(added) + (len(proposed_gdf) if proposed_gdf is not None else 0)
    st.caption(tr("coverage.whatif_count", added=n_added, closed=len(st.session_state["cov_closed"])))
    tb, ta = cov.totals(before), cov.totals(after)
    st.write(tr("coverage.whatif_total_change", before=fmt_number(round(tb["covered_population"]), lang),
                after=fmt_number(round(ta["covered_population"]), lang),
                change=fmt_number(round(ta["covered_population"] - tb["covered_population"]), lang)))
    comp = cov.compare(before, after).sort_values("change", ascending=False)
    comp_cols = ["unit_name", "population", "covered_before", "covered_after", "change", "share_before", "share_after"]
    st.dataframe(fmt_table(comp[comp_cols], ("share_before", "share_after"))
                 .rename(columns={c: tr(f"coverage.col_{c}") for c in comp_cols}), hide_index=True, width="stretch")

# ---- sentences and table ----------------------------------------------------------------------
st.markdown(f"#### {tr('coverage.sentences')}")
lines = cov.coverage_sentences(result.rename(columns={"median_minutes": "median_distance_m",
                                                      "p90_minutes": "p90_distance_m"}), lang, fac_label,
                               top=8, **reach_kw)
st.markdown("\n".join(f"- {escape(s)}" for s in lines) or "—")

st.markdown(f"#### {tr('coverage.table')}")
table = result.sort_values("beyond_population", ascending=False).drop(columns=["unit_id"])
table = fmt_table(table, ("covered_share",), {"median_minutes": 1, "p90_minutes": 1, "access_ratio": 2})
st.dataframe(table.rename(columns={c: tr(f"coverage.col_{c}") for c in table.columns}), hide_index=True,
             width="stretch")

# ---- downloads ----------------------------------------------------------------------------
st.markdown(f"#### {tr('coverage.downloads')}")
export_frame = result.assign(population_source=tr(grid.label_key), rule=tr("coverage.rule"))
if after is not None:  # a what-if: keep the baseline next to the scenario
    export_frame = export_frame.assign(covered_population_before=before["covered_population"].to_numpy(),
                                       covered_change=(after["covered_population"] - before["covered_population"]).to_numpy())
stem = re.sub(r"[^\w.-]+", "_", f"coverage_{fac_source}_{unit_choice.split('|')[0]}")


def _geo_bytes(driver: str) -> bytes:
    gdf = cov.attach_geometry(export_frame, units_geo(unit_choice))
    try:
        from dataclasses import replace

        from geo.export import Credits, export_bytes, layer_credits

        parts = [layer_credits(lid, lang) for lid in
                 dict.fromkeys([UNIT_CHOICES.get(unit_choice, "districts").replace("smart_cities", "districts"),
                                "infrastructure", POP_CHOICES[pop_choice].layer if pop_choice in POP_CHOICES else "infrastructure"])]
        credits = replace(Credits.combine(tr("coverage.title"), parts), modelled=True).with_notes(
            tr(grid.label_key), tr("coverage.rule"))
        fmt = "gpkg" if driver == "GPKG" else "geojson"
        _, data, _ = export_bytes(gdf, fmt, credits=credits, lang=lang, name=stem)
        return data
    except ImportError:
        with tempfile.TemporaryDirectory(prefix="atlas_dl_") as tmp:
            path = Path(tmp) / ("out.gpkg" if driver == "GPKG" else "out.geojson")
            gdf.to_file(path, driver=driver, engine="pyogrio")
            return path.read_bytes()


def _tif_bytes() -> bytes:
    """Euclidean: distance from every cell; network: travel cost of the populated cells."""
    from geo.population import write_grid_geotiff

    with tempfile.TemporaryDirectory(prefix="atlas_dl_") as tmp:
        path = Path(tmp) / "distance.tif"
        if mode == "euclidean":
            cov.write_distance_geotiff(fac_after, grid, path, detour=detour)
        else:
            write_grid_geotiff(grid, path, values=cov.cells_raster(cells, final_cost), nodata=-1.0)
        return path.read_bytes()


def _hotspots_bytes() -> bytes:
    hs = cov.hotspots(cells, final_cost, threshold, top=200)
    area = cov.mask_polygons(cov.covered_mask(cells, final_cost, threshold), grid.transform, grid.crs)
    both = gpd.GeoDataFrame(pd.concat([hs.assign(layer="hotspot"),
                                       area.drop(columns=["covered"]).assign(layer="covered_area")],
                                      ignore_index=True), geometry="geometry", crs=4326)
    with tempfile.TemporaryDirectory(prefix="atlas_dl_") as tmp:
        path = Path(tmp) / "hotspots.geojson"
        both.to_file(path, driver="GeoJSON", engine="pyogrio")
        return path.read_bytes()


d1, d2, d3, d4, d5 = st.columns(5)
d1.download_button(tr("coverage.dl_csv"), spreadsheet_safe(whole_people(export_frame)).to_csv(index=False).encode("utf-8-sig"), f"{stem}.csv",
                   "text/csv", key="cov_dl_csv")
d2.download_button(tr("coverage.dl_geojson"), lambda: _geo_bytes("GeoJSON"), f"{stem}.geojson",
                   "application/geo+json", key="cov_dl_geojson")
d3.download_button(tr("coverage.dl_gpkg"), lambda: _geo_bytes("GPKG"), f"{stem}.gpkg",
                   "application/geopackage+sqlite3", key="cov_dl_gpkg")
d4.download_button(tr("coverage.dl_tif") if mode == "euclidean" else tr(f"coverage.dl_tif_{cost_label}"), _tif_bytes,
                   f"{stem}_{'distance' if cost_label == 'distance' else 'minutes'}.tif", "image/tiff", key="cov_dl_tif")
d5.download_button(tr("coverage.dl_hotspots"), _hotspots_bytes, f"{stem}_hotspots.geojson", "application/geo+json",
                   key="cov_dl_hotspots")

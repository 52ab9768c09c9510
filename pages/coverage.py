"""Service coverage: who is within reach of a kind of facility, and what a change would do.

Thin page: widgets → one :class:`geo.service.CoverageRequest` → ``geo.service`` (cached
grids, labelled cells and per-cell costs: changing only the distance or the detour
re-thresholds instantly) → :mod:`layers.coverage_map` and tables.
"""
from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

import folium
import pandas as pd
import streamlit as st

from geo import coverage as cov
from geo import workspace
from geo.catalog import get_catalog, service_reach
from geo.errors import AtlasError
from geo.export import export_bytes
from geo.i18n import fmt_number, fmt_percent, t
from geo.network import RoadGraph, build_graph
from geo.numbers import whole_people
from geo.population import read_population_raster, write_grid_geotiff
from geo.service import CoverageRequest, CoverageResult, CoverageService, capacity_columns
from geo.settings import STORE_CRS
from geo.text import spreadsheet_safe
from geo.units import numbered_units
from layers.coverage_map import coverage_map, share_texts
from pages.common import (
    choose_many,
    coverage_service,
    current_basemap,
    current_lang,
    ensure_app_entry,
    plain,
    show_error,
    tr,
    uploader,
)
from pages.map_component import show_map

ensure_app_entry()

lang = current_lang()
catalog = get_catalog()
for key, value in {"cov_added": [], "cov_closed": [], "cov_last_click": None, "cov_click_adds": False}.items():
    st.session_state.setdefault(key, value)

UNIT_CHOICES = {"cities": "smart_cities", "districts": "districts", "communes": "communes", "wards": "wards_2025"}
POP_CHOICES = {"commune": "communes", "ward": "wards_2025"}  # census-modelled surfaces of geo.service
MAX_PAGE_CELLS = 8_000_000  # the page keeps its cells in memory (~50 B each); bigger → CLI (chunked)
FAC_UPLOAD = "upload"  # facility source: a file uploaded on this page


def service() -> CoverageService:
    """The coverage service of the app (one per server: sessions share its answers)."""
    return coverage_service()


@st.cache_resource(show_spinner=False, max_entries=8)
def shared_map(key: tuple, _result: CoverageResult, _names: pd.Series, _graph: RoadGraph | None,
               basemap: str) -> folium.Map:
    """The coverage map of a question, built once and drawn by every session asking it
    (a folium map of the 92 wards is ~10 MB of objects: not one copy per session)."""
    return coverage_map(_result, key[1], _names, _graph, basemap=basemap)


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


def reach_defaults() -> None:
    """Radius and minutes of the chosen facility category (``layers/catalog.toml``): set when
    the page opens and whenever the category changes (the planner may then edit them)."""
    cat = st.session_state.get("cov_facilities")
    radius, minutes = service_reach(cat if cat in catalog.categories else next(iter(catalog.categories)))
    st.session_state["cov_radius"], st.session_state["cov_minutes"] = int(radius), int(minutes)


def radius_input() -> int:
    """The distance limit (m): straight-line radius, or network distance."""
    return st.number_input(tr("coverage.radius"), min_value=100, max_value=100_000, step=250, key="cov_radius")


def clear_scenario() -> None:
    """Forget proposed/closed facilities and stop adding by click (else the next click would
    silently start a new scenario). The last click is kept: forgetting it would add it again."""
    st.session_state["cov_click_adds"] = False
    st.session_state["cov_added"], st.session_state["cov_closed"], st.session_state["cov_closed_pick"] = [], [], []


def fmt_table(df: pd.DataFrame, shares: tuple[str, ...], decimals: dict | None = None) -> pd.DataFrame:
    """Numbers as the language writes them (vi 1.286.751 / 45,6%); people are whole persons already."""
    out = df.copy()
    for c in out.columns:
        if c in shares:
            out[c] = [fmt_percent(v, lang) for v in out[c]]
        elif pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c]):
            d = (decimals or {}).get(c, 0)
            out[c] = [fmt_number(round(float(v), d), lang, d) if pd.notna(v) else "—" for v in out[c]]
    return out


def label_columns(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns={c: tr(f"coverage.col_{c}") for c in df.columns})


# ---- question -----------------------------------------------------------------------------
st.title(tr("coverage.title"))
st.caption(tr("coverage.intro"))
st.info(tr("coverage.rule"))

ws_entries = [e for e in workspace.list_layers() if e.get("name")]
ws_saved = {e["name"]: str(e.get("saved_at", "")) for e in ws_entries}
ws_of = {kind: [e["name"] for e in ws_entries if e.get("kind") == kind] for kind in ("points", "polygons", "lines", "raster")}
ws_name = lambda x: t("coverage.facilities_workspace", lang, name=x.split(":", 1)[1].rsplit("|", 1)[0])
if "cov_radius" not in st.session_state:
    reach_defaults()
with st.sidebar:
    fac_source = st.selectbox(tr("coverage.facilities"), list(catalog.categories) + [FAC_UPLOAD]
                              + [f"ws:{n}" for n in ws_of["points"] + ws_of["polygons"]], key="cov_facilities",
                              on_change=reach_defaults, format_func=lambda c: catalog.categories[c].title(lang)
                              if c in catalog.categories else t("coverage.facilities_upload", lang)
                              if c == FAC_UPLOAD else ws_name(c))
    fac_upload = uploader(tr("coverage.facilities_upload_file"), ["geojson", "json", "gpkg", "zip", "csv"],
                          key="cov_fac_file") if fac_source == FAC_UPLOAD else None
    unit_choice = st.selectbox(tr("coverage.units"), list(UNIT_CHOICES) + [f"ws:{n}|{ws_saved[n]}" for n in
                                                                           ws_of["polygons"]], index=1, key="cov_units",
                               format_func=lambda u: ws_name(u) if u.startswith("ws:") else t(f"coverage.units_{u}", lang))
    pop_choice = st.selectbox(tr("coverage.population_source"), ["commune", "ward", "upload"]
                              + [f"ws:{n}" for n in ws_of["raster"]], key="cov_pop",
                              format_func=lambda p: ws_name(p) if p.startswith("ws:") else t(f"coverage.pop_{p}", lang))
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
        roads_saved = st.selectbox(tr("coverage.roads_saved"), [None] + ws_of["lines"], key="cov_roads_saved",
                                   format_func=lambda n: t("coverage.capacity_none", lang) if n is None
                                   else ws_name(f"ws:{n}")) if ws_of["lines"] else None
        roads_upload = uploader(tr("coverage.roads_upload"), ["geojson", "json", "gpkg", "zip"],
                                key="cov_roads") if roads_saved is None else None
        profile = st.radio(tr("coverage.speed_profile"), ["walk", "motorbike"], key="cov_profile", horizontal=True,
                           format_func=lambda p: t(f"coverage.profile_{p}", lang))
        if st.radio(tr("coverage.network_limit"), ["time", "distance"], key="cov_limit", horizontal=True,
                    format_func=lambda k: t(f"coverage.limit_{k}", lang)) == "time":
            minutes = st.number_input(tr("coverage.minutes_limit"), min_value=1, max_value=240, step=5, key="cov_minutes")
        else:
            radius = radius_input()
    show_2sfca = st.checkbox(tr("coverage.access_ratio"), key="cov_2sfca") if mode == "euclidean" else False

try:
    q: dict = {"mode": mode, "detour": float(detour), "radius_m": float(radius) if radius is not None else None,
               "minutes": float(minutes) if minutes is not None else None, "profile": profile}
    # population surface
    if pop_choice in POP_CHOICES:
        q["population"] = POP_CHOICES[pop_choice]
    elif pop_choice == "upload":
        if pop_upload is None:
            st.info(tr("coverage.pop_upload_prompt"))
            st.stop()
        q["grid_key"] = "raster:" + digest(pop_upload.getvalue())
        q["grid"] = raster_grid(q["grid_key"], lambda: read_raster_upload(pop_upload))
    else:
        name = pop_choice[3:]
        q["grid_key"] = f"ws:{name}:{ws_saved.get(name, '')}"
        q["grid"] = raster_grid(q["grid_key"], lambda: read_population_raster(workspace.raster_path(name)))
    grid, _ = service().grid(CoverageRequest(**q))
    if grid.values.size > MAX_PAGE_CELLS:
        raise AtlasError("coverage_errors.grid_too_big", cells=grid.values.size)
    # units
    if unit_choice.startswith("ws:"):
        frame, uid, uname = numbered_units(workspace.read_layer(unit_choice[3:].rsplit("|", 1)[0]))
        q.update(units=unit_choice, units_frame=frame, unit_id=uid, unit_name=uname)
    else:
        q["units"] = UNIT_CHOICES[unit_choice]
    # facilities
    if fac_source in catalog.categories:
        q["category"] = fac_source
    elif fac_source == FAC_UPLOAD:
        if fac_upload is None:
            st.info(tr("coverage.facilities_upload_prompt"))
            st.stop()
        q.update(facilities=read_upload(fac_upload), facilities_key=digest(fac_upload.getvalue()))
    else:
        q.update(facilities=workspace.read_layer(fac_source[3:]),
                 facilities_key=f"{fac_source}:{ws_saved.get(fac_source[3:], '')}")
    # roads (network mode)
    graph = None
    if mode == "network":
        if roads_saved is not None:
            q["roads_key"] = f"ws:{roads_saved}:{ws_saved.get(roads_saved, '')}"
            graph = road_graph(q["roads_key"], lambda: workspace.read_layer(roads_saved), profile, grid.crs)
        elif roads_upload is not None:
            q["roads_key"] = digest(roads_upload.getvalue())
            graph = road_graph(q["roads_key"], lambda: read_upload(roads_upload), profile, grid.crs)
        else:
            st.warning(tr("coverage.no_roads"))
            st.stop()
        q["roads"] = graph
        st.caption(tr("coverage.roads_loaded", edges=graph.n_edges, nodes=graph.n_nodes))
    base, _ = service().facilities(CoverageRequest(**q))
except AtlasError as err:
    show_error(err)
    st.stop()

# ---- what-if -------------------------------------------------------------------------------
names = (base["name"] if "name" in base.columns else pd.Series("", index=base.index)).fillna("").astype(str)
with st.expander(tr("coverage.whatif"), expanded=bool(st.session_state["cov_added"] or st.session_state["cov_closed"])):
    st.caption(tr("coverage.whatif_help"))
    st.toggle(tr("coverage.whatif_add_click"), key="cov_click_adds")
    proposed_upload = uploader(tr("coverage.whatif_upload"), ["geojson", "json", "gpkg", "zip", "csv"],
                               key="cov_proposed")
    st.session_state["cov_closed"] = list(choose_many(
        tr("coverage.whatif_closed"), list(base.index), default=[i for i in st.session_state["cov_closed"]
                                                                 if i in base.index],
        format_func=lambda i: f"{names.get(i) or '—'} (#{i})", key="cov_closed_pick",
        placeholder=tr("coverage.whatif_closed_placeholder")))
    st.button(tr("coverage.whatif_clear"), key="cov_clear", on_click=clear_scenario)
try:
    if proposed_upload is not None:
        q.update(added_frame=read_upload(proposed_upload), added_key=digest(proposed_upload.getvalue()))
except AtlasError as err:
    show_error(err)
q.update(added=tuple(tuple(p) for p in st.session_state["cov_added"]), closed=tuple(st.session_state["cov_closed"]))
if show_2sfca:
    q["capacity_col"] = st.selectbox(tr("coverage.capacity"), [""] + capacity_columns(base), key="cov_capacity",
                                     format_func=lambda c: str(c) or t("coverage.capacity_none", lang))

# ---- answer ---------------------------------------------------------------------------------
bar = []


def progress(share: float) -> None:
    if not bar:
        bar.append(st.progress(0.0, text=tr("coverage.computing")))
    bar[0].progress(min(1.0, share), text=tr("coverage.computing"))


try:
    with st.spinner(tr("coverage.building_grid")):
        result = service().ask(CoverageRequest(**q), progress=progress)
except AtlasError as err:
    show_error(err)
    st.stop()
for b in bar:
    b.empty()
st.caption(f"{tr('coverage.population_source')}: {tr(result.population_label_key)}")
empty_units = result.table.loc[result.table["population"] <= 0, "unit_name"].astype(str).tolist()
if "grid" in q and empty_units:  # a raster that misses some units
    st.warning(tr("coverage.pop_partial", count=len(empty_units),
                  names=", ".join(empty_units[:5]) + (", …" if len(empty_units) > 5 else "")))
if len(result.facilities) == 0:
    st.warning(tr("coverage.no_facilities"))
st.subheader(result.total_sentence(lang))
if result.completeness is not None:
    (st.warning if result.lower_bound else st.caption)(result.completeness_sentence(lang))

# ---- map ------------------------------------------------------------------------------------
map_key = ("cov_map", lang, current_basemap(), repr(CoverageRequest(**{k: v for k, v in q.items() if k not in
                                                    ("facilities", "grid", "units_frame", "roads", "added_frame")})))
# one map component per unit layer: a new unit layer is fitted afresh; other changes keep the view
st.session_state["_cov_map"] = fmap = shared_map(map_key, result, names, graph, current_basemap())  # a reference
out = show_map(fmap, key=f"coverage_map_{unit_choice}", height=560)
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

# ---- what-if summary, sentences, table --------------------------------------------------------
if result.before is not None:
    st.markdown(f"#### {tr('coverage.whatif')}")
    n_added = len(result.facilities) - len(base) + len(result.request.closed)
    st.caption(tr("coverage.whatif_count", added=n_added, closed=len(result.request.closed)))
    tb, ta = cov.totals(result.before), result.totals()
    st.write(tr("coverage.whatif_total_change", before=fmt_number(tb["covered_population"], lang),
                after=fmt_number(ta["covered_population"], lang),
                change=fmt_number(ta["covered_population"] - tb["covered_population"], lang)))
    comp = cov.compare(result.before, result.table).sort_values("change", ascending=False)
    comp = comp[["unit_name", "population", "covered_before", "covered_after", "change", "share_before", "share_after"]]
    st.dataframe(label_columns(fmt_table(comp, ("share_before", "share_after"))), hide_index=True, width="stretch")

# ---- where to build next (pages/coverage_suggest.py) -------------------------------------
from pages import coverage_suggest


def _category_points(category: str):
    """Another category's facilities from its authoritative source (e.g. the declared
    register of People's Committee seats as health-station sites)."""
    return service().facilities(CoverageRequest(category=category))[0]


_other = {c: (lambda c=c: _category_points(c)) for c in catalog.categories if c != fac_source}
_other.update({f"ws:{n}": (lambda n=n: workspace.read_layer(n)) for n in ws_of["points"] if f"ws:{n}" != fac_source})
if result.cells is not None:  # the page's own cells and per-cell costs (the service's answer)
    coverage_suggest.render(
        lang=lang, cells=result.cells, cost=result.cost, threshold=result.threshold, detour=float(detour),
        graph=graph, metric=result.metric, fac_all=result.facilities, fac_label=result.facility_label(lang),
        fac_source=fac_source, units_gdf=result.units, grid=result.grid,
        context=(fac_source, unit_choice, pop_choice, mode, radius, minutes, float(detour), profile,
                 tuple(st.session_state["cov_closed"])),
        candidate_layers=_other,
        candidate_labels={k: t("suggest.candidates_category", lang, category=catalog.categories[k].title(lang))
                          if k in catalog.categories else t("suggest.candidates_layer", lang, name=k[3:])
                          for k in _other},
        exclusion_layers={f"ws:{n}": (lambda n=n: workspace.read_layer(n)) for n in ws_of["polygons"]},
        exclusion_labels={f"ws:{n}": t("suggest.candidates_layer", lang, name=n) for n in ws_of["polygons"]},
        read_upload=read_upload, basemap=current_basemap())

st.markdown(f"#### {tr('coverage.sentences')}")
st.markdown("\n".join(f"- {plain(s)}" for s in result.sentences(lang, top=8)) or "—")
st.markdown(f"#### {tr('coverage.table')}")
order = result.table.sort_values("beyond_population", ascending=False).index
table = fmt_table(result.table, ("covered_share",), {"median_minutes": 1, "p90_minutes": 1, "access_ratio": 2})
table["covered_share"] = share_texts(result, lang)  # "no facility data" where none is known, not 0 %
st.dataframe(label_columns(table.loc[order].drop(columns=["unit_id"])), hide_index=True, width="stretch")

# ---- downloads ----------------------------------------------------------------------------------
st.markdown(f"#### {tr('coverage.downloads')}")
stem = re.sub(r"[^\w.-]+", "_", f"coverage_{fac_source}_{unit_choice.split('|')[0]}")


def geo_bytes(fmt: str) -> bytes:
    return export_bytes(result.geo_frame(lang), fmt, credits=result.credits(lang), lang=lang, name=stem)[1]


def tif_bytes() -> bytes:
    """Euclidean: distance from every cell; network: travel cost of the populated cells."""
    with tempfile.TemporaryDirectory(prefix="atlas_dl_") as tmp:
        path = Path(tmp) / "distance.tif"
        if mode == "euclidean":
            cov.write_distance_geotiff(result.facilities, result.grid, path, detour=detour)
        else:
            write_grid_geotiff(result.grid, path, values=cov.cells_raster(result.cells, result.cost), nodata=-1.0)
        return path.read_bytes()


def hotspots_bytes() -> bytes:
    both = pd.concat([result.hotspots(top=200).assign(layer="hotspot"),
                      result.covered_area().drop(columns=["covered"]).assign(layer="covered_area")], ignore_index=True)
    return export_bytes(both.set_geometry("geometry").set_crs(STORE_CRS, allow_override=True), "geojson",
                        credits=result.credits(lang), lang=lang, name=f"{stem}_hotspots")[1]


d1, d2, d3, d4, d5 = st.columns(5)
d1.download_button(tr("coverage.dl_csv"), spreadsheet_safe(whole_people(result.export_frame(lang))).to_csv(index=False)
                   .encode("utf-8-sig"), f"{stem}.csv", "text/csv", key="cov_dl_csv")
d2.download_button(tr("coverage.dl_geojson"), lambda: geo_bytes("geojson"), f"{stem}.geojson", "application/geo+json",
                   key="cov_dl_geojson")
d3.download_button(tr("coverage.dl_gpkg"), lambda: geo_bytes("gpkg"), f"{stem}.gpkg", "application/geopackage+sqlite3",
                   key="cov_dl_gpkg")
d4.download_button(tr("coverage.dl_tif") if mode == "euclidean" else tr(f"coverage.dl_tif_{result.metric}"), tif_bytes,
                   f"{stem}_{'distance' if result.metric == 'distance' else 'minutes'}.tif", "image/tiff",
                   key="cov_dl_tif")
d5.download_button(tr("coverage.dl_hotspots"), hotspots_bytes, f"{stem}_hotspots.geojson", "application/geo+json",
                   key="cov_dl_hotspots")

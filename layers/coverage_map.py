"""The coverage map: per-unit shares, covered area, underserved hotspots, facilities, roads.

Draws a :class:`geo.service.CoverageResult` with the house's folium helpers
(:mod:`layers.render`), so the coverage page stays a thin page.
"""
from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.catalog import Catalog, Layer, get_catalog
from geo.i18n import fmt_percent, t
from geo.numbers import share_percent
from geo.service import CoverageResult
from geo.settings import STORE_CRS
from layers.render import add_catalog_layer, add_choropleth, finish_map, new_map

MAX_MAP_ROAD_EDGES = 20_000  # road segments drawn (more would make the page heavy)
# Property keys sent to the browser are plain identifiers (folium writes the first unique
# one as ``feature.properties.<key>`` into JavaScript); labels come from the string catalog.
MAP_FIELDS = {
    "unit_name": "coverage.col_unit_name", "share_pct": "coverage.map_title", "share_txt": "coverage.col_covered_share",
    "population": "coverage.col_population", "beyond": "coverage.col_beyond_population", "name": "common.name",
}


def _map_catalog() -> Catalog:
    return Catalog(layers={}, categories=get_catalog().categories,
                   fields={k: {"vi": t(v, "vi"), "en": t(v, "en")} for k, v in MAP_FIELDS.items()})


def _layer(layer_id: str, title_key: str, kind: str, style: dict, tooltip: tuple = ()) -> Layer:
    """A map layer of the coverage map (not a catalog file): title from the strings, own style."""
    return Layer(id=layer_id, title_vi=t(title_key, "vi"), title_en=t(title_key, "en"), file="", kind=kind,
                 category="coverage", source="", licence="", vintage="", tooltip=tooltip, style=style)


def share_texts(result: CoverageResult, lang: str) -> list[str]:
    """Covered share per unit as shown: "no facility data" where none of the category is known."""
    none = result.completeness.no_data if result.completeness is not None else np.zeros(len(result.table), bool)
    return [t("coverage.no_facility_data", lang) if n else fmt_percent(s, lang)
            for s, n in zip(result.table["covered_share"], none)]


def coverage_map(result: CoverageResult, lang: str, facility_names: pd.Series, graph=None,
                 basemap: str = "positron") -> folium.Map:
    """The folium map of ``result`` (units fitted; EPSG:4326 throughout).

    ``facility_names``: name per index of ``result.base_facilities`` (tooltips);
    ``graph``: the road graph of a network question (drawn when small enough); ``basemap``:
    the app's basemap choice.
    """
    cat = _map_catalog()
    ugeo = result.units.to_crs(STORE_CRS)
    table = result.table
    shown = gpd.GeoDataFrame({
        "unit_name": table["unit_name"].astype(str).to_numpy(),
        "share_pct": share_percent(table["covered_share"].to_numpy()),   # as the readiness map (geo.numbers)
        "share_txt": share_texts(result, lang),
        "population": table["population"].to_numpy(),
        "beyond": table["beyond_population"].to_numpy(),
    }, geometry=ugeo.geometry.to_numpy(), crs=STORE_CRS)
    minx, miny, maxx, maxy = ugeo.total_bounds  # fit the chosen units (the 3 cities are a small part)
    m = new_map(lang, basemap, bounds=[[float(miny), float(minx)], [float(maxy), float(maxx)]])
    title = t("coverage.map_title", lang)
    add_choropleth(m, shown, "share_pct", lang, title, tooltip_fields=["unit_name", "share_txt", "population", "beyond"],
                   scheme="equal_interval", k=5, legend_title=f"{title} (%) — {t(result.population_label_key, lang)}",
                   palette="RdYlGn", catalog=cat)
    area = result.covered_area()
    if not area.geometry.iloc[0].is_empty:
        add_catalog_layer(m, _layer("coverage_area", "coverage.covered_area", "polygon",
                                    {"color": "#2563eb", "weight": 1, "fill_opacity": 0.15}),
                          area[["geometry"]], lang, catalog=cat)
    if graph is not None and graph.n_edges <= MAX_MAP_ROAD_EDGES:  # the roads the travel times follow
        segs = shapely.linestrings(np.stack((graph.node_xy[graph.edge_a], graph.node_xy[graph.edge_b]), axis=1))
        add_catalog_layer(m, _layer("coverage_roads", "coverage.roads_layer", "line", {"color": "#6b7280", "weight": 1}),
                          gpd.GeoDataFrame(geometry=segs, crs=graph.crs).to_crs(STORE_CRS), lang, catalog=cat)
    hs = result.hotspots(top=15)
    if len(hs):
        hs_show = gpd.GeoDataFrame({"unit_name": hs["unit_name"].astype(str).to_numpy(),
                                    "beyond": hs["people_beyond"].round().to_numpy()},
                                   geometry=hs.geometry.to_numpy(), crs=hs.crs)
        add_catalog_layer(m, _layer("coverage_hotspots", "coverage.hotspots", "polygon",
                                    {"color": "#9333ea", "weight": 2, "fill_opacity": 0.3}, ("unit_name", "beyond")),
                          hs_show, lang, catalog=cat)
    base = result.base_facilities
    keep = base.drop(index=[i for i in result.request.closed if i in base.index])
    if len(keep):  # every facility closed is a valid scenario: nothing to draw (folium refuses empty tooltips)
        pts = gpd.GeoDataFrame({"name": facility_names.loc[keep.index].to_numpy()},
                               geometry=shapely.point_on_surface(keep.geometry.to_numpy()), crs=base.crs).to_crs(STORE_CRS)
        add_catalog_layer(m, _layer("coverage_existing", "coverage.existing", "point", {"color": "#111827", "radius": 4},
                                    ("name",)), pts, lang, catalog=cat)
    fac = result.facilities
    proposed = fac[fac["proposed"].fillna(False).astype(bool)] if "proposed" in fac else fac.iloc[0:0]
    if len(proposed):
        add_catalog_layer(m, _layer("coverage_proposed", "coverage.proposed", "point", {"color": "#dc2626", "radius": 7}),
                          proposed[[proposed.geometry.name]].to_crs(STORE_CRS), lang, catalog=cat)
    finish_map(m, lang)
    return m

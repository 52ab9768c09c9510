"""Suggested new sites (geo.suggest) on a folium map: numbered markers with escaped tooltips,
over the unit outlines, the existing facilities and the exclusion zones, on the app-wide
basemap (``none`` offline)."""
from __future__ import annotations

import folium
import geopandas as gpd
import shapely

from geo.i18n import fmt_number, t
from geo.settings import STORE_CRS
from geo.text import escape
from layers.coverage_map import _layer, _map_catalog
from layers.render import add_catalog_layer, finish_map, new_map


def add_sites(m: folium.Map, sites: gpd.GeoDataFrame, lang: str, color: str = "#dc2626") -> None:
    """One toggleable group of numbered markers (rank) with "#rank: +people" tooltips.

    ``sites`` is :attr:`geo.suggest.Suggestion.sites` (EPSG:4326); a few hundred at most.
    """
    group = folium.FeatureGroup(name=escape(t("suggest.sites_layer", lang)), show=True)
    for row in sites.to_crs(STORE_CRS).itertuples(index=False):
        tip = t("suggest.site_tooltip", lang, rank=int(row.rank),
                people=fmt_number(round(float(row.marginal_people)), lang))
        html = (f'<div style="background:{color};color:#fff;border:2px solid #fff;border-radius:50%;'
                f'width:24px;height:24px;line-height:20px;text-align:center;font:bold 12px sans-serif;'
                f'box-shadow:0 0 3px #000">{int(row.rank)}</div>')
        folium.Marker([row.geometry.y, row.geometry.x], tooltip=escape(tip),
                      icon=folium.DivIcon(html=html, icon_size=(24, 24), icon_anchor=(12, 12))).add_to(group)
    group.add_to(m)


def suggestion_map(sites: gpd.GeoDataFrame, units: gpd.GeoDataFrame, unit_names, facilities: gpd.GeoDataFrame,
                   lang: str, basemap: str, exclusions: gpd.GeoDataFrame | None = None) -> folium.Map:
    """The map of a suggestion: outlines of the ``units`` in scope (names in tooltips), the
    existing ``facilities``, the ``exclusions`` (hatched red) and the numbered ``sites``;
    fitted to the units and the sites. ``basemap`` is the app's choice (``none`` = no tiles).
    """
    cat = _map_catalog()
    ugeo = units.to_crs(4326)
    b = ugeo.total_bounds
    if len(sites):
        sb = sites.to_crs(4326).total_bounds
        b = [min(b[0], sb[0]), min(b[1], sb[1]), max(b[2], sb[2]), max(b[3], sb[3])]
    m = new_map(lang, basemap, bounds=[[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]])
    outlines = gpd.GeoDataFrame({"unit_name": [str(n) for n in unit_names]}, geometry=ugeo.geometry.to_numpy(), crs=4326)
    add_catalog_layer(m, _layer("suggest_units", "suggest.units_layer", "polygon",
                                {"color": "#374151", "weight": 1.5, "fill_opacity": 0.0}, ("unit_name",)),
                      outlines, lang, catalog=cat)
    if exclusions is not None and len(exclusions):
        ex = exclusions.to_crs(4326)
        ex = ex[~(ex.geometry.is_empty | ex.geometry.isna())]
        if len(ex):
            add_catalog_layer(m, _layer("suggest_exclusions", "suggest.exclusions_layer", "polygon",
                                        {"color": "#b91c1c", "weight": 1, "fill_opacity": 0.25}),
                              ex[[ex.geometry.name]], lang, catalog=cat)
    if len(facilities):
        pts = gpd.GeoDataFrame({"name": (facilities["name"].fillna("").astype(str).to_numpy() if "name" in facilities
                                         else [""] * len(facilities))},
                               geometry=shapely.point_on_surface(facilities.geometry.to_numpy()),
                               crs=facilities.crs).to_crs(4326)
        add_catalog_layer(m, _layer("suggest_existing", "coverage.existing", "point", {"color": "#111827", "radius": 4},
                                    ("name",)), pts, lang, catalog=cat)
    add_sites(m, sites, lang)
    return finish_map(m, lang)

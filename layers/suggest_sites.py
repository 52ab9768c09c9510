"""Suggested new sites (geo.suggest) on a folium map: numbered markers with escaped tooltips."""
from __future__ import annotations

import folium
import geopandas as gpd

from geo.i18n import fmt_number, t
from geo.text import escape


def add_sites(m: folium.Map, sites: gpd.GeoDataFrame, lang: str, color: str = "#dc2626") -> None:
    """One toggleable group of numbered markers (rank) with "#rank: +people" tooltips.

    ``sites`` is :attr:`geo.suggest.Suggestion.sites` (EPSG:4326); a few hundred at most.
    """
    group = folium.FeatureGroup(name=escape(t("suggest.sites_layer", lang)), show=True)
    for row in sites.to_crs(4326).itertuples(index=False):
        tip = t("suggest.site_tooltip", lang, rank=int(row.rank),
                people=fmt_number(round(float(row.marginal_people)), lang))
        html = (f'<div style="background:{color};color:#fff;border:2px solid #fff;border-radius:50%;'
                f'width:24px;height:24px;line-height:20px;text-align:center;font:bold 12px sans-serif;'
                f'box-shadow:0 0 3px #000">{int(row.rank)}</div>')
        folium.Marker([row.geometry.y, row.geometry.x], tooltip=escape(tip),
                      icon=folium.DivIcon(html=html, icon_size=(24, 24), icon_anchor=(12, 12))).add_to(group)
    group.add_to(m)

"""Readiness page, section "map": a computed indicator as a choropleth of the districts or the
2025 units, with its table."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.catalog import Catalog, get_catalog
from geo.errors import AtlasError
from geo.i18n import fmt_number, t
from geo.indicators import Framework, Indicator, indicator_map_frame
from layers.render import add_choropleth, new_map
from pages.common import choose_one, current_lang, tr
from pages.map_component import show_map
from pages.readiness_choices import computed_for, sticky
from pages.shared_data import cached_layer
from pages.sidebar import current_basemap


@st.cache_resource(show_spinner=False, max_entries=24)
def _choropleth(indicator_id: str, level: str, map_lang: str, radius_m: float, basemap: str, _ind: Indicator, _gdf):
    """The folium map for one indicator/level/language (built once, reused on reruns)."""
    base = get_catalog()
    fields = dict(base.fields)
    fields["readiness_share"] = {code: t("readiness.share", code) for code in ("vi", "en")}
    cat = Catalog(layers=base.layers, categories=base.categories, fields=fields)
    m = new_map(map_lang, basemap)
    add_choropleth(m, _gdf, "readiness_share", map_lang, _ind.name(map_lang),
                   tooltip_fields=["name", "readiness_share"], scheme="equal_interval", k=5,
                   legend_title=t("readiness.map_legend", map_lang, indicator=_ind.name(map_lang)),
                   palette="RdYlGn", catalog=cat)
    return m


def map_tab(fw: Framework) -> None:
    """Indicator and level, the choropleth (or why it cannot be drawn), the values per unit."""
    lang = current_lang()
    computed = [ind for ind in fw.indicators.values() if ind.computed]
    ind = sticky(choose_one, tr("readiness.map_indicator"), computed, "ind_map_ind",
                 format_func=lambda i, _l=lang: i.name(_l))
    level = sticky(st.radio, tr("readiness.map_level"), ["city", "ward"], "ind_map_level",
                   format_func=lambda lv, _l=lang: t(f"readiness.level_{lv}", _l), horizontal=True)
    st.caption(ind.note(lang))
    gdf = indicator_map_frame(computed_for(ind, level), level, cached_layer)
    try:
        m = _choropleth(ind.id, level, lang, ind.radius_m, current_basemap(), ind, gdf)
        show_map(m, key=f"ind_map_{ind.id}_{level}_{lang}", height=520, returned_objects=())
    except AtlasError:
        st.info(tr("readiness.map_unavailable"))
    st.dataframe(pd.DataFrame({
        tr("readiness.unit"): gdf["name"],
        tr("readiness.share"): [fmt_number(v, lang, 1) for v in gdf["value"]],
        tr("readiness.covered"): [fmt_number(round(v), lang) if pd.notna(v) else fmt_number(None, lang)
                                  for v in gdf["covered_population"]],
    }), hide_index=True, width="stretch")

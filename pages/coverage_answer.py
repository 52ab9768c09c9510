"""Coverage page: the answer — asked of the app's one coverage service with a progress bar,
its headline and warnings, the shared map, the planner sentences and the per-unit table."""
from __future__ import annotations

import folium
import pandas as pd
import streamlit as st

from geo.errors import AtlasError
from geo.network import RoadGraph
from geo.service import CoverageRequest, CoverageResult
from layers.coverage_map import coverage_map, share_texts
from pages.common import end_page, plain, show_error, tr
from pages.coverage_tables import fmt_table, label_columns
from pages.coverage_whatif import take_click
from pages.map_component import show_map
from pages.shared_data import coverage_service
from pages.sidebar import current_basemap

UNHASHED = ("facilities", "grid", "units_frame", "roads", "added_frame")  # request fields not in a map key


@st.cache_resource(show_spinner=False, max_entries=8)
def shared_map(key: tuple, _result: CoverageResult, _names: pd.Series, _graph: RoadGraph | None,
               basemap: str) -> folium.Map:
    """The coverage map of a question, built once and drawn by every session asking it
    (a folium map of the 92 wards is ~10 MB of objects: not one copy per session)."""
    return coverage_map(_result, key[1], _names, _graph, basemap=basemap)


def ask(q: dict) -> CoverageResult:
    """The service's answer to ``q``, with a progress bar while it computes; a refusal is
    shown in one sentence and stops the page."""
    bar = []

    def progress(share: float) -> None:
        if not bar:
            bar.append(st.progress(0.0, text=tr("coverage.computing")))
        bar[0].progress(min(1.0, share), text=tr("coverage.computing"))

    try:
        with st.spinner(tr("coverage.building_grid")):
            result = coverage_service().ask(CoverageRequest(**q), progress=progress)
    except AtlasError as err:
        show_error(err)
        end_page()
    for b in bar:
        b.empty()
    return result


def headline(result: CoverageResult, own_grid: bool, lang: str) -> None:
    """Population source, units the planner's raster misses, no facility, the total sentence
    and how complete the facility data is."""
    st.caption(f"{tr('coverage.population_source')}: {tr(result.population_label_key)}")
    empty_units = result.unpopulated_units()
    if own_grid and empty_units:  # a raster that misses some units
        st.warning(tr("coverage.pop_partial", count=len(empty_units),
                      names=", ".join(empty_units[:5]) + (", …" if len(empty_units) > 5 else "")))
    if len(result.facilities) == 0:
        st.warning(tr("coverage.no_facilities"))
    st.subheader(result.total_sentence(lang), anchor=False)
    if result.completeness is not None:
        (st.warning if result.lower_bound else st.caption)(result.completeness_sentence(lang))


def map_section(result: CoverageResult, q: dict, names: pd.Series, graph: RoadGraph | None, unit_choice: str,
                lang: str) -> None:
    """The question's shared map (one component per unit layer: a new unit layer is fitted
    afresh, other changes keep the view) and the click it returns."""
    map_key = ("cov_map", lang, current_basemap(),
               repr(CoverageRequest(**{k: v for k, v in q.items() if k not in UNHASHED})))
    st.session_state["_cov_map"] = fmap = shared_map(map_key, result, names, graph, current_basemap())  # a reference
    out = show_map(fmap, key=f"coverage_map_{unit_choice}", height=560)
    take_click(out, lang)


def sentences_and_table(result: CoverageResult, lang: str) -> None:
    """Planner sentences (most people beyond reach first) and the per-unit table."""
    st.markdown(f"#### {tr('coverage.sentences')}")
    st.markdown("\n".join(f"- {plain(s)}" for s in result.sentences(lang, top=8)) or "—")
    st.markdown(f"#### {tr('coverage.table')}")
    order = result.table.sort_values("beyond_population", ascending=False).index
    table = fmt_table(result.table, ("covered_share",), lang, {"median_minutes": 1, "p90_minutes": 1,
                                                               "access_ratio": 2})
    table["covered_share"] = share_texts(result, lang)  # "no facility data" where none is known, not 0 %
    st.dataframe(label_columns(table.loc[order].drop(columns=["unit_id"])), hide_index=True, width="stretch")

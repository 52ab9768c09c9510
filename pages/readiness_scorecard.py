"""Readiness page, sections "scorecard" and "three cities": the scorecard of a unit (or of a
programme city as its group of 2025 units), the gaps in words, and the three cities compared."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.auth import Editor
from geo.i18n import fmt_number, fmt_percent, t
from geo.indicators import Framework, group_scorecard, scorecard
from geo.store import Store
from geo.units import PlanningUnit, programme_cities, programme_city_group
from pages.common import choose_one, current_lang, plain, tr, tr_plain
from pages.readiness_choices import computed_for, sticky, unit_label
from pages.readiness_trend import trend_section
from pages.shared_data import facility_summaries

LEVELS = ["province", "city", "ward", "group"]


def _scorecard_table(fw: Framework, rows: list[dict], lang: str) -> None:
    """The scorecard rows as a table, the province-wide marker explained, the gaps in words."""
    table = pd.DataFrame({
        tr("readiness.col_indicator"): [r["indicator"] for r in rows],
        tr("readiness.col_latest"): [r["value_text"] for r in rows],
        tr("readiness.col_period"): [str(r["period"]) if r["period"] else "" for r in rows],
        tr("readiness.col_target_2025"): [r["target_2025"] for r in rows],
        tr("readiness.col_target_2030"): [r["target_2030"] for r in rows],
        tr("readiness.col_status"): [r["status_text"] for r in rows],
        tr("readiness.col_target_source"): [r["target_source"] for r in rows],
        tr("readiness.col_source"): [r["source"] for r in rows],
        tr("readiness.col_evidence"): [r["evidence"] for r in rows],
    })
    if any("method" in r for r in rows):
        table[tr("readiness.col_method")] = [r.get("method", "") for r in rows]
    st.dataframe(table, hide_index=True, width="stretch")
    if any(fw.indicators[r["indicator_id"]].computed for r in rows):  # computed on facility data: say how complete
        for line in facility_summaries(lang):
            st.caption(plain(line))
    if any(r["target_scope"] == "province" for r in rows) and rows and st.session_state.get("ind_level") != "province":
        st.caption(tr("readiness.target_scope_note"))
    st.markdown(f"**{tr('readiness.gap_title')}**")
    for r in rows:
        st.markdown(f"- {plain(r['gap'])}")


def group_view(fw: Framework, store: Store) -> None:
    """A programme city (2020) as the group of 2025 units formed from its communes."""
    lang = current_lang()
    cities = list(programme_cities())
    city = sticky(choose_one, tr("readiness.unit"), cities, "ind_unit_group",
                  format_func=lambda u, _l=lang: unit_label(u, _l))
    group = programme_city_group(city)
    st.caption(tr("readiness.group_caption", city=plain(city.name), n=len(group.members),
                  pop=fmt_number(group.population, lang)))
    st.dataframe(pd.DataFrame({
        tr("readiness.unit"): [m.unit.name for m in group.members],
        tr("readiness.col_area_share"): [fmt_percent(m.share, lang) for m in group.members],
        tr("readiness.col_population_2025"): [fmt_number(m.unit.population, lang) for m in group.members],
    }), hide_index=True, width="stretch")
    for m in group.members:
        if m.shared:
            others = ", ".join(f"{name} ({fmt_percent(share, lang)})" for name, share in m.others)
            st.caption(tr_plain("readiness.group_shared", unit=m.unit.name, share=fmt_percent(m.share, lang),
                                city=city.name, others=others))
    rows = group_scorecard(fw, store, group, lang, computed_for)
    if not rows:
        st.info(tr("readiness.no_indicator_in_scope"))
        return
    _scorecard_table(fw, rows, lang)


def scorecard_tab(fw: Framework, store: Store, units: tuple[PlanningUnit, ...], editor: Editor | None) -> None:
    """Level and unit, the unit's scorecard, then one indicator's trend and evidence."""
    lang = current_lang()
    level = sticky(st.radio, tr("readiness.level"), LEVELS, "ind_level", default="city",
                   format_func=lambda lv, _l=lang: t(f"readiness.level_{lv}", _l), horizontal=True)
    if level == "group":
        group_view(fw, store)
        return
    choices = [u for u in units if u.level == level]
    unit = sticky(choose_one, tr("readiness.unit"), choices, f"ind_unit_{level}",
                  format_func=lambda u, _l=lang: unit_label(u, _l))
    rows = scorecard(fw, store, unit, lang, computed_for)
    if not rows:
        st.info(tr("readiness.no_indicator_in_scope"))
        return
    _scorecard_table(fw, rows, lang)
    trend_section(fw, store, level, unit, editor)


def compare_tab(fw: Framework, store: Store, units: tuple[PlanningUnit, ...]) -> None:
    """The three programme cities side by side, indicator by indicator, and their gaps."""
    lang = current_lang()
    st.caption(tr("readiness.compare_caption"))
    by_id = {u.id: u for u in units}
    cities = [by_id[c.id] for c in programme_cities() if c.id in by_id]
    cards = {c.id: {r["indicator_id"]: r for r in scorecard(fw, store, c, lang, computed_for)} for c in cities}
    ids = [i for i in fw.indicators if "city" in fw.indicators[i].scope]
    table = pd.DataFrame({tr("readiness.col_indicator"): [fw.indicators[i].name(lang) for i in ids]})
    for c in cities:
        table[c.name] = [f"{cards[c.id][i]['value_text']} · {cards[c.id][i]['status_text']}" for i in ids]
    st.dataframe(table, hide_index=True, width="stretch")
    if any(fw.indicators[i].computed for i in ids):  # computed on facility data: say how complete
        for line in facility_summaries(lang):
            st.caption(plain(line))
    st.markdown(f"**{tr('readiness.gap_title')}**")
    for c in cities:
        for i in ids:
            st.markdown(f"- {cards[c.id][i]['gap']}")

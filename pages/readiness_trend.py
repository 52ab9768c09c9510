"""Readiness page, below a unit's scorecard: one indicator's trend (a line per basis of
measurement, the targets as diamonds), a computed indicator's snapshot, and the evidence."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from geo.auth import Editor
from geo.errors import AtlasError
from geo.i18n import fmt_number
from geo.indicators import Framework, basis_changes, computed_values, fmt_when
from geo.store import Store
from geo.units import PlanningUnit
from pages.common import current_lang, show_error, tr
from pages.readiness_choices import computed_for, sticky


def trend_section(fw: Framework, store: Store, level: str, unit: PlanningUnit, editor: Editor | None) -> None:
    """The chosen indicator's history for ``unit``: chart, changes of basis, evidence table."""
    lang = current_lang()
    st.subheader(tr("readiness.trend_title"))
    in_scope = [ind for ind in fw.indicators.values() if level in ind.scope]
    ind = sticky(st.selectbox, tr("readiness.trend_pick"), in_scope, f"ind_trend_{level}",
                 format_func=lambda i, _l=lang: i.name(_l))
    st.caption(ind.note(lang))
    hist = store.history(ind.id, unit.id)
    if ind.computed:
        st.info(tr("readiness.computed_note", year=str(fw.computed_period), method=fw.source_text(ind.source, lang)))
        live_df = computed_for(ind, level)
        hist = [v for v in hist if v.period != fw.computed_period]
        hist += computed_values(ind, live_df[live_df["unit_key"] == unit.id], fw.computed_period)
        if editor is not None and st.button(tr("readiness.snapshot_save", year=str(fw.computed_period),
                                                level=tr(f"readiness.level_{level}")), key="ind_snapshot"):
            try:
                n = store.record_snapshot(editor, ind.id, live_df, fw.computed_period)
                st.success(tr("readiness.snapshot_saved", n=n, year=str(fw.computed_period)))
            except AtlasError as err:
                show_error(err)
    if not hist:
        st.info(tr("readiness.trend_none"))
        return
    current = {v.period: v for v in hist}   # newest version per year (history is sorted)
    col_year, col_val = tr("readiness.col_period"), tr("readiness.col_value")
    col_basis = tr("readiness.col_basis")
    line = pd.DataFrame({col_year: [str(p) for p in sorted(current)],
                         col_val: [round(current[p].value, 2) for p in sorted(current)],
                         col_basis: [fw.basis_text(current[p].basis, lang) for p in sorted(current)]})
    # one line per basis: never a line across a change of basis (e.g. DTI rank of 63 → of 34)
    chart = alt.Chart(line).mark_line(point=True).encode(
        x=alt.X(f"{col_year}:O", axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{col_val}:Q", scale=alt.Scale(reverse=ind.direction == "lower", zero=False),
                axis=alt.Axis(format="~r")),
        color=alt.Color(f"{col_basis}:N", legend=alt.Legend(orient="bottom", title=None)),
        tooltip=[col_year, col_val, col_basis])
    for period, old, new in basis_changes(list(current.values())):
        st.warning(tr("readiness.basis_changed", year=str(period), old=fw.basis_text(old, lang),
                      new=fw.basis_text(new, lang)))
    targets = store.targets(ind.id)
    if targets:
        tdf = pd.DataFrame({col_year: [str(tg.year) for tg in targets], col_val: [tg.value for tg in targets],
                            tr("readiness.col_target"): [f"{tg.op} {fmt_number(tg.value, lang)}" for tg in targets]})
        chart = chart + alt.Chart(tdf).mark_point(shape="diamond", size=120, color="#dc2626", filled=True).encode(
            x=f"{col_year}:O", y=f"{col_val}:Q", tooltip=[tr("readiness.col_target")])
    st.altair_chart(chart, width="stretch")
    st.markdown(f"**{tr('readiness.evidence_title')}**")
    st.dataframe(pd.DataFrame({
        tr("readiness.col_period"): [str(v.period) for v in hist],
        tr("readiness.col_value"): [fmt_number(v.value, lang) for v in hist],
        tr("readiness.col_version"): [v.version for v in hist],
        tr("readiness.col_source"): [fw.source_text(v.source, lang) for v in hist],
        tr("readiness.col_evidence"): [v.evidence for v in hist],
        tr("readiness.col_link"): [v.evidence_url for v in hist],
        tr("readiness.col_by"): [v.entered_by for v in hist],
        tr("readiness.col_at"): [fmt_when(v.entered_at) for v in hist],
    }), hide_index=True, width="stretch")

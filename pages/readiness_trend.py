"""Readiness page, below a unit's scorecard: one indicator's trend (a line per basis of
measurement, the targets as diamonds), a computed indicator's snapshot, and the evidence."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from geo.auth import Editor
from geo.errors import AtlasError
from geo.i18n import fmt_number, t, vega_number_expr
from geo.indicators import (
    Framework,
    Indicator,
    Target,
    Value,
    basis_changes,
    computed_values,
    fmt_when,
    op_symbol,
    unit_targets,
)
from geo.store import Store
from geo.units import PlanningUnit
from pages.common import choose_one, current_lang, show_error, tr
from pages.readiness_choices import computed_for, sticky


def trend_chart(fw: Framework, ind: Indicator, values: list[Value], targets: list[Target], lang: str) -> alt.Chart:
    """The trend chart of one unit's values (newest version per year) and the targets (diamonds).

    One line per basis of measurement, never across a change of basis (e.g. DTI rank of 63 →
    of 34); every value is a point, so a single value is one ordinary point (no line, and no
    legend of one unnamed basis — the lone legend symbol read as a stray dot). The value axis
    and the tooltips write numbers the UI language's way (vi 22,42 — ``geo.i18n.fmt_number``);
    a single value gets a small range around it instead of a zero-width scale.
    """
    values = sorted(values, key=lambda v: v.period)
    col_year, col_val = t("readiness.col_period", lang), t("readiness.col_value", lang)
    col_basis, col_text = t("readiness.col_basis", lang), t("readiness.col_value", lang) + " "
    line = pd.DataFrame({col_year: [str(v.period) for v in values],
                         col_val: [round(v.value, 2) for v in values],
                         col_text: [fmt_number(round(v.value, 2), lang) for v in values],
                         col_basis: [fw.basis_text(v.basis, lang) for v in values]})
    bases = list(dict.fromkeys(line[col_basis]))
    axis = alt.Axis(labelExpr=vega_number_expr(lang), title=col_val)
    everything = [v.value for v in values] + [tg.value for tg in targets]
    lo, hi = min(everything), max(everything)
    if hi - lo < 1e-9:          # one value (or all equal): a range around it, not a zero-width scale
        pad = max(abs(lo) * 0.1, 1.0)
        scale = alt.Scale(domain=[lo - pad, hi + pad], reverse=ind.direction == "lower")
    else:
        scale = alt.Scale(reverse=ind.direction == "lower", zero=False)
    legend = alt.Legend(orient="bottom", title=None) if len(bases) > 1 else None
    x = alt.X(f"{col_year}:O", axis=alt.Axis(labelAngle=0))
    y = alt.Y(f"{col_val}:Q", scale=scale, axis=axis)
    color = alt.Color(f"{col_basis}:N", legend=legend)
    tooltip = [col_year, col_text] + ([col_basis] if any(bases) else [])
    base = alt.Chart(line)
    chart = base.mark_point(filled=True, size=60).encode(x=x, y=y, color=color, tooltip=tooltip)
    if len(line) > 1:
        chart = base.mark_line().encode(x=x, y=y, color=color, detail=f"{col_basis}:N") + chart
    if targets:
        col_target = t("readiness.col_target", lang)
        tdf = pd.DataFrame({col_year: [str(tg.year) for tg in targets], col_val: [tg.value for tg in targets],
                            col_target: [f"{op_symbol(tg.op)} {fmt_number(tg.value, lang)}" for tg in targets]})
        chart = chart + alt.Chart(tdf).mark_point(shape="diamond", size=120, color="#dc2626", filled=True).encode(
            x=f"{col_year}:O", y=alt.Y(f"{col_val}:Q", scale=scale, axis=axis), tooltip=[col_target])
    return chart


def trend_section(fw: Framework, store: Store, level: str, unit: PlanningUnit, editor: Editor | None) -> None:
    """The chosen indicator's history for ``unit``: chart, changes of basis, evidence table."""
    lang = current_lang()
    st.subheader(tr("readiness.trend_title"), anchor=False)
    in_scope = [ind for ind in fw.indicators.values() if level in ind.scope]
    ind = sticky(choose_one, tr("readiness.trend_pick"), in_scope, f"ind_trend_{level}",
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
    for period, old, new in basis_changes(list(current.values())):
        st.warning(tr("readiness.basis_changed", year=str(period), old=fw.basis_text(old, lang),
                      new=fw.basis_text(new, lang)))
    own, province = unit_targets(store, ind, unit)     # the targets that judge the unit (scorecard)
    chart = trend_chart(fw, ind, list(current.values()), own or province, lang)
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

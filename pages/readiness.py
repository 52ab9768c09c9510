"""Smart-city readiness: scorecard, trend and evidence, three cities compared, indicator map,
gaps in words, data entry (form + validated file import) for signed-in editors."""
from __future__ import annotations

import datetime as _dt
import io
import json

import altair as alt
import pandas as pd
import streamlit as st

from geo.auth import Editor
from geo.errors import AtlasError
from geo.frameworks import FrameworkRejected, active_framework, framework_version, load_version
from geo.frameworks import template_xlsx as fw_template_xlsx
from geo.frameworks import versions as fw_versions
from geo.i18n import fmt_number, fmt_percent, t
from geo.indicators import (
    Framework,
    Indicator,
    basis_changes,
    compute_indicator,
    computed_values,
    fmt_value,
    fmt_when,
    group_scorecard,
    op_symbol,
    province_total,
    scorecard,
)
from geo.store import ImportRejected, Store, frame_bytes, read_table, template_xlsx
from geo.units import PlanningUnit, all_units, programme_cities, programme_city_group
from pages.common import (
    EDITOR_KEY,
    current_basemap,
    current_lang,
    editor_sign_in,
    ensure_app_entry,
    facility_summaries,
    plain,
    plain_table,
    show_error,
    tr,
    tr_plain,
    uploader,
)
from pages.map_component import show_map

ensure_app_entry()

SEEN_KEY = "ind_seen_versions"     # {(indicator, unit, period): version seen when the form opened}
TARGET_SEEN_KEY = "ind_seen_target_versions"
for _key, _default in ((EDITOR_KEY, None), (SEEN_KEY, {}), (TARGET_SEEN_KEY, {}), ("ind_section", "scorecard")):
    if _key not in st.session_state:
        st.session_state[_key] = _default

lang = current_lang()


@st.cache_resource(show_spinner=False)
def _computed(indicator_id: str, level: str, radius_m: float, _ind: Indicator) -> pd.DataFrame:
    """Coverage of a computed indicator per unit (cached per indicator, level and radius)."""
    return compute_indicator(_ind, level)


def computed_for(ind: Indicator, level: str) -> pd.DataFrame:
    if level == "province":                      # the districts' totals: no second computation
        return province_total(_computed(ind.id, "city", ind.radius_m, ind))
    return _computed(ind.id, level, ind.radius_m, ind)


@st.cache_resource(show_spinner=False)
def _layer(layer_id: str):
    from geo.catalog import load_layer

    return load_layer(layer_id)


def _unit_label(u: PlanningUnit, _l: str = lang) -> str:
    """Unit name, marked when it is one of the three smart cities (language bound at definition
    so widget labels never depend on reading session state later)."""
    if not u.smart_city:
        return u.name
    return t("readiness.smart_city_ward_mark" if u.level == "ward" else "readiness.smart_city_mark", _l, name=u.name)


def _widget_key(key: str) -> str:
    """The widget's own key: one per language, because a widget whose option labels change
    (Tỉnh → Province) is re-drawn by the browser as a new one that would show its first option
    (or none) while the session still holds the old choice."""
    return f"_w_{key}_{lang}"


def _sticky(widget, label: str, options: list, key: str, default=None, **kwargs):
    """``st.radio``/``st.selectbox`` whose choice survives switching sections and languages.

    The choice lives under the plain session key ``key`` (Streamlit forgets a widget's state on
    a run that does not draw it) and is always handed back to the widget as ``index``, so the
    option shown is the one the page works with."""
    wkey = _widget_key(key)
    current = st.session_state.get(wkey, st.session_state.get(key, default))
    index = options.index(current) if current in options else 0

    def _remember() -> None:
        st.session_state[key] = st.session_state[wkey]

    value = widget(label, options, index=index, key=wkey, on_change=_remember, **kwargs)
    st.session_state[key] = value
    return value


def _sticky_number(label: str, key: str, default: int, **kwargs) -> int:
    """``st.number_input`` whose value survives switching sections and languages (see ``_sticky``)."""
    wkey = _widget_key(key)

    def _remember() -> None:
        st.session_state[key] = st.session_state[wkey]

    value = st.number_input(label, value=st.session_state.get(wkey, st.session_state.get(key, default)), key=wkey,
                            on_change=_remember, **kwargs)
    st.session_state[key] = value
    return value


# ---------------------------------------------------------------- sidebar: editor sign-in
def sidebar_sign_in() -> Editor | None:
    return editor_sign_in("ind_sign_in_form")


# ---------------------------------------------------------------- scorecard
def _scorecard_table(fw: Framework, rows: list[dict]) -> None:
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
    cities = list(programme_cities())
    city = _sticky(st.selectbox, tr("readiness.unit"), cities, "ind_unit_group", format_func=_unit_label)
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
    _scorecard_table(fw, rows)


def scorecard_tab(fw: Framework, store: Store, units: tuple[PlanningUnit, ...], editor: Editor | None) -> None:
    levels = ["province", "city", "ward", "group"]
    level = _sticky(st.radio, tr("readiness.level"), levels, "ind_level", default="city",
                    format_func=lambda lv, _l=lang: t(f"readiness.level_{lv}", _l), horizontal=True)
    if level == "group":
        group_view(fw, store)
        return
    choices = [u for u in units if u.level == level]
    unit = _sticky(st.selectbox, tr("readiness.unit"), choices, f"ind_unit_{level}", format_func=_unit_label)
    rows = scorecard(fw, store, unit, lang, computed_for)
    if not rows:
        st.info(tr("readiness.no_indicator_in_scope"))
        return
    _scorecard_table(fw, rows)

    st.subheader(tr("readiness.trend_title"))
    in_scope = [ind for ind in fw.indicators.values() if level in ind.scope]
    ind = _sticky(st.selectbox, tr("readiness.trend_pick"), in_scope, f"ind_trend_{level}",
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


# ---------------------------------------------------------------- three cities
def compare_tab(fw: Framework, store: Store, units: tuple[PlanningUnit, ...]) -> None:
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


# ---------------------------------------------------------------- map
def _map_frame(ind: Indicator, level: str):
    """Unit polygons with the computed share (percent) of ``ind`` at ``level``."""
    df = computed_for(ind, level)
    layer_id, id_col, name_col = (("districts", "level2_id", "name") if level == "city"
                                  else ("wards_2025", "gso_code", "name_full"))
    gdf = _layer(layer_id)[[id_col, name_col, "geometry"]].copy()
    gdf.columns = ["unit_id", "name", "geometry"]
    gdf["unit_id"] = gdf["unit_id"].astype(str)
    gdf = gdf.merge(df[["unit_id", "value", "covered_population", "population"]].assign(
        unit_id=lambda d: d["unit_id"].astype(str)), on="unit_id", how="left")
    gdf["readiness_share"] = gdf["value"].round(1)
    return gdf


@st.cache_resource(show_spinner=False, max_entries=24)
def _choropleth(indicator_id: str, level: str, map_lang: str, radius_m: float, basemap: str, _ind: Indicator, _gdf):
    """The folium map for one indicator/level/language (built once, reused on reruns)."""
    from geo.catalog import Catalog, get_catalog
    from layers.render import add_choropleth, new_map

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
    computed = [ind for ind in fw.indicators.values() if ind.computed]
    ind = _sticky(st.selectbox, tr("readiness.map_indicator"), computed, "ind_map_ind",
                  format_func=lambda i, _l=lang: i.name(_l))
    level = _sticky(st.radio, tr("readiness.map_level"), ["city", "ward"], "ind_map_level",
                    format_func=lambda lv, _l=lang: t(f"readiness.level_{lv}", _l), horizontal=True)
    st.caption(ind.note(lang))
    gdf = _map_frame(ind, level)
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


# ---------------------------------------------------------------- data entry
def entry_tab(fw: Framework, store: Store, units: tuple[PlanningUnit, ...], editor: Editor | None) -> None:
    st.subheader(tr("readiness.import_title"))
    st.caption(tr("readiness.import_help"))
    template = store.template_frame(lang)
    c1, c2, c3 = st.columns(3)
    c1.download_button(tr("readiness.template_csv"), frame_bytes(template, "csv"), "readiness_template.csv",
                       "text/csv", key="ind_tpl_csv")
    c2.download_button(tr("readiness.template_xlsx"), template_xlsx(store, lang), "readiness_template.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="ind_tpl_xlsx")
    c3.download_button(tr("readiness.export_csv"), frame_bytes(store.export_frame(lang), "csv"),
                       "readiness_values.csv", "text/csv", key="ind_export_csv")
    if editor is None:
        st.info(tr("readiness.viewer_note"))
        framework_section(store, None)
        audit_expander(store)                # viewers read everything, the change log included
        return

    upload = uploader(tr("readiness.upload"), ["csv", "xlsx"], key="ind_upload")
    replace = st.checkbox(tr("readiness.import_replace"), key="ind_import_replace")
    if upload is not None and st.button(tr("readiness.import_button"), key="ind_import_go"):
        try:
            report = store.import_frame(editor, read_table(upload, upload.name), file_name=upload.name,
                                        replace=replace)
            st.success(tr("readiness.import_ok", n=report.written, replaced=report.replaced,
                          skipped=report.skipped_blank))
        except ImportRejected as rej:
            show_error(rej)
            st.table(plain_table(rej.report.table(lang)).set_index(plain(tr("store_errors.col_row"))))   # wraps: every reason readable
        except AtlasError as err:
            show_error(err)

    st.subheader(tr("readiness.entry_value_title"))
    manual = [ind for ind in fw.indicators.values() if not ind.computed]
    if not manual:
        st.info(tr("readiness.entry_no_manual"))
        return
    ind = _sticky(st.selectbox, tr("readiness.col_indicator"), manual, "ind_entry_ind",
                  format_func=lambda i, _l=lang: i.name(_l))
    in_scope = [u for u in units if u.level in ind.scope]
    unit = _sticky(st.selectbox, tr("readiness.unit"), in_scope, "ind_entry_unit", format_func=_unit_label)
    spec = fw.units[ind.unit]
    period = int(_sticky_number(tr("readiness.col_period"), "ind_entry_period", _dt.date.today().year - 1,
                                min_value=fw.first_year, max_value=_dt.date.today().year, step=1))
    key = (ind.id, unit.id, period)
    seen = st.session_state[SEEN_KEY]
    if key not in seen:                      # remember the version this editor is looking at
        seen[key] = store.current_version(*key)
    current = [v for v in store.history(ind.id, unit.id) if v.period == period]
    if current:
        v = current[-1]
        st.caption(tr_plain("readiness.entry_current", value=fmt_value(v.value, spec, lang, with_unit=True),
                      version=v.version, who=v.entered_by, when=fmt_when(v.entered_at) or "—"))
    else:
        st.caption(tr("readiness.entry_none"))
    if st.button(tr("readiness.entry_reload"), key="ind_entry_reload"):
        seen[key] = store.current_version(*key)
        st.rerun()
    with st.form("ind_entry_form"):
        value = st.text_input(tr("readiness.entry_value_in", unit=spec.label(lang)), key="ind_entry_value")
        source = st.text_input(tr("readiness.entry_source"), key="ind_entry_source")
        evidence = st.text_area(tr("readiness.entry_evidence"), key="ind_entry_evidence")
        link = st.text_input(tr("readiness.entry_link"), key="ind_entry_link")
        if st.form_submit_button(tr("readiness.entry_save")):
            try:
                rec = store.record_value(editor, ind.id, unit.id, period, value, source, evidence, link,
                                         expected_version=seen[key])
                seen[key] = rec.version
                st.success(tr("readiness.entry_saved", version=rec.version))
            except AtlasError as err:
                show_error(err)

    st.subheader(tr("readiness.target_title"))
    t_ind = _sticky(st.selectbox, tr("readiness.col_indicator"), list(fw.indicators.values()), "ind_target_ind",
                    format_func=lambda i, _l=lang: i.name(_l))
    # the province-wide target of the indicator, or one of a city (the programme cities first) or 2025 unit
    scopes = [None] + [u for u in units if u.level in ("city", "ward")]
    t_unit = _sticky(st.selectbox, tr("readiness.target_applies"), scopes, "ind_target_unit",
                     format_func=lambda u, _l=lang: t("readiness.target_applies_province", _l) if u is None
                     else _unit_label(u, _l))
    t_year = int(_sticky_number(tr("readiness.target_year"), "ind_target_year", 2030, min_value=2025,
                                max_value=2100, step=1))
    tkey = (t_ind.id, t_unit.id if t_unit else "", t_year)
    tseen = st.session_state[TARGET_SEEN_KEY]
    if t_unit is None:
        recorded = [tg for tg in store.recorded_targets(t_ind.id) if tg.year == t_year]
        effective = {tg.year: tg for tg in store.targets(t_ind.id)}.get(t_year)
    else:
        recorded = [tg for tg in store.recorded_unit_targets(t_ind.id, t_unit.id) if tg.year == t_year]
        effective = recorded[-1] if recorded else None
    if tkey not in tseen:                    # the version this editor is looking at
        tseen[tkey] = max((tg.version for tg in recorded), default=0)
    if effective is not None:
        st.caption(tr("readiness.target_current", op=effective.op, value=fmt_number(effective.value, lang),
                      source=plain(fw.source_text(effective.source, lang)), who=plain(effective.entered_by)))
    else:
        st.caption(tr("readiness.target_none"))
    with st.form("ind_target_form"):
        t_op = st.selectbox(tr("readiness.target_op"), [">", ">=", "<", "<="], key="ind_target_op")
        t_value = st.text_input(tr("readiness.target_value"), key="ind_target_value")
        t_source = st.text_input(tr("readiness.target_source"), key="ind_target_source")
        t_breakdown = st.checkbox(tr("readiness.target_breakdown"), key="ind_target_breakdown",
                                  disabled=t_unit is None)
        if st.form_submit_button(tr("readiness.target_save")):
            try:
                if t_unit is None:
                    tg = store.record_target(editor, t_ind.id, t_year, t_op, t_value, t_source,
                                             expected_version=tseen[tkey])
                    st.success(tr("readiness.target_saved", year=str(tg.year), op=tg.op,
                                  value=fmt_number(tg.value, lang)))
                else:
                    tg = store.record_unit_target(editor, t_ind.id, t_unit.id, t_year, t_op, t_value, t_source,
                                                  breakdown=t_breakdown, expected_version=tseen[tkey])
                    st.success(tr_plain("readiness.target_unit_saved", year=str(tg.year), unit=t_unit.name,
                                        op=tg.op, value=fmt_number(tg.value, lang)))
                tseen[tkey] = tg.version
            except AtlasError as err:
                if err.key == "store_errors.target_conflict":
                    again = (store.recorded_targets(t_ind.id) if t_unit is None
                             else store.recorded_unit_targets(t_ind.id, t_unit.id))
                    tseen[tkey] = max((x.version for x in again if x.year == t_year), default=0)
                show_error(err)

    framework_section(store, editor)
    audit_expander(store)


def framework_section(store: Store, editor: Editor | None) -> None:
    """Indicator frameworks as data: template download, a new version loaded by an editor,
    every version readable."""
    st.subheader(tr("readiness.fw_title"))
    st.caption(tr("readiness.fw_help"))
    st.download_button(tr("readiness.fw_template"), fw_template_xlsx(store.framework, lang), "framework_template.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="ind_fw_template")
    if editor is not None:
        upload = uploader(tr("readiness.fw_upload"), ["xlsx", "csv"], key="ind_fw_upload")
        if upload is not None and st.button(tr("readiness.fw_load"), key="ind_fw_load"):
            try:
                v = load_version(store, editor, io.BytesIO(upload.getvalue()), upload.name)
                st.success(tr("readiness.fw_loaded", version=v.version, n=v.n_indicators))
            except FrameworkRejected as rej:
                show_error(rej)
                st.table(plain_table(rej.table(lang)).set_index(plain(tr("store_errors.col_row"))))
            except AtlasError as err:
                show_error(err)
    known = fw_versions(store)
    st.caption(tr("readiness.fw_in_force", version=known[-1].version))
    labels = {v.version: (tr("readiness.fw_shipped") if v.version == 0 else
                          t("readiness.fw_version_label", lang, version=v.version, file=v.file_name, who=v.loaded_by,
                            when=fmt_when(v.loaded_at))) for v in known}
    pick = st.selectbox(tr("readiness.fw_view"), list(labels), index=len(labels) - 1, key="ind_fw_view",
                        format_func=lambda v: labels[v])
    fw = framework_version(store, pick)
    st.dataframe(pd.DataFrame({
        "id": list(fw.indicators),
        tr("readiness.col_indicator"): [i.name(lang) for i in fw.indicators.values()],
        tr("readiness.fw_col_scope"): [", ".join(t(f"readiness.level_{lv}", lang) for lv in i.scope)
                                       for i in fw.indicators.values()],
        tr("readiness.fw_col_direction"): [t(f"readiness.direction_{i.direction}", lang) for i in fw.indicators.values()],
        tr("readiness.fw_col_targets"): ["; ".join(f"{tg.year}: {op_symbol(tg.op)} {fmt_number(tg.value, lang)}"
                                                   for tg in i.targets) or t("common.no_data", lang)
                                         for i in fw.indicators.values()],
        tr("readiness.col_source"): ["; ".join(dict.fromkeys(fw.source_text(x.source, lang) for x in i.targets))
                                     or fw.source_text(i.source, lang) for i in fw.indicators.values()],
    }), hide_index=True, width="stretch")


def audit_expander(store: Store) -> None:
    """The append-only change log, newest first (who, when, what, the value concerned)."""
    with st.expander(tr("readiness.audit_title")):
        log = store.audit_log(limit=100)
        if log.empty:
            st.caption(tr("readiness.audit_empty"))
        else:
            details = [json.loads(d) if d else {} for d in log["detail"]]
            st.dataframe(pd.DataFrame({
                tr("readiness.col_at"): [fmt_when(x) for x in log["at"]],
                tr("readiness.col_by"): log["actor"],
                tr("readiness.audit_action"): [tr(f"readiness.audit_{a}") for a in log["action"]],
                tr("readiness.audit_subject"): log["subject"],
                tr("readiness.col_value"): [fmt_number(d["value"], lang) if isinstance(d.get("value"), (int, float))
                                            else "" for d in details],
                tr("readiness.audit_detail"): log["detail"],
            }), hide_index=True, width="stretch")


# ---------------------------------------------------------------- page
st.title(tr("readiness.title"))
st.caption(tr("readiness.intro"))
try:
    framework = active_framework()          # the newest framework version loaded, else the shipped file
    store = Store(framework=framework)
    all_units = all_units()
except AtlasError as err:
    show_error(err)
    st.stop()
editor = sidebar_sign_in()
with st.expander(tr("readiness.rule_title")):
    st.markdown(tr("readiness.rule"))
SECTIONS = ("scorecard", "compare", "map", "entry")
section = st.segmented_control(tr("readiness.section"), SECTIONS, key="ind_section", label_visibility="collapsed",
                               format_func=lambda sec, _l=lang: t(f"readiness.tab_{sec}", _l)) or "scorecard"
# one section at a time: only what is shown is computed, and the map is drawn in a visible container
try:
    if section == "scorecard":
        scorecard_tab(framework, store, all_units, editor)
    elif section == "compare":
        compare_tab(framework, store, all_units)
    elif section == "map":
        map_tab(framework)
    else:
        entry_tab(framework, store, all_units, editor)
except AtlasError as err:
    show_error(err)

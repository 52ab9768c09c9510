"""Readiness page, section "data entry": the values import (template, export, validated file),
the value form and the target form for signed-in editors (each save states the version the
editor saw: a conflict is refused and named), then the frameworks and the change log."""
from __future__ import annotations

import datetime as _dt

import streamlit as st

from geo.auth import Editor
from geo.errors import AtlasError
from geo.i18n import fmt_number, t
from geo.indicators import Framework, fmt_value, fmt_when
from geo.store import ImportRejected, Store, frame_bytes, read_table, template_xlsx
from geo.units import PlanningUnit
from pages.common import choose_one, current_lang, plain, plain_table, show_error, tr, tr_plain, uploader
from pages.readiness_choices import sticky, sticky_number, unit_label
from pages.readiness_frameworks import audit_expander, framework_section

SEEN_KEY = "ind_seen_versions"     # {(indicator, unit, period): version seen when the form opened}
TARGET_SEEN_KEY = "ind_seen_target_versions"


def entry_tab(fw: Framework, store: Store, units: tuple[PlanningUnit, ...], editor: Editor | None) -> None:
    """Import, value form and target form (editors); template, export and the logs (everyone)."""
    lang = current_lang()
    st.subheader(tr("readiness.import_title"), anchor=False)
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
    import_values(store, editor, lang)
    if value_form(fw, store, units, editor, lang):
        target_form(fw, store, units, editor, lang)
        framework_section(store, editor)
        audit_expander(store)


def import_values(store: Store, editor: Editor, lang: str) -> None:
    """A filled-in template (CSV/XLSX) imported as a whole, or every bad row listed."""
    upload = uploader(tr("readiness.upload"), ["csv", "xlsx"], key="ind_upload")
    replace = st.checkbox(tr("readiness.import_replace"), key="ind_import_replace")
    if upload is not None and st.button(tr("readiness.import_button"), key="ind_import_go"):
        try:
            report = store.import_frame(editor, read_table(upload, upload.name), file_name=upload.name,
                                        replace=replace)
            st.success(tr("readiness.import_ok", n=report.written, replaced=report.replaced,
                          skipped=report.skipped_blank))
        except ImportRejected as rej:
            show_error(rej)   # the table wraps: every reason readable
            st.table(plain_table(rej.report.table(lang)).set_index(plain(tr("store_errors.col_row"))))
        except AtlasError as err:
            show_error(err)


def value_form(fw: Framework, store: Store, units: tuple[PlanningUnit, ...], editor: Editor, lang: str) -> bool:
    """One value of a manual indicator (unit, year) saved as a new version; False when the
    framework has no manual indicator (nothing more is drawn then)."""
    st.subheader(tr("readiness.entry_value_title"), anchor=False)
    manual = [ind for ind in fw.indicators.values() if not ind.computed]
    if not manual:
        st.info(tr("readiness.entry_no_manual"))
        return False
    ind = sticky(choose_one, tr("readiness.col_indicator"), manual, "ind_entry_ind",
                 format_func=lambda i, _l=lang: i.name(_l))
    in_scope = [u for u in units if u.level in ind.scope]
    unit = sticky(choose_one, tr("readiness.unit"), in_scope, "ind_entry_unit",
                  format_func=lambda u, _l=lang: unit_label(u, _l))
    spec = fw.units[ind.unit]
    period = int(sticky_number(tr("readiness.col_period"), "ind_entry_period", _dt.date.today().year - 1,
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
    return True


def target_form(fw: Framework, store: Store, units: tuple[PlanningUnit, ...], editor: Editor, lang: str) -> None:
    """A target (province-wide, or of a city or 2025 unit) for a year, with its document."""
    st.subheader(tr("readiness.target_title"), anchor=False)
    t_ind = sticky(choose_one, tr("readiness.col_indicator"), list(fw.indicators.values()), "ind_target_ind",
                   format_func=lambda i, _l=lang: i.name(_l))
    # the province-wide target of the indicator, or one of a city (the programme cities first) or 2025 unit
    scopes = [None] + [u for u in units if u.level in ("city", "ward")]
    t_unit = sticky(choose_one, tr("readiness.target_applies"), scopes, "ind_target_unit",
                    format_func=lambda u, _l=lang: t("readiness.target_applies_province", _l) if u is None
                    else unit_label(u, _l))
    t_year = int(sticky_number(tr("readiness.target_year"), "ind_target_year", 2030, min_value=2025,
                               max_value=2100, step=1))
    unit_id = t_unit.id if t_unit else None
    tkey = (t_ind.id, unit_id or "", t_year)
    tseen = st.session_state[TARGET_SEEN_KEY]
    version, effective = store.target_state(t_ind.id, t_year, unit_id)
    if tkey not in tseen:                    # the version this editor is looking at
        tseen[tkey] = version
    if effective is not None:
        st.caption(tr("readiness.target_current", op=effective.op, value=fmt_number(effective.value, lang),
                      source=plain(fw.source_text(effective.source, lang)), who=plain(effective.entered_by)))
    else:
        st.caption(tr("readiness.target_none"))
    with st.form("ind_target_form"):
        t_op = choose_one(tr("readiness.target_op"), [">", ">=", "<", "<="], key="ind_target_op")
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
                    tseen[tkey] = store.target_state(t_ind.id, t_year, unit_id)[0]
                show_error(err)

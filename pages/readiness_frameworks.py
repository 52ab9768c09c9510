"""Readiness page, end of the data entry section: indicator frameworks as data (template,
a new version loaded by an editor, every version readable) and the append-only change log."""
from __future__ import annotations

import io
import json

import pandas as pd
import streamlit as st

from geo.auth import Editor
from geo.errors import AtlasError
from geo.frameworks import FrameworkRejected, framework_version, load_version
from geo.frameworks import template_xlsx as fw_template_xlsx
from geo.frameworks import versions as fw_versions
from geo.i18n import fmt_number, t
from geo.indicators import fmt_when, op_symbol
from geo.store import Store
from pages.common import choose_one, current_lang, plain, plain_table, show_error, tr, uploader


def framework_section(store: Store, editor: Editor | None) -> None:
    """Indicator frameworks as data: template download, a new version loaded by an editor,
    every version readable."""
    lang = current_lang()
    st.subheader(tr("readiness.fw_title"), anchor=False)
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
    pick = choose_one(tr("readiness.fw_view"), list(labels), index=len(labels) - 1, key="ind_fw_view",
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
    lang = current_lang()
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

"""The indicator store's templates and exports: the rows to fill in (CSV, or XLSX with a guide
sheet of indicators, accepted unit spellings, levels and targets) and the values as a table in
the template's columns (re-importable)."""
from __future__ import annotations

import datetime as _dt
import io
from typing import TYPE_CHECKING

import pandas as pd

from geo.i18n import t
from geo.store.validation import REQUIRED_COLUMNS, TEMPLATE_COLUMNS

if TYPE_CHECKING:
    from geo.store import Store


class TemplatesMixin:
    """Template and export frames of :class:`geo.store.Store` (needs its ``framework``,
    ``units``, ``history`` and ``latest_values``)."""

    def template_frame(self, lang: str = "vi") -> pd.DataFrame:
        """One row per manual indicator and unit in scope, values left blank to fill in."""
        rows = []
        for ind in self.framework.indicators.values():
            if ind.computed:
                continue
            for u in self.units:
                if u.level in ind.scope and (u.level != "ward"):
                    rows.append({"indicator_id": ind.id, "unit_id": u.id, "unit_name": u.name, "period": "",
                                 "value": "", "unit": ind.unit, "source": "", "evidence": "", "evidence_url": ""})
        return pd.DataFrame(rows, columns=list(TEMPLATE_COLUMNS))

    def export_frame(self, lang: str = "vi", history: bool = False) -> pd.DataFrame:
        """Values (current by default, every version with ``history``) in the template's
        columns plus version, method, who and when. Manual rows are re-importable; saved
        snapshots of computed indicators (method "computed") are not (import refuses them)."""
        names = {u.id: u.name for u in self.units}
        rows = []
        for iid in self.framework.indicators:
            vals = self.history(iid) if history else self.latest_values(iid)
            for v in vals:
                rows.append({"indicator_id": v.indicator_id, "unit_id": v.unit_id,
                             "unit_name": names.get(v.unit_id, ""), "period": v.period, "value": v.value,
                             "unit": v.unit, "source": self.framework.source_text(v.source, lang),
                             "evidence": v.evidence, "evidence_url": v.evidence_url, "version": v.version,
                             "method": v.method, "entered_by": v.entered_by, "entered_at": v.entered_at})
        return pd.DataFrame(rows, columns=list(TEMPLATE_COLUMNS) + ["version", "method", "entered_by", "entered_at"])


def template_xlsx(store: Store, lang: str = "vi") -> bytes:
    """The import template as XLSX: the rows to fill in (first sheet, the one imported) and a
    guide sheet listing each indicator, the unit spellings accepted, its levels and targets."""
    fw = store.framework
    guide = pd.DataFrame([{
        "indicator_id": ind.id, t("readiness.guide_name", lang): ind.name(lang),
        t("readiness.guide_unit", lang): ", ".join(dict.fromkeys((fw.units[ind.unit].id,) + fw.units[ind.unit].aliases)),
        t("readiness.guide_scope", lang): ", ".join(t(f"readiness.level_{lv}", lang) for lv in ind.scope),
        t("readiness.guide_targets", lang): "; ".join(f"{tg.year}: {tg.op} {tg.value:g}"
                                                      for tg in store.targets(ind.id)),
    } for ind in fw.indicators.values() if not ind.computed])
    last = _dt.date.today().year
    columns = pd.DataFrame({
        t("readiness.guide_column", lang): list(TEMPLATE_COLUMNS),
        t("readiness.guide_required", lang): [t("readiness.guide_yes" if c in REQUIRED_COLUMNS or c == "unit_id"
                                                else "readiness.guide_no", lang) for c in TEMPLATE_COLUMNS],
        t("readiness.guide_meaning", lang): [t(f"readiness.colhelp_{c}", lang, first=str(fw.first_year),
                                               last=str(last)) for c in TEMPLATE_COLUMNS],
    })
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        store.template_frame(lang).to_excel(xl, index=False, sheet_name="template")
        guide.to_excel(xl, index=False, sheet_name=t("readiness.guide_sheet", lang))
        columns.to_excel(xl, index=False, sheet_name=t("readiness.guide_columns_sheet", lang))
    return buf.getvalue()

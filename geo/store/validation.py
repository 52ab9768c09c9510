"""The indicator store's import validation: cells parsed as numbers and years, each row of a
values file checked against the framework (every problem reported, row by row), and the import
of a whole file — written in one transaction only when every row is valid and no stored
version moved on since the file was made."""
from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo.auth import Editor, require_editor
from geo.errors import AtlasError
from geo.i18n import t
from geo.store.tables import read_table
from geo.units import find

TEMPLATE_COLUMNS = ("indicator_id", "unit_id", "unit_name", "period", "value", "unit", "source",
                    "evidence", "evidence_url")
REQUIRED_COLUMNS = ("indicator_id", "period", "value", "unit", "source")


@dataclass(frozen=True)
class RowError:
    """One reason a row of an import file was rejected (``row`` as numbered in the sheet,
    header = 1; 0 for the file as a whole)."""

    row: int
    column: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "vi") -> str:
        """The error as one sentence in ``lang``."""
        return t(f"store_errors.{self.key}", lang, **self.params)


@dataclass
class ImportReport:
    """The outcome of validating (and maybe writing) an import file."""

    rows: int = 0
    skipped_blank: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: int = 0
    replaced: int = 0
    valid: list[dict[str, Any]] = field(default_factory=list)
    valid_rows: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the import found no errors."""
        return not self.errors

    def bad_rows(self) -> list[int]:
        """The (1-based) rows with at least one error, sorted."""
        return sorted({e.row for e in self.errors})

    def table(self, lang: str = "vi") -> pd.DataFrame:
        """The errors as a table (row, column, reason) for display."""
        return pd.DataFrame({t("store_errors.col_row", lang): [e.row for e in self.errors],
                             t("store_errors.col_column", lang): [e.column for e in self.errors],
                             t("store_errors.col_reason", lang): [e.message(lang) for e in self.errors]})


class ImportRejected(AtlasError):
    """An import file with at least one bad row; ``report`` lists every problem."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__("store_errors.import_rejected", n=len(report.errors), rows=len(report.bad_rows()))


_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DEC_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+$")


def parse_number(raw: Any) -> float | None:
    """A cell as a number, or ``None`` if it is not one. Accepts 12.5 and the Vietnamese
    12,5; refuses thousands separators (1,286 / 1.286.751) as ambiguous."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        x = float(raw)
        return x if math.isfinite(x) else None
    s = str(raw).strip().replace("\u00a0", "").replace(" ", "")
    if _PLAIN.match(s):
        x = float(s)
        return x if math.isfinite(x) else None
    if _DEC_COMMA.match(s) and not _THOUSANDS_COMMA.match(s):
        return float(s.replace(",", "."))
    return None


def parse_period(raw: Any) -> int | None:
    """A period (a year) from a cell: 2024, "2024", 2024.0; ``None`` otherwise."""
    x = parse_number(raw)
    if x is None or not float(x).is_integer():
        return None
    return int(x)


def blank(raw: Any) -> bool:
    """Whether a cell is empty (None, NaN or only spaces)."""
    return raw is None or (isinstance(raw, float) and math.isnan(raw)) or str(raw).strip() == ""


def subject(clean: dict) -> str:
    """The audit subject of a value: ``indicator|unit|period``."""
    return f"{clean['indicator_id']}|{clean['unit_id']}|{clean['period']}"


def _plain_row(clean: dict) -> dict:
    return {k: v for k, v in clean.items() if k != "expected_version"}


class ImportMixin:
    """Validation and import of :class:`geo.store.Store` (needs its ``edit``, ``framework``,
    ``units``, ``units_with_targets``, ``_version`` and ``_insert_value``)."""

    def validate_row(self, row: dict[str, Any], row_no: int) -> tuple[list[RowError], dict[str, Any]]:
        """Check one row; returns (errors, cleaned row). Every problem is reported."""
        fw = self.framework
        errs: list[RowError] = []
        clean: dict[str, Any] = {}
        iid = "" if blank(row.get("indicator_id")) else str(row.get("indicator_id")).strip()
        ind = fw.indicators.get(iid)
        if ind is None:
            errs.append(RowError(row_no, "indicator_id", "unknown_indicator", {"indicator": iid}))
        elif ind.computed:
            errs.append(RowError(row_no, "indicator_id", "computed_indicator", {"indicator": iid}))
        clean["indicator_id"] = iid
        unit_text = row.get("unit_id")
        if blank(unit_text):
            unit_text = row.get("unit_name")
        unit = None if blank(unit_text) else find(str(unit_text), units=self.units)
        if unit is None:
            errs.append(RowError(row_no, "unit_id", "unknown_unit",
                                 {"unit": "" if blank(unit_text) else str(unit_text).strip()}))
        elif ind is not None and unit.level not in ind.scope and unit.id not in self.units_with_targets(iid):
            # out of the indicator's scope, unless a document set a target of this unit
            errs.append(RowError(row_no, "unit_id", "unit_not_in_scope", {"unit": unit.name, "indicator": iid}))
        clean["unit_id"] = unit.id if unit else ""
        period = parse_period(row.get("period"))
        last = _dt.date.today().year
        if period is None or not fw.first_year <= period <= last:
            errs.append(RowError(row_no, "period", "unknown_period",
                                 {"period": "" if blank(row.get("period")) else str(row.get("period")).strip(),
                                  "first": str(fw.first_year), "last": str(last)}))
        clean["period"] = period
        value = parse_number(row.get("value"))
        raw_value = "" if blank(row.get("value")) else str(row.get("value")).strip()
        if value is None:
            errs.append(RowError(row_no, "value", "bad_number", {"value": raw_value}))
        elif ind is not None:
            spec = fw.units[ind.unit]
            bounds = {"value": raw_value, "unit": spec.id, "min": "" if spec.min is None else f"{spec.min:g}",
                      "max": "" if spec.max is None else f"{spec.max:g}"}
            if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
                key = "out_of_range" if spec.max is not None and spec.min is not None else \
                    ("below_min" if spec.min is not None else "above_max")
                errs.append(RowError(row_no, "value", key, bounds))
            elif spec.integer and not float(value).is_integer():
                errs.append(RowError(row_no, "value", "not_integer", bounds))
        clean["value"] = value
        unit_col = "" if blank(row.get("unit")) else str(row.get("unit")).strip()
        measured = fw.unit_for_alias(unit_col) if unit_col else None
        if ind is not None and measured != ind.unit:
            errs.append(RowError(row_no, "unit", "wrong_unit", {"unit": unit_col, "expected": ind.unit}))
        clean["unit"] = ind.unit if ind is not None else unit_col
        if blank(row.get("source")):
            errs.append(RowError(row_no, "source", "missing_source", {}))
        clean["source"] = "" if blank(row.get("source")) else str(row.get("source")).strip()
        clean["evidence"] = "" if blank(row.get("evidence")) else str(row.get("evidence")).strip()
        url = "" if blank(row.get("evidence_url")) else str(row.get("evidence_url")).strip()
        if url and not re.match(r"^https?://\S+$", url):
            errs.append(RowError(row_no, "evidence_url", "bad_url", {"url": url}))
        clean["evidence_url"] = url
        return errs, clean

    def validate_frame(self, df: pd.DataFrame) -> ImportReport:
        """Validate a whole table (header row = sheet row 1)."""
        report = ImportReport()
        cols = {str(c).strip().lower(): c for c in df.columns}
        missing = [c for c in REQUIRED_COLUMNS if c not in cols]
        if "unit_id" not in cols and "unit_name" not in cols:
            missing.append("unit_id")
        if missing:
            report.errors.append(RowError(0, ", ".join(missing), "missing_columns", {"columns": ", ".join(missing)}))
            return report
        seen: dict[tuple, int] = {}
        for i, raw in enumerate(df.to_dict("records")):
            row_no = i + 2
            row = {k: raw.get(cols[k]) for k in TEMPLATE_COLUMNS if k in cols}
            if all(blank(row.get(k)) for k in ("value", "source", "evidence", "evidence_url", "period")):
                report.skipped_blank += 1   # an untouched template row
                continue
            report.rows += 1
            errs, clean = self.validate_row(row, row_no)
            if "version" in cols:              # the version the file was made from (an export has it)
                raw_version = raw.get(cols["version"])
                expected = None if blank(raw_version) else parse_period(raw_version)
                if not blank(raw_version) and (expected is None or expected < 0):
                    errs.append(RowError(row_no, "version", "bad_version", {"version": str(raw_version).strip()}))
                clean["expected_version"] = expected
            if not errs:
                key = (clean["indicator_id"], clean["unit_id"], clean["period"])
                if key in seen:
                    errs.append(RowError(row_no, "period", "duplicate_row", {"other": seen[key]}))
                else:
                    seen[key] = row_no
            report.errors.extend(errs)
            if not errs:
                report.valid.append(clean)
                report.valid_rows.append(row_no)
        if report.rows == 0 and not report.errors:
            report.errors.append(RowError(0, "", "empty_file", {}))
        return report

    def import_frame(self, editor: Editor, df: pd.DataFrame, dry_run: bool = False,
                     file_name: str = "", replace: bool = False) -> ImportReport:
        """Validate ``df`` as a whole and, if every row is valid, write all rows in one
        transaction (each a new version; earlier ones stay in the history). Raises
        ``ImportRejected`` (with the full report) when any row is bad: nothing is written.

        Conflicts are detected like the form's: a row states the version it was made from
        (column ``version``, as in an export) or, without it, expects no stored value yet.
        If a stored version differs, nothing is written, the refused rows are audit-log rows
        (``import_conflict_rejected``) and the report says who saved what — unless
        ``replace`` (the editor chose to overwrite), which writes new versions over them.
        So N imports of the same row at once cannot all succeed silently."""
        editor = require_editor(editor, self.path)
        report = self.validate_frame(df)
        if not report.ok:
            raise ImportRejected(report)
        if dry_run:
            return report
        conflicts: list[tuple[RowError, dict]] = []
        with self.edit(editor) as w:            # one transaction: check every row, then write all or none
            currents = []
            for row_no, clean in zip(report.valid_rows, report.valid):
                current = self._version(w.conn, clean["indicator_id"], clean["unit_id"], clean["period"])
                currents.append(current)
                if not replace and current != (clean.get("expected_version") or 0):
                    other = w.conn.execute("SELECT entered_by, entered_at FROM ind_values WHERE indicator_id=? AND "
                                           "unit_id=? AND period=? AND version=?", (clean["indicator_id"],
                                           clean["unit_id"], clean["period"], current)).fetchone()
                    conflicts.append((RowError(row_no, "version", "import_conflict",
                                               {"version": str(current), "who": other["entered_by"] if other else "?",
                                                "when": other["entered_at"] if other else "?"}), clean))
            for err, clean in conflicts:        # the refused rows are kept in the audit log
                w.audit("import_conflict_rejected", subject(clean),
                        {"row": err.row, "stored_version": err.params["version"], **_plain_row(clean)})
            for clean, current in zip(report.valid, currents):
                if conflicts:
                    break
                seeded = any(v.indicator_id == clean["indicator_id"] and v.unit_id == clean["unit_id"]
                             and v.period == clean["period"] for v in self.framework.values)
                if current or seeded:
                    report.replaced += 1
                self._insert_value(w, clean, current + 1)
                w.audit("value_imported", subject(clean),
                        {"version": current + 1, "previous_version": current, **_plain_row(clean)})
                report.written += 1
            if not conflicts:
                w.audit("import", Path(file_name).name or "-",
                        {"rows": report.written, "replaced": report.replaced, "replace": replace})
        if conflicts:
            report.errors = [err for err, _ in conflicts]
            raise ImportRejected(report)
        return report

    def import_file(self, editor: Editor, path: str | Path, dry_run: bool = False,
                    replace: bool = False) -> ImportReport:
        """Import a CSV or XLSX file (see ``import_frame``)."""
        return self.import_frame(editor, read_table(path), dry_run=dry_run, file_name=str(path), replace=replace)

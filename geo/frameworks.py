"""Indicator frameworks as data: an XLSX template an editor fills in from a document and loads
as a NEW framework version; every earlier version stays readable.

Version 0 is the shipped file (``data/indicators.toml``). A loaded file replaces the list of
indicators (id, names vi/en, unit, direction, scope, method, targets by year, the source
document); the measurement units, sources, bases, documents and known values stay those of
the shipped file (values of an indicator a version drops stay in the store's history). The
versions live in the workspace table ``ind_frameworks`` (append-only, one row per version,
who/when/file), so the history cannot be rewritten. The newest version is the one in force
(:func:`active_framework`).

Template columns (header row 1; one indicator per row):
``id, name_vi, name_en, unit, direction, scope, method, category, target_<YEAR>…, source,
note_vi, note_en``. A target cell reads ``> 90``, ``>= 3``, ``≤ 15``; blank = the document sets
none for that year. ``source`` (the document) is required: only what a document states is
shipped; everything else is "no data".
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from geo.auth import Editor, require_editor
from geo.errors import AtlasError
from geo.i18n import t
from geo.indicators import LEVELS, Framework, framework_data, framework_from_data, load_framework, target_problem
from geo.store import RowError, Store, blank, parse_number, read_table

BASE_COLUMNS = ("id", "name_vi", "name_en", "unit", "direction", "scope", "method", "category")
TAIL_COLUMNS = ("source", "note_vi", "note_en")
REQUIRED = ("id", "name_vi", "name_en", "unit", "direction", "scope", "method", "source")
TARGET_COLUMN = re.compile(r"^target_(\d{4})$")
_TARGET_CELL = re.compile(r"^\s*(>=|<=|≥|≤|>|<)\s*(.+?)\s*$")


@dataclass(frozen=True)
class FrameworkVersion:
    """One framework version: 0 is the shipped file; later ones were loaded by an editor."""

    version: int
    file_name: str
    loaded_by: str
    loaded_at: str
    n_indicators: int


def template_frame(fw: Framework, years: tuple[int, ...] = (2025, 2030)) -> pd.DataFrame:
    """The framework ``fw`` as template rows (one per indicator), targets by year in ``target_<YEAR>``."""
    years = tuple(sorted(set(years) | {tg.year for ind in fw.indicators.values() for tg in ind.targets}))
    rows = []
    for ind in fw.indicators.values():
        by_year = {tg.year: tg for tg in ind.targets}
        sources = dict.fromkeys(tg.source for tg in ind.targets)   # keys of the shipped [sources] stay keys
        rows.append({"id": ind.id, "name_vi": ind.name_vi, "name_en": ind.name_en, "unit": ind.unit,
                     "direction": ind.direction, "scope": ", ".join(ind.scope), "method": ind.method,
                     "category": ind.category,
                     **{f"target_{y}": f"{by_year[y].op} {by_year[y].value:g}" if y in by_year else "" for y in years},
                     "source": "; ".join(sources) or ind.source,
                     "note_vi": ind.note_vi, "note_en": ind.note_en})
    return pd.DataFrame(rows, columns=[*BASE_COLUMNS, *(f"target_{y}" for y in years), *TAIL_COLUMNS])


def template_xlsx(fw: Framework, lang: str = "vi") -> bytes:
    """The template as XLSX: the current framework's rows (sheet ``framework``, the one loaded)
    and a sheet explaining each column and the accepted values."""
    units = ", ".join(fw.units)
    guide = pd.DataFrame({
        t("readiness.guide_column", lang): [*BASE_COLUMNS, "target_<YEAR>", *TAIL_COLUMNS],
        t("readiness.guide_meaning", lang): [t(f"readiness.fwhelp_{c}", lang, units=units, levels=", ".join(LEVELS))
                                             for c in (*BASE_COLUMNS, "target", *TAIL_COLUMNS)],
    })
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        template_frame(fw).to_excel(xl, index=False, sheet_name="framework")
        guide.to_excel(xl, index=False, sheet_name=t("readiness.guide_columns_sheet", lang))
    return buf.getvalue()


def _text(raw: Any) -> str:
    return "" if blank(raw) else str(raw).strip()


def parse_template(df: pd.DataFrame, fw: Framework) -> tuple[list[dict[str, Any]], list[RowError]]:
    """The template's rows as framework indicator entries, and every problem found (row numbers
    as the sheet shows them, header = 1). Nothing is partial: callers load only when no error."""
    cols = {str(c).strip().lower(): c for c in df.columns}
    errors: list[RowError] = []
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        return [], [RowError(0, ", ".join(missing), "missing_columns", {"columns": ", ".join(missing)})]
    years = {int(m.group(1)): cols[c] for c in cols if (m := TARGET_COLUMN.match(c))}
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(df.to_dict("records")):
        row_no = i + 2
        get = {k: _text(raw.get(cols[k])) if k in cols else "" for k in (*BASE_COLUMNS, *TAIL_COLUMNS)}
        if not any(get.values()) and all(blank(raw.get(c)) for c in years.values()):
            continue                                  # a blank line
        errs: list[RowError] = []
        iid = get["id"]
        if not re.fullmatch(r"[a-z][a-z0-9_]{1,63}", iid):
            errs.append(RowError(row_no, "id", "fw_bad_id", {"id": iid}))
        elif iid in seen:
            errs.append(RowError(row_no, "id", "duplicate_row", {"other": seen[iid]}))
        seen.setdefault(iid, row_no)
        for col in ("name_vi", "name_en", "source"):
            if not get[col]:
                errs.append(RowError(row_no, col, "fw_missing", {"column": col}))
        unit = fw.unit_for_alias(get["unit"]) if get["unit"] else None
        if unit is None:
            errs.append(RowError(row_no, "unit", "fw_bad_value", {"column": "unit", "value": get["unit"],
                                                                   "allowed": ", ".join(fw.units)}))
        direction = get["direction"].lower()
        if direction not in ("higher", "lower"):
            errs.append(RowError(row_no, "direction", "fw_bad_value", {"column": "direction", "value": get["direction"],
                                                                        "allowed": "higher, lower"}))
        scope = [s.strip().lower() for s in re.split(r"[,;]", get["scope"]) if s.strip()]
        if not scope or not set(scope) <= set(LEVELS):
            errs.append(RowError(row_no, "scope", "fw_bad_value", {"column": "scope", "value": get["scope"],
                                                                    "allowed": ", ".join(LEVELS)}))
        method = get["method"].lower()
        if method not in ("manual", "computed"):
            errs.append(RowError(row_no, "method", "fw_bad_value", {"column": "method", "value": get["method"],
                                                                     "allowed": "manual, computed"}))
        elif method == "computed":
            from geo.catalog import get_catalog

            if get["category"] not in get_catalog().categories:
                errs.append(RowError(row_no, "category", "fw_bad_value", {
                    "column": "category", "value": get["category"], "allowed": ", ".join(get_catalog().categories)}))
        targets = []
        for year, col in sorted(years.items()):
            cell = _text(raw.get(col))
            if not cell:
                continue
            m = _TARGET_CELL.match(cell)
            value = parse_number(m.group(2)) if m else None
            if m is None or value is None:
                errs.append(RowError(row_no, f"target_{year}", "fw_bad_target", {"value": cell}))
                continue
            op = {"≥": ">=", "≤": "<="}.get(m.group(1), m.group(1))
            problem = target_problem(fw.units[unit], op, value) if unit is not None else None
            if problem is not None:
                errs.append(RowError(row_no, f"target_{year}", problem[0], {"indicator": iid, **problem[1]}))
                continue
            targets.append({"year": year, "op": op, "value": value, "source": get["source"]})
        errors.extend(errs)
        if not errs:
            entry = {"id": iid, "name_vi": get["name_vi"], "name_en": get["name_en"], "unit": unit,
                     "direction": direction, "scope": scope, "method": method, "source": get["source"],
                     "note_vi": get["note_vi"], "note_en": get["note_en"], "targets": targets}
            if method == "computed":
                entry["category"] = get["category"]
            out.append(entry)
    if not out and not errors:
        errors.append(RowError(0, "", "empty_file", {}))
    return out, errors


def _build(indicators: list[dict[str, Any]]) -> Framework:
    """The shipped framework with its indicators replaced by ``indicators`` (values of dropped
    indicators left out of this version; they stay in the shipped file and the store)."""
    data = framework_data()
    ids = {i["id"] for i in indicators}
    data["indicator"] = indicators
    data["value"] = [v for v in data.get("value", []) if v.get("indicator") in ids]
    return framework_from_data(data)


def versions(store: Store) -> list[FrameworkVersion]:
    """Every framework version, the shipped file (0) first."""
    shipped = FrameworkVersion(0, "data/indicators.toml", "", "", len(load_framework().indicators))
    with store.read() as conn:
        rows = conn.execute("SELECT version, file_name, loaded_by, loaded_at, indicators FROM ind_frameworks "
                            "ORDER BY version").fetchall()
    return [shipped] + [FrameworkVersion(int(r["version"]), r["file_name"], r["loaded_by"], r["loaded_at"],
                                         len(json.loads(r["indicators"]))) for r in rows]


def framework_version(store: Store, version: int) -> Framework:
    """The framework as it was in ``version`` (0 = the shipped file).

    Raises
    ------
    AtlasError
        ``store_errors.fw_unknown_version``.
    """
    if int(version) == 0:
        return load_framework()
    with store.read() as conn:
        row = conn.execute("SELECT indicators FROM ind_frameworks WHERE version=?", (int(version),)).fetchone()
    if row is None:
        raise AtlasError("store_errors.fw_unknown_version", version=str(version))
    return _build(json.loads(row["indicators"]))


def active_framework(store: Store | None = None) -> Framework:
    """The framework in force: the newest loaded version, else the shipped file."""
    store = store or Store(framework=load_framework())
    latest = versions(store)[-1].version
    return framework_version(store, latest)


class FrameworkRejected(AtlasError):
    """A framework file with at least one bad row; ``errors`` lists every problem."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("store_errors.fw_rejected", n=len(errors))

    def table(self, lang: str = "vi") -> pd.DataFrame:
        """The problems as a table (row, column, reason)."""
        return pd.DataFrame({t("store_errors.col_row", lang): [e.row for e in self.errors],
                             t("store_errors.col_column", lang): [e.column for e in self.errors],
                             t("store_errors.col_reason", lang): [e.message(lang) for e in self.errors]})


def load_version(store: Store, editor: Editor, source: str | Path | io.BytesIO, file_name: str = "") -> FrameworkVersion:
    """Load a filled-in template (XLSX or CSV) as a NEW framework version; earlier versions stay.

    Raises
    ------
    FrameworkRejected
        Any bad row (every problem listed; nothing written).
    AtlasError
        Unreadable file, not an editor.
    """
    editor = require_editor(editor, store.path)
    name = file_name or str(source)
    df = read_table(source, name)
    indicators, errors = parse_template(df, store.framework)
    if not errors:
        try:
            _build(indicators)                       # the same checks as the shipped file
        except ValueError as exc:
            errors = [RowError(0, "", "fw_invalid", {"reason": str(exc)})]
    if errors:
        raise FrameworkRejected(errors)
    with store.edit(editor) as w:
        row = w.conn.execute("SELECT max(version) FROM ind_frameworks").fetchone()
        version = int(row[0] or 0) + 1
        w.conn.execute("INSERT INTO ind_frameworks (version, file_name, indicators, loaded_by, loaded_at) "
                       "VALUES (?,?,?,?,?)", (version, Path(name).name, json.dumps(indicators, ensure_ascii=False),
                                              editor.username, w.at))
        w.audit("framework_loaded", f"framework|{version}",
                {"version": version, "file": Path(name).name, "indicators": len(indicators)})
        at = w.at
    return FrameworkVersion(version, Path(name).name, editor.username, at, len(indicators))

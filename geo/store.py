"""The indicator store: values, targets, history and an append-only audit log in the workspace.

One SQLite file — the workspace GeoPackage at ``geo.paths.workspace_path()`` — is shared
with user-imported layers (written by GDAL), so every table here is prefixed ``ind_``, the
file is never replaced as a whole, and every write is one ``BEGIN IMMEDIATE`` transaction:
a crash mid-write leaves the store as it was.

- History: a value is identified by (indicator, unit, period); each save adds a new
  *version*; nothing is updated or deleted (triggers refuse UPDATE/DELETE).
- Optimistic concurrency: a writer states the version it saw (``expected_version``); if
  someone saved in between, ``AtlasError("store_errors.conflict")`` says who and when, the
  attempt is kept in the audit log and nothing is overwritten.
- Writing needs an ``Editor`` (see :mod:`geo.auth`); reading needs nothing.
- Import: a CSV/XLSX file is validated as a whole; every bad row is reported and nothing
  is written unless all rows are valid.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import io
import math
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo import wsdb
from geo.auth import Editor, require_editor
from geo.errors import AtlasError
from geo.i18n import t
from geo.indicators import Framework, Target, Value, load_framework, merge_targets
from geo.settings import workspace_path
from geo.text import spreadsheet_safe, unneutralise
from geo.units import PlanningUnit, all_units, find, normalise_id, stored_spellings

TEMPLATE_COLUMNS = ("indicator_id", "unit_id", "unit_name", "period", "value", "unit", "source",
                    "evidence", "evidence_url")
REQUIRED_COLUMNS = ("indicator_id", "period", "value", "unit", "source")
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
LOWER_BOUND_MARK = "lower_bound=1"  # in a computed snapshot's evidence: the value is "at least"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ind_values (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id TEXT NOT NULL, unit_id TEXT NOT NULL, period INTEGER NOT NULL,
    version INTEGER NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL, source TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '', evidence_url TEXT NOT NULL DEFAULT '',
    method TEXT NOT NULL, entered_by TEXT NOT NULL, entered_at TEXT NOT NULL,
    UNIQUE (indicator_id, unit_id, period, version));
CREATE TABLE IF NOT EXISTS ind_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id TEXT NOT NULL, year INTEGER NOT NULL, version INTEGER NOT NULL,
    op TEXT NOT NULL, value REAL NOT NULL, source TEXT NOT NULL,
    entered_by TEXT NOT NULL, entered_at TEXT NOT NULL,
    UNIQUE (indicator_id, year, version));
CREATE TABLE IF NOT EXISTS ind_unit_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id TEXT NOT NULL, unit_id TEXT NOT NULL, year INTEGER NOT NULL, version INTEGER NOT NULL,
    op TEXT NOT NULL, value REAL NOT NULL, source TEXT NOT NULL, breakdown INTEGER NOT NULL DEFAULT 0,
    entered_by TEXT NOT NULL, entered_at TEXT NOT NULL,
    UNIQUE (indicator_id, unit_id, year, version));
CREATE TABLE IF NOT EXISTS ind_frameworks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version INTEGER NOT NULL UNIQUE, file_name TEXT NOT NULL, indicators TEXT NOT NULL,
    loaded_by TEXT NOT NULL, loaded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ind_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
    detail TEXT NOT NULL);
"""

# a minimal, valid GeoPackage so GDAL (user layers, issue #5) can add layers to the same file
APPEND_ONLY_TABLES = ("ind_values", "ind_targets", "ind_unit_targets", "ind_frameworks", "ind_audit")
_TRIGGERS = {f"{table}_no_{op.lower()}": (
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table}\n"
    f"    BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;")
    for table in APPEND_ONLY_TABLES for op in ("UPDATE", "DELETE")}
_SCHEMA += "\n".join(_TRIGGERS.values()) + "\n"
_SCHEMA_OBJECTS = APPEND_ONLY_TABLES + tuple(_TRIGGERS)  # present in a ready store

_GPKG_SCHEMA = """
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
    srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
    organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
    ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
    ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
    ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE IF NOT EXISTS gpkg_contents (
    table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
    description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
    CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
    table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
    srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
    CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
    CONSTRAINT uk_gc_table_name UNIQUE (table_name),
    CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
    CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
"""


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


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


def gpkg_core_sql() -> list[str]:
    """Statements creating the GeoPackage core tables (for a brand-new workspace file)."""
    return _split_sql(_GPKG_SCHEMA)


# ---------------------------------------------------------------- parsing helpers

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


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, float) and math.isnan(raw)) or str(raw).strip() == ""


# ---------------------------------------------------------------- the store

class Store:
    """The indicator store in the workspace file (``path`` or ``workspace_path()``)."""

    def __init__(self, path: str | Path | None = None, framework: Framework | None = None,
                 units: tuple[PlanningUnit, ...] | None = None) -> None:
        self.path = Path(path) if path else workspace_path()
        self.framework = framework or load_framework()
        self._units = units
        self._ready = False

    # -- connection and schema
    @property
    def units(self) -> tuple[PlanningUnit, ...]:
        """The official planning units (read once, on first use)."""
        if self._units is None:
            self._units = all_units()
        return self._units

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading (a crash's journal is rolled back first, see
        ``geo.wsdb.read_connection``); a workspace that does not exist yet reads as empty
        (nothing is created just by looking)."""
        if self.path.is_file():
            self._ensure_schema()
        with wsdb.read_connection(self.path) as conn:
            if conn is None:
                conn = sqlite3.connect(":memory:")
                conn.row_factory = sqlite3.Row
                for stmt in _split_sql(_SCHEMA):
                    conn.execute(stmt)
            try:
                yield conn
            except sqlite3.Error as exc:
                raise wsdb._error(exc) from None

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction (``geo.wsdb.transaction``): all of it is committed, or none."""
        self._ensure_schema()
        with wsdb.transaction(self.path) as conn:
            yield conn

    def _schema_present(self) -> bool:
        """True when the file already holds every table and trigger (no write lock needed)."""
        if not (self.path.exists() and self.path.stat().st_size > 0):
            return False
        with wsdb.read_connection(self.path) as conn:
            marks = ", ".join("?" * len(_SCHEMA_OBJECTS))
            have = conn.execute(f"SELECT count(*) FROM sqlite_master WHERE name IN ({marks})",
                                _SCHEMA_OBJECTS).fetchone()[0]
        return have == len(_SCHEMA_OBJECTS)

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        if not self._schema_present():
            with wsdb.transaction(self.path) as conn:
                wsdb.make_geopackage(conn, gpkg_core_sql())   # a brand-new file: make it a GeoPackage
                for stmt in _split_sql(_SCHEMA):
                    conn.execute(stmt)
        self._ready = True

    # -- audit
    def _audit(self, conn: sqlite3.Connection, editor: Editor | str, action: str, subject: str, detail: dict) -> None:
        """One audit row; a command-line editor's OS account goes into the detail."""
        actor = editor.username if isinstance(editor, Editor) else str(editor)
        wsdb.audit(conn, actor, action, subject, detail, os_user=getattr(editor, "os_user", ""))

    def audit_log(self, limit: int | None = None) -> pd.DataFrame:
        """The audit log, newest first."""
        with self._read() as conn:
            q = "SELECT id, at, actor, action, subject, detail FROM ind_audit ORDER BY id DESC"
            if limit:
                q += f" LIMIT {int(limit)}"
            return pd.read_sql_query(q, conn)

    # -- values
    def current_version(self, indicator_id: str, unit_id: str, period: int) -> int:
        """The newest stored version of a value (0 when only the framework file or nothing
        has it). Pass it back as ``expected_version`` when saving."""
        with self._read() as conn:
            return self._version(conn, indicator_id, unit_id, period)

    @staticmethod
    def _version(conn: sqlite3.Connection, indicator_id: str, unit_id: str, period: int) -> int:
        ids = stored_spellings(unit_id)  # rows saved under an older id spelling count too
        row = conn.execute("SELECT max(version) FROM ind_values WHERE indicator_id=? AND period=? AND unit_id IN "
                           f"({','.join('?' * len(ids))})", (indicator_id, int(period), *ids)).fetchone()
        return int(row[0] or 0)

    def record_value(self, editor: Editor, indicator_id: str, unit_id: str, period: Any, value: Any,
                     source: str, evidence: str = "", evidence_url: str = "", unit: str | None = None,
                     expected_version: int = 0) -> Value:
        """Save a new version of a value; refuses with a clear message when the input is
        invalid, the user is not an editor, or someone else saved since ``expected_version``."""
        editor = require_editor(editor, self.path)
        ind = self.framework.indicators.get(indicator_id)
        row = {"indicator_id": indicator_id, "unit_id": unit_id, "period": period, "value": value,
               "unit": unit if unit is not None else (ind.unit if ind else ""), "source": source,
               "evidence": evidence, "evidence_url": evidence_url}
        errors, clean = self.validate_row(row, row_no=0)
        if errors:
            raise AtlasError(f"store_errors.{errors[0].key}", **errors[0].params)
        try:
            with self._write() as conn:
                current = self._version(conn, clean["indicator_id"], clean["unit_id"], clean["period"])
                if current != int(expected_version):
                    other = conn.execute("SELECT value, entered_by, entered_at FROM ind_values WHERE "
                                         "indicator_id=? AND unit_id=? AND period=? AND version=?",
                                         (clean["indicator_id"], clean["unit_id"], clean["period"],
                                          current)).fetchone()
                    raise _Conflict(clean, int(expected_version), current, other)
                rec = self._insert_value(conn, clean, editor, current + 1)
                self._audit(conn, editor, "value_saved", _subject(clean),
                            {"version": current + 1, "previous_version": current, **clean})
        except _Conflict as conflict:
            # nothing is lost: the refused value is kept in the audit log for review
            with self._write() as conn:
                self._audit(conn, editor, "conflict_rejected", _subject(clean),
                            {"expected_version": conflict.expected, "current_version": conflict.current,
                             **clean})
            raise ValueConflict(self.framework, {u.id: u.name for u in self.units}, conflict.params) from None
        return rec

    def _target_conflict(self, editor: Editor, subject: str, conflict: _TargetConflict, mine: dict,
                         indicator_id: str, year: int, op: str, value: float) -> TargetConflict:
        """Record a refused target in the audit log (nothing is lost) and return the error that
        names the target in force — one path for province and per-unit targets."""
        with self._write() as conn:
            self._audit(conn, editor, "target_conflict_rejected", subject,
                        {"expected_version": conflict.expected, "current_version": conflict.current, **mine})
        other = conflict.other
        return TargetConflict(self.framework, indicator_id=indicator_id, year=str(year),
                              who=other["entered_by"] if other else "?", when=other["entered_at"] if other else "?",
                              op=other["op"] if other else "?", value=other["value"] if other else float("nan"),
                              mine_op=op, mine=value)

    def record_snapshot(self, editor: Editor, indicator_id: str, df: pd.DataFrame, period: Any) -> int:
        """Save a computed indicator's per-unit values (``compute_indicator`` output:
        ``unit_key``, ``value``) as the values of ``period`` — one transaction, each a new
        version — so its trend can be followed over the years. Returns the rows written."""
        editor = require_editor(editor, self.path)
        ind = self.framework.indicator(indicator_id)
        if not ind.computed:
            raise AtlasError("indicators.not_computed", indicator=indicator_id)
        y = parse_period(period)
        last = _dt.date.today().year
        if y is None or not self.framework.first_year <= y <= last:
            raise AtlasError("store_errors.unknown_period", period=period, first=str(self.framework.first_year),
                             last=str(last))
        lower = df["lower_bound"] if "lower_bound" in df else pd.Series(False, index=df.index)
        rows = [(str(k), float(v), bool(lb)) for k, v, lb in zip(df["unit_key"], df["value"], lower) if pd.notna(v)]
        with self._write() as conn:
            for unit_id, value, lb in rows:
                # the "at least" of a value computed on incomplete facility data is kept with it
                evidence = f"radius_m={ind.radius_m:g}; category={ind.category}" + (f"; {LOWER_BOUND_MARK}" if lb else "")
                clean = {"indicator_id": ind.id, "unit_id": unit_id, "period": y, "value": value, "unit": ind.unit,
                         "source": ind.source, "evidence": evidence, "evidence_url": ""}
                version = self._version(conn, ind.id, unit_id, y) + 1
                self._insert_value(conn, clean, editor, version, method="computed")
            self._audit(conn, editor, "snapshot_saved", f"{ind.id}|{y}",
                        {"rows": len(rows), "radius_m": ind.radius_m, "category": ind.category})
        return len(rows)

    def _insert_value(self, conn: sqlite3.Connection, clean: dict, editor: Editor, version: int,
                      method: str = "manual") -> Value:
        at = _now()
        conn.execute("INSERT INTO ind_values (indicator_id, unit_id, period, version, value, unit, source, "
                     "evidence, evidence_url, method, entered_by, entered_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                     (clean["indicator_id"], clean["unit_id"], clean["period"], version, clean["value"],
                      clean["unit"], clean["source"], clean["evidence"], clean["evidence_url"], method,
                      editor.username, at))
        return Value(indicator_id=clean["indicator_id"], unit_id=clean["unit_id"], period=clean["period"],
                     value=clean["value"], unit=clean["unit"], source=clean["source"], evidence=clean["evidence"],
                     evidence_url=clean["evidence_url"], method=method, entered_by=editor.username,
                     entered_at=at, version=version)

    def stored_values(self, indicator_id: str | None = None, unit_id: str | None = None) -> list[Value]:
        """Every stored version (history), oldest first."""
        q, params = "SELECT * FROM ind_values WHERE 1=1", []
        if indicator_id:
            q, params = q + " AND indicator_id=?", params + [indicator_id]
        if unit_id:
            ids = stored_spellings(unit_id)
            q, params = q + f" AND unit_id IN ({','.join('?' * len(ids))})", params + ids
        with self._read() as conn:
            rows = conn.execute(q + " ORDER BY period, version, id", params).fetchall()
        return [Value(indicator_id=r["indicator_id"], unit_id=normalise_id(r["unit_id"]) or r["unit_id"], period=int(r["period"]),
                      value=float(r["value"]), unit=r["unit"], source=r["source"], evidence=r["evidence"],
                      evidence_url=r["evidence_url"], method=r["method"], entered_by=r["entered_by"],
                      entered_at=r["entered_at"], version=int(r["version"]),
                      lower_bound=r["method"] == "computed" and LOWER_BOUND_MARK in (r["evidence"] or ""))
                for r in rows]

    def history(self, indicator_id: str, unit_id: str | None = None) -> list[Value]:
        """Known values from the framework file (version 0) and every stored version."""
        seeds = [v for v in self.framework.values
                 if v.indicator_id == indicator_id and (unit_id is None or v.unit_id == unit_id)]
        allv = seeds + self.stored_values(indicator_id, unit_id)
        return sorted(allv, key=lambda v: (v.unit_id, v.period, v.version))

    def latest_values(self, indicator_id: str, unit_id: str | None = None) -> list[Value]:
        """The current value of each (unit, period): the newest version."""
        cur: dict[tuple[str, int], Value] = {}
        for v in self.history(indicator_id, unit_id):
            cur[(v.unit_id, v.period)] = v
        return sorted(cur.values(), key=lambda v: (v.unit_id, v.period))

    # -- targets
    def record_target(self, editor: Editor, indicator_id: str, year: Any, op: str, value: Any, source: str,
                      expected_version: int = 0) -> Target:
        """Record a (newer) target for ``year``; it replaces the file's target for that year."""
        editor = require_editor(editor, self.path)
        self.framework.indicator(indicator_id)
        y, op, x, src = self._clean_target(year, op, value, source)
        mine = {"op": op, "value": x, "source": src}
        try:
            with self._write() as conn:
                row = conn.execute("SELECT max(version) FROM ind_targets WHERE indicator_id=? AND year=?",
                                   (indicator_id, y)).fetchone()
                current = int(row[0] or 0)
                if current != int(expected_version):
                    other = conn.execute("SELECT op, value, entered_by, entered_at FROM ind_targets WHERE "
                                         "indicator_id=? AND year=? AND version=?",
                                         (indicator_id, y, current)).fetchone()
                    raise _TargetConflict(int(expected_version), current, other)
                at = _now()
                conn.execute("INSERT INTO ind_targets (indicator_id, year, version, op, value, source, entered_by, "
                             "entered_at) VALUES (?,?,?,?,?,?,?,?)",
                             (indicator_id, y, current + 1, op, x, str(source).strip(), editor.username, at))
                self._audit(conn, editor, "target_saved", f"{indicator_id}|{y}",
                            {"version": current + 1, **mine})
        except _TargetConflict as conflict:
            raise self._target_conflict(editor, f"{indicator_id}|{y}", conflict, mine, indicator_id, y, op, x) from None
        return Target(year=y, op=op, value=x, source=str(source).strip(), entered_by=editor.username,
                      entered_at=at, version=current + 1)

    def record_unit_target(self, editor: Editor, indicator_id: str, unit_id: str, year: Any, op: str, value: Any,
                           source: str, breakdown: bool = False, expected_version: int = 0) -> Target:
        """Record a target of one unit — a pre-2025 city/district (the programme cities) or a
        2025 commune/ward — for ``year``, with the document that sets it (``source``).

        ``breakdown`` marks a unit's share of a province-wide target as the document breaks
        it down. Each save is a new version (append-only); ``expected_version`` is the version
        the editor saw (a conflict is refused like the province-wide targets').

        Raises
        ------
        AtlasError
            ``store_errors.unknown_unit`` (not a city or 2025 unit), ``unknown_period``,
            ``bad_op``, ``bad_number``, ``missing_source``, ``target_conflict``; not an editor.
        """
        editor = require_editor(editor, self.path)
        self.framework.indicator(indicator_id)
        unit = find(str(unit_id), units=self.units)
        if unit is None or unit.level not in ("city", "ward"):
            raise AtlasError("store_errors.unknown_unit", unit=str(unit_id))
        y, op, x, src = self._clean_target(year, op, value, source)
        mine = {"unit_id": unit.id, "op": op, "value": x, "source": src, "breakdown": bool(breakdown)}
        subject = f"{indicator_id}|{unit.id}|{y}"
        try:
            with self._write() as conn:
                row = conn.execute("SELECT max(version) FROM ind_unit_targets WHERE indicator_id=? AND unit_id=? "
                                   "AND year=?", (indicator_id, unit.id, y)).fetchone()
                current = int(row[0] or 0)
                if current != int(expected_version):
                    other = conn.execute("SELECT op, value, entered_by, entered_at FROM ind_unit_targets WHERE "
                                         "indicator_id=? AND unit_id=? AND year=? AND version=?",
                                         (indicator_id, unit.id, y, current)).fetchone()
                    raise _TargetConflict(int(expected_version), current, other)
                at = _now()
                conn.execute("INSERT INTO ind_unit_targets (indicator_id, unit_id, year, version, op, value, source, "
                             "breakdown, entered_by, entered_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                             (indicator_id, unit.id, y, current + 1, op, x, src, int(bool(breakdown)),
                              editor.username, at))
                self._audit(conn, editor, "unit_target_saved", subject, {"version": current + 1, **mine})
        except _TargetConflict as conflict:
            raise self._target_conflict(editor, subject, conflict, mine, indicator_id, y, op, x) from None
        return Target(year=y, op=op, value=x, source=src, entered_by=editor.username, entered_at=at,
                      version=current + 1, unit_id=unit.id, breakdown=bool(breakdown))

    def _clean_target(self, year: Any, op: str, value: Any, source: Any) -> tuple[int, str, float, str]:
        """A target's year, comparison, value and document, checked (``AtlasError`` otherwise)."""
        y = parse_period(year)
        if y is None or not self.framework.first_year <= y <= 2100:
            raise AtlasError("store_errors.unknown_period", period=year, first=self.framework.first_year,
                             last=2100)
        if op not in (">", ">=", "<", "<="):
            raise AtlasError("store_errors.bad_op", op=op)
        x = parse_number(value)
        if x is None:
            raise AtlasError("store_errors.bad_number", value=value)
        if _blank(source):
            raise AtlasError("store_errors.missing_source")
        return y, op, x, str(source).strip()

    def recorded_unit_targets(self, indicator_id: str | None = None, unit_id: str | None = None) -> list[Target]:
        """Every recorded version of unit targets (history), by indicator, unit, year, version."""
        q, params = "SELECT * FROM ind_unit_targets WHERE 1=1", []
        if indicator_id:
            q, params = q + " AND indicator_id=?", params + [indicator_id]
        if unit_id:
            q, params = q + " AND unit_id=?", params + [normalise_id(unit_id) or str(unit_id)]
        with self._read() as conn:
            rows = conn.execute(q + " ORDER BY indicator_id, unit_id, year, version", params).fetchall()
        return [Target(year=int(r["year"]), op=r["op"], value=float(r["value"]), source=r["source"],
                       entered_by=r["entered_by"], entered_at=r["entered_at"], version=int(r["version"]),
                       unit_id=r["unit_id"], breakdown=bool(r["breakdown"])) for r in rows]

    def unit_targets(self, indicator_id: str, unit_id: str) -> list[Target]:
        """The targets in force for one unit, by year (the newest recorded version of each year)."""
        return merge_targets((), self.recorded_unit_targets(indicator_id, unit_id))

    def units_with_targets(self, indicator_id: str | None = None) -> set[str]:
        """Ids of the units that have at least one recorded target (of ``indicator_id``)."""
        return {tg.unit_id for tg in self.recorded_unit_targets(indicator_id)}

    def recorded_targets(self, indicator_id: str) -> list[Target]:
        """The targets recorded for ``indicator_id``, every version, ordered by year then version."""
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM ind_targets WHERE indicator_id=? ORDER BY year, version",
                                (indicator_id,)).fetchall()
        return [Target(year=int(r["year"]), op=r["op"], value=float(r["value"]), source=r["source"],
                       entered_by=r["entered_by"], entered_at=r["entered_at"], version=int(r["version"]))
                for r in rows]

    def targets(self, indicator_id: str) -> list[Target]:
        """Effective targets: the file's, replaced year by year by the newest recorded one."""
        ind = self.framework.indicator(indicator_id)
        return merge_targets(ind.targets, self.recorded_targets(indicator_id))

    def target_state(self, indicator_id: str, year: int, unit_id: str | None = None) -> tuple[int, Target | None]:
        """One year's target as an editor sees it before changing it.

        Parameters
        ----------
        indicator_id : str
            An indicator of the framework.
        year : int
            The target year.
        unit_id : str, optional
            A unit's id (``geo.units``); ``None`` for the province-wide target.

        Returns
        -------
        tuple of (int, Target or None)
            The newest recorded version for that year (0 when none was recorded; pass it back
            as ``expected_version``) and the target in force: province-wide, the framework
            file's replaced by the newest recorded one; of a unit, its newest recorded one.
        """
        if unit_id is None:
            recorded = [tg for tg in self.recorded_targets(indicator_id) if tg.year == year]
            effective = {tg.year: tg for tg in self.targets(indicator_id)}.get(year)
        else:
            recorded = [tg for tg in self.recorded_unit_targets(indicator_id, unit_id) if tg.year == year]
            effective = recorded[-1] if recorded else None
        return max((tg.version for tg in recorded), default=0), effective

    # -- validation and import
    def validate_row(self, row: dict[str, Any], row_no: int) -> tuple[list[RowError], dict[str, Any]]:
        """Check one row; returns (errors, cleaned row). Every problem is reported."""
        fw = self.framework
        errs: list[RowError] = []
        clean: dict[str, Any] = {}
        iid = "" if _blank(row.get("indicator_id")) else str(row.get("indicator_id")).strip()
        ind = fw.indicators.get(iid)
        if ind is None:
            errs.append(RowError(row_no, "indicator_id", "unknown_indicator", {"indicator": iid}))
        elif ind.computed:
            errs.append(RowError(row_no, "indicator_id", "computed_indicator", {"indicator": iid}))
        clean["indicator_id"] = iid
        unit_text = row.get("unit_id")
        if _blank(unit_text):
            unit_text = row.get("unit_name")
        unit = None if _blank(unit_text) else find(str(unit_text), units=self.units)
        if unit is None:
            errs.append(RowError(row_no, "unit_id", "unknown_unit",
                                 {"unit": "" if _blank(unit_text) else str(unit_text).strip()}))
        elif ind is not None and unit.level not in ind.scope and unit.id not in self.units_with_targets(iid):
            # out of the indicator's scope, unless a document set a target of this unit
            errs.append(RowError(row_no, "unit_id", "unit_not_in_scope", {"unit": unit.name, "indicator": iid}))
        clean["unit_id"] = unit.id if unit else ""
        period = parse_period(row.get("period"))
        last = _dt.date.today().year
        if period is None or not fw.first_year <= period <= last:
            errs.append(RowError(row_no, "period", "unknown_period",
                                 {"period": "" if _blank(row.get("period")) else str(row.get("period")).strip(),
                                  "first": str(fw.first_year), "last": str(last)}))
        clean["period"] = period
        value = parse_number(row.get("value"))
        raw_value = "" if _blank(row.get("value")) else str(row.get("value")).strip()
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
        unit_col = "" if _blank(row.get("unit")) else str(row.get("unit")).strip()
        measured = fw.unit_for_alias(unit_col) if unit_col else None
        if ind is not None and measured != ind.unit:
            errs.append(RowError(row_no, "unit", "wrong_unit", {"unit": unit_col, "expected": ind.unit}))
        clean["unit"] = ind.unit if ind is not None else unit_col
        if _blank(row.get("source")):
            errs.append(RowError(row_no, "source", "missing_source", {}))
        clean["source"] = "" if _blank(row.get("source")) else str(row.get("source")).strip()
        clean["evidence"] = "" if _blank(row.get("evidence")) else str(row.get("evidence")).strip()
        url = "" if _blank(row.get("evidence_url")) else str(row.get("evidence_url")).strip()
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
            if all(_blank(row.get(k)) for k in ("value", "source", "evidence", "evidence_url", "period")):
                report.skipped_blank += 1   # an untouched template row
                continue
            report.rows += 1
            errs, clean = self.validate_row(row, row_no)
            if "version" in cols:              # the version the file was made from (an export has it)
                raw_version = raw.get(cols["version"])
                expected = None if _blank(raw_version) else parse_period(raw_version)
                if not _blank(raw_version) and (expected is None or expected < 0):
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
        with self._write() as conn:            # one transaction: check every row, then write all or none
            currents = []
            for row_no, clean in zip(report.valid_rows, report.valid):
                current = self._version(conn, clean["indicator_id"], clean["unit_id"], clean["period"])
                currents.append(current)
                if not replace and current != (clean.get("expected_version") or 0):
                    other = conn.execute("SELECT entered_by, entered_at FROM ind_values WHERE indicator_id=? AND "
                                         "unit_id=? AND period=? AND version=?", (clean["indicator_id"],
                                         clean["unit_id"], clean["period"], current)).fetchone()
                    conflicts.append((RowError(row_no, "version", "import_conflict",
                                               {"version": str(current), "who": other["entered_by"] if other else "?",
                                                "when": other["entered_at"] if other else "?"}), clean))
            for err, clean in conflicts:        # the refused rows are kept in the audit log
                self._audit(conn, editor, "import_conflict_rejected", _subject(clean),
                            {"row": err.row, "stored_version": err.params["version"], **_plain_row(clean)})
            for clean, current in zip(report.valid, currents):
                if conflicts:
                    break
                seeded = any(v.indicator_id == clean["indicator_id"] and v.unit_id == clean["unit_id"]
                             and v.period == clean["period"] for v in self.framework.values)
                if current or seeded:
                    report.replaced += 1
                self._insert_value(conn, clean, editor, current + 1)
                self._audit(conn, editor, "value_imported", _subject(clean),
                            {"version": current + 1, "previous_version": current, **_plain_row(clean)})
                report.written += 1
            if not conflicts:
                self._audit(conn, editor, "import", Path(file_name).name or "-",
                            {"rows": report.written, "replaced": report.replaced, "replace": replace})
        if conflicts:
            report.errors = [err for err, _ in conflicts]
            raise ImportRejected(report)
        return report

    def import_file(self, editor: Editor, path: str | Path, dry_run: bool = False,
                    replace: bool = False) -> ImportReport:
        """Import a CSV or XLSX file (see ``import_frame``)."""
        return self.import_frame(editor, read_table(path), dry_run=dry_run, file_name=str(path), replace=replace)

    # -- template and export
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


class _Conflict(AtlasError):
    """Raised inside the write transaction (so it rolls back) when the version moved on."""

    def __init__(self, clean: dict, expected: int, current: int, other: Any) -> None:
        self.expected, self.current = expected, current
        super().__init__("store_errors.conflict", indicator=clean["indicator_id"], unit=clean["unit_id"],
                         period=str(clean["period"]), who=other["entered_by"] if other else "?",
                         when=other["entered_at"] if other else "?",
                         value=other["value"] if other else float("nan"), mine=clean["value"])


class ValueConflict(AtlasError):
    """Someone saved the same value first: the message names the indicator and the unit in the
    reader's language, the other editor, when (UTC) and both values with their unit."""

    def __init__(self, framework: Framework, unit_names: dict[str, str], params: dict[str, Any]) -> None:
        self._framework, self._unit_names = framework, unit_names
        super().__init__("store_errors.conflict", **params)

    def message(self, lang: str = "vi") -> str:
        """The conflict as one sentence in ``lang``, with the stored and the new value."""
        from geo.indicators import fmt_value, fmt_when

        p = dict(self.params)
        ind = self._framework.indicators.get(p["indicator"])
        if ind is not None:
            spec = self._framework.units[ind.unit]
            p["indicator"] = ind.name(lang)
            p["value"] = fmt_value(p["value"], spec, lang, with_unit=True)
            p["mine"] = fmt_value(p["mine"], spec, lang, with_unit=True)
        p["unit"] = self._unit_names.get(p["unit"], p["unit"])
        p["when"] = fmt_when(p["when"]) if p["when"] != "?" else p["when"]
        return t(self.key, lang, **p)


class _TargetConflict(Exception):
    """Raised inside the write transaction (so it rolls back) when the target version moved on."""

    def __init__(self, expected: int, current: int, other: Any) -> None:
        super().__init__("target conflict")
        self.expected, self.current, self.other = expected, current, other


class TargetConflict(AtlasError):
    """Someone recorded the same year's target first: names the indicator, who, when and both targets."""

    def __init__(self, framework: Framework, **params: Any) -> None:
        self._framework = framework
        super().__init__("store_errors.target_conflict", **params)

    def message(self, lang: str = "vi") -> str:
        """The target conflict as one sentence in ``lang``, with the stored and the new target."""
        from geo.indicators import fmt_value, fmt_when, op_symbol

        p = dict(self.params)
        ind = self._framework.indicators.get(p["indicator_id"])
        name = ind.name(lang) if ind else p["indicator_id"]
        spec = self._framework.units[ind.unit] if ind else None
        fmt = (lambda v: fmt_value(v, spec, lang, with_unit=True)) if spec else (lambda v: str(v))
        return t(self.key, lang, indicator=name, year=p["year"], who=p["who"],
                 when=fmt_when(p["when"]) if p["when"] != "?" else "?",
                 value=f"{op_symbol(p['op'])} {fmt(p['value'])}", mine=f"{op_symbol(p['mine_op'])} {fmt(p['mine'])}")


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open (SQLite may have rolled back already)."""
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _plain_row(clean: dict) -> dict:
    return {k: v for k, v in clean.items() if k != "expected_version"}


def _subject(clean: dict) -> str:
    return f"{clean['indicator_id']}|{clean['unit_id']}|{clean['period']}"


def _split_sql(script: str) -> list[str]:
    """Split a schema script into statements (triggers contain ';' inside BEGIN ... END)."""
    out, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        joined = "\n".join(buf).strip()
        if joined.endswith(";") and (("BEGIN" not in joined) or joined.endswith("END;")):
            out.append(joined)
            buf = []
    return out


def read_table(path: str | Path | io.BytesIO, name: str | None = None) -> pd.DataFrame:
    """Read an import file (``.csv`` UTF-8 or ``.xlsx``) with every cell as text/number."""
    name = name or str(path)
    suffix = Path(name).suffix.lower()
    try:
        if suffix == ".csv":
            # blank lines kept: rows are numbered as the spreadsheet shows them (validate_frame)
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False)
            return df.map(unneutralise)   # an export's '=… protection is not part of the value
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, dtype=object, engine="openpyxl").map(unneutralise)
    except FileNotFoundError:
        raise AtlasError("store_errors.file_missing", path=name) from None
    except Exception as exc:  # any parse failure is a bad file to the user
        raise AtlasError("store_errors.unreadable_file", path=name, reason=type(exc).__name__) from None
    raise AtlasError("store_errors.bad_format", path=name)


def frame_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    """``df`` as CSV (UTF-8 with BOM so Excel shows Vietnamese) or XLSX bytes."""
    if fmt == "csv":
        return spreadsheet_safe(df).to_csv(index=False).encode("utf-8-sig")
    buf = io.BytesIO()
    spreadsheet_safe(df).to_excel(buf, index=False, engine="openpyxl")   # openpyxl writes "=…" as a formula
    return buf.getvalue()


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` to ``.csv`` or ``.xlsx`` (by extension)."""
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise AtlasError("store_errors.bad_format", path=str(p))
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(frame_bytes(df, fmt))
    except OSError as exc:
        raise AtlasError("errors.unwritable", path=str(p), reason=exc.strerror or str(exc)) from None
    return p


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

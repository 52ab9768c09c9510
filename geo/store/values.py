"""The indicator store's values: versions, history, computed snapshots, and the refusal of a
value someone else saved first (optimistic concurrency)."""
from __future__ import annotations

import datetime as _dt
import sqlite3
from typing import Any

import pandas as pd

from geo.auth import Editor, require_editor
from geo.errors import AtlasError
from geo.i18n import t
from geo.indicators import Framework, Value, fmt_value, fmt_when
from geo.store.storage import Edit
from geo.store.validation import parse_period, subject
from geo.units import normalise_id, stored_spellings

LOWER_BOUND_MARK = "lower_bound=1"  # in a computed snapshot's evidence: the value is "at least"


class ValuesMixin:
    """Values of :class:`geo.store.Store` (needs its ``edit``/``read``, ``framework``,
    ``units`` and ``validate_row``)."""

    def current_version(self, indicator_id: str, unit_id: str, period: int) -> int:
        """The newest stored version of a value (0 when only the framework file or nothing
        has it). Pass it back as ``expected_version`` when saving."""
        with self.read() as conn:
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
            with self.edit(editor) as w:
                current = self._version(w.conn, clean["indicator_id"], clean["unit_id"], clean["period"])
                if current != int(expected_version):
                    other = w.conn.execute("SELECT value, entered_by, entered_at FROM ind_values WHERE "
                                           "indicator_id=? AND unit_id=? AND period=? AND version=?",
                                           (clean["indicator_id"], clean["unit_id"], clean["period"],
                                            current)).fetchone()
                    raise _Conflict(clean, int(expected_version), current, other)
                rec = self._insert_value(w, clean, current + 1)
                w.audit("value_saved", subject(clean), {"version": current + 1, "previous_version": current, **clean})
        except _Conflict as conflict:
            # nothing is lost: the refused value is kept in the audit log for review
            with self.edit(editor) as w:
                w.audit("conflict_rejected", subject(clean),
                        {"expected_version": conflict.expected, "current_version": conflict.current, **clean})
            raise ValueConflict(self.framework, {u.id: u.name for u in self.units}, conflict.params) from None
        return rec

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
        with self.edit(editor) as w:
            for unit_id, value, lb in rows:
                # the "at least" of a value computed on incomplete facility data is kept with it
                evidence = f"radius_m={ind.radius_m:g}; category={ind.category}" + (f"; {LOWER_BOUND_MARK}" if lb else "")
                clean = {"indicator_id": ind.id, "unit_id": unit_id, "period": y, "value": value, "unit": ind.unit,
                         "source": ind.source, "evidence": evidence, "evidence_url": ""}
                version = self._version(w.conn, ind.id, unit_id, y) + 1
                self._insert_value(w, clean, version, method="computed")
            w.audit("snapshot_saved", f"{ind.id}|{y}",
                    {"rows": len(rows), "radius_m": ind.radius_m, "category": ind.category})
        return len(rows)

    def _insert_value(self, w: Edit, clean: dict, version: int, method: str = "manual") -> Value:
        """Insert one version of a value in the write ``w`` (:meth:`edit`); the stored :class:`Value`."""
        at, editor = w.at, w.editor
        w.conn.execute("INSERT INTO ind_values (indicator_id, unit_id, period, version, value, unit, source, "
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
        with self.read() as conn:
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

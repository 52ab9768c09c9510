"""The indicator store's targets: province-wide and per unit (a city, a 2025 unit), each save a
new version with the document that sets it, a conflicting save refused and named."""
from __future__ import annotations

from typing import Any

from geo.auth import Editor, require_editor
from geo.errors import AtlasError
from geo.i18n import t
from geo.indicators import Framework, Target, fmt_value, fmt_when, merge_targets, op_symbol, target_problem
from geo.store.validation import blank, parse_number, parse_period
from geo.units import find, normalise_id


class TargetsMixin:
    """Targets of :class:`geo.store.Store` (needs its ``edit``/``read``, ``framework`` and
    ``units``)."""

    def record_target(self, editor: Editor, indicator_id: str, year: Any, op: str, value: Any, source: str,
                      expected_version: int = 0) -> Target:
        """Record a (newer) target for ``year``; it replaces the file's target for that year."""
        editor = require_editor(editor, self.path)
        self.framework.indicator(indicator_id)
        y, op, x, src = self._clean_target(year, op, value, source, indicator_id)
        mine = {"op": op, "value": x, "source": src}
        try:
            with self.edit(editor) as w:
                row = w.conn.execute("SELECT max(version) FROM ind_targets WHERE indicator_id=? AND year=?",
                                     (indicator_id, y)).fetchone()
                current = int(row[0] or 0)
                if current != int(expected_version):
                    other = w.conn.execute("SELECT op, value, entered_by, entered_at FROM ind_targets WHERE "
                                           "indicator_id=? AND year=? AND version=?",
                                           (indicator_id, y, current)).fetchone()
                    raise _TargetConflict(int(expected_version), current, other)
                at = w.at
                w.conn.execute("INSERT INTO ind_targets (indicator_id, year, version, op, value, source, entered_by, "
                               "entered_at) VALUES (?,?,?,?,?,?,?,?)",
                               (indicator_id, y, current + 1, op, x, str(source).strip(), editor.username, at))
                w.audit("target_saved", f"{indicator_id}|{y}", {"version": current + 1, **mine})
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
        y, op, x, src = self._clean_target(year, op, value, source, indicator_id)
        mine = {"unit_id": unit.id, "op": op, "value": x, "source": src, "breakdown": bool(breakdown)}
        subject = f"{indicator_id}|{unit.id}|{y}"
        try:
            with self.edit(editor) as w:
                row = w.conn.execute("SELECT max(version) FROM ind_unit_targets WHERE indicator_id=? AND unit_id=? "
                                     "AND year=?", (indicator_id, unit.id, y)).fetchone()
                current = int(row[0] or 0)
                if current != int(expected_version):
                    other = w.conn.execute("SELECT op, value, entered_by, entered_at FROM ind_unit_targets WHERE "
                                           "indicator_id=? AND unit_id=? AND year=? AND version=?",
                                           (indicator_id, unit.id, y, current)).fetchone()
                    raise _TargetConflict(int(expected_version), current, other)
                at = w.at
                w.conn.execute("INSERT INTO ind_unit_targets (indicator_id, unit_id, year, version, op, value, source, "
                               "breakdown, entered_by, entered_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                               (indicator_id, unit.id, y, current + 1, op, x, src, int(bool(breakdown)),
                              editor.username, at))
                w.audit("unit_target_saved", subject, {"version": current + 1, **mine})
        except _TargetConflict as conflict:
            raise self._target_conflict(editor, subject, conflict, mine, indicator_id, y, op, x) from None
        return Target(year=y, op=op, value=x, source=src, entered_by=editor.username, entered_at=at,
                      version=current + 1, unit_id=unit.id, breakdown=bool(breakdown))

    def _clean_target(self, year: Any, op: str, value: Any, source: Any,
                      indicator_id: str) -> tuple[int, str, float, str]:
        """A target's year, comparison, value and document, checked (``AtlasError`` otherwise) —
        the value against the indicator's unit too (``geo.indicators.target_problem``: no 250 %
        share, no negative rank)."""
        y = parse_period(year)
        if y is None or not self.framework.first_year <= y <= 2100:
            raise AtlasError("store_errors.unknown_period", period=year, first=self.framework.first_year,
                             last=2100)
        if op not in (">", ">=", "<", "<="):
            raise AtlasError("store_errors.bad_op", op=op)
        x = parse_number(value)
        if x is None:
            raise AtlasError("store_errors.bad_number", value=value)
        ind = self.framework.indicator(indicator_id)
        problem = target_problem(self.framework.units[ind.unit], op, x)
        if problem is not None:
            raise AtlasError(f"store_errors.{problem[0]}", indicator=ind.id, **problem[1])
        if blank(source):
            raise AtlasError("store_errors.missing_source")
        return y, op, x, str(source).strip()

    def recorded_unit_targets(self, indicator_id: str | None = None, unit_id: str | None = None) -> list[Target]:
        """Every recorded version of unit targets (history), by indicator, unit, year, version."""
        q, params = "SELECT * FROM ind_unit_targets WHERE 1=1", []
        if indicator_id:
            q, params = q + " AND indicator_id=?", params + [indicator_id]
        if unit_id:
            q, params = q + " AND unit_id=?", params + [normalise_id(unit_id) or str(unit_id)]
        with self.read() as conn:
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
        with self.read() as conn:
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

    def _target_conflict(self, editor: Editor, subject: str, conflict: _TargetConflict, mine: dict,
                         indicator_id: str, year: int, op: str, value: float) -> TargetConflict:
        """Record a refused target in the audit log (nothing is lost) and return the error that
        names the target in force — one path for province and per-unit targets."""
        with self.edit(editor) as w:
            w.audit("target_conflict_rejected", subject,
                    {"expected_version": conflict.expected, "current_version": conflict.current, **mine})
        other = conflict.other
        return TargetConflict(self.framework, indicator_id=indicator_id, year=str(year),
                              who=other["entered_by"] if other else "?", when=other["entered_at"] if other else "?",
                              op=other["op"] if other else "?", value=other["value"] if other else float("nan"),
                              mine_op=op, mine=value)


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
        p = dict(self.params)
        ind = self._framework.indicators.get(p["indicator_id"])
        name = ind.name(lang) if ind else p["indicator_id"]
        spec = self._framework.units[ind.unit] if ind else None
        fmt = (lambda v: fmt_value(v, spec, lang, with_unit=True)) if spec else (lambda v: str(v))
        return t(self.key, lang, indicator=name, year=p["year"], who=p["who"],
                 when=fmt_when(p["when"]) if p["when"] != "?" else "?",
                 value=f"{op_symbol(p['op'])} {fmt(p['value'])}", mine=f"{op_symbol(p['mine_op'])} {fmt(p['mine'])}")

"""Smart-city readiness: the indicator framework, status rules, gaps and computed indicators.

The framework is data (``data/indicators.toml``): indicators with unit, direction, scope,
method, source and targets by year, plus known values with their sources. This module
loads it, states and applies the status rule, computes gaps and computes the spatial
indicators with the coverage engine. Stored values live in :mod:`geo.store`.

Units and their ids come from the one registry :mod:`geo.units`: ``province:19`` (the
province), ``districts:<level2_id>`` (the 9 pre-2025 districts/cities, scope "city"),
``wards_2025:<gso_code>`` (the 2025 communes/wards); old spellings (``district:165``) are
accepted on input.
"""
from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from geo.errors import AtlasError
from geo.i18n import fmt_number, t
from geo.numbers import share_percent
from geo.settings import REPO_ROOT
from geo.units import PROVINCE_ID, PlanningUnit, normalise_id, unit_frame
from geo.units import all_units as _all_units

FRAMEWORK_FILE = REPO_ROOT / "data" / "indicators.toml"
OPS = (">", ">=", "<", "<=")
LEVELS = ("province", "city", "ward")
STATUSES = ("met", "on_track", "behind", "no_data", "no_target")
SEED_AUTHOR = "data/indicators.toml"


@dataclass(frozen=True)
class Target:
    """A target: ``value`` compared with ``op`` to be reached by ``year``."""

    year: int
    op: str
    value: float
    source: str
    entered_by: str = SEED_AUTHOR
    entered_at: str = ""
    version: int = 0
    unit_id: str = ""        # "" = the indicator's own target (province-wide); else the unit it is set for
    breakdown: bool = False  # a unit's share of a province-wide target, as the document breaks it down

    @property
    def province_wide(self) -> bool:
        """True for a target of the indicator as a whole (the province's), not of one unit."""
        return not self.unit_id

    def met_by(self, value: float) -> bool:
        """Whether ``value`` satisfies this target."""
        return meets(value, self.op, self.value)


@dataclass(frozen=True)
class Indicator:
    """One indicator of the framework."""

    id: str
    name_vi: str
    name_en: str
    unit: str
    direction: str
    scope: tuple[str, ...]
    method: str
    source: str
    note_vi: str = ""
    note_en: str = ""
    targets: tuple[Target, ...] = ()
    category: str = ""
    radius_m: float = 0.0

    def name(self, lang: str) -> str:
        """The indicator's name in ``lang``."""
        return self.name_en if lang == "en" else self.name_vi

    def note(self, lang: str) -> str:
        """The indicator's note (method, basis) in ``lang``."""
        return self.note_en if lang == "en" else self.note_vi

    @property
    def computed(self) -> bool:
        """Whether the atlas computes the value (rather than it being entered from a source)."""
        return self.method == "computed"


@dataclass(frozen=True)
class UnitSpec:
    """A measurement unit (percent, count, rank, ...) and the spellings accepted on import."""

    id: str
    label_vi: str
    label_en: str
    aliases: tuple[str, ...]
    min: float | None = None
    max: float | None = None
    integer: bool = False

    def label(self, lang: str) -> str:
        """The label in ``lang``."""
        return self.label_en if lang == "en" else self.label_vi


@dataclass(frozen=True)
class Value:
    """One recorded value of an indicator for a unit and a period (a year)."""

    indicator_id: str
    unit_id: str
    period: int
    value: float
    unit: str
    source: str
    evidence: str = ""
    evidence_url: str = ""
    method: str = "manual"
    entered_by: str = SEED_AUTHOR
    entered_at: str = ""
    version: int = 0
    lower_bound: bool = False  # computed on incomplete facility data: the value is "at least"
    basis: str = ""  # what the value is measured against (a key of [bases]); "" = not stated


@dataclass(frozen=True)
class Document:
    """A programme document of the framework (a resolution, decision, strategy) with the
    targets an editor has recorded from it; none recorded shows "no data"."""

    id: str
    title_vi: str
    title_en: str
    issued: str  # ISO date
    issuer_vi: str
    issuer_en: str
    source: str  # a key of [sources] or free text
    targets: tuple[Target, ...] = ()

    def title(self, lang: str) -> str:
        """The programme's title in ``lang``."""
        return self.title_en if lang == "en" else self.title_vi

    def issuer(self, lang: str) -> str:
        """The issuing body in ``lang``."""
        return self.issuer_en if lang == "en" else self.issuer_vi


@dataclass(frozen=True)
class Framework:
    """The loaded framework file."""

    indicators: dict[str, Indicator]
    units: dict[str, UnitSpec]
    sources: dict[str, dict[str, str]]
    values: tuple[Value, ...]
    first_year: int
    smart_cities: tuple[str, ...]
    computed_period: int = 0
    bases: dict[str, dict[str, str]] = field(default_factory=dict)
    documents: tuple[Document, ...] = ()

    def basis_text(self, basis: str, lang: str) -> str:
        """The basis key of a value resolved to its text ("" when not stated)."""
        entry = self.bases.get(basis)
        return entry.get(lang, entry.get("vi", basis)) if entry else basis

    def indicator(self, indicator_id: str) -> Indicator:
        """The indicator ``indicator_id`` or an ``AtlasError``."""
        try:
            return self.indicators[indicator_id]
        except KeyError:
            raise AtlasError("indicators.unknown", indicator=indicator_id) from None

    def source_text(self, source: str, lang: str) -> str:
        """A source key of the file resolved to its text; free text is returned as is."""
        entry = self.sources.get(source)
        return entry.get(lang, entry.get("vi", source)) if entry else source

    def unit_for_alias(self, text: str) -> str | None:
        """The measurement-unit id a spelling (``"%"``, ``"hạng"``...) stands for."""
        from geo.text import fold

        key = fold(text)
        for spec in self.units.values():
            if key == fold(spec.id) or key in {fold(a) for a in spec.aliases}:
                return spec.id
        return None


def _category_radius(category: str) -> float:
    """The service radius (m) of an infrastructure category (``layers/catalog.toml``), 0 if unknown."""
    from geo.catalog import get_catalog

    cat = get_catalog().categories.get(category)
    return cat.radius_m if cat else 0.0


def parse_framework(text: str) -> Framework:
    """Parse the framework TOML; raises ``ValueError`` naming the first malformed entry."""
    return framework_from_data(tomllib.loads(text))


def framework_data(path: str | Path | None = None) -> dict[str, Any]:
    """The framework file (``data/indicators.toml`` by default) as its TOML tables."""
    return tomllib.loads(Path(path or FRAMEWORK_FILE).read_text(encoding="utf-8"))


def framework_from_data(data: dict[str, Any]) -> Framework:
    """A :class:`Framework` from the framework file's tables (``[meta]``, ``[units]``,
    ``[[indicator]]``, ``[[value]]`` …); raises ``ValueError`` naming the first malformed entry."""
    meta = data.get("meta", {})
    units = {uid: UnitSpec(id=uid, label_vi=u.get("label_vi", uid), label_en=u.get("label_en", uid),
                           aliases=tuple(u.get("aliases", ())), min=u.get("min"), max=u.get("max"),
                           integer=bool(u.get("integer", False)))
             for uid, u in data.get("units", {}).items()}
    sources = data.get("sources", {})
    indicators: dict[str, Indicator] = {}
    for raw in data.get("indicator", []):
        iid = raw.get("id", "?")
        targets = []
        for tg in raw.get("targets", []):
            if tg.get("op") not in OPS:
                raise ValueError(f"indicator {iid}: target op must be one of {OPS}")
            targets.append(Target(year=int(tg["year"]), op=tg["op"], value=float(tg["value"]),
                                  source=tg.get("source", raw.get("source", ""))))
        ind = Indicator(
            id=iid, name_vi=raw["name_vi"], name_en=raw["name_en"], unit=raw["unit"],
            direction=raw["direction"], scope=tuple(raw["scope"]), method=raw["method"],
            source=raw.get("source", ""), note_vi=raw.get("note_vi", ""), note_en=raw.get("note_en", ""),
            targets=tuple(sorted(targets, key=lambda x: x.year)), category=raw.get("category", ""),
            radius_m=_category_radius(raw.get("category", "")) if raw.get("method") == "computed" else 0.0,
        )
        if "radius_m" in raw:
            raise ValueError(f"indicator {iid}: the radius is the category's, declared in layers/catalog.toml")
        if iid in indicators:
            raise ValueError(f"duplicate indicator id {iid}")
        if ind.unit not in units:
            raise ValueError(f"indicator {iid}: unknown unit {ind.unit}")
        if ind.direction not in ("higher", "lower"):
            raise ValueError(f"indicator {iid}: direction must be 'higher' or 'lower'")
        if ind.method not in ("manual", "computed"):
            raise ValueError(f"indicator {iid}: method must be 'manual' or 'computed'")
        if not set(ind.scope) <= set(LEVELS) or not ind.scope:
            raise ValueError(f"indicator {iid}: scope must be among {LEVELS}")
        if ind.computed and (not ind.category or ind.radius_m <= 0):
            raise ValueError(f"indicator {iid}: a computed indicator needs category and radius_m > 0")
        indicators[iid] = ind
    values = []
    for raw in data.get("value", []):
        ind = indicators.get(raw.get("indicator", ""))
        if ind is None:
            raise ValueError(f"value for unknown indicator {raw.get('indicator')}")
        values.append(Value(indicator_id=ind.id, unit_id=normalise_id(raw["unit_id"]) or raw["unit_id"], period=int(raw["period"]),
                            value=float(raw["value"]), unit=ind.unit, source=raw["source"],
                            evidence=raw.get("evidence", ""), evidence_url=raw.get("evidence_url", ""),
                            basis=raw.get("basis", "")))
        if raw.get("basis") and raw["basis"] not in data.get("bases", {}):
            raise ValueError(f"value of {ind.id} {raw['period']}: unknown basis {raw['basis']}")
    documents = tuple(Document(id=d["id"], title_vi=d["title_vi"], title_en=d["title_en"], issued=d["issued"],
                               issuer_vi=d["issuer_vi"], issuer_en=d["issuer_en"], source=d["source"],
                               targets=tuple(Target(year=int(tg["year"]), op=tg["op"], value=float(tg["value"]),
                                                    source=tg.get("source", d["source"]))
                                             for tg in d.get("targets", ())))
                      for d in data.get("document", []))
    return Framework(indicators=indicators, units=units, sources=sources, values=tuple(values),
                     first_year=int(meta.get("first_year", 2015)),
                     smart_cities=tuple(str(c) for c in meta.get("smart_cities", ())),
                     computed_period=int(meta.get("computed_period", 0)),
                     bases=data.get("bases", {}), documents=documents)


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Framework:
    return parse_framework(Path(path).read_text(encoding="utf-8"))


def load_framework(path: str | Path | None = None) -> Framework:
    """The framework file (``data/indicators.toml`` by default); re-read when it changes.

    A missing or malformed file raises ``AtlasError``.
    """
    p = Path(path or FRAMEWORK_FILE)
    try:
        return _load(str(p), p.stat().st_mtime)
    except FileNotFoundError:
        raise AtlasError("indicators.framework_missing", path=str(p)) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise AtlasError("indicators.framework_bad", path=str(p), reason=str(exc)) from None


# ---------------------------------------------------------------- status rules

def basis_changes(history: Sequence[Value]) -> list[tuple[int, str, str]]:
    """Where the basis of a series changes: ``[(period, old_basis, new_basis), ...]``.

    A trend line must not join values across a change of basis without saying so (e.g. the
    DTI rank among 63 provinces until 2023, among 34 post-merger provinces from 2024).
    Values without a stated basis do not break the series.
    """
    out: list[tuple[int, str, str]] = []
    last = ""
    for v in sorted(history, key=lambda v: (v.period, v.version)):
        if v.basis and last and v.basis != last:
            out.append((v.period, last, v.basis))
        last = v.basis or last
    return out


def meets(value: float, op: str, target: float) -> bool:
    """``value op target`` (``op`` one of ``>``, ``>=``, ``<``, ``<=``)."""
    if op == ">":
        return value > target
    if op == ">=":
        return value >= target
    if op == "<":
        return value < target
    if op == "<=":
        return value <= target
    raise ValueError(f"unknown op {op}")


def merge_targets(file_targets: Iterable[Target], recorded: Iterable[Target]) -> list[Target]:
    """Effective targets by year: a recorded (store) target replaces the file's for its year;
    among recorded targets for the same year the highest version wins."""
    by_year: dict[int, Target] = {tg.year: tg for tg in file_targets}
    for tg in sorted(recorded, key=lambda x: (x.year, x.version)):
        by_year[tg.year] = tg
    return [by_year[y] for y in sorted(by_year)]


@dataclass(frozen=True)
class Status:
    """Status of an indicator for a unit: ``code`` in STATUSES, with what it was judged on."""

    code: str
    latest: Value | None = None
    target: Target | None = None
    required: float | None = None   # value needed at the latest period to be on the trajectory


def target_for(period: int, targets: Sequence[Target]) -> Target | None:
    """The target that applies to a value of ``period``: the first whose year is on or after
    it, else the last one (the deadline has passed)."""
    if not targets:
        return None
    ordered = sorted(targets, key=lambda x: x.year)
    for tg in ordered:
        if tg.year >= period:
            return tg
    return ordered[-1]


def status(history: Sequence[Value], targets: Sequence[Target], direction: str) -> Status:
    """The status rule (stated to users as ``readiness.rule``):

    1. no value → ``no_data``; a value but no target at all → ``no_target``;
    2. the target that applies is the first one due in or after the latest value's year
       (or the last one once all are past); the latest value meets it → ``met``;
    3. the deadline has passed, or there is only one value (no pace can be shown) → ``behind``;
    4. otherwise the straight line from the earliest value to the target at its year gives
       the value required at the latest year; at least as good (per ``direction``) →
       ``on_track``, worse → ``behind``.
    """
    if not history:
        return Status("no_data")
    ordered = sorted(history, key=lambda v: (v.period, v.version))
    latest_by_period: dict[int, Value] = {}
    for v in ordered:
        latest_by_period[v.period] = v   # the newest version of each period
    series = [latest_by_period[p] for p in sorted(latest_by_period)]
    latest = series[-1]
    tg = target_for(latest.period, targets)
    if tg is None:
        return Status("no_target", latest=latest)
    if tg.met_by(latest.value):
        return Status("met", latest=latest, target=tg)
    if tg.year <= latest.period or len(series) < 2:
        return Status("behind", latest=latest, target=tg)
    base = series[0]
    frac = (latest.period - base.period) / (tg.year - base.period)
    required = base.value + (tg.value - base.value) * frac
    good = latest.value >= required if direction == "higher" else latest.value <= required
    return Status("on_track" if good else "behind", latest=latest, target=tg, required=required)


def _needed(tg: Target, current: float, integer: bool) -> float:
    """How much must be added (higher-is-better) or removed (lower) to meet ``tg``."""
    if tg.met_by(current):
        return 0.0
    diff = abs(tg.value - current)
    if tg.op in (">", "<"):
        # strict: one step beyond the target (one unit for integers, a hair for shares)
        return math.floor(diff) + 1 if integer else diff
    return math.ceil(diff) if integer else diff


def people_gap(population: float, covered: float, tg: Target) -> int:
    """People who must be brought within reach so that the covered share (in percent)
    meets ``tg``; 0 when met already. Only meaningful for higher-is-better shares."""
    if population <= 0 or tg.met_by(100.0 * covered / population):
        return 0
    need = tg.value / 100.0 * population - covered
    n = max(int(math.floor(need)) - 1, 0)
    while not tg.met_by(100.0 * (covered + n) / population) and covered + n < population:
        n += 1   # at most a few steps from the floor of the exact need
    return n


def gap_sentence(indicator: Indicator, unit_name: str, st: Status, lang: str,
                 population: float | None = None, covered: float | None = None,
                 integer: bool = False, targets: Sequence[Target] = (), unit_label: str = "") -> str:
    """The gap in words, e.g. "TP Sông Công: cần thêm 1.234 người trong phạm vi 2 km ...
    để đạt mục tiêu 2030", to the target that applies (``st.target``). When that one is met
    and ``targets`` has a later one (2030 after 2025), the sentence goes on to the later one."""
    if st.latest is None:
        return t("readiness.gap_no_data", lang, unit=unit_name, indicator=indicator.name(lang))
    if st.target is None:
        return t("readiness.gap_no_target", lang, unit=unit_name, indicator=indicator.name(lang))
    tg = st.target
    if st.code == "met":
        later = sorted((x for x in targets if x.year > tg.year), key=lambda x: x.year)
        met_years = [tg.year] + [x.year for x in later if x.met_by(st.latest.value)]
        pending = [x for x in later if not x.met_by(st.latest.value)]
        if not pending:
            if len(met_years) == 1:
                return t("readiness.gap_met", lang, unit=unit_name, indicator=indicator.name(lang), year=str(tg.year))
            years = t("readiness.and_join", lang, first=", ".join(str(y) for y in met_years[:-1]),
                      last=str(met_years[-1]))
            return t("readiness.gap_met_all", lang, unit=unit_name, indicator=indicator.name(lang), years=years)
        nxt = gap_sentence(indicator, unit_name, Status("behind", latest=st.latest, target=pending[0]), lang,
                           population=population, covered=covered, integer=integer, unit_label=unit_label)
        for prefix in (f"{unit_name}: {indicator.name(lang)} ", f"{unit_name}: "):   # said once already
            if nxt.startswith(prefix):
                nxt = nxt[len(prefix):]
                break
        return t("readiness.gap_met_then", lang, unit=unit_name, indicator=indicator.name(lang),
                 year=str(tg.year), next=nxt)
    if indicator.computed and population is not None and covered is not None:
        n = people_gap(population, covered, tg)
        return t(f"readiness.gap_people_{indicator.category}", lang, unit=unit_name, n=n,
                 km=fmt_number(indicator.radius_m / 1000.0, lang), year=str(tg.year))
    amount = _needed(tg, st.latest.value, integer)
    if indicator.unit == "rank":
        return t("readiness.gap_rank", lang, unit=unit_name, n=int(amount), target=int(tg.value),
                 year=str(tg.year), indicator=indicator.name(lang))
    if indicator.unit == "percent":
        key = "readiness.gap_points_over" if tg.op in (">", "<") else "readiness.gap_points"
        return t(key, lang, unit=unit_name, n=fmt_number(amount, lang, 1),
                 year=str(tg.year), indicator=indicator.name(lang))
    return t("readiness.gap_amount", lang, unit=unit_name, n=f"{fmt_number(amount, lang)} {unit_label}".strip(),
             year=str(tg.year), indicator=indicator.name(lang))


def gap_short(indicator: Indicator, st: Status, spec: UnitSpec, lang: str, population: float | None = None,
              covered: float | None = None) -> str:
    """The gap as a short table cell: "+47.650 người", "+101 doanh nghiệp", "+3 bậc",
    "+2,5 điểm %"; "0" when the target that applies is met; "—" without a value or target."""
    if st.latest is None or st.target is None:
        return "—"
    tg = st.target
    if tg.met_by(st.latest.value):
        return "0"
    if indicator.computed and population is not None and covered is not None:
        return t("readiness.gap_short_people", lang, n=fmt_number(people_gap(population, covered, tg), lang))
    amount = _needed(tg, st.latest.value, spec.integer)
    if spec.id == "rank":
        return t("readiness.gap_short_rank", lang, n=int(amount))
    if spec.id == "percent":
        return t("readiness.gap_short_points", lang, n=fmt_number(amount, lang, 1))
    return f"+{fmt_number(amount, lang)} {spec.label(lang)}".strip()


# ---------------------------------------------------------------- units

# ---------------------------------------------------------------- computed indicators

LEVEL_LAYERS = {"city": "districts", "ward": "wards_2025"}  # indicator level → unit layer


def compute_indicator(indicator: Indicator, level: str, radius_m: float | None = None) -> pd.DataFrame:
    """Coverage of a computed ``indicator`` per unit of ``level``, through :mod:`geo.service`.

    Levels: ``"city"`` (the 9 pre-2025 districts; population: 2019 census spread within
    each commune), ``"ward"`` (the 2025 units; their 2025 figures), ``"province"`` (the sum
    of the districts). The radius is the category's (``layers/catalog.toml``) unless
    ``radius_m`` is given. Columns: those of :class:`geo.service.CoverageResult` ``table``
    (people in whole persons) plus ``unit_key`` (the registry id, ``districts:165``) and
    ``value`` (covered share in percent; NaN where no facility of the category is known).
    Rows carry ``lower_bound`` (the facility data is incomplete: the value is "at least").

    Raises
    ------
    AtlasError
        ``indicators.not_computed`` for a manual indicator, ``indicators.unknown_level``.
    """
    from geo.service import ask

    if not indicator.computed:
        raise AtlasError("indicators.not_computed", indicator=indicator.id)
    layer_level = "city" if level == "province" else level
    if layer_level not in LEVEL_LAYERS:
        raise AtlasError("indicators.unknown_level", level=level)
    layer = LEVEL_LAYERS[layer_level]
    result = ask(category=indicator.category, units=layer, radius_m=radius_m or indicator.radius_m,
                 population="communes" if layer_level == "city" else layer)
    df = result.table.assign(lower_bound=result.lower_bound)
    if level == "province":
        return province_total(df)
    df["unit_key"] = f"{layer}:" + df["unit_id"].astype(str)
    df["value"] = 100.0 * df["covered_share"].astype(float)
    return df


def province_total(city_df: pd.DataFrame) -> pd.DataFrame:
    """The province row from per-district coverage (people and covered people summed)."""
    pop = float(city_df["population"].sum())
    cov = float(city_df["covered_population"].sum())
    share = cov / pop if pop else float("nan")
    lower = bool(city_df["lower_bound"].any()) if "lower_bound" in city_df else False
    return pd.DataFrame({"unit_id": ["19"], "unit_name": [_all_units(("province",))[0].name], "population": [pop],
                         "covered_population": [cov], "covered_share": [share], "beyond_population": [pop - cov],
                         "unit_key": [PROVINCE_ID], "value": [100.0 * share], "lower_bound": [lower]})


def indicator_map_frame(values: pd.DataFrame, level: str, loader: Any = None) -> Any:
    """The unit polygons of ``level`` with a computed indicator's values, for a choropleth.

    Parameters
    ----------
    values : DataFrame
        :func:`compute_indicator` output at ``level``: ``unit_id``, ``value`` (covered share,
        percent), ``covered_population`` and ``population`` (people).
    level : str
        ``"city"`` (the 9 pre-2025 districts) or ``"ward"`` (the 2025 units).
    loader : callable, optional
        Reads a catalog layer by id (default :func:`geo.catalog.load_layer`; pages pass their
        cached reader).

    Returns
    -------
    GeoDataFrame
        One row per unit of the layer (EPSG:4326), columns ``unit_id`` (the layer's code as
        text), ``name``, ``geometry``, ``value``, ``covered_population``, ``population`` (NaN
        where the indicator has no value) and ``readiness_share`` (``value`` as
        :func:`geo.numbers.share_percent`, the number the coverage map colours too).

    Raises
    ------
    AtlasError
        ``indicators.unknown_level`` for a level without unit polygons; a layer that cannot be
        read (``geo.catalog``).
    """
    if level not in LEVEL_LAYERS:
        raise AtlasError("indicators.unknown_level", level=level)
    units, id_col, name_col = unit_frame(LEVEL_LAYERS[level], loader)
    gdf = units[[id_col, name_col, "geometry"]].copy()
    gdf.columns = ["unit_id", "name", "geometry"]
    gdf["unit_id"] = gdf["unit_id"].astype(str)
    gdf = gdf.merge(values[["unit_id", "value", "covered_population", "population"]].assign(
        unit_id=lambda d: d["unit_id"].astype(str)), on="unit_id", how="left")
    gdf["readiness_share"] = share_percent(gdf["value"] / 100.0)   # as the coverage map (geo.numbers)
    return gdf


def computed_values(indicator: Indicator, df: pd.DataFrame, period: int) -> list[Value]:
    """The rows of ``compute_indicator`` as ``Value``s for ``period`` (not stored); rows
    without a value (no facility data) give none; ``lower_bound`` is carried."""
    lower = df["lower_bound"] if "lower_bound" in df else pd.Series(False, index=df.index)
    return [Value(indicator_id=indicator.id, unit_id=str(r.unit_key), period=period, value=float(r.value),
                  unit=indicator.unit, source=indicator.source, method="computed",
                  entered_by="coverage_engine", lower_bound=bool(lb))
            for r, lb in zip(df.itertuples(), lower) if not pd.isna(r.value)]


# ---------------------------------------------------------------- scorecard

def fmt_value(value: float | None, spec: UnitSpec, lang: str, with_unit: bool = False) -> str:
    """A value as text in ``lang``: "91,6%", "8"; with its unit: "hạng 8", "700 doanh nghiệp"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t("common.no_data", lang)
    if spec.id == "percent":
        return fmt_number(value, lang, 0 if float(value).is_integer() else 1) + "%"
    number = fmt_number(value, lang, 0 if spec.integer else None)
    if not with_unit:
        return number
    return f"{spec.label(lang)} {number}" if spec.id == "rank" else f"{number} {spec.label(lang)}"


def _shown(value: Value | None, spec: UnitSpec, lang: str) -> str:
    """A value as text; "ít nhất …"/"at least …" when computed on incomplete facility data."""
    text = fmt_value(value.value if value else None, spec, lang)
    return t("common.at_least", lang, value=text) if value is not None and value.lower_bound else text


def fmt_target(tg: Target | None, spec: UnitSpec, lang: str) -> str:
    """A target as text ("> 90,0%", "<= 15"), or "no data" when none."""
    if tg is None:
        return "—"
    return f"{op_symbol(tg.op)} {fmt_value(tg.value, spec, lang)}"


def fmt_when(iso: str) -> str:
    """A stored ISO timestamp for people: "2026-11-26 08:14 UTC" ("" stays "")."""
    if not iso:
        return ""
    try:
        import datetime as _dt

        moment = _dt.datetime.fromisoformat(iso).astimezone(_dt.UTC)
    except ValueError:
        return iso
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def op_symbol(op: str) -> str:
    """Comparison as printed: "<=" → "≤", ">=" → "≥"."""
    return {"<=": "≤", ">=": "≥"}.get(op, op)


def target_problem(spec: UnitSpec, op: str, value: float) -> tuple[str, dict[str, Any]] | None:
    """Why a target ``op value`` is impossible for an indicator measured in ``spec`` — or
    ``None`` when it is a possible one. One rule for the page form, the CLI and the XLSX
    framework load: the value within the unit's range (a share 0–100 %, a rank from 1, a count
    from 0), a whole number for whole-number units (ranks, counts), and not beyond the range
    with a strict comparison ("> 100 %", "< 1" for a rank can never be met).

    Returns
    -------
    tuple of (str, dict) or None
        A ``store_errors`` key (``target_range``, ``target_min``, ``target_integer``,
        ``target_unreachable``) and its parameters (``op``, ``value``, ``unit``, ``min``,
        ``max``, ``bound``; numbers as numbers), or ``None``.
    """
    lo, hi = spec.min, spec.max
    # numbers stay numbers: the message writes them the reader's way (vi 2,5 / en 2.5)
    params: dict[str, Any] = {"op": op_symbol(op), "value": float(value), "unit": spec.id,
                              "min": "" if lo is None else float(lo), "max": "" if hi is None else float(hi),
                              "bound": ""}
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return ("target_range" if hi is not None and lo is not None else "target_min"), params
    if spec.integer and not float(value).is_integer():
        return "target_integer", params
    if op == ">" and hi is not None and value >= hi:
        return "target_unreachable", {**params, "bound": float(hi)}
    if op == "<" and lo is not None and value <= lo:
        return "target_unreachable", {**params, "bound": float(lo)}
    return None


def unit_targets(store: Any, ind: Indicator, unit: PlanningUnit) -> tuple[list[Target], list[Target]]:
    """(targets of ``unit`` itself, the province-wide targets) of ``ind``.

    The province's targets are the indicator's (framework file, replaced year by year by a
    recorded one). A city's or 2025 unit's own targets are those an editor recorded for it
    from a document (``Store.record_unit_target``); a store without unit targets gives none.
    """
    province = list(store.targets(ind.id))
    if unit.level == "province":
        return province, province
    own = store.unit_targets(ind.id, unit.id) if hasattr(store, "unit_targets") else []
    return list(own), province


def marked_target(tg: Target, spec: UnitSpec, lang: str, province_mark: bool = False) -> str:
    """A target as the scorecard shows it: :func:`fmt_target`, marked "province-wide" when
    ``province_mark`` (the province's target shown for a unit), else "broken down" when the
    document breaks a province target down to the unit."""
    text = fmt_target(tg, spec, lang)
    if province_mark:
        return t("readiness.target_province_mark", lang, target=text)
    if tg.breakdown:
        return t("readiness.target_breakdown_mark", lang, target=text)
    return text


def _target_text(targets: Sequence[Target], year: int, spec: UnitSpec, lang: str, province_mark: bool) -> str:
    hit = [x for x in targets if x.year == year]
    return marked_target(hit[-1], spec, lang, province_mark) if hit else "—"


def scorecard_row(fw: Framework, ind: Indicator, unit_name: str, hist: Sequence[Value], own: Sequence[Target],
                  province: Sequence[Target], lang: str, population: float | None = None,
                  covered: float | None = None, unit_level: str = "city") -> dict[str, Any]:
    """One scorecard row: latest value, 2025/2030 targets (a unit's own, or the province-wide
    ones marked as such), status against the unit's own targets (the province's at province
    level) and the gap sentence. Columns as :func:`scorecard`.

    Which targets judge a city or ward: its own (recorded for it from a document) when it has
    any; otherwise the province-wide ones, marked as such — as a level the unit is held to
    for shares, scores and ranks, and only for reference for counts (a province's count is
    not a city's: status "province-wide target only")."""
    spec = fw.units[ind.unit]
    borrowed = unit_level != "province" and not own and bool(province)   # the province's targets shown
    # a province-wide share, score or rank is a level each unit can be held to; a count is not
    judged = own if own or unit_level == "province" else (province if aggregation_method(spec) != "sum" else [])
    st = status(hist, judged, ind.direction)
    only_province = borrowed and not judged
    shown = province if borrowed else own
    latest = st.latest
    if only_province and latest is not None:
        status_text = t("readiness.status_province_only", lang)
        gap = t("readiness.gap_province_only", lang, unit=unit_name, indicator=ind.name(lang),
                targets="; ".join(f"{fmt_target(x, spec, lang)} ({x.year})" for x in province))
    else:
        status_text = t(f"readiness.status_{st.code}", lang)
        gap = gap_sentence(ind, unit_name, st, lang, population=population, covered=covered, integer=spec.integer,
                           targets=judged, unit_label=spec.label(lang))
    return {
        "indicator_id": ind.id, "indicator": ind.name(lang),
        "value": latest.value if latest else None,
        "value_text": _shown(latest, spec, lang),
        "period": latest.period if latest else None,
        "target_2025": _target_text(shown, 2025, spec, lang, borrowed),
        "target_2030": _target_text(shown, 2030, spec, lang, borrowed),
        "target_scope": "province" if (borrowed or unit_level == "province") else ("unit" if own else ""),
        "target_source": "; ".join(dict.fromkeys(fw.source_text(x.source, lang) for x in shown)),
        "status": st.code, "status_text": status_text,
        "source": fw.source_text(latest.source, lang) if latest else "",
        "evidence": (latest.evidence + (" " + latest.evidence_url if latest.evidence_url else "")).strip()
        if latest else "",
        "gap": gap,
        "gap_short": gap_short(ind, st, spec, lang, population, covered) if not only_province else "—",
        "lower_bound": bool(latest is not None and latest.lower_bound),
    }


def scorecard(fw: Framework, store: Any, unit: PlanningUnit, lang: str,
              computed: Any = None) -> list[dict[str, Any]]:
    """One row per indicator tracked at ``unit``'s level (or with a target of its own):
    latest value, 2025/2030 targets, status and the gap sentence.

    ``store`` gives ``history``/``targets``/``unit_targets``; ``computed`` is a callable
    ``(indicator, level) -> DataFrame`` (``compute_indicator``) for map-computed indicators
    (skipped when ``None``). A city's or ward's status is judged on its own targets (set by an
    editor from a document) or, without them, on the province-wide ones shown marked
    "toàn tỉnh"/"province-wide" (``target_scope`` = ``"province"``; see :func:`scorecard_row`).
    """
    rows = []
    with_own = store.units_with_targets() if hasattr(store, "units_with_targets") else set()
    for ind in fw.indicators.values():
        own, province = unit_targets(store, ind, unit)
        if unit.level not in ind.scope and not (unit.id in with_own and own):
            continue
        pop = cov = None
        if ind.computed:
            if computed is None:
                continue
            df = computed(ind, unit.level)
            df = df[df["unit_key"] == unit.id]
            # saved snapshots of earlier years + the live computation for the data's year
            hist = [v for v in store.history(ind.id, unit.id) if v.period != fw.computed_period]
            hist += computed_values(ind, df, fw.computed_period)
            if len(df):
                pop, cov = float(df["population"].iloc[0]), float(df["covered_population"].iloc[0])
        else:
            hist = store.history(ind.id, unit.id)
        rows.append(scorecard_row(fw, ind, unit.name, hist, own, province, lang, pop, cov, unit.level))
    return rows


# ---------------------------------------------------------------- programme cities on today's map

def aggregation_method(spec: UnitSpec) -> str:
    """How values of the 2025 units add up to a programme city: ``"sum"`` for counts and
    people (whole numbers: enterprises, cities), ``"weighted"`` for shares and scores (mean
    weighted by the units' official 2025 population), ``""`` for ranks (not aggregable)."""
    if spec.id == "rank":
        return ""
    return "sum" if spec.integer else "weighted"


def group_history(fw: Framework, store: Any, ind: Indicator, group: Any,
                  computed: Any = None, lang: str = "vi") -> tuple[list[Value], float | None, float | None]:
    """Values of ``ind`` aggregated over a programme city's 2025 units (``geo.units.CityGroup``).

    Computed indicators: covered people and people summed over the member units (2025
    population) → the covered share (equal to the population-weighted mean of the units'
    shares). Manual ones, per year with at least one unit value: counts summed (fewer units
    than the group → "at least", ``lower_bound``), shares and scores population-weighted
    over the units with a value (the evidence says "k of N units"); ranks give none.
    Returns (values, people, covered people) — the last two only for computed indicators.
    """
    ids = set(group.unit_ids)
    n = len(ids)
    if ind.computed:
        if computed is None:
            return [], None, None
        df = computed(ind, "ward")
        df = df[df["unit_key"].isin(ids)]
        if df.empty:
            return [], None, None
        pop, cov = float(df["population"].sum()), float(df["covered_population"].sum())
        lower = bool(df["lower_bound"].any()) if "lower_bound" in df else False
        known = df["value"].notna().sum()
        if pop <= 0 or known == 0:
            return [], pop, cov
        return [Value(indicator_id=ind.id, unit_id=group.city.id, period=fw.computed_period,
                      value=100.0 * cov / pop, unit=ind.unit, source=ind.source, method="computed",
                      entered_by="coverage_engine", lower_bound=lower,
                      evidence=t("readiness.group_evidence", lang, k=int(len(df)), n=n))], pop, cov
    how = aggregation_method(fw.units[ind.unit])
    if not how:
        return [], None, None
    weights = {m.unit.id: float(m.unit.population or 0.0) for m in group.members}
    by_period: dict[int, dict[str, Value]] = {}
    for uid in ids:
        for v in store.latest_values(ind.id, uid):
            by_period.setdefault(v.period, {})[uid] = v
    out = []
    for period in sorted(by_period):
        vals = by_period[period]
        if how == "sum":
            value = float(sum(v.value for v in vals.values()))
        else:
            w = sum(weights[u] for u in vals)
            if w <= 0:
                continue
            value = sum(v.value * weights[u] for u, v in vals.items()) / w
        sources = "; ".join(dict.fromkeys(v.source for v in vals.values()))
        out.append(Value(indicator_id=ind.id, unit_id=group.city.id, period=period, value=value, unit=ind.unit,
                         source=sources, method="aggregated", entered_by="", lower_bound=how == "sum" and len(vals) < n,
                         evidence=t("readiness.group_evidence", lang, k=len(vals), n=n)))
    return out, None, None


def group_scorecard(fw: Framework, store: Any, group: Any, lang: str, computed: Any = None) -> list[dict[str, Any]]:
    """The scorecard of a programme city seen as its 2025 units (``geo.units.CityGroup``):
    values aggregated by :func:`group_history`, judged on the city's own targets (recorded for
    the city, ``districts:<code>``), province-wide targets shown marked. One row per indicator
    in scope at city level (or with a target of the city)."""
    rows = []
    with_own = store.units_with_targets() if hasattr(store, "units_with_targets") else set()
    for ind in fw.indicators.values():
        own, province = unit_targets(store, ind, group.city)
        if "city" not in ind.scope and not (group.city.id in with_own and own):
            continue
        if ind.computed and computed is None:
            continue
        hist, pop, cov = group_history(fw, store, ind, group, computed, lang)
        name = t("readiness.group_name", lang, city=group.city.name, n=len(group.members))
        row = scorecard_row(fw, ind, name, hist, own, province, lang, pop, cov, "city")
        row["method"] = t("readiness.group_method_" + ("computed" if ind.computed else
                                                     (aggregation_method(fw.units[ind.unit]) or "none")), lang)
        rows.append(row)
    return rows

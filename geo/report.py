"""The council deck: one city's (or the province's) story in six slides, PPTX or PDF.

Slides: title; the unit on the map with its communes/wards; infrastructure by category;
coverage per service (table); readiness scorecard against the 2025/2030 targets; sources.
The content is built once (``build_deck``) and rendered by ``to_pptx`` (python-pptx) or
``to_pdf`` (matplotlib ``PdfPages``, one page per slide). Text is Vietnamese by default.
A section whose engine (``geo.coverage``, ``geo.indicators``) is not available says
"no data" on its slide instead of failing the deck.

>>> build_report("TP Sông Công", "pptx", "/tmp/song_cong.pptx")   # doctest: +SKIP
"""
from __future__ import annotations

import datetime as _dt
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from geo import indicators as ind_mod
from geo.errors import AtlasError, os_reason
from geo.export import Credits
from geo.i18n import DEFAULT_LANG, at_least, fmt_number, fmt_percent, t
from geo.printmap import (
    UnitLayers,
    data_date_of,
    marker_color,
    rc,
    render_map,
    unit_layers,
    unit_map_layers,
    units_count_text,
)
from geo.settings import METRIC_CRS, STORE_CRS
from geo.store import Store
from geo.units import DECK_LEVELS, resolve

SLIDE_IN = (13.333, 7.5)  # 16:9
SLIDE_DPI = 150
MIN_LABEL_PT = 12.0  # any text on a slide (place names included): readable on a projector at 16:9 full screen
# services on the coverage slide (their radius is the category's, from layers/catalog.toml)
SERVICES = ("health", "education", "public_admin", "market", "post")


@dataclass
class Table:
    """A slide table: header cells and rows of cell text."""

    header: list[str]
    rows: list[list[str]]


@dataclass
class Slide:
    """Renderer-neutral content of one slide."""

    title: str
    subtitle: str = ""
    bullets: list[str] = field(default_factory=list)
    figure: Callable[[tuple[float, float]], Figure] | None = None  # size (in) → Figure
    table: Table | None = None
    note: str = ""  # small footer line (sources/caveats)
    caption: str = ""  # one sentence in body type under the table/figure, above the footer
    kind: str = "content"  # "title" | "content"


@dataclass
class Deck:
    """A council deck: its unit, language, slides and the credits of the data shown."""

    unit_name: str
    lang: str
    slides: list[Slide]
    credits: Credits


def bar_labels(labels: list[str], width: int = 22) -> list[str]:
    """Category names wrapped on words for a bar chart's axis (never cut at the slide edge)."""
    import textwrap

    return [textwrap.fill(x, width, break_long_words=False) for x in labels]


def caption_height_in(caption: str, chars_per_line: int = 120, line_in: float = 0.3) -> float:
    """Inches a slide's key-message caption needs at the bottom (0 without one): the figure
    and the table end above it, so the message never covers them."""
    import textwrap

    return 0.0 if not caption else 0.15 + line_in * len(textwrap.wrap(caption, chars_per_line))


def table_share(table: Table | None) -> float:
    """Share of the slide width the figure leaves to a table beside it (wide tables get more)."""
    return 0.5 if table is None or len(table.header) <= 4 else 0.6


def _no_data(reason: str, lang: str) -> list[str]:
    return [t("report.no_data_slide", lang, reason=reason)]


# ---------------------------------------------------------------------------- sections


def deck_name(ul: UnitLayers, lang: str) -> str:
    """The unit's name on the deck's title and map slides: a city shown as its 2025 units says
    so ("Thành phố Sông Công (theo 3 xã/phường 2025)", as the readiness page names the group)."""
    if ul.today:
        return t("readiness.group_name", lang, city=ul.unit.label(lang), n=len(ul.counted_wards))
    return ul.unit.label(lang)


def deck_population(ul: UnitLayers) -> float:
    """People of the deck's territory: the 2019 census of the pre-2025 districts, or the
    official 2025 population of the 2025 units a city is shown as (``CityGroup.population``)."""
    if ul.today:
        return float(ul.group.population)
    return float(ul.districts["population_2019"].sum()) if "population_2019" in ul.districts else float("nan")


def _title_slide(ul: UnitLayers, lang: str) -> Slide:
    name = deck_name(ul, lang)
    pop = deck_population(ul)
    frame = ul.counted_wards if ul.today else ul.districts
    if "area_km2" in frame and frame["area_km2"].notna().all() and not frame.empty:
        # the layer's own figure (as the map page shows it); a group/the province is the sum of
        # its parts (the dissolved union would lose the slivers between the polygons)
        area = float(frame["area_km2"].sum())
    else:
        area = gpd.GeoSeries([ul.boundary.geometry.iloc[0]], crs=STORE_CRS).to_crs(METRIC_CRS).area.iloc[0] / 1e6
    line = t("report.population_line_today" if ul.today else "report.population_line", lang,
             pop=fmt_number(pop, lang), area=fmt_number(area, lang, 1))
    bullets = [line]
    if ul.today:
        bullets.append(t("report.territory_today", lang, city=ul.unit.label(lang), wards=len(ul.counted_wards),
                         communes=len(ul.communes)))
    return Slide(title=t("report.deck_title", lang, name=name),
                 subtitle=t("report.deck_subtitle", lang, date=_dt.date.today().strftime("%d/%m/%Y")),
                 bullets=[*bullets, t("report.prepared_by", lang)], kind="title")


def map_key_message(ul: UnitLayers, lang: str) -> str:
    """The map slide's sentence, counting units by the one rule of its subtitle
    (:func:`geo.printmap.units_count_text`, ``geo.units.units_2025_of``)."""
    name, counted, partial = ul.unit.label(lang), ul.counted_wards, ul.partial_wards
    key = "report.key_message_map_today" if ul.today else "report.key_message_map"
    text = t(key, lang, name=name, wards=len(counted), communes=len(ul.communes))
    if len(partial):
        text += " " + t("report.key_message_map_partial", lang, n=len(partial),
                        names=", ".join(partial["name_full"].astype(str)))
    shared = [m.unit.name for m in ul.group.members if m.shared] if ul.today else []
    if shared:   # formed across the city border: counted once, here
        text += " " + t("report.key_message_map_shared", lang, names=", ".join(shared))
    return text


def _map_slide(ul: UnitLayers, lang: str) -> Slide:
    name = deck_name(ul, lang)
    subtitle = units_count_text(ul, lang)

    def fig(size: tuple[float, float]) -> Figure:
        return render_map(unit_map_layers(ul, lang, with_infrastructure=False), title=name,
                          subtitle=subtitle, lang=lang, data_date=data_date_of(ul.credits), credits=None,
                          figsize_in=size, dpi=SLIDE_DPI, min_label_pt=MIN_LABEL_PT)

    title = t("report.map_title_today", lang, city=ul.unit.label(lang)) if ul.today \
        else t("report.map_title", lang, name=name)
    return Slide(title=title, subtitle=subtitle, figure=fig,
                 note=t("report.map_note_today" if ul.today else "report.map_note", lang, name=ul.unit.label(lang)),
                 caption=map_key_message(ul, lang))


def _infra_slide(ul: UnitLayers, lang: str) -> Slide:
    from geo.catalog import get_catalog

    cats = get_catalog().categories
    infra = ul.infrastructure
    counts = infra["category"].value_counts() if "category" in infra else pd.Series(dtype=int)
    pop = deck_population(ul)
    order = [c for c in cats if c != "other"] + ["other"]
    rows, labels, values, colors = [], [], [], []
    for cid in order:
        n = int(counts.get(cid, 0))
        per = n / pop * 10000 if pop and pop > 0 else float("nan")
        rows.append([cats[cid].title(lang), fmt_number(n, lang), fmt_number(per, lang, 1)])
        labels.append(cats[cid].title(lang))
        values.append(n)
        colors.append(marker_color(cats[cid].color))
    if not len(infra):
        return Slide(title=t("report.infra_title", lang), bullets=_no_data(t("report.no_data", lang), lang))

    def fig(size: tuple[float, float]) -> Figure:
        with plt.rc_context(rc()):
            f = Figure(figsize=size, dpi=SLIDE_DPI, layout="constrained")  # room for every label
            ax = f.add_subplot()
            ax.barh(bar_labels(labels)[::-1], values[::-1], color=colors[::-1])
            for y, v in enumerate(values[::-1]):
                ax.text(v, y, f" {fmt_number(v, lang)}", va="center", fontsize=MIN_LABEL_PT)
            ax.set_xlabel(t("report.count", lang), fontsize=MIN_LABEL_PT)
            ax.tick_params(labelsize=12)
            for s in ("top", "right"):
                ax.spines[s].set_visible(False)
        return f

    first = next((i for i, v in enumerate(values) if v), 0)   # the first category with any known point
    caption = t("report.key_message_infra", lang, name=ul.unit.label(lang), n=fmt_number(values[first], lang),
                category=labels[first].lower(), per=rows[first][2])
    note = t("report.infra_note", lang) + (" " + t("report.infra_note_today", lang) if ul.today else "")
    return Slide(title=t("report.infra_title", lang), figure=fig,
                 table=Table([t("report.category", lang), t("report.count", lang), t("report.per_10k", lang)], rows),
                 note=note, caption=caption)


def _radii() -> dict[str, float]:
    """Category → service radius (m) of the coverage slide (``geo.catalog.service_reach``)."""
    from geo.catalog import service_reach

    return {cat: service_reach(cat)[0] for cat in SERVICES}


def coverage_table(ul: UnitLayers, lang: str) -> pd.DataFrame:
    """Coverage of each service for the unit as a whole: one row per category, through
    :mod:`geo.service` — the same question and answer as the coverage page, the CLI, the
    readiness indicators and the exports (census 2019 uniform within each commune; cells
    labelled on all districts; facilities anywhere count, people cross boundaries). A city
    shown as its 2025 units (``ul.today``) asks per 2025 unit (their official 2025
    population) and sums the member rows — the readiness page's group rule
    (``geo.indicators.group_history``): share = covered people / people, both summed.

    Columns: category, radius_m, population, covered_population (whole people),
    covered_share, median_distance_m, lower_bound, facility_note (why "at least").
    """
    from geo.service import ask

    if ul.districts.empty:
        raise AtlasError("report.no_data_slide", reason=t("report.no_data", lang))
    rows = []
    for cat, radius in _radii().items():
        if ul.today:   # as the indicators at ward level (geo.indicators.compute_indicator)
            res = ask(category=cat, units="wards_2025", radius_m=radius, population="wards_2025")
        else:
            res = ask(category=cat, units="districts", radius_m=radius, population="communes")  # as the indicators
        lower, note = res.lower_bound, res.completeness.reason(lang) if res.completeness else ""
        if res.base_facilities.empty:
            rows.append({"category": cat, "radius_m": radius, "population": float("nan"),
                         "covered_population": float("nan"), "covered_share": float("nan"),
                         "median_distance_m": float("nan"), "lower_bound": lower, "facility_note": note})
            continue
        if ul.today:
            ids = set(ul.group.unit_ids)
            mine = res.table[("wards_2025:" + res.table["unit_id"].astype(str)).isin(ids)]
            pop, covered = float(mine["population"].sum()), float(mine["covered_population"].sum())
            known = mine["covered_share"].notna().any()   # no facility known in any unit: no figure
            share = covered / pop if pop and known else float("nan")
            median = _cells_median(res, {i.partition(":")[2] for i in ids})
        elif ul.unit.level == "province":
            tot = res.totals()
            pop, covered = tot["population"], tot["covered_population"]
            median = _cells_median(res)
            share = covered / pop if pop else float("nan")
        else:
            r = res.row(ul.unit.code)
            pop, covered = float(r["population"]), float(r["covered_population"])
            median = float(r.get("median_distance_m", float("nan")))
            share = r["covered_share"]  # NaN: no facility data in the unit
        rows.append({"category": cat, "radius_m": radius, "population": pop, "covered_population": covered,
                     "covered_share": share, "median_distance_m": median,
                     "lower_bound": lower, "facility_note": note})
    return pd.DataFrame(rows)


def _cells_median(result: Any, unit_ids: set[str] | None = None) -> float:
    """Population-weighted median distance (m) to the nearest facility over the result's
    cells (the cells the rows sum), or over the cells of ``unit_ids`` (codes of the layer)."""
    import numpy as np

    cells, dist = result.cells, result.cost
    if cells is None or dist is None or not len(cells.pop):
        return float("nan")
    pop = np.asarray(cells.pop, dtype="float64")
    keep = (cells.unit >= 0) & (pop > 0)
    if unit_ids is not None:
        wanted = np.isin(np.asarray(cells.unit_ids).astype(str), list(unit_ids))
        keep &= wanted[np.clip(cells.unit, 0, None)]
    if not keep.any():
        return float("nan")
    order = np.argsort(dist[keep], kind="stable")
    cum = np.cumsum(pop[keep][order])
    return float(dist[keep][order][np.searchsorted(cum, cum[-1] / 2.0)])


def _coverage_slide(ul: UnitLayers, lang: str) -> Slide:
    from geo.catalog import get_catalog

    title = t("report.coverage_title", lang)
    try:
        df = coverage_table(ul, lang)
    except AtlasError as err:
        return Slide(title=title, bullets=_no_data(err.message(lang), lang))
    cats = get_catalog().categories
    rows = []
    for r in df.itertuples():
        med = r.median_distance_m
        no_facility_data = pd.isna(r.covered_share) and r.population > 0  # none known in the unit: no figure
        rows.append([cats[r.category].title(lang), f"{fmt_number(r.radius_m, lang)}\u00a0m",  # no break before the unit
                     fmt_number(r.population, lang, 0),
                     t("coverage.no_facility_data", lang) if no_facility_data
                     else at_least(r.covered_population, lang) if r.lower_bound
                     else fmt_number(r.covered_population, lang, 0),
                     t("coverage.no_facility_data", lang) if no_facility_data
                     else at_least(r.covered_share, lang, percent=True) if r.lower_bound
                     else fmt_percent(r.covered_share, lang),
                     t("report.no_data", lang) if med is None or (isinstance(med, float) and math.isnan(med))
                     else f"{fmt_number(med / 1000.0, lang, 1)}\u00a0km"])
    labels = [cats[c].title(lang) for c in df["category"]]
    shares = [0.0 if pd.isna(v) else 100 * v for v in df["covered_share"]]
    known_share = [not pd.isna(v) for v in df["covered_share"]]
    colors = [marker_color(cats[c].color) for c in df["category"]]

    def fig(size: tuple[float, float]) -> Figure:
        with plt.rc_context(rc()):
            f = Figure(figsize=size, dpi=SLIDE_DPI, layout="constrained")  # room for every label
            ax = f.add_subplot()
            ax.barh(bar_labels(labels)[::-1], shares[::-1], color=colors[::-1])
            ax.set_xlim(0, 100)
            for y, (v, known) in enumerate(zip(shares[::-1], known_share[::-1])):  # no bar claims 0 % for "no data"
                ax.text(v, y, f" {fmt_number(v, lang, 1)}%" if known else " " + t("coverage.no_facility_data", lang),
                        va="center", fontsize=MIN_LABEL_PT, color=None if known else "#6b7280")
            ax.set_xlabel(f"{t('report.covered_share', lang)} (%)", fontsize=MIN_LABEL_PT)
            ax.tick_params(labelsize=12)
            for s in ("top", "right"):
                ax.spines[s].set_visible(False)
        return f

    header = [t("report.service", lang), t("report.radius", lang), t("report.population_grid", lang),
              t("report.covered", lang), t("report.covered_share", lang), t("report.median_distance", lang)]
    radius = "/".join(fmt_number(v, lang) for v in dict.fromkeys(df["radius_m"]))
    note = t("report.coverage_note", lang, radius=radius) if not ul.today else \
        t("report.coverage_note_today", lang, radius=radius, name=ul.unit.label(lang), n=len(ul.counted_wards))
    lower = [cats[c].title(lang) for c, lb in zip(df["category"], df["lower_bound"]) if lb]
    caveat = t("coverage.lower_bound_services", lang, services=", ".join(lower)) if lower else ""
    caption = " ".join(p for p in (coverage_key_message(ul.unit.label(lang), df, lang), caveat) if p)
    return Slide(title=title, figure=fig, table=Table(header, rows), note=note, caption=caption)


def coverage_key_message(name: str, df: pd.DataFrame, lang: str, category: str = "health") -> str:
    """The slide's one sentence a councillor can repeat, from the slide's own table (the
    coverage service's figures, not recomputed): "Thành phố Sông Công: ít nhất 51.000 người
    sống xa cơ sở y tế đã biết hơn 2 km." — "at least" when the service marks the figure a
    lower bound (incomplete facility data). People rounded by ``geo.numbers.round_people``;
    "" when the table has no row for ``category``."""
    from geo.coverage import facility_label, fmt_distance
    from geo.numbers import round_people

    row = df[df["category"] == category]
    if row.empty or pd.isna(row["population"].iloc[0]):
        return ""
    r = row.iloc[0]
    beyond = float(r["population"]) - float(r["covered_population"])
    key = "report.key_message_coverage" if bool(r.get("lower_bound", True)) else "report.key_message_coverage_exact"
    return t(key, lang, name=name, people=fmt_number(round_people(beyond), lang),
             facility=facility_label(category, lang), radius=fmt_distance(float(r["radius_m"]), lang))


def scorecard(unit_key: str, lang: str = DEFAULT_LANG, territory: str = "2020") -> pd.DataFrame:
    """Readiness of a unit against its 2025 and 2030 targets: the rows of
    :func:`geo.indicators.scorecard` — the readiness page's own rows (same store, same
    computed values, same status rule and gaps). With ``territory="2025"`` a city is judged
    as its 2025 units (:func:`geo.indicators.group_scorecard`, the page's "group" level).

    ``unit_key``: "province" or a district level2_id (any spelling ``geo.units.resolve``
    takes). Columns: indicator, value, period, target_2025, target_2030 (a city's own, or the
    province-wide ones marked so), status (code), status_label, gap (sentence), gap_short,
    target_scope, lower_bound, method (how the 2025 units' values add up; "" otherwise).
    """
    unit = resolve(unit_key, DECK_LEVELS)
    from geo.frameworks import active_framework
    from geo.units import district_group

    fw = active_framework()                  # the framework version in force, as on the page
    store = Store(framework=fw)
    if territory == "2025" and unit.level == "city":
        rows = ind_mod.group_scorecard(fw, store, district_group(unit), lang, ind_mod.compute_indicator)
    else:
        rows = ind_mod.scorecard(fw, store, unit, lang, ind_mod.compute_indicator)
    return pd.DataFrame([{"indicator": r["indicator"], "value": r["value_text"],
                          "period": str(r["period"]) if r["period"] else "", "target_2025": r["target_2025"],
                          "target_2030": r["target_2030"], "status": r["status"], "status_label": r["status_text"],
                          "gap": r["gap"], "gap_short": r["gap_short"], "target_scope": r["target_scope"],
                          "lower_bound": r["lower_bound"], "method": r.get("method", "")} for r in rows],
                        columns=["indicator", "value", "period", "target_2025", "target_2030", "status",
                                 "status_label", "gap", "gap_short", "target_scope", "lower_bound", "method"])


_STATUS_COLORS = {"met": "#16a34a", "on_track": "#65a30d", "behind": "#dc2626", "no_data": "#9ca3af",
                  "no_target": "#6b7280"}


def scorecard_key_message(name: str, df: pd.DataFrame, lang: str) -> str:
    """The readiness slide's one sentence, from the slide's own rows: the gap of the first
    indicator behind its target; else how many indicators meet or are on track; else that no
    document sets a target of this unit yet. With the facility-data caveat when a value is a
    lower bound ("at least")."""
    behind = df[df["status"] == "behind"]
    judged = df[df["status"].isin(("met", "on_track", "behind"))]
    if len(behind):
        sentence, lower = str(behind["gap"].iloc[0]), bool(behind["lower_bound"].iloc[0])
    elif len(judged):
        sentence = t("report.key_message_readiness_ok", lang, name=name, k=len(judged), n=len(df))
        lower = bool(judged["lower_bound"].any())
    else:
        sentence = t("report.key_message_readiness_none", lang, name=name, n=len(df))
        lower = False
    if lower:
        sentence += " " + t("report.scorecard_caveat", lang)
    return sentence


def _scorecard_slide(ul: UnitLayers, lang: str) -> Slide:
    title = t("report.scorecard_title", lang)
    try:
        df = scorecard(ul.unit.key, lang, ul.territory)
    except AtlasError as err:
        return Slide(title=title, bullets=_no_data(err.message(lang), lang))
    if df.empty:
        return Slide(title=title, bullets=_no_data(t("report.no_data", lang), lang))
    rows = [[r.indicator, f"{r.value} ({r.period})" if r.period else r.value, r.target_2025, r.target_2030,
             r.status_label, r.gap_short] for r in df.itertuples()]
    header = [t("report.indicator", lang), t("report.value", lang), t("report.target_2025", lang),
              t("report.target_2030", lang), t("report.status", lang), t("report.gap", lang)]
    caption = scorecard_key_message(ul.unit.label(lang), df, lang)
    note = t("readiness.rule_title", lang) + ": " + t("readiness.rule", lang).split("\n")[0].replace("**", "")
    if ul.unit.level != "province" and (df["target_scope"] == "province").any():
        note = t("report.city_targets_note", lang) + " " + note
    if ul.today:   # how the 2025 units' values add up to the city, once per method used
        methods = "; ".join(dict.fromkeys(m for m in df["method"] if m))
        note = t("report.scorecard_note_today", lang, name=ul.unit.label(lang), n=len(ul.counted_wards),
                 methods=methods) + " " + note
    return Slide(title=title, table=Table(header, rows), caption=caption, note=note)


def _sources_slides(ul: UnitLayers, lang: str) -> list[Slide]:
    """Two slides, entirely in the deck's language: every map layer's credit (source, licence,
    vintage), then the documents behind the indicators and the caveats. Each carries one
    computed sentence (how many layers / documents the deck rests on)."""
    layers = []
    for c in ul.credits:
        mark = f" [{t('common.derived', lang)}]" if c.derived else ""
        layers.append(f"{c.title}{mark}: {c.source} — {c.licence} — {c.vintage}")
    docs: list[str] = []
    try:
        from geo.frameworks import active_framework

        fw = active_framework()
        unit_ids = {ul.unit.id, *(ul.group.unit_ids if ul.today else ())}
        used = dict.fromkeys([tg.source for i in fw.indicators.values() for tg in i.targets]
                             + [i.source for i in fw.indicators.values()]
                             + [v.source for v in fw.values if v.unit_id in unit_ids])
        docs = [fw.source_text(s, lang) for s in used if s]
    except (ImportError, AtlasError):
        pass
    caveats = [t("report.caveat_derived", lang), t("report.caveat_osm", lang)]
    return [Slide(title=t("report.sources_title", lang), bullets=layers,
                  caption=t("report.key_message_sources", lang, n=len(layers))),
            Slide(title=t("report.sources_docs_title", lang), bullets=docs + caveats,
                  caption=t("report.key_message_docs", lang, n=len(docs)))]


def build_deck(unit: Any, lang: str = DEFAULT_LANG, suggestion: Any = None, territory: str = "2025") -> Deck:
    """The content of the deck for ``unit`` (free text or id, see ``geo.units.resolve``);
    with ``suggestion`` (a :class:`geo.suggest.Suggestion`) a suggested-sites slide follows
    the coverage slide (:func:`geo.suggest.deck_slide`).

    ``territory`` (``geo.printmap.TERRITORIES``): a city as today's 2025 units formed from its
    communes (``"2025"``, the default: official 2025 population, figures summed over the
    units, the method stated on the slides) or as the pre-2025 city (``"2020"``: 2009
    communes, 2019 census). The province deck is the pre-2025 province either way.

    Raises
    ------
    AtlasError
        ``report.unknown_unit``, ``report.bad_territory``.
    """
    u = resolve(unit, DECK_LEVELS)
    ul = unit_layers(u, lang, territory)
    slides = [_title_slide(ul, lang), _map_slide(ul, lang), _infra_slide(ul, lang), _coverage_slide(ul, lang),
              _scorecard_slide(ul, lang), *_sources_slides(ul, lang)]
    if suggestion is not None:
        from geo.suggest import deck_slide

        slides.insert(4, deck_slide(suggestion, lang, ul.wards if len(ul.wards) else ul.communes))
    return Deck(deck_name(ul, lang), lang, slides, Credits.combine(t("print.credits", lang), ul.credits))


# ---------------------------------------------------------------------------- renderers


def _fig_png(slide: Slide, size: tuple[float, float]) -> bytes:
    fig = slide.figure(size)  # type: ignore[misc]
    buf = io.BytesIO()
    with plt.rc_context(rc()):
        fig.savefig(buf, format="png", dpi=SLIDE_DPI)
    return buf.getvalue()


def to_pptx(deck: Deck, out: str | Path) -> Path:
    """Write the deck as a 16:9 PowerPoint file."""
    from pptx import Presentation
    from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE
    from pptx.util import Emu, Inches, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_IN[0]), Inches(SLIDE_IN[1])
    W = SLIDE_IN[0]
    total = len(deck.slides)
    for n, s in enumerate(deck.slides, start=1):
        if s.kind == "title":
            slide = prs.slides.add_slide(prs.slide_layouts[0])
            title = slide.shapes.title
            title.text = s.title
            # all four set: setting only left/width writes an xfrm with top = height = 0
            # (the title then sits on the top edge over the subtitle)
            title.left, title.top, title.width, title.height = Inches(0.7), Inches(1.5), Inches(W - 1.4), Inches(2.2)
            title.text_frame.word_wrap = True
            for p in title.text_frame.paragraphs:
                p.font.size = Pt(36)
                p.font.bold = True
            sub = slide.placeholders[1]
            sub.left, sub.top, sub.width, sub.height = Inches(0.7), Inches(4.0), Inches(W - 1.4), Inches(2.6)
            sub.text_frame.word_wrap = True
            sub.text_frame.text = s.subtitle
            sub.text_frame.paragraphs[0].font.size = Pt(22)
            for b in s.bullets:
                p = sub.text_frame.add_paragraph()
                p.text = b
                p.font.size = Pt(18)
            continue
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        title = slide.shapes.title
        title.text = s.title
        title.left, title.top, title.width, title.height = Inches(0.5), Inches(0.25), Inches(W - 1.0), Inches(0.9)
        for p in title.text_frame.paragraphs:
            p.font.size = Pt(30)
        cap_h = caption_height_in(s.caption, chars_per_line=95, line_in=0.33)   # 16 pt lines as LibreOffice wraps
        top, bottom = 1.2, SLIDE_IN[1] - 0.65 - cap_h
        left_w = W - 1.0
        if s.table is not None and s.figure is not None:
            left_w = (W - 1.0) * (1 - table_share(s.table))
        if s.figure is not None:
            size = (left_w, bottom - top) if s.table is not None else (W - 1.0, bottom - top)
            png = _fig_png(s, size)
            slide.shapes.add_picture(io.BytesIO(png), Inches(0.5), Inches(top), width=Inches(size[0]))
        if s.table is not None:
            x = 0.5 + (left_w + 0.2 if s.figure is not None else 0)
            w = W - 0.5 - x
            nrows, ncols = len(s.table.rows) + 1, len(s.table.header)
            row_h = min(0.45, (bottom - top) / nrows)
            shape = slide.shapes.add_table(nrows, ncols, Inches(x), Inches(top), Inches(w), Inches(row_h * nrows))
            tbl = shape.table
            size_pt = 14 if nrows <= 8 and ncols <= 4 else MIN_LABEL_PT
            for j, h in enumerate(s.table.header):
                tbl.cell(0, j).text = h
            for i, row in enumerate(s.table.rows, start=1):
                for j, v in enumerate(row):
                    tbl.cell(i, j).text = str(v)
            for i in range(nrows):
                for j in range(ncols):
                    for p in tbl.cell(i, j).text_frame.paragraphs:
                        p.font.size = Pt(size_pt)
            if ncols >= 3:  # room by content: no header or number broken inside a word
                for j, share in enumerate(_column_widths(s.table)):
                    tbl.columns[j].width = Emu(int(Inches(w) * share))
        if s.bullets:
            box = slide.shapes.add_textbox(Inches(0.6), Inches(top), Inches(W - 1.2), Inches(bottom - top))
            tf = box.text_frame
            tf.word_wrap = True
            for i, b in enumerate(s.bullets):
                p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
                p.text = "• " + b
                p.font.size = Pt(_bullet_pt(s.bullets))
                p.space_after = Pt(6)
        if s.caption:
            box = slide.shapes.add_textbox(Inches(0.6), Inches(bottom + 0.05), Inches(W - 1.2), Inches(cap_h))
            box.text_frame.vertical_anchor = MSO_ANCHOR.TOP
            box.text_frame.auto_size = MSO_AUTO_SIZE.NONE
            box.text_frame.word_wrap = True
            box.text_frame.text = s.caption
            for p in box.text_frame.paragraphs:
                p.font.size = Pt(16)
        footer = slide.shapes.add_textbox(Inches(0.5), Inches(SLIDE_IN[1] - 0.55), Inches(W - 1.0), Inches(0.5))
        footer.text_frame.vertical_anchor = MSO_ANCHOR.TOP
        ft = footer.text_frame
        ft.word_wrap = True
        ft.text = (s.note + "   " if s.note else "") + t("report.slide_of", deck.lang, n=n, total=total)
        for p in ft.paragraphs:
            p.font.size = Pt(MIN_LABEL_PT)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        prs.core_properties.title = deck.slides[0].title
        prs.core_properties.language = deck.lang
        prs.save(out)
    except OSError as exc:
        raise AtlasError("errors.unwritable", path=str(out), reason=os_reason(exc)) from None
    return out


def _bullet_pt(bullets: list[str]) -> float:
    """Body size of a bullet slide: 16 pt when short, never below the readable minimum (12 pt)."""
    chars = sum(len(b) for b in bullets)
    return 16.0 if len(bullets) <= 6 and chars <= 900 else 14.0 if chars <= 1400 else MIN_LABEL_PT


def _column_widths(table: Table) -> list[float]:
    """Column shares of a table: by the longest word and the typical text of each column,
    so numbers are never split and long names get the room."""
    import numpy as np

    cols = list(zip(table.header, *table.rows))
    need = []
    for col in cols:
        words = max(len(w) for v in col for w in (str(v).split(" ") or [""]))  # NBSP joins
        typical = float(np.median([len(str(v)) for v in col[1:]])) if len(col) > 1 else len(str(col[0]))
        need.append(max(words + 3, min(typical, 40.0) + 1, 7.0))  # + cell margins
    total = sum(need)
    return [x / total for x in need]


def _pdf_page(s: Slide, n: int, total: int, lang: str) -> Figure:
    import textwrap

    W, H = SLIDE_IN
    fig = Figure(figsize=SLIDE_IN, dpi=SLIDE_DPI)
    if s.kind == "title":
        fig.text(0.06, 0.62, textwrap.fill(s.title, 42), fontsize=32, fontweight="bold", va="bottom")
        fig.text(0.06, 0.55, textwrap.fill(s.subtitle, _chars_across(0.9 * W, 20)), fontsize=20, va="top",
                 color="#374151")
        fig.text(0.06, 0.45, "\n".join(textwrap.fill(b, _chars_across(0.9 * W, 16)) for b in s.bullets),
                 fontsize=16, va="top", linespacing=1.6)
        return fig
    fig.text(0.04, 0.95, s.title, fontsize=26, fontweight="bold", va="top")
    foot = (s.note + "   " if s.note else "") + t("report.slide_of", lang, n=n, total=total)
    foot = textwrap.fill(foot, _chars_across(0.92 * W, MIN_LABEL_PT))  # never past the slide's edge
    caption_y = max(0.6, 0.11 + (foot.count("\n") + 1) * MIN_LABEL_PT * 1.25 / 72 + 0.08)  # above the footer
    top, bottom = 1.2 / H, (caption_y - 0.05 + caption_height_in(s.caption)) / H
    table_left = 0.04
    if s.figure is not None:
        fw = 0.92 - table_share(s.table) if s.table is not None else 0.92
        png = _fig_png(s, (fw * W, (1 - top - bottom) * H))
        ax = fig.add_axes((0.04, bottom, fw, 1 - top - bottom))
        ax.imshow(plt.imread(io.BytesIO(png), format="png"))
        ax.set_axis_off()
        table_left = 0.04 + fw + 0.02
    if s.table is not None:
        ax = fig.add_axes((table_left, bottom + 0.05, 0.96 - table_left, 1 - top - bottom - 0.05))
        ax.set_axis_off()
        ncols = len(s.table.header)
        avail = 0.96 - table_left
        widths = _column_widths(s.table)
        chars = [max(6, int(w * avail * W * 8)) for w in widths]  # ~8 chars per inch at 12 pt

        def fill(text: Any, width: int) -> str:
            # never split a word (a number such as 1.286.751 must stay on one line)
            return textwrap.fill(str(text), width, break_long_words=False, break_on_hyphens=False)

        cells = [[fill(v, chars[j]) for j, v in enumerate(r)] for r in s.table.rows]
        header = [fill(h, chars[j]) for j, h in enumerate(s.table.header)]
        tab = ax.table(cellText=cells, colLabels=header, loc="upper center", cellLoc="left", colLoc="left",
                       colWidths=widths)
        tab.auto_set_font_size(False)
        tab.set_fontsize(MIN_LABEL_PT)
        line_h = 0.045 * (H / 7.5) / max(1.0, (1 - top - bottom))
        for (i, j), cell in tab.get_celld().items():
            text = header[j] if i == 0 else cells[i - 1][j]
            lines = max((header[k] if i == 0 else cells[i - 1][k]).count("\n") + 1 for k in range(ncols))
            cell.set_height(line_h * (lines + 0.8))
            cell.PAD = 0.03  # matplotlib pads by a share of the cell width: keep wide cells flush
            if i == 0:
                cell.set_text_props(fontweight="bold")
                cell.set_facecolor("#e5e7eb")
            _ = text
    if s.bullets:
        pt = _bullet_pt(s.bullets)
        text = "\n".join(textwrap.fill("• " + b, _chars_across(0.9 * W, pt), subsequent_indent="   ")
                         for b in s.bullets)
        fig.text(0.05, 1 - top, text, fontsize=pt, va="top", linespacing=1.4)
    if s.caption:
        fig.text(0.05, caption_y / H, textwrap.fill(s.caption, 120), fontsize=14, va="bottom", linespacing=1.4)
    fig.text(0.04, 0.015, foot, fontsize=MIN_LABEL_PT, color="#4b5563", va="bottom", linespacing=1.25)
    return fig


def _chars_across(width_in: float, pt: float) -> int:
    """Characters of DejaVu Sans at ``pt`` that fit in ``width_in`` inches (0.56 em a
    character — measured 0.53 on Vietnamese footers, kept with a margin)."""
    return max(20, int(width_in * 72 / (pt * 0.56)))


def to_pdf(deck: Deck, out: str | Path) -> Path:
    """Write the deck as a PDF, one landscape page per slide (fonts embedded as TrueType)."""
    from matplotlib.backends.backend_pdf import PdfPages

    out = Path(out)
    total = len(deck.slides)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with plt.rc_context(rc()):
            with PdfPages(out, metadata={"Title": deck.slides[0].title, "Creator": t("export.atlas", "en")}) as pdf:
                for n, s in enumerate(deck.slides, start=1):
                    pdf.savefig(_pdf_page(s, n, total, deck.lang))
    except OSError as exc:
        raise AtlasError("errors.unwritable", path=str(out), reason=os_reason(exc)) from None
    return out


def build_report(unit: Any, fmt: str, out: str | Path, lang: str = DEFAULT_LANG, suggestion: Any = None,
                 territory: str = "2025") -> Path:
    """Build the deck for ``unit`` (with the ``suggestion``'s slide and the ``territory``, see
    ``build_deck``) and write it as ``fmt`` ("pptx" or "pdf") to ``out``."""
    fmt = str(fmt).lower().lstrip(".")
    if fmt not in ("pptx", "pdf"):
        raise AtlasError("report.bad_format", fmt=fmt)
    out = Path(out)
    if out.is_dir():
        out = out / f"deck.{fmt}"
    elif out.suffix.lower() != f".{fmt}":
        out = out.with_suffix(f".{fmt}")
    deck = build_deck(unit, lang, suggestion, territory)
    return to_pptx(deck, out) if fmt == "pptx" else to_pdf(deck, out)


def report_bytes(unit: Any, fmt: str, lang: str = DEFAULT_LANG, suggestion: Any = None,
                 territory: str = "2025") -> tuple[str, bytes, str]:
    """The deck in memory for a download button: (file name, bytes, MIME type)."""
    import tempfile

    from geo.export import _safe_layer_name

    u = resolve(unit, DECK_LEVELS)
    mime = {"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "pdf": "application/pdf"}.get(fmt, "application/octet-stream")
    with tempfile.TemporaryDirectory(prefix="atlas_deck_") as tmp:
        path = build_report(u, fmt, Path(tmp) / f"{_safe_layer_name(u.label(lang))}.{fmt}", lang, suggestion,
                            territory)
        return path.name, path.read_bytes(), mime


__all__ = ["Slide", "Table", "Deck", "build_deck", "build_report", "report_bytes", "to_pptx", "to_pdf",
           "scorecard", "coverage_table", "SERVICES", "deck_name", "deck_population", "map_key_message"]

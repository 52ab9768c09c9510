"""``python -m geo suggest``: where to build next (MCLP, LSCP, p-median) from the command line.

Sources are named as in ``python -m geo coverage`` (file path, catalog layer id,
``infrastructure:<category>``, ``smart_cities``, workspace layer) and read through the
same reader (:func:`geo.cli.coverage.load_source` → :mod:`geo.io`). The coverage rule and
per-cell costs are those of the coverage command, so both give the same figures.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from geo.cli.coverage import (
    ID_GUESSES,
    NAME_GUESSES,
    _check_output,
    _guess,
    _number,
    add_grid_args,
    add_question_args,
    load_source,
)
from geo.coverage import check_limits
from geo.errors import AtlasError, os_reason
from geo.i18n import fmt_percent, t
from geo.text import spreadsheet_safe
from geo.units import DECK_LEVELS, TERRITORIES, UNIT_LAYERS, PlanningUnit, find, resolve, unit_set_layer, units_by_id


def register(subparsers, lang: str = "en") -> None:
    p = subparsers.add_parser("suggest", help=t("suggest.cli_help", lang),
                              description=t("suggest.cli_description", lang))
    add_question_args(p, lang)
    p.add_argument("--unit", default=None, help=t("suggest.arg_unit", lang))
    p.add_argument("--new", default="3", help=t("suggest.arg_new", lang))
    p.add_argument("--model", default="mclp", help=t("suggest.arg_model", lang))
    p.add_argument("--method", choices=("auto", "greedy", "exact"), default="auto", help=t("suggest.arg_method", lang))
    p.add_argument("--target-share", default=None, help=t("suggest.arg_target", lang))
    p.add_argument("--time-limit", default="60", help=t("suggest.arg_time_limit", lang))
    p.add_argument("--candidates", default=None, help=t("suggest.arg_candidates", lang))
    p.add_argument("--candidate-cell-m", default=None, help=t("suggest.arg_candidate_cell", lang))
    p.add_argument("--exclusions", default=None, help=t("suggest.arg_exclusions", lang))
    p.add_argument("--min-spacing-m", default=None, help=t("suggest.arg_spacing", lang))
    add_grid_args(p, lang)
    p.add_argument("--out", required=True, help=t("suggest.arg_out", lang))
    p.add_argument("--deck", default=None, help=t("suggest.arg_deck", lang))
    p.add_argument("--deck-unit", default=None, help=t("suggest.arg_deck_unit", lang))
    p.add_argument("--deck-lang", choices=("vi", "en"), default=None, help=t("report.cli_lang", lang))
    p.add_argument("--territory", choices=TERRITORIES, default=TERRITORIES[0], help=t("report.cli_territory", lang))
    p.set_defaults(func=run)


def _options(args) -> None:
    """Check every option before any work (so a typo costs nothing)."""
    check_limits(args.radius_m, args.minutes, args.detour)  # as typed, so the message shows it
    args.radius_m = _number(args.radius_m, "coverage_errors.bad_radius")
    args.minutes = _number(args.minutes, "coverage_errors.bad_minutes")
    args.cell_m = _number(args.cell_m, "coverage_errors.bad_cell_size")
    args.detour = _number(args.detour, "coverage_errors.bad_detour", 1.0, inclusive=True)
    args.candidate_cell_m = _number(args.candidate_cell_m, "suggest_errors.bad_cell")
    args.min_spacing_m = _number(args.min_spacing_m, "suggest_errors.bad_spacing", 0.0, inclusive=True) or 0.0
    args.time_limit = _number(args.time_limit, "suggest_errors.bad_time_limit")
    if args.model not in ("mclp", "lscp", "pmedian"):
        raise AtlasError("suggest_errors.bad_model", value=args.model)
    from geo.suggest import _check_p

    args.new = _check_p(args.new if not str(args.new).strip().lstrip("-").isdigit() else int(args.new))
    if args.target_share is not None:
        args.target_share = _number(args.target_share, "suggest_errors.bad_target")
        if args.target_share > 1:
            raise AtlasError("suggest_errors.bad_target", value=str(args.target_share))
    if args.model == "lscp" and args.target_share is None:
        raise AtlasError("suggest_errors.no_target")
    if args.deck:
        deck = Path(args.deck)
        _check_output(deck, (".pptx", ".pdf"), "suggest_errors.bad_deck")
        args.deck_format = deck.suffix.lower().lstrip(".")
        # the deck's city or province: --deck-unit, else --unit when it is one, else the province
        args.deck_unit = resolve(args.deck_unit or _deck_unit_guess(args.unit), DECK_LEVELS)
    elif args.deck_unit:
        raise AtlasError("suggest_errors.deck_unit_without_deck")
    if args.mode == "euclidean":
        for opt, given in (("roads", args.roads), ("minutes", args.minutes),
                           ("speed-profile", args.speed_profile is not None)):
            if given:
                raise AtlasError("coverage_errors.network_only", option=opt)
    else:
        if args.detour not in (None, 1.0):
            raise AtlasError("coverage_errors.euclidean_only", option="detour")
        if not args.roads:
            raise AtlasError("coverage_errors.no_roads")
        if args.minutes is None and args.radius_m is None:
            raise AtlasError("coverage_errors.no_limit")


def _deck_unit_guess(unit: str | None) -> str:
    """``--unit`` when it names a city or the province a deck is made for, else the province."""
    if unit:
        try:
            return resolve(unit, DECK_LEVELS).id
        except AtlasError:
            pass
    return "province"


def _scope(units, unit_id: str, unit_name: str, wanted: str | None, layer: str | None = None):
    """The rows of ``units`` that ``--unit`` names, matched through the one unit registry
    (:func:`geo.units.find`): an id in any spelling, a bare code, the full or short name,
    "TP …", without diacritics. ``layer`` is the catalog unit layer the rows come from."""
    if not wanted:
        return units
    codes = units[unit_id].astype(str)
    if layer == "wards_2025":
        codes = codes.str.zfill(5)
    names = units[unit_name].astype(str)
    exact = units[unit_id].astype(str) == str(wanted).strip()
    if exact.any():  # the id exactly as the file writes it
        return units[exact]
    level = UNIT_LAYERS[layer].level if layer else "city"
    known = units_by_id((level,)) if layer else {}  # the registry's units (English names too)
    pool = [known.get(f"{layer}:{c}") or PlanningUnit(f"{layer or 'unit'}:{c}", level, n)
            for c, n in zip(codes, names)]
    hit = find(wanted, units=pool)
    if hit is None:
        raise AtlasError("suggest_errors.unknown_unit", unit=str(wanted),
                         choices=", ".join(list(dict.fromkeys(names))[:4]))
    return units[(codes == hit.code).to_numpy()]


def _progress(lang: str):
    last = {"stage": None}

    def report(fraction: float, stage: str) -> None:
        if stage != last["stage"]:
            last["stage"] = stage
            sys.stderr.write(t(stage, lang) + "\n")
            sys.stderr.flush()
    return report


def run(args) -> int:
    from geo import coverage as cov
    from geo import suggest as sg
    from geo.catalog import load_layer, service_reach
    from geo.population import census_grid, read_population_raster

    lang = getattr(args, "lang", "en")
    out = Path(args.out)
    _options(args)
    _check_output(out, (".csv", ".gpkg", ".geojson"), "coverage_errors.bad_out")
    units, _ = load_source(args.units)
    if len(units) and not set(units.geom_type.dropna().unique()) <= {"Polygon", "MultiPolygon"}:
        raise AtlasError("coverage_errors.units_not_polygons", name=args.units)
    spec = UNIT_LAYERS.get(unit_set_layer(args.units) or "")
    unit_id = args.unit_id or (spec.id_col if spec else "") or _guess(units.columns, None, ID_GUESSES)
    unit_name = args.unit_name or (spec.name_col if spec else "") or _guess(units.columns, None, NAME_GUESSES) \
        or unit_id
    if not unit_id:
        units = units.reset_index(names="unit_id")
        unit_id = "unit_id"
        unit_name = unit_name or unit_id
    cov._check_units(units, unit_id, unit_name)
    units = _scope(units, unit_id, unit_name, args.unit, unit_set_layer(args.units) if spec else None)
    facilities, category = load_source(args.facilities)
    if args.mode == "euclidean" and args.radius_m is None:
        if category is None:
            raise AtlasError("coverage_errors.no_radius")
        args.radius_m = service_reach(category)[0]
    exclusions = None
    if args.exclusions:
        exclusions = sg.exclusion_polygons(load_source(args.exclusions)[0], args.exclusions)
    if args.population:
        grid = read_population_raster(args.population)
    else:
        pop = UNIT_LAYERS[args.population_source or "communes"]
        grid = census_grid(load_layer(pop.layer), pop.pop_col, args.cell_m or 100.0, label_key=pop.pop_label_key)
    cells = cov.prepare_cells(grid, units, unit_id, unit_name)
    if float(cells.pop.sum()) <= 0:
        raise AtlasError("coverage_errors.no_overlap")
    fac_xy = cov.facility_xy(facilities, grid.crs)
    if args.mode == "network":
        from geo.network import build_graph

        roads, _ = load_source(args.roads)
        graph = build_graph(roads, args.speed_profile or "walk", grid.crs)
        metric = "time" if args.minutes is not None else "distance"
        reach = sg.Reach(float(args.minutes if metric == "time" else args.radius_m), graph=graph, metric=metric)
    else:
        reach = sg.Reach(float(args.radius_m), float(args.detour))
    existing = reach.costs_from(fac_xy, cells.xy) if len(cells.pop) else np.empty(0)
    if args.candidates:
        layer, _ = load_source(args.candidates)
        cand = sg.layer_candidates(layer, grid.crs)
        if len(cand.xy) == 0:
            raise AtlasError("suggest_errors.bad_candidates", name=args.candidates)
        cand = sg.candidates_within(cand, units)
    else:
        cand = sg.grid_candidates(units, grid.crs, args.candidate_cell_m or sg.DEFAULT_CELL_M, grid=grid)
    cand = sg.filter_candidates(cand, exclusions, fac_xy, args.min_spacing_m)
    progress = _progress(lang)
    prob = sg.build_problem(cells, existing, reach, cand, args.min_spacing_m, progress=progress)
    s = sg.suggest(prob, args.new, model=args.model, target_share=args.target_share, method=args.method,
                   time_limit=args.time_limit, progress=progress)
    s.category = category
    try:
        if out.suffix.lower() == ".csv":
            spreadsheet_safe(sg.export_frame(s, lang)).to_csv(out, index=False, encoding="utf-8-sig")
        else:
            if out.exists():
                out.unlink()
            gdf = s.sites.assign(method=sg.export_frame(s, lang)["method"].to_numpy())
            gdf.to_file(out, driver="GPKG" if out.suffix.lower() == ".gpkg" else "GeoJSON", engine="pyogrio")
    except OSError as exc:
        raise AtlasError("errors.unwritable", path=str(out), reason=os_reason(exc)) from None
    print(t("coverage.cli_population", lang, label=t(grid.label_key, lang)))
    for line in sg.sentences(s, lang, cov.facility_label(category, lang)):
        print(line)
    for row in s.sites.itertuples(index=False):
        print(f"#{row.rank} {row.geometry.y:.5f},{row.geometry.x:.5f} +{round(row.marginal_people):d} "
              f"→ {fmt_percent(row.covered_share, lang)}")
    print(t("suggest.cli_done", lang, rows=len(s.sites), path=str(out)))
    if args.deck:
        from geo.report import build_report

        path = build_report(args.deck_unit, args.deck_format, args.deck, lang=args.deck_lang or "vi", suggestion=s,
                            territory=args.territory)
        print(t("export.written", lang, path=str(path)))
    sys.stdout.flush()
    return 0

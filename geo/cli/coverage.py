"""``python -m geo coverage``: per-unit service coverage from the command line.

Sources (``--facilities``/``--units``) are a file path (GeoJSON, GeoPackage, zipped
shapefile, any CRS), a catalog layer id, ``infrastructure:<category>`` (e.g.
``infrastructure:health``), ``smart_cities`` (the 3 smart cities), or a workspace layer.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import geopandas as gpd

from geo.coverage import check_limits
from geo.errors import AtlasError, os_reason
from geo.i18n import t
from geo.numbers import whole_people
from geo.paths import check_writable
from geo.service import CoverageRequest
from geo.settings import METRIC_CRS
from geo.text import spreadsheet_safe
from geo.units import SMART_CITIES, UNIT_LAYERS, unit_frame

UNIT_SETS = (SMART_CITIES, *UNIT_LAYERS)  # unit sets of geo.units, named on the command line

ID_GUESSES = ("unit_id", "id", "code", "ma", "gso_code", "level2_id", "commune_id")
NAME_GUESSES = ("unit_name", "name", "name_full", "ten", "commune_vn", "district_vn")
POP_SOURCES = ("communes", "wards_2025")  # census-modelled grids (geo.service.POPULATION_SOURCES)


def _workspace_layer(name: str) -> gpd.GeoDataFrame | None:
    from geo import workspace

    names = [x["name"] for x in workspace.list_layers()]  # a damaged workspace says so (AtlasError)
    return workspace.read_layer(name) if name in names else None


def load_source(name: str) -> tuple[gpd.GeoDataFrame, str | None]:
    """A layer by file path, catalog id, ``infrastructure:<category>``, ``smart_cities`` or
    workspace name; also returns the infrastructure category if one was named."""
    from geo.catalog import get_catalog, load_layer
    from geo.coverage import read_vector_file

    if Path(name).exists():
        return read_vector_file(name), None
    if name.startswith("infrastructure:"):
        cat = name.split(":", 1)[1]
        cats = get_catalog().categories
        if cat not in cats:
            raise AtlasError("coverage_errors.unknown_category", category=cat, categories=", ".join(cats))
        gdf = load_layer("infrastructure")
        return gdf[gdf["category"] == cat], cat
    if name == SMART_CITIES:
        return unit_frame(SMART_CITIES)[0], None
    if name in get_catalog().layers:
        return load_layer(name), None
    ws = _workspace_layer(name)
    if ws is not None:
        return ws, None
    if any(ch in name for ch in "/\\.") :
        raise AtlasError("coverage_errors.file_missing", path=name)
    raise AtlasError("coverage_errors.unknown_source", name=name)


def _guess(columns, wanted, guesses) -> str:
    if wanted:
        return wanted
    lower = {str(c).lower(): c for c in columns}
    for g in guesses:
        if g in lower:
            return lower[g]
    return ""


def _number(value: str | None, key: str, minimum: float = 0.0, inclusive: bool = False) -> float | None:
    """A numeric option checked after parsing, so the refusal is in the user's --lang."""
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise AtlasError(key, value=str(value)) from None
    if not math.isfinite(x) or x < minimum or (x == minimum and not inclusive):
        raise AtlasError(key, value=str(value))
    return x


def _numbers(args) -> None:
    """Validate --radius-m/--minutes/--cell-m (> 0) and --detour (>= 1) in place."""
    check_limits(args.radius_m, args.minutes, args.detour)  # as typed, so the message shows it
    args.radius_m = _number(args.radius_m, "coverage_errors.bad_radius")
    args.minutes = _number(args.minutes, "coverage_errors.bad_minutes")
    args.cell_m = _number(args.cell_m, "coverage_errors.bad_cell_size")
    args.detour = _number(args.detour, "coverage_errors.bad_detour", 1.0, inclusive=True)


def _check_output(path: Path, suffixes: tuple[str, ...], key: str) -> None:
    """Refuse a wrong extension or a missing folder before any work is done."""
    if path.suffix.lower() not in suffixes:
        raise AtlasError(key, path=str(path))
    check_writable(path)


def _check_mode_options(args) -> None:
    """Options of the other mode (or of the census grid, with a raster) are refused rather
    than silently ignored."""
    if args.population:
        for opt, given in (("population-source", args.population_source), ("cell-m", args.cell_m)):
            if given is not None:
                raise AtlasError("coverage_errors.census_only", option=opt)
    if args.mode == "euclidean":
        for opt, given in (("roads", args.roads), ("minutes", args.minutes),
                           ("speed-profile", args.speed_profile is not None)):
            if given:
                raise AtlasError("coverage_errors.network_only", option=opt)
        return
    for opt, given in (("detour", args.detour not in (None, 1.0)), ("capacity-col", args.capacity_col)):
        if given:
            raise AtlasError("coverage_errors.euclidean_only", option=opt)


def add_question_args(p, lang: str = "en") -> None:
    """The arguments of a coverage question (facilities, units and their columns, reach),
    shared by ``coverage`` and ``suggest`` so both ask it the same way."""
    p.add_argument("--facilities", required=True, help=t("coverage.arg_facilities", lang))
    p.add_argument("--units", required=True, help=t("coverage.arg_units", lang))
    p.add_argument("--unit-id", default=None, help=t("coverage.arg_unit_id", lang))
    p.add_argument("--unit-name", default=None, help=t("coverage.arg_unit_name", lang))
    p.add_argument("--radius-m", default=None, help=t("coverage.arg_radius", lang))
    p.add_argument("--detour", default="1", help=t("coverage.arg_detour", lang))


def add_grid_args(p, lang: str = "en") -> None:
    """The population grid and travel mode of a coverage question (population raster or its
    source, cell size, straight line or road network, minutes, speed profile), shared by
    ``coverage`` and ``suggest``."""
    p.add_argument("--population", default=None, help=t("coverage.arg_population", lang))
    p.add_argument("--population-source", choices=POP_SOURCES, default=None,
                   help=t("coverage.arg_population_source", lang))
    p.add_argument("--cell-m", default=None, help=t("coverage.arg_cell", lang))
    p.add_argument("--mode", choices=("euclidean", "network"), default="euclidean", help=t("coverage.arg_mode", lang))
    p.add_argument("--roads", default=None, help=t("coverage.arg_roads", lang))
    p.add_argument("--minutes", default=None, help=t("coverage.arg_minutes", lang))
    p.add_argument("--speed-profile", choices=("walk", "motorbike"), default=None, help=t("coverage.arg_profile", lang))


def register(subparsers, lang: str = "en") -> None:
    p = subparsers.add_parser("coverage", help=t("coverage.cli_help", lang),
                              description=t("coverage.cli_description", lang))
    add_question_args(p, lang)
    add_grid_args(p, lang)
    p.add_argument("--capacity-col", default=None, help=t("coverage.arg_capacity", lang))
    p.add_argument("--raster-out", default=None, help=t("coverage.arg_raster_out", lang))
    p.add_argument("--out", required=True, help=t("coverage.arg_out", lang))
    p.set_defaults(func=run)


def _request(args) -> CoverageRequest:
    """The CLI options as one coverage question for ``geo.service``."""
    from geo.network import build_graph
    from geo.population import read_population_raster

    if args.units in UNIT_SETS:
        units = {"units": args.units}
        if args.unit_id or args.unit_name:  # other columns of a catalog unit layer
            frame, uid, uname = unit_frame(args.units)
            units = {"units": args.units, "units_frame": frame, "unit_id": args.unit_id or uid,
                     "unit_name": args.unit_name or uname}
    else:
        frame, _ = load_source(args.units)
        if len(frame) and not set(frame.geom_type.dropna().unique()) <= {"Polygon", "MultiPolygon"}:
            raise AtlasError("coverage_errors.units_not_polygons", name=args.units)
        unit_id = args.unit_id or _guess(frame.columns, None, ID_GUESSES)
        unit_name = args.unit_name or _guess(frame.columns, None, NAME_GUESSES) or unit_id
        if not unit_id:
            frame = frame.reset_index(names="unit_id")
            unit_id = "unit_id"
            unit_name = unit_name or unit_id
        units = {"units": args.units, "units_frame": frame, "unit_id": unit_id, "unit_name": unit_name}
    facilities, category = load_source(args.facilities)
    fac = {"category": category} if category else {"facilities": facilities, "facilities_key": args.facilities}
    if args.mode == "euclidean" and args.radius_m is None and category is None:
        raise AtlasError("coverage_errors.no_radius")  # a file or layer of no category: its reach must be given
    pop: dict = {"population": args.population_source or "communes", "cell_m": args.cell_m or 100.0}
    if args.population:
        pop = {"grid": read_population_raster(args.population), "grid_key": f"raster:{args.population}"}
    net: dict = {}
    if args.mode == "network":
        grid_crs = pop["grid"].crs if "grid" in pop else METRIC_CRS
        roads, _ = load_source(args.roads)
        net = {"roads": build_graph(roads, args.speed_profile or "walk", grid_crs), "roads_key": args.roads,
               "profile": args.speed_profile or "walk"}
    return CoverageRequest(**fac, **units, **pop, **net, mode=args.mode, detour=args.detour,
                           radius_m=None if args.mode == "network" and args.minutes is not None else args.radius_m,
                           minutes=args.minutes if args.mode == "network" else None,
                           capacity_col=args.capacity_col)


def run(args) -> int:
    from geo import coverage as cov
    from geo.service import ask

    lang = getattr(args, "lang", "en")
    out = Path(args.out)
    _numbers(args)
    _check_output(out, (".csv", ".gpkg", ".geojson"), "coverage_errors.bad_out")
    if args.raster_out:
        _check_output(Path(args.raster_out), (".tif", ".tiff"), "coverage_errors.bad_raster_out")
    _check_mode_options(args)
    if args.mode == "network":
        if not args.roads:
            raise AtlasError("coverage_errors.no_roads")
        if args.minutes is None and args.radius_m is None:
            raise AtlasError("coverage_errors.no_limit")
        if args.minutes is not None and args.radius_m is not None:  # the synopsis always has --radius-m
            sys.stderr.write(t("coverage.cli_radius_unused", lang) + "\n")
    result = ask(_request(args))
    frame = result.export_frame(lang).drop(columns=["rule"])
    try:
        if out.suffix.lower() == ".csv":
            spreadsheet_safe(whole_people(frame)).to_csv(out, index=False, encoding="utf-8-sig")  # BOM: Excel reads Vietnamese
        else:
            gdf = cov.attach_geometry(frame, result.units)
            if out.exists():
                out.unlink()
            gdf.to_file(out, driver="GPKG" if out.suffix.lower() == ".gpkg" else "GeoJSON", engine="pyogrio")
        if args.raster_out and args.mode == "network":  # travel cost of the populated cells
            from geo.network import network_cost_fn
            from geo.population import write_grid_geotiff

            req = result.request
            cost_fn = network_cost_fn(req.roads, cov.facility_xy(result.facilities, result.grid.crs), req.metric)
            write_grid_geotiff(result.grid, args.raster_out, nodata=-1.0,
                               values=cov.cost_raster(cost_fn, result.units, result.grid))
        elif args.raster_out:
            cov.write_distance_geotiff(result.facilities, result.grid, args.raster_out, detour=args.detour)
    except AtlasError:
        raise
    except OSError as exc:
        raise AtlasError("errors.unwritable", path=str(out), reason=os_reason(exc)) from None
    print(t("coverage.cli_population", lang, label=t(result.population_label_key, lang)))
    if result.completeness is not None:
        print(result.completeness_sentence(lang))
    for line in result.sentences(lang, top=5):
        print(line)
    print(result.total_sentence(lang))
    print(t("coverage.cli_done", lang, rows=len(frame), path=str(out)))
    sys.stdout.flush()
    return 0

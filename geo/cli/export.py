"""CLI commands ``export`` (a layer to a GIS format) and ``report`` (a council deck).

``python -m geo export LAYER_OR_PATH --format geojson|gpkg|shp|kml|csv|tab|tif [--crs EPSG] --out PATH``
``python -m geo report --unit "TP Sông Công" --format pptx|pdf [--deck-lang vi|en] [--territory 2025|2020] --out FILE``
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.i18n import t
from geo.units import TERRITORIES


def register(subparsers: argparse._SubParsersAction, lang: str = "en") -> None:
    """Add ``export`` and ``report`` to the ``python -m geo`` parser."""
    from geo.export import FORMATS

    p = subparsers.add_parser("export", help=t("export.cli_help", lang),
                              description=t("export.cli_help", lang))
    p.add_argument("layer", metavar=t("cli_metavar.layer_or_path", lang), help=t("export.cli_layer", lang))
    p.add_argument("--format", "-f", dest="fmt", required=True, choices=tuple(FORMATS),
                   help=t("export.cli_format", lang))
    p.add_argument("--crs", default=None, help=t("export.cli_crs", lang))
    p.add_argument("--out", "-o", required=True, help=t("export.cli_out", lang))
    p.add_argument("--csv-geometry", choices=("wkt", "latlon"), default="wkt",
                   help=t("export.cli_csv_geometry", lang))
    p.set_defaults(func=run_export)

    r = subparsers.add_parser("report", help=t("report.cli_help", lang),
                              description=t("report.cli_help", lang))
    r.add_argument("--unit", "-u", required=True, help=t("report.cli_unit", lang))
    r.add_argument("--format", "-f", dest="fmt", required=True, choices=("pptx", "pdf"),
                   help=t("export.cli_format", lang))
    r.add_argument("--out", "-o", required=True, help=t("export.cli_out", lang))
    r.add_argument("--deck-lang", "--lang", dest="deck_lang", choices=("vi", "en"), default=None, help=t("report.cli_lang", lang))
    r.add_argument("--territory", choices=TERRITORIES, default=TERRITORIES[0], help=t("report.cli_territory", lang))
    r.set_defaults(func=run_report)

    m = subparsers.add_parser("print", help=t("print.cli_help", lang), description=t("print.cli_help", lang))
    m.add_argument("--unit", "-u", default=None, help=t("report.cli_unit", lang))
    m.add_argument("--layers", default=None, help=t("print.cli_layers", lang))
    m.add_argument("--bbox", default=None, help=t("print.cli_bbox", lang))
    m.add_argument("--paper", choices=("A4", "A3", "a4", "a3"), default="A4", help=t("print.cli_paper", lang))
    m.add_argument("--format", "-f", dest="fmt", choices=("png", "pdf"), default=None,
                   help=t("export.cli_format", lang))
    m.add_argument("--title", default=None, help=t("print.cli_title", lang))
    m.add_argument("--subtitle", default=None, help=t("print.cli_subtitle", lang))
    m.add_argument("--out", "-o", required=True, help=t("export.cli_out", lang))
    m.add_argument("--map-lang", "--lang", dest="map_lang", choices=("vi", "en"), default=None,
                   help=t("cli.map_arg_lang", lang))
    m.set_defaults(func=run_print)


def run_export(args: argparse.Namespace) -> int:
    """Handler of ``export``: resolve the layer, write it, print what was written."""
    from geo.export import export_source, resolve_source

    lang = getattr(args, "lang", "en")
    src = resolve_source(args.layer, lang)
    res = export_source(src, args.fmt, args.out, crs=args.crs, lang=lang, csv_geometry=args.csv_geometry)
    print(t("export.written", lang, path=str(res.path)))
    if getattr(res, "replaced", False):
        print(t("export.replaced", lang, path=str(res.path)))
    if res.credits_path is not None:
        print(t("export.sidecar", lang, path=str(res.credits_path)))
    for old, new in res.renamed_fields.items():
        print(f"  {old} → {new}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """Handler of ``report``: build the deck for ``--unit`` in the deck language (vi default)."""
    from geo.report import build_report

    msg_lang = getattr(args, "lang", "en")
    deck_lang = args.deck_lang or "vi"
    path = build_report(args.unit, args.fmt, args.out, lang=deck_lang, territory=args.territory)
    print(t("export.written", msg_lang, path=str(path)))
    return 0


def run_print(args: argparse.Namespace) -> int:
    """Handler of ``print``: a unit's standard map, or ``--layers`` (+ ``--bbox``) as a view."""
    from geo.errors import AtlasError
    from geo.printmap import save_figure, unit_map_figure, view_map_figure

    msg_lang = getattr(args, "lang", "en")
    lang = args.map_lang or "vi"
    suffix = Path(args.out).suffix.lower().lstrip(".")
    if suffix and suffix not in ("png", "pdf") or (suffix and args.fmt and suffix != args.fmt):
        raise AtlasError("print.bad_extension", path=args.out, formats=f".{args.fmt}" if args.fmt else ".png, .pdf")
    fmt = args.fmt or suffix or "png"
    if args.unit:
        fig = unit_map_figure(args.unit, lang=lang, paper=args.paper, title=args.title, subtitle=args.subtitle)
    elif args.layers:
        extent = None
        if args.bbox:
            try:
                extent = [float(v) for v in args.bbox.split(",")]
            except ValueError:
                extent = []
            if len(extent) != 4 or not (extent[0] < extent[2] and extent[1] < extent[3]):
                raise AtlasError("print.bad_bbox", bbox=args.bbox)
        fig = view_map_figure([x.strip() for x in args.layers.split(",") if x.strip()], lang=lang, paper=args.paper,
                              title=args.title or t("present.view_title", lang), subtitle=args.subtitle or "",
                              extent=extent)
    else:
        raise AtlasError("print.need_unit_or_layers")
    out = save_figure(fig, args.out, fmt if fmt in ("png", "pdf") else "png")
    print(t("export.written", msg_lang, path=str(out)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    from geo.cli import main

    sys.exit(main())

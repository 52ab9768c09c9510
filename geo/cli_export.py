"""CLI commands ``export`` (a layer to a GIS format) and ``report`` (a council deck).

``python -m geo export LAYER_OR_PATH --format geojson|gpkg|shp|kml|csv|tab|tif [--crs EPSG] --out PATH``
``python -m geo report --unit "TP Sông Công" --format pptx|pdf [--deck-lang vi|en] --out FILE``
"""
from __future__ import annotations

import argparse
import sys

from geo.i18n import t

_HELP_LANG = "en"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``export`` and ``report`` to the ``python -m geo`` parser."""
    from geo.export import FORMATS

    p = subparsers.add_parser("export", help=t("export.cli_help", _HELP_LANG),
                              description=t("export.cli_help", _HELP_LANG))
    p.add_argument("layer", metavar="LAYER_OR_PATH", help=t("export.cli_layer", _HELP_LANG))
    p.add_argument("--format", "-f", dest="fmt", required=True, choices=tuple(FORMATS),
                   help=t("export.cli_format", _HELP_LANG))
    p.add_argument("--crs", default=None, help=t("export.cli_crs", _HELP_LANG))
    p.add_argument("--out", "-o", required=True, help=t("export.cli_out", _HELP_LANG))
    p.add_argument("--csv-geometry", choices=("wkt", "latlon"), default="wkt",
                   help=t("export.cli_csv_geometry", _HELP_LANG))
    p.set_defaults(func=run_export)

    r = subparsers.add_parser("report", help=t("report.cli_help", _HELP_LANG),
                              description=t("report.cli_help", _HELP_LANG))
    r.add_argument("--unit", "-u", required=True, help=t("report.cli_unit", _HELP_LANG))
    r.add_argument("--format", "-f", dest="fmt", required=True, choices=("pptx", "pdf"),
                   help=t("export.cli_format", _HELP_LANG))
    r.add_argument("--out", "-o", required=True, help=t("export.cli_out", _HELP_LANG))
    r.add_argument("--deck-lang", "--lang", dest="deck_lang", choices=("vi", "en"), default=None, help=t("report.cli_lang", _HELP_LANG))
    r.set_defaults(func=run_report)


def run_export(args: argparse.Namespace) -> int:
    """Handler of ``export``: resolve the layer, write it, print what was written."""
    from geo.export import export_source, resolve_source

    lang = getattr(args, "lang", "en")
    src = resolve_source(args.layer, lang)
    res = export_source(src, args.fmt, args.out, crs=args.crs, lang=lang, csv_geometry=args.csv_geometry)
    print(t("export.written", lang, path=str(res.path)))
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
    path = build_report(args.unit, args.fmt, args.out, lang=deck_lang)
    print(t("export.written", msg_lang, path=str(path)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    from geo.cli import main

    sys.exit(main())

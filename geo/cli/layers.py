"""``python -m geo layers`` and ``python -m geo map``: the catalog and standalone HTML maps."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from geo.errors import AtlasError, os_reason
from geo.i18n import t
from geo.paths import check_writable


def register(sub: argparse._SubParsersAction, lang: str = "en") -> None:
    """Add ``layers`` and ``map``, their help in ``lang``."""
    p = sub.add_parser("layers", help=t("cli.layers_help", lang), description=t("cli.layers_help", lang))
    p.set_defaults(func=cmd_layers)
    p = sub.add_parser("map", help=t("cli.map_help", lang), description=t("cli.map_help", lang))
    p.add_argument("layers", help=t("cli.map_arg_layers", lang))
    p.add_argument("--out", required=True, help=t("cli.map_arg_out", lang))
    p.add_argument("--basemap", default="none", choices=("none", "osm", "positron", "esri"),
                   help=t("cli.map_arg_basemap", lang))
    p.add_argument("--map-lang", default="vi", choices=("vi", "en"), help=t("cli.map_arg_lang", lang))
    p.set_defaults(func=cmd_map)


def cmd_layers(args: argparse.Namespace) -> int:
    """Print id, title, kind, feature count, source and vintage of every catalog layer."""
    from geo.catalog import get_catalog, load_layer

    rows = [("id", "title", "kind", "features", "source", "vintage")]
    for layer in get_catalog().layers.values():
        try:
            n = str(len(load_layer(layer.id)))
        except AtlasError:
            n = t("common.no_data", args.lang)
        rows.append((layer.id, layer.title(args.lang), layer.kind, n, layer.source, layer.vintage_text(args.lang)))
    widths = [min(max(len(r[i]) for r in rows), 48) for i in range(len(rows[0]))]
    for row in rows:
        sys.stdout.write("  ".join(cell[:48].ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    """Render the layers exactly as the app does, with every asset inlined."""
    from geo.catalog import get_catalog
    from geo.io import read_any
    from layers.render import add_gdf_layer, standalone_html
    from layers.views import MapView, build_map

    items = [x.strip() for x in args.layers.split(",") if x.strip()]
    catalog = get_catalog()
    ids, files = [], []
    for item in items:
        if item not in catalog.layers and Path(item).is_file():
            files.append(item)  # a user's file: the one reading path (limits, encodings, CRS, repairs)
        else:
            catalog.layer(item)  # unknown id → AtlasError
            ids.append(item)
    out = Path(args.out)
    check_writable(out)
    user_layers = []
    for f in files:
        gdf, report = read_any(f)
        for line in report.warning_texts(args.lang):
            sys.stderr.write(f"warning: {line}\n")
        if report.lossy:
            sys.stderr.write("warning: " + report.lost_line(args.lang) + "\n")
        user_layers.append((Path(f).name, gdf))

    def extra(m) -> None:
        for name, gdf in user_layers:
            fields = [c for c in gdf.columns if c != "geometry"][:4]
            add_gdf_layer(m, gdf, args.map_lang, name, fields)

    view = MapView(layers=ids, basemap=args.basemap, lang=args.map_lang)
    html = standalone_html(build_map(view, catalog=catalog, extra=extra if user_layers else None))
    if view.failures:
        raise view.failures[0][1]
    tmp = out.with_name(out.name + ".tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AtlasError("errors.unwritable", path=str(out), reason=os_reason(exc)) from None
    sys.stdout.write(f"{out} ({len(html):,} bytes)\n")
    return 0

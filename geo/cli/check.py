"""``python -m geo check PATH``: read a file the way the Data page does and print the report.

Exit status: 0 when every feature was read (warnings allowed); 1 when the file was read
WITH LOSSES (some features could not be imported: how many and which rows are printed, on
stderr too, and ``--out`` still writes the rest, labelled incomplete); 2 with one line
``error: ...`` when the file is refused.
``--out OUT.gpkg`` writes the normalised layer (EPSG:4326, UTF-8, valid geometry).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.encoding import ENCODINGS
from geo.errors import AtlasError, os_reason
from geo.i18n import t


def register(subparsers: argparse._SubParsersAction, lang: str = "en") -> None:
    """Add the ``check`` command."""
    p = subparsers.add_parser("check", help=t("cli_check.help", lang), description=t("cli_check.help", lang),
                              epilog=t("cli_check.exit_codes", lang))
    p.add_argument("path", help=t("cli_check.arg_path", lang))
    p.add_argument("--layer", default=None, help=t("cli_check.arg_layer", lang))
    p.add_argument("--crs", default=None, help=t("cli_check.arg_crs", lang))
    p.add_argument("--encoding", default="auto", choices=ENCODINGS, help=t("cli_check.arg_encoding", lang))
    p.add_argument("--kind", default=None, choices=("points", "lines", "polygons"), help=t("cli_check.arg_kind", lang))
    p.add_argument("--header-row", type=int, default=None, help=t("cli_check.arg_header_row", lang))
    p.add_argument("--out", default=None, help=t("cli_check.arg_out", lang))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``check``: 0 read whole, 1 read with losses (named); refusals propagate as
    ``AtlasError`` (exit 2 in geo.cli)."""
    from geo import io

    lang = getattr(args, "lang", "en")
    path = Path(args.path)
    if args.out is not None and Path(args.out).suffix.lower() != ".gpkg":
        raise AtlasError("import_errors.out_not_gpkg", path=args.out)
    if args.out is not None:  # --out replaces its target: never the input or the workspace
        from geo.settings import workspace_path
        target = Path(args.out).resolve()
        if target == path.resolve():
            raise AtlasError("import_errors.out_is_input", path=args.out)
        if target == Path(workspace_path()).resolve():
            raise AtlasError("import_errors.out_is_workspace", path=args.out)
        from geo.paths import check_writable
        check_writable(args.out)  # before any work: the user's path in the sentence, never a temp file
    if io.is_raster(path):
        if args.out is not None:
            raise AtlasError("import_errors.out_raster", file=path.name)
        _, report = io.read_raster(path, crs=args.crs)
        gdf = None
    else:
        gdf, report = io.read_any(path, layer=args.layer, crs=args.crs, encoding=args.encoding, kind=args.kind,
                                  header_row=getattr(args, "header_row", None))
    out = sys.stdout
    for line in report.lines(lang):
        out.write(line + "\n")
    lossy = gdf is not None and report.lossy
    if lossy:  # never plain success: the lost features are named on stderr too
        sys.stderr.write("warning: " + report.lost_line(lang) + "\n")
    if args.out is not None and gdf is not None:
        target = Path(args.out)
        replaced = target.exists()
        tmp = target.with_name(f".{target.name}.partial.gpkg")
        tmp.unlink(missing_ok=True)
        try:
            io.write_normalised(gdf, tmp, layer=report.layer or path.stem)
            tmp.replace(target)
        except AtlasError as exc:  # the temp file is ours: the sentence names the user's path
            if exc.key != "errors.unwritable":
                raise
            raise AtlasError("errors.unwritable", path=args.out, reason=exc.params.get("reason", "")) from None
        except OSError as exc:
            raise AtlasError("errors.unwritable", path=args.out, reason=os_reason(exc)) from None
        finally:
            tmp.unlink(missing_ok=True)
        if lossy:
            out.write(t("cli_check.wrote_lossy", lang, path=str(target), features=len(gdf), read=report.read_count,
                        lost=max(report.dropped_count, len(report.dropped_rows))) + "\n")
        else:
            out.write(t("cli_check.wrote", lang, path=str(target), features=len(gdf)) + "\n")
        if replaced:
            out.write(t("cli_check.replaced", lang, path=str(target)) + "\n")
    return 1 if lossy else 0

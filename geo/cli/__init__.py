"""The command line: ``python -m geo <command>``.

Each command lives in its own module ``geo.cli_<name>`` exposing
``register(subparsers) -> None``; the sub-parser sets ``func(args) -> int``.
Refusals (``AtlasError``) and bad arguments print one line ``error: ...`` and exit 2.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from geo.errors import AtlasError
from geo.i18n import t

COMMAND_MODULES = ("geo.cli.layers", "geo.cli.coverage", "geo.cli.indicators", "geo.cli.check", "geo.cli.export",
                   "geo.cli.suggest")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(2)


def system_lang(environ: dict[str, str] | None = None) -> str:
    """"vi" when the system locale is Vietnamese (``LC_ALL``, then ``LC_MESSAGES``, then
    ``LANG``, as POSIX orders them), else "en"."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "vi" if value.lower().startswith("vi") else "en"
    return "en"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m geo", description="Thái Nguyên Smart-City Atlas command line")
    parser.add_argument("--lang", choices=("vi", "en"), default=system_lang(),
                        help="language of messages (default: from the system locale)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AtlasError as err:
        sys.stderr.write(f"error: {err.message(args.lang)}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 — no traceback reaches a user (ATLAS_DEBUG=1 shows it)
        if os.environ.get("ATLAS_DEBUG"):
            raise
        sys.stderr.write(f"error: {t('errors.unexpected', args.lang, kind=type(exc).__name__, detail=str(exc)[:200])}\n")
        return 2

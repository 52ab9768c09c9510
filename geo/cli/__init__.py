"""The command line: ``python -m geo <command>``.

Each command lives in its own module ``geo.cli.<name>`` exposing
``register(subparsers, lang) -> None`` (its help texts from the catalog in ``lang``); the
sub-parser sets ``func(args) -> int``. The help language is the message language (``--lang``
before the command, else the system locale), argparse's own words included.
Refusals (``AtlasError``) and bad arguments print one line ``error: ...`` and exit 2.
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from geo import settings
from geo.errors import AtlasError
from geo.i18n import catalog, t

COMMAND_MODULES = ("geo.cli.layers", "geo.cli.coverage", "geo.cli.indicators", "geo.cli.check", "geo.cli.export",
                   "geo.cli.suggest", "geo.cli.audit")


# argparse's message templates (Python 3.11+) → catalog keys of [cli]; the rest is kept as is
_ARGPARSE_INNER = (
    (r"invalid choice: (?P<value>.+?) \(choose from (?P<choices>.*)\)", "cli.invalid_choice"),
    (r"invalid (?P<type>\S+) value: (?P<value>.+)", "cli.invalid_value"),
    (r"expected one argument", "cli.expected_one"),
    (r"expected at least one argument", "cli.expected_at_least_one"),
    (r"expected at most one argument", "cli.expected_at_most_one"),
    (r"expected (?P<n>\d+) arguments?", "cli.expected_n"),
    (r"not allowed with argument (?P<other>.+)", "cli.not_allowed_with"),
    (r"ignored explicit argument (?P<value>.+)", "cli.ignored_explicit"),
)
_ARGPARSE_TOP = (
    (r"the following arguments are required: (?P<args>.+)", "cli.required"),
    (r"unrecognized arguments: (?P<args>.+)", "cli.unrecognized"),
    (r"one of the arguments (?P<args>.+) is required", "cli.one_required"),
    (r"ambiguous option: (?P<option>.+?) could match (?P<matches>.+)", "cli.ambiguous"),
)


def argparse_message(message: str, lang: str) -> str:
    """argparse's English error ``message`` in ``lang`` (catalog section ``[cli]``); a message
    of a template not known here is returned unchanged."""
    def match(text: str, table) -> str | None:
        for pattern, key in table:
            m = re.fullmatch(pattern, text, flags=re.S)
            if m:
                return t(key, lang, **m.groupdict())
        return None

    m = re.fullmatch(r"argument (?P<arg>[^:]+): (?P<inner>.*)", message, flags=re.S)
    if m:
        inner = match(m["inner"], _ARGPARSE_INNER)
        return t("cli.argument", lang, arg=m["arg"], inner=inner) if inner else message
    return match(message, _ARGPARSE_TOP) or message


def argv_lang(argv: list[str]) -> str:
    """The message language a command line asks for: ``--lang`` before the command, else the
    system locale's (so argparse's own refusals follow it too)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv) and argv[i + 1] in ("vi", "en"):
            return argv[i + 1]
        if arg.startswith("--lang=") and arg[7:] in ("vi", "en"):
            return arg[7:]
        if not arg.startswith("-"):  # the command: a later --lang is the command's own option
            break
    return system_lang()


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout with its own words in ``_Parser.lang``: the "usage:" prefix and
    the placeholders argparse derives from an argument's name (``--out OUT``, ``path``), from
    catalog section ``[cli_metavar]`` (an argument not listed there keeps argparse's name).
    Section titles and -h's own help are set by ``_Parser``."""

    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        if prefix is None:  # argparse's default is gettext's "usage: "
            prefix = t("cli.usage", _Parser.lang) + " "
        super().add_usage(usage, actions, groups, prefix)

    def _get_default_metavar_for_optional(self, action: argparse.Action) -> str:
        return _metavar(action.dest, action.dest.upper())

    def _get_default_metavar_for_positional(self, action: argparse.Action) -> str:
        return _metavar(action.dest, action.dest)


def _metavar(dest: str, default: str) -> str:
    key = f"cli_metavar.{dest}"
    return t(key, _Parser.lang) if key in catalog() else default


class _Parser(argparse.ArgumentParser):
    """A parser speaking ``_Parser.lang`` (set by ``build_parser`` before any parser is made):
    refusals in one translated line (``argparse_message``), help with translated section
    titles, -h help, "usage:" and placeholders (``_Formatter``)."""

    lang = "en"

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False  # added below with a translated help text
        super().__init__(*args, **kwargs)
        # argparse names its two default groups through gettext when it creates them
        self._positionals.title = t("cli.positionals", self.lang)
        self._optionals.title = t("cli.options", self.lang)
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=t("cli.help_action", self.lang))

    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        sys.stderr.write(f"error: {argparse_message(message, _Parser.lang)}\n")
        raise SystemExit(2)


def add_commands(parser: argparse.ArgumentParser, dest: str, lang: str) -> argparse._SubParsersAction:
    """The sub-commands of ``parser`` under a translated heading and placeholder (argparse
    would list them as ``{a,b,…}`` under "positional arguments")."""
    return parser.add_subparsers(dest=dest, required=True, parser_class=type(parser), title=t("cli.commands", lang),
                                 metavar=t("cli.command_metavar", lang))


def system_lang(environ: dict[str, str] | None = None) -> str:
    """"vi" when the system locale is Vietnamese (``LC_ALL``, then ``LC_MESSAGES``, then
    ``LANG``, as POSIX orders them), else "en"."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "vi" if value.lower().startswith("vi") else "en"
    return "en"


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The ``python -m geo`` parser, its help and refusals in ``lang``."""
    _Parser.lang = lang
    parser = _Parser(prog="python -m geo", description=t("cli.description", lang))
    parser.add_argument("--lang", choices=("vi", "en"), default=system_lang(), help=t("cli.arg_lang", lang))
    sub = add_commands(parser, "command", lang)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, lang)
    return parser


class _TerminalSafe:
    """A text stream that drops terminal escape codes and control characters before writing
    (names read from files or the workspace are printed as they are otherwise)."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        from geo.text import terminal_safe

        self._stream.write(terminal_safe(text))
        return len(text)

    def __getattr__(self, name: str):  # flush, fileno, isatty, encoding …
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _TerminalSafe(out), _TerminalSafe(err)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv_lang(list(sys.argv[1:] if argv is None else argv)))
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
    except Exception as exc:  # no traceback reaches a user (ATLAS_DEBUG=1 shows it)
        if settings.debug():
            raise
        from geo.text import redact_paths

        detail = redact_paths(str(exc))[:200]   # no server path in a user message
        sys.stderr.write(f"error: {t('errors.unexpected', args.lang, kind=type(exc).__name__, detail=detail)}\n")
        return 2

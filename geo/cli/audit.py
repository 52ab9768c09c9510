"""``python -m geo audit``: check the shipped data's invariants and print each with its figure.

Exit 0 when every check holds, 1 when one fails (the failing lines say which and by how much).
"""
from __future__ import annotations

import argparse
import sys

from geo.i18n import t


def register(subparsers: argparse._SubParsersAction, lang: str = "en") -> None:
    """Add the ``audit`` command."""
    p = subparsers.add_parser("audit", help=t("audit.help", lang), description=t("audit.help", lang))
    p.add_argument("--data-dir", default=None, help=t("audit.arg_data_dir", lang))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``audit``: one line per check, then a summary line."""
    from geo.audit import run_audit

    lang = getattr(args, "lang", "en")
    checks = run_audit(args.data_dir)
    for c in checks:
        mark = t("audit.ok", lang) if c.ok else t("audit.fail", lang)
        sys.stdout.write(f"{mark} {c.text(lang)}\n")
    failed = sum(not c.ok for c in checks)
    sys.stdout.write(t("audit.summary_ok" if not failed else "audit.summary_fail", lang,
                       n=len(checks), failed=failed) + "\n")
    return 1 if failed else 0

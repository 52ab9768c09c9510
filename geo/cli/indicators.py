"""``python -m geo indicators list|show|import|export|set-target|snapshot|add-editor``."""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from geo import settings
from geo.cli import add_commands
from geo.errors import AtlasError, os_reason
from geo.i18n import fmt_number, t

PASSWORD_ENV = settings.EDITOR_PASSWORD_ENV
NEW_PASSWORD_ENV = settings.NEW_EDITOR_PASSWORD_ENV


def register(subparsers: Any, lang: str = "en") -> None:
    """Add the ``indicators`` command and its sub-commands, their help in ``lang``."""
    def h(name: str, **params: Any) -> str:
        return t(f"ind_cli.{name}", lang, **params)

    p = subparsers.add_parser("indicators", help=h("help"), description=h("help"))
    sub = add_commands(p, "indicators_command", lang)

    ls = sub.add_parser("list", help=h("list_help"), description=h("list_help"))
    ls.set_defaults(func=cmd_list)

    sh = sub.add_parser("show", help=h("show_help"), description=h("show_help"))
    sh.add_argument("indicator", help=h("arg_indicator"))
    sh.add_argument("--unit", help=h("arg_unit_show"))
    sh.set_defaults(func=cmd_show)

    im = sub.add_parser("import", help=h("import_help"), description=h("import_help"))
    im.add_argument("file", help=h("arg_import_file"))
    im.add_argument("--user", required=True, help=h("arg_user", env=PASSWORD_ENV))
    im.add_argument("--dry-run", action="store_true", help=h("arg_dry_run"))
    im.add_argument("--replace", action="store_true", help=h("arg_replace"))
    im.set_defaults(func=cmd_import)

    ex = sub.add_parser("export", help=h("export_help"), description=h("export_help"))
    ex.add_argument("--out", required=True, help=h("arg_export_out"))
    ex.add_argument("--history", action="store_true", help=h("arg_history"))
    ex.set_defaults(func=cmd_export)

    tg = sub.add_parser("set-target", help=h("set_target_help"), description=h("set_target_help"))
    tg.add_argument("indicator", help=h("arg_indicator"))
    tg.add_argument("year", help=h("arg_year"))
    tg.add_argument("op", choices=(">", ">=", "<", "<="), help=h("arg_op"))
    tg.add_argument("value", help=h("arg_value"))
    tg.add_argument("--source", required=True, help=h("arg_source"))
    tg.add_argument("--unit", default=None, help=h("arg_unit_target"))
    tg.add_argument("--breakdown", action="store_true", help=h("arg_breakdown"))
    tg.add_argument("--user", required=True, help=h("arg_user", env=PASSWORD_ENV))
    tg.set_defaults(func=cmd_set_target)

    sn = sub.add_parser("snapshot", help=h("snapshot_help"), description=h("snapshot_help"))
    sn.add_argument("indicator", help=h("arg_indicator"))
    sn.add_argument("--level", choices=("province", "city", "ward"), default="city", help=h("arg_level"))
    sn.add_argument("--user", required=True, help=h("arg_user", env=PASSWORD_ENV))
    sn.set_defaults(func=cmd_snapshot)

    ft = sub.add_parser("framework-template", help=h("fw_template_help"), description=h("fw_template_help"))
    ft.add_argument("--out", required=True, help=h("arg_fw_out"))
    ft.set_defaults(func=cmd_framework_template)
    fl = sub.add_parser("framework-load", help=h("fw_load_help"), description=h("fw_load_help"))
    fl.add_argument("file", help=h("arg_fw_file"))
    fl.add_argument("--user", required=True, help=h("arg_user", env=PASSWORD_ENV))
    fl.set_defaults(func=cmd_framework_load)
    fv = sub.add_parser("frameworks", help=h("frameworks_help"), description=h("frameworks_help"))
    fv.set_defaults(func=cmd_frameworks)

    ae = sub.add_parser("add-editor", help=h("add_editor_help"), description=h("add_editor_help"))
    ae.add_argument("username", help=h("arg_new_editor", env=NEW_PASSWORD_ENV))
    ae.add_argument("--name", default="", help=h("arg_display_name"))
    ae.add_argument("--by", default=None, help=h("arg_by", env=PASSWORD_ENV, new_env=NEW_PASSWORD_ENV))
    ae.set_defaults(func=cmd_add_editor)


def _lang(args: argparse.Namespace) -> str:
    return getattr(args, "lang", "en") or "en"


def _password(prompt: str, env: str = PASSWORD_ENV) -> str:
    pw = settings.editor_password(new=env == NEW_PASSWORD_ENV)
    if pw is not None:
        return pw
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return getpass.getpass(prompt)


def _sign_in(args: argparse.Namespace):
    from geo.auth import authenticate

    return authenticate(args.user, _password(t("ind_cli.password_prompt", _lang(args), user=args.user)), cli=True)


def _fmt_target(tg, lang: str) -> str:
    return f"{tg.year}: {tg.op} {fmt_number(tg.value, lang)}"


def cmd_list(args: argparse.Namespace) -> int:
    from geo.indicators import load_framework
    from geo.store import Store

    lang = _lang(args)
    fw = load_framework()
    store = Store(framework=fw, units=())
    print("\t".join(t(f"ind_cli.col_{c}", lang) for c in ("id", "name", "unit", "method", "targets")))
    for ind in fw.indicators.values():
        targets = "; ".join(_fmt_target(tg, lang) for tg in store.targets(ind.id)) or t("ind_cli.no_target", lang)
        print("\t".join([ind.id, ind.name(lang), fw.units[ind.unit].label(lang),
                         t(f"readiness.method_{ind.method}", lang), targets]))
    return 0


def _targets_line(fw, store, ind, lang: str, units: dict) -> str:
    """Every target in force: the province-wide ones marked as such, then each unit's own."""
    from geo.indicators import marked_target

    spec = fw.units[ind.unit]
    parts = [f"{tg.year}: {marked_target(tg, spec, lang, province_mark=True)}" for tg in store.targets(ind.id)]
    for uid in sorted(store.units_with_targets(ind.id)):
        name = units[uid].name if uid in units else uid
        parts.extend(f"{name} {tg.year}: {marked_target(tg, spec, lang)}" for tg in store.unit_targets(ind.id, uid))
    return "; ".join(parts) or t("ind_cli.no_target", lang)


def _row_line(row: dict) -> str:
    """A unit's status, and the 2025/2030 targets that judge it, as on the scorecard."""
    shown = [f"{y}: {row[f'target_{y}']}" for y in (2025, 2030) if row[f"target_{y}"] != "—"]
    return "\t".join([row["status_text"], *shown])


def cmd_show(args: argparse.Namespace) -> int:
    """Values, history, status and gap of one indicator — per unit the very row of the readiness
    scorecard (``geo.indicators.scorecard_row`` on ``unit_targets``): a unit's own targets, or
    the province-wide ones marked as such; the same status and gap as the page and the deck."""
    from geo.indicators import (
        compute_indicator,
        computed_values,
        fmt_when,
        load_framework,
        scorecard_row,
        unit_targets,
    )
    from geo.store import Store
    from geo.units import find, units_by_id

    lang = _lang(args)
    fw = load_framework()
    ind = fw.indicator(args.indicator)
    store = Store(framework=fw)
    units = units_by_id()
    only = None
    if args.unit:
        only = find(args.unit)
        if only is None:
            raise AtlasError("store_errors.unknown_unit", unit=args.unit)
        if only.level not in ind.scope and only.id not in store.units_with_targets(ind.id):
            raise AtlasError("store_errors.unit_not_in_scope", unit=only.name, indicator=ind.id)
    spec = fw.units[ind.unit]
    print(f"{ind.id} — {ind.name(lang)}")
    print(f"{t('ind_cli.col_unit', lang)}: {spec.label(lang)} · {t(f'readiness.direction_{ind.direction}', lang)}"
          f" · {t(f'readiness.method_{ind.method}', lang)}")
    print(f"{t('common.source', lang)}: {fw.source_text(ind.source, lang)}")
    if ind.note(lang):
        print(ind.note(lang))
    print(f"{t('ind_cli.col_targets', lang)}: {_targets_line(fw, store, ind, lang, units)}")
    print()

    def judged(uid: str, name: str, hist: list, pop=None, cov=None) -> dict:
        unit = units.get(uid)
        if unit is None:
            own, province = [], list(store.targets(ind.id))
            level = "province"
        else:
            own, province = unit_targets(store, ind, unit)
            level = unit.level
        return scorecard_row(fw, ind, name, hist, own, province, lang, pop, cov, level)

    if ind.computed:
        levels = [only.level] if only else [lv for lv in ("province", "city") if lv in ind.scope]
        for level in levels:
            df = compute_indicator(ind, level)
            if only is not None:
                df = df[df["unit_key"] == only.id]
            for row in df.itertuples():
                live = computed_values(ind, df[df["unit_key"] == row.unit_key], fw.computed_period)
                saved = [v for v in store.history(ind.id, row.unit_key) if v.period != fw.computed_period]
                card = judged(row.unit_key, row.unit_name, saved + live, float(row.population),
                              float(row.covered_population))
                print(f"{row.unit_name}\t{fw.computed_period}\t{card['value_text']}\t"
                      f"{fmt_number(round(row.covered_population), lang)}/{fmt_number(round(row.population), lang)}"
                      f"\t{_row_line(card)}")
                for v in saved:
                    print(f"  {v.period}\t{fmt_number(v.value, lang, 1)}%\tv{v.version}\t{v.entered_by}\t{fmt_when(v.entered_at)}")
                print("  " + card["gap"])
        return 0
    hist = store.history(ind.id, only.id if only else None)
    by_unit: dict[str, list] = {}
    for v in hist:
        by_unit.setdefault(v.unit_id, []).append(v)
    if only is not None:
        by_unit.setdefault(only.id, [])
    if not by_unit:
        print(t("ind_cli.no_values", lang))
    for uid, vals in by_unit.items():
        name = units[uid].name if uid in units else uid
        card = judged(uid, name, vals)
        print(f"{name}: {_row_line(card)}")
        for v in vals:
            print(f"  {v.period}\t{fmt_number(v.value, lang)}\tv{v.version}\t{fw.source_text(v.source, lang)}"
                  f"\t{v.evidence}\t{v.evidence_url}\t{v.entered_by}\t{fmt_when(v.entered_at)}".rstrip())
        print("  " + card["gap"])
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from geo.store import ImportRejected, Store

    lang = _lang(args)
    store = Store()
    editor = _sign_in(args)
    try:
        report = store.import_file(editor, args.file, dry_run=args.dry_run, replace=args.replace)
    except ImportRejected as rej:
        for e in rej.report.errors:
            sys.stderr.write(f"{t('store_errors.col_row', lang)} {e.row} [{e.column}]: {e.message(lang)}\n")
        raise
    key = "ind_cli.import_checked" if args.dry_run else "ind_cli.imported"
    print(t(key, lang, n=report.rows if args.dry_run else report.written, replaced=report.replaced,
            skipped=report.skipped_blank))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from geo.store import Store, write_table

    lang = _lang(args)
    df = Store().export_frame(lang, history=args.history)
    path = write_table(df, args.out)
    print(t("ind_cli.exported", lang, n=len(df), path=str(path)))
    return 0


def cmd_set_target(args: argparse.Namespace) -> int:
    from geo.store import Store

    lang = _lang(args)
    store = Store()
    editor = _sign_in(args)
    if getattr(args, "unit", None):
        from geo.units import find

        unit = find(args.unit, units=store.units)
        if unit is None:
            raise AtlasError("store_errors.unknown_unit", unit=args.unit)
        current = max((x.version for x in store.recorded_unit_targets(args.indicator, unit.id)
                       if str(x.year) == str(args.year)), default=0)
        tg = store.record_unit_target(editor, args.indicator, unit.id, args.year, args.op, args.value, args.source,
                                      breakdown=args.breakdown, expected_version=current)
        print(t("ind_cli.target_saved", lang, indicator=f"{args.indicator} ({unit.name})",
                target=_fmt_target(tg, lang)))
        return 0
    current = max((tg.version for tg in store.recorded_targets(args.indicator) if str(tg.year) == str(args.year)),
                  default=0)
    tg = store.record_target(editor, args.indicator, args.year, args.op, args.value, args.source,
                             expected_version=current)
    print(t("ind_cli.target_saved", lang, indicator=args.indicator, target=_fmt_target(tg, lang)))
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    from geo.indicators import compute_indicator, load_framework
    from geo.store import Store

    lang = _lang(args)
    fw = load_framework()
    ind = fw.indicator(args.indicator)
    store = Store(framework=fw)
    editor = _sign_in(args)
    if not ind.computed:
        raise AtlasError("indicators.not_computed", indicator=ind.id)
    n = store.record_snapshot(editor, ind.id, compute_indicator(ind, args.level), fw.computed_period)
    print(t("readiness.snapshot_saved", lang, n=n, year=str(fw.computed_period)))
    return 0


def cmd_add_editor(args: argparse.Namespace) -> int:
    """The first editor of a workspace is added freely (by whoever runs the server); any later
    one needs ``--by`` an existing editor's credentials (``geo.auth.add_editor``). The new
    editor's password comes from ``$ATLAS_NEW_EDITOR_PASSWORD`` or a prompt in both cases."""
    from geo.auth import add_editor, authenticate

    lang = _lang(args)
    by = None
    if args.by:
        by = authenticate(args.by, _password(t("ind_cli.password_prompt", lang, user=args.by)), cli=True)
    # the new editor's password: always $ATLAS_NEW_EDITOR_PASSWORD (or a prompt), first editor or not
    # (README "Editors"); $ATLAS_EDITOR_PASSWORD is only ever the signing-in editor's (--by/--user)
    pw = _password(t("ind_cli.new_password_prompt", lang, user=args.username), NEW_PASSWORD_ENV)
    if settings.editor_password(new=True) is None and sys.stdin.isatty():
        if getpass.getpass(t("ind_cli.repeat_password_prompt", lang)) != pw:
            raise AtlasError("editor_auth.password_mismatch")
    path = add_editor(args.username, pw, args.name, by=by)
    print(t("ind_cli.editor_added", lang, user=args.username.strip().lower(), path=path.name))
    return 0


def cmd_framework_template(args: argparse.Namespace) -> int:
    from pathlib import Path

    from geo.frameworks import active_framework, template_xlsx

    lang = _lang(args)
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise AtlasError("store_errors.bad_format", path=str(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(template_xlsx(active_framework(), lang))
    except OSError as exc:
        raise AtlasError("errors.unwritable", path=str(out), reason=os_reason(exc)) from None
    print(t("ind_cli.fw_template_written", lang, path=str(out)))
    return 0


def cmd_framework_load(args: argparse.Namespace) -> int:
    from geo.frameworks import FrameworkRejected, load_version
    from geo.store import Store

    lang = _lang(args)
    store = Store()
    editor = _sign_in(args)
    try:
        v = load_version(store, editor, args.file)
    except FrameworkRejected as rej:
        for e in rej.errors:
            sys.stderr.write(f"{e.row}\t{e.column}\t{e.message(lang)}\n")
        raise
    print(t("readiness.fw_loaded", lang, version=v.version, n=v.n_indicators))
    return 0


def cmd_frameworks(args: argparse.Namespace) -> int:
    from geo.frameworks import versions
    from geo.store import Store

    for v in versions(Store()):
        print("\t".join([str(v.version), v.file_name, v.loaded_by or "-", v.loaded_at or "-", str(v.n_indicators)]))
    return 0

"""The command line speaks the user's --lang also where argparse or the OS produce the text."""
from __future__ import annotations

import errno

import pytest

from geo.cli import argparse_message, argv_lang, main
from geo.errors import AtlasError, os_reason

ENGLISH = ("the following arguments", "invalid choice", "unrecognized arguments", "expected one argument",
           "No such file", "Permission denied", "File exists", "choose from")


@pytest.mark.parametrize("argv,needle", [
    (["coverage", "--facilities", "x", "--units", "y"], "thiếu tham số bắt buộc: --out"),
    (["coverage", "--facilities", "x", "--units", "y", "--mode", "foo", "--out", "o.csv"], "'foo' không hợp lệ"),
    (["layers", "--zz", "1"], "không nhận ra tham số"),
    (["print", "--unit"], "thiếu giá trị"),
    (["nosuch"], "'nosuch' không hợp lệ"),
])
def test_argparse_refusals_in_vietnamese(capsys, argv, needle):
    with pytest.raises(SystemExit) as exit_:
        main(["--lang", "vi", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0]
    assert not any(e in err[0] for e in ENGLISH)


def test_argparse_refusals_stay_english_in_english(capsys):
    with pytest.raises(SystemExit):
        main(["--lang", "en", "coverage", "--facilities", "x", "--units", "y"])
    assert "the following arguments are required: --out" in capsys.readouterr().err


def test_message_language_comes_from_the_global_option_only(monkeypatch):
    assert argv_lang(["--lang", "vi", "print", "--lang", "en"]) == "vi"
    assert argv_lang(["--lang=en", "coverage"]) == "en"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for system, other in (("en_US.UTF-8", "vi"), ("vi_VN.UTF-8", "en")):
        monkeypatch.setenv("LANG", system)
        # a --lang after the command is the map language, not the messages': the system's stays
        assert argv_lang(["print", "--lang", other]) == system[:2]
    assert argparse_message("something argparse never says", "vi") == "something argparse never says"


@pytest.mark.parametrize("code,vi", [(errno.ENOENT, "không có tệp hay thư mục"), (errno.EEXIST, "đã tồn tại"),
                                     (errno.EACCES, "không có quyền"), (errno.ENOSPC, "hết chỗ")])
def test_os_reasons_are_translated_in_the_message_language(code, vi):
    err = AtlasError("errors.unwritable", path="/x/y.csv", reason=os_reason(OSError(code, "English text")))
    assert vi in err.message("vi") and "English text" not in err.message("vi")
    assert "English text" not in err.message("en") and "y.csv" in err.message("en")


def test_cli_write_failure_reason_in_vietnamese(tmp_path, capsys):
    out = tmp_path / "missing_folder_file"
    out.write_text("x")  # a file where a folder is expected: the OS refuses with ENOTDIR
    rc = main(["--lang", "vi", "export", "districts", "--format", "geojson", "--out", str(out / "d.geojson")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ")
    assert not any(e in err for e in ENGLISH) and "Not a directory" not in err


# --- --help in the message language ------------------------------------------------------------

ARGPARSE_ENGLISH = ("usage:", "positional arguments", "options:", "optional arguments", "show this help message",
                    "COMMAND", "commands:")

# runs `python -m geo` as the entry point does (sys.argv, main()) for each command line in turn,
# in one fresh process per environment (each `python -m geo` start-up imports the science stack)
_HELP_DRIVER = """
import json, sys
from geo.cli import main
for argv in json.loads(sys.argv[1]):
    sys.argv = ["geo", *argv]
    try:
        main()
    except SystemExit:
        pass
    sys.stdout.write("\\n@@END@@\\n")
"""


def _command_paths() -> list[list[str]]:
    """Every command line with its own --help: the top level, each command, each sub-command."""
    import argparse

    from geo.cli import build_parser

    paths: list[list[str]] = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        paths.append(path)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, [*path, name])

    walk(build_parser("en"), [])
    return paths


def _parser_of(path: list[str], lang: str):
    import argparse

    from geo.cli import build_parser

    parser = build_parser(lang)
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def _catalog_texts(path: list[str], lang: str) -> list[str]:
    """The description and every argument help of a command in ``lang`` (from the catalog)."""
    parser = _parser_of(path, lang)
    texts = [parser.description, parser.epilog] + [a.help for a in parser._actions if a.help and a.help != "==SUPPRESS=="]
    return [" ".join(x.split()) for x in texts if x]


def _helps(argvs: list[list[str]], lang_env: str) -> list[str]:
    import json
    import os
    import subprocess
    import sys

    from geo.settings import REPO_ROOT

    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    env.update(LANG=lang_env, PYTHONIOENCODING="utf-8")
    p = subprocess.run([sys.executable, "-c", _HELP_DRIVER, json.dumps(argvs)], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert p.returncode == 0, p.stderr
    outs = p.stdout.split("\n@@END@@\n")[:-1]
    assert len(outs) == len(argvs)
    return outs


def _english_metavars() -> list[str]:
    from geo.i18n import catalog

    return [v["en"] for k, v in catalog().items() if k.startswith("cli_metavar.") and v["en"] != v["vi"]]


def _assert_vietnamese_help(out: str, path: list[str]) -> None:
    import re

    assert out.startswith("cách dùng: python -m geo"), out[:200]
    assert "tùy chọn:" in out and "in trợ giúp này rồi thoát" in out
    for word in ARGPARSE_ENGLISH:
        assert word not in out, (path, word)
    usage = out.split("\n\n")[0]
    for en in _english_metavars():
        assert not re.search(rf"(?<![\w-]){re.escape(en)}(?![\w-])", usage), (path, en, usage)
    flat = " ".join(out.split())
    vi_texts, en_texts = _catalog_texts(path, "vi"), _catalog_texts(path, "en")
    for vi, en in zip(vi_texts, en_texts):
        assert vi in flat, (path, vi)
        if en != vi:
            assert en not in flat, (path, en)
    # each catalog text has a Vietnamese translation (not the English one copied)
    assert all(vi != en for vi, en in zip(vi_texts, en_texts) if "$" not in en), path


def test_help_of_every_command_in_vietnamese_with_lang_vi():
    paths = _command_paths()
    assert len(paths) > 15  # top level, ten commands, the indicators sub-commands
    for path, out in zip(paths, _helps([["--lang", "vi", *p, "--help"] for p in paths], "en_US.UTF-8")):
        _assert_vietnamese_help(out, path)


def test_help_of_every_command_in_vietnamese_from_the_system_locale():
    paths = _command_paths()
    for path, out in zip(paths, _helps([[*p, "--help"] for p in paths], "vi_VN.UTF-8")):
        _assert_vietnamese_help(out, path)


def test_help_stays_english_with_lang_en_on_a_vietnamese_system():
    paths = _command_paths()
    for path, out in zip(paths, _helps([["--lang", "en", *p, "--help"] for p in paths], "vi_VN.UTF-8")):
        assert out.startswith("usage: python -m geo"), out[:200]
        assert "show this help message and exit" in out and "cách dùng" not in out
        flat = " ".join(out.split())
        assert all(en in flat for en in _catalog_texts(path, "en")), path


@pytest.mark.parametrize("argv,lang_env,first,text", [
    (["--help"], "vi_VN.UTF-8", "cách dùng: python -m geo", "Dòng lệnh của Atlas Đô thị thông minh Thái Nguyên"),
    (["--lang", "vi", "coverage", "--help"], "C.UTF-8", "cách dùng: python -m geo coverage",
     "Độ bao phủ dịch vụ theo đơn vị: số người"),
    (["--help"], "C.UTF-8", "usage: python -m geo", "Thái Nguyên Smart-City Atlas command line"),
])
def test_help_through_the_real_entry_point(argv, lang_env, first, text):
    import os
    import subprocess
    import sys

    from geo.settings import REPO_ROOT

    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    env.update(LANG=lang_env, PYTHONIOENCODING="utf-8")
    p = subprocess.run([sys.executable, "-m", "geo", *argv], cwd=REPO_ROOT, env=env, capture_output=True,
                       text=True, encoding="utf-8", timeout=120)
    assert p.returncode == 0 and p.stdout.startswith(first) and text in " ".join(p.stdout.split()), p.stdout[:300]

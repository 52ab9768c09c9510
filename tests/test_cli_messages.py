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


def test_message_language_comes_from_the_global_option_only():
    assert argv_lang(["--lang", "vi", "print", "--lang", "en"]) == "vi"
    assert argv_lang(["--lang=en", "coverage"]) == "en"
    assert argv_lang(["print", "--lang", "vi"]) in ("vi", "en")  # the map language, not the messages'
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

"""The handed import cases and hostile files on the Data page, as a new user meets them
(AppTest runs the page in a thread, so reads go through the reader's forkserver child)."""
from __future__ import annotations

import json
from html import unescape
from pathlib import Path

import pytest

from tests import hostile as H
from tests.pages.test_data_page import page

CASES = Path(__file__).resolve().parents[1] / "data" / "import_cases"


@pytest.fixture(autouse=True)
def _workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_WORKSPACE", str(tmp_path / "ws.gpkg"))
    monkeypatch.chdir(Path(__file__).resolve().parents[2])


def _ok_cases() -> list[Path]:
    out = []
    for p in sorted(CASES.iterdir()):
        if p.suffix in (".json", ".md"):
            continue
        exp = json.loads(p.with_name(p.name.rsplit(".", 1)[0] + ".expect.json").read_text(encoding="utf-8"))
        if exp["expect"] == "ok":
            out.append(p)
    return out


@pytest.mark.parametrize("data", _ok_cases(), ids=lambda p: p.name[:2])
def test_handed_case_on_the_data_page(data):
    exp = json.loads(data.with_name(data.name.rsplit(".", 1)[0] + ".expect.json").read_text(encoding="utf-8"))
    at = page(pending=(data.name, data.read_bytes()))
    assert not at.error, [e.value for e in at.error]
    report = at.text[0].value
    n = exp["feature_count"]
    assert f"Features: {n} (read {n})" in report and "NOT ALL IMPORTED" not in report
    frame = at.dataframe[0].value
    text = " ".join(str(v) for v in frame.to_numpy().ravel())
    assert "\ufffd" not in text
    if "names" in exp and exp.get("name_column") in frame.columns:
        assert list(frame[exp["name_column"]])[:20] == exp["names"][:20]


def test_lossy_file_is_a_warning_naming_the_rows(tmp_path):
    p = tmp_path / "thieu.csv"
    p.write_text("ten,lat,lon\nA,21.5,105.8\nTrạm B,,\nC,21.6,105.9\n", encoding="utf-8")
    at = page(pending=(p.name, p.read_bytes()))
    warns = " ".join(unescape(w.value) for w in at.warning)
    assert "NOT ALL IMPORTED: 1 of the 3" in warns and "3 (Trạm B)" in warns


@pytest.mark.parametrize("max_rows, words", [(None, "expands its nested blocks into 100,000,000 objects"),
                                             (10**9, "needed over 2 seconds of processing")])
def test_block_bomb_is_one_sentence_on_the_page(tmp_path, monkeypatch, max_rows, words):
    monkeypatch.setenv("ATLAS_READ_SECONDS", "2")
    if max_rows:  # past the block count: the reading child's budget stops it
        monkeypatch.setenv("ATLAS_MAX_ROWS", str(max_rows))
    bomb = H.make_dxf_block_bomb(tmp_path)
    at = page(pending=(bomb.name, bomb.read_bytes()))
    errors = [unescape(e.value) for e in at.error]
    assert len(errors) == 1 and words in errors[0] and "Traceback" not in errors[0]
    assert not at.dataframe

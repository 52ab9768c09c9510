"""Crafted links never crash a page: every URL parameter is validated and clamped, an invalid
one is dropped with a notice; a page failure shows one sentence, never a traceback or a path."""
from __future__ import annotations

import math

import pytest
from streamlit.testing.v1 import AppTest

from geo.i18n import t
from geo.settings import REPO_ROOT
from pages.url_codec import decode_state

HOSTILE = [
    {"zoom": "inf"}, {"zoom": "-1e400"}, {"zoom": "nan"}, {"bbox": "-180,-90,180,90"}, {"bbox": "nan,0,1,1"},
    {"bbox": "1,2,3"}, {"center": "1e308,1e308"}, {"center": "abc,def"},
    {"layers": ",".join(f"communes{i}" for i in range(3000))}, {"layers": "communes," * 400},
    {"view": "9" * 30, "present": "1"}, {"view": "١٢"}, {"unit": "districts:" + "9" * 400},
    {"indicator": "districts:![x](http://e.org/i.png)"}, {"lang": "xx"}, {"basemap": "<script>"},
]


@pytest.mark.parametrize("params", HOSTILE, ids=lambda p: ",".join(p))
def test_decoded_state_is_finite_and_clamped(params):
    dropped: list[str] = []
    state = decode_state(params, dropped)
    for key in ("bbox", "center"):
        assert all(math.isfinite(v) for v in state.get(key, []))
    if "bbox" in state:
        w, s, e, n = state["bbox"]
        assert -180 <= w < e <= 180 and -85.06 < s < n < 85.06   # Web-Mercator range
    assert 0 <= state.get("zoom", 0) <= 22
    assert len(state.get("layers", [])) <= 20 and state.get("view", 0) < 1000
    for key in ("unit", "indicator"):
        assert "(" not in state.get(key, "") and len(state.get(key, "")) <= 100
    assert set(dropped) <= set(params)   # only given parameters are reported
    if params.get("zoom") in ("inf", "nan") or "lang" in params or "basemap" in params:
        assert dropped   # a value that cannot be used is reported, never silently replaced


def test_valid_parameters_survive_untouched():
    dropped: list[str] = []
    state = decode_state({"layers": "districts,communes", "bbox": "105.8,21.5,105.9,21.6", "zoom": "12",
                          "unit": "districts:165", "indicator": "districts:population_2019", "lang": "en"}, dropped)
    assert dropped == []
    assert state["layers"] == ["districts", "communes"] and state["bbox"] == [105.8, 21.5, 105.9, 21.6]
    assert state["zoom"] == 12 and state["unit"] == "districts:165" and state["lang"] == "en"


@pytest.mark.parametrize("page", ["map_explorer.py", "export.py"])
def test_crafted_links_never_crash_a_page(page, workspace_file):
    for params in ({"zoom": "inf", "bbox": "-180,-90,180,90", "view": "9" * 30, "present": "1"},
                   {"center": "nan,nan", "layers": ",".join(["x"] * 3000), "indicator": "a:![i](http://e.org/i.png)"}):
        at = AppTest.from_file(str(REPO_ROOT / "pages" / page), default_timeout=180)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, at.exception
        notices = [w.value for w in at.warning]
        assert any(t("errors.url_dropped", "vi", names="").split(":")[0] in n for n in notices), notices


def test_page_runner_shows_one_sentence_and_logs_the_details(tmp_path, caplog):
    secret = str(tmp_path / "server" / "secret.gpkg")
    bad_page = tmp_path / "broken.py"
    bad_page.write_text(f"raise RuntimeError({secret!r})\n", encoding="utf-8")
    script = tmp_path / "runner.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(REPO_ROOT)!r})\nimport streamlit as st\nfrom pages.web import run_page\n"
        f"run_page(st.navigation([st.Page({str(bad_page)!r}, title='x')]))\n", encoding="utf-8")
    with caplog.at_level("ERROR", logger="atlas"):
        at = AppTest.from_file(str(script), default_timeout=60).run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert shown == t("errors.page_failed", "vi")
    assert secret not in shown and "Traceback" not in shown
    assert secret in caplog.text   # the details go to the server log


def test_streamlit_error_details_are_off():
    import tomllib

    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"

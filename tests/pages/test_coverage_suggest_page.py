"""Coverage page section "where to build next" (pages/coverage_suggest.py) through AppTest:
a planner picks a unit and a budget, sees the sites, curve and per-unit gain, sends them to
the what-if — and the what-if (the coverage engine) agrees with the suggestion."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from geo import suggest as sg
from geo.catalog import load_layer

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "coverage.py")
CITY = "Thành phố Sông Công"


@pytest.fixture(autouse=True)
def _workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_WORKSPACE", str(tmp_path / "ws.gpkg"))


def run(at: AppTest) -> AppTest:
    at.run(timeout=300)
    assert not at.exception, [e.message for e in at.exception]
    return at


def num(v: str) -> float:
    return float(str(v).replace(",", ""))


def test_suggest_send_to_whatif_and_agree():
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_facilities"] = "health"
    at.session_state["cov_units"] = "districts"
    run(at)
    names = list(load_layer("districts")["name"])
    at.selectbox(key="sug_scope").set_value(names.index(CITY))
    at.number_input(key="sug_budget").set_value(2)
    at.number_input(key="sug_time").set_value(5)
    next(b for b in at.button if b.label == "Suggest sites").click()
    run(at)
    ctx, s = at.session_state["sug_result"]
    assert len(s.sites) == 2 and s.gain > 0
    text = "\n".join(m.value for m in at.markdown)
    assert "Adding 2 new sites" in text and "Method:" in text
    assert sg.sentences(s, "en", "a health facility")[0] in text
    # the per-unit table names the city with its before/after shares
    assert any(CITY in list(df.value.iloc[:, 0]) for df in at.dataframe)
    # one click: the sites go into the what-if scenario
    at.button(key="sug_send").click()
    run(at)
    added = at.session_state["cov_added"]
    assert np.allclose(np.array(added)[-2:], np.array(sg.sites_lonlat(s)))
    comp = next(df.value for df in at.dataframe if "Covered after" in df.value.columns)
    row = comp[comp.iloc[:, 0] == CITY].iloc[0]
    unit = s.by_unit.iloc[0]
    assert abs(num(row["Covered after"]) - round(unit["covered_after"])) <= 1
    assert abs(num(row["Covered before"]) - round(unit["covered_before"])) <= 1


def test_suggest_section_in_vietnamese_offers_downloads():
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "vi"
    at.session_state["cov_facilities"] = "health"
    at.session_state["cov_units"] = "districts"
    run(at)
    names = list(load_layer("districts")["name"])
    at.selectbox(key="sug_scope").set_value(names.index(CITY))
    at.number_input(key="sug_budget").set_value(1)
    at.number_input(key="sug_time").set_value(5)
    next(b for b in at.button if b.label == "Gợi ý vị trí").click()
    run(at)
    text = "\n".join(m.value for m in at.markdown)
    assert "Thêm 1 điểm mới" in text
    labels = {b.label for b in at.get("download_button")}
    assert {"Tải vị trí (CSV)", "Tải vị trí (GeoJSON)", "Tải vị trí (GeoPackage)"} <= labels

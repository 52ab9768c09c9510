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


pytestmark = pytest.mark.usefixtures("workspace_file")


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
    # the planner may send only some of the sites: here #2 alone
    next(m for m in at.multiselect if m.key.startswith("sug_send_ranks")).set_value([2])
    at.button(key="sug_send").click()
    run(at)
    again = at.session_state["cov_added"]
    assert len(again) == len(added) + 1 and np.allclose(again[-1], sg.sites_lonlat(s)[1])


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
    assert {"Tải vị trí (CSV)", "Tải vị trí (GeoJSON)", "Tải vị trí (GeoPackage)", "Tải bảng theo đơn vị (CSV)",
            "Tải đường cong bao phủ (CSV)"} <= labels
    _, s = at.session_state["sug_result"]
    units = sg.units_export_frame(s)
    assert units["people_added"].sum() == pytest.approx(s.gain, abs=len(units))
    assert list(sg.curve_export_frame(s, "vi")["n_sites"]) == list(range(len(s.curve)))


def test_candidates_from_an_upload_exclusions_from_a_saved_layer(monkeypatch):
    """A planner uploads a candidate-site file and picks a saved polygon layer as exclusion
    zones: the answer uses only uploaded sites outside the zones, and says how many were
    dropped."""
    # the reader's wall clock also counts starting its forkserver (a new interpreter that
    # imports geopandas): on a loaded 2-core CI machine that alone can pass 10 s
    monkeypatch.setenv("ATLAS_READ_SECONDS", "120")
    import geopandas as gpd
    import shapely

    from geo import workspace
    from geo.auth import configure_test_editor

    city = load_layer("districts")
    city = city[city["name"] == CITY].to_crs(9213)
    pts = city.sample_points(6, rng=4).explode().to_numpy()
    xy = shapely.get_coordinates(pts)
    zone = shapely.buffer(pts[0], 50.0)  # a 50 m zone round the first candidate only
    workspace.save_layer("Vùng cấm", gpd.GeoDataFrame({"ten": ["Đất quốc phòng"]}, geometry=[zone], crs=9213)
                         .to_crs(4326), editor=configure_test_editor()[1])
    upload = gpd.GeoDataFrame({"name": [f"Lô {i}" for i in range(len(xy))]}, geometry=shapely.points(xy),
                              crs=9213).to_crs(4326).to_json().encode("utf-8")
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_facilities"] = "health"
    at.session_state["cov_units"] = "districts"
    run(at)
    names = list(load_layer("districts")["name"])
    at.selectbox(key="sug_scope").set_value(names.index(CITY))
    at.selectbox(key="sug_cand").set_value("__upload__")
    at.selectbox(key="sug_excl").set_value("ws:Vùng cấm")
    at.file_uploader(key="sug_cand_file").set_value(("lo_dat.geojson", upload, "application/geo+json"))
    at.number_input(key="sug_budget").set_value(5)
    at.number_input(key="sug_time").set_value(5)
    next(b for b in at.button if b.label == "Suggest sites").click()
    run(at)
    _, s = at.session_state["sug_result"]
    labels = set(s.sites["label"])
    assert labels and labels <= {f"Lô {i}" for i in range(1, len(xy))}  # never the excluded "Lô 0"
    captions = "\n".join(c.value for c in at.caption)
    assert "1 dropped inside exclusion zones" in captions
    # an uploaded point file as exclusion zones is refused with one sentence; the answer stays
    at.selectbox(key="sug_excl").set_value("__upload__")
    at.file_uploader(key="sug_excl_file").set_value(("diem.geojson", upload, "application/geo+json"))
    next(b for b in at.button if b.label == "Suggest sites").click()
    run(at)
    assert any("'diem.geojson' is not made of polygons" in e.value for e in at.error)
    assert at.session_state["sug_result"][1] is s


def test_suggestion_map_basemap_and_outlines():
    """The suggestion map follows the app's basemap (none: no tile request at all) and draws
    the unit outlines with their names, the exclusion zones and the numbered sites."""
    import geopandas as gpd

    from layers.render import standalone_html
    from layers.suggest_sites import suggestion_map

    units = load_layer("districts")
    city = units[units["name"] == CITY]
    c = city.to_crs(9213).geometry.iloc[0].representative_point()
    sites = gpd.GeoDataFrame({"rank": [1], "marginal_people": [1234.0]}, geometry=[c], crs=9213).to_crs(4326)
    zone = gpd.GeoDataFrame(geometry=[c.buffer(300)], crs=9213)
    fac = gpd.GeoDataFrame({"name": ["<b>Trạm</b>"]}, geometry=[c.buffer(1000).exterior.interpolate(0)], crs=9213)
    html = standalone_html(suggestion_map(sites, city, [CITY], fac, "en", "none", zone))
    assert "tile.openstreetmap" not in html and "basemaps.cartocdn" not in html and "arcgisonline" not in html
    assert CITY in html and "Unit outlines" in html and "Exclusion zones" in html and "Suggested sites" in html
    assert "#1: 1,234 more people" in html and "<b>Trạm</b>" not in html
    online = standalone_html(suggestion_map(sites, city, [CITY], fac, "en", "osm", zone))
    assert "tile.openstreetmap" in online

"""Coverage page through streamlit.testing.v1.AppTest (map = unknown component)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from geo import coverage as cov
from geo.auth import configure_test_editor
from geo.catalog import load_layer
from geo.population import census_grid

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "coverage.py")


pytestmark = pytest.mark.usefixtures("workspace_file")


def run(at: AppTest) -> AppTest:
    at.run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    return at


def frame_values(at: AppTest, idx: int = -1):
    return at.dataframe[idx].value


def num(values, lang: str = "en") -> np.ndarray:
    """Parse the page's formatted numbers back ("1,286,751" / "45.6%" in en; "1.286.751" / "45,6%" in vi)."""
    out = []
    for v in values:
        v = str(v).rstrip("%")
        v = v.replace(".", "").replace(",", ".") if lang == "vi" else v.replace(",", "")
        out.append(float(v) if v not in ("—", "no data", "không có dữ liệu") else np.nan)
    return np.array(out)


def test_default_view_matches_the_library():
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_facilities"] = "health"
    at.session_state["cov_units"] = "districts"
    run(at)
    # total sentence equals the library's own computation for the same inputs
    districts = load_layer("districts")
    grid = census_grid(load_layer("communes"), "population_2019")
    health = load_layer("infrastructure").query("category == 'health'")
    df = cov.coverage_by_unit(health, districts, grid, 2000, "level2_id", "name")
    people = ["population", "covered_population", "beyond_population"]
    # whole people (geo.service.round_people); OSM misses health stations: "at least" (issue 9 §3)
    want = cov.total_sentence(df.assign(**{c: df[c].round() for c in people}), "en",
                              cov.facility_label("health", "en"), radius_m=2000, lower_bound=True)
    assert any(h.value == want for h in at.subheader) and want.startswith("In total at least")
    table = frame_values(at)
    assert len(table) == 9
    beyond = num(table["Beyond reach"])
    assert (np.diff(beyond) <= 0).all()  # sorted by people beyond reach
    # numbers as the language writes them, people in whole persons, shares in %
    want_beyond = df.sort_values("beyond_population", ascending=False)["beyond_population"].round().to_numpy()
    np.testing.assert_allclose(beyond, want_beyond)
    assert all("," in v for v in table["Population"])
    assert all(v.endswith("%") or v == "no facility data" for v in table["Covered share"])
    none = num(table["Facilities known"]) == 0    # a district without a known health facility
    assert (table["Covered share"][none] == "no facility data").all()
    assert any("farther than 2 km" in m.value for m in at.markdown)
    labels = [b.label for b in at.get("download_button")]
    assert len(labels) == 5


def test_radius_change_reuses_cached_cells_and_changes_numbers():
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    run(at)
    first = num(frame_values(at)["People covered"]).sum()
    at.number_input(key="cov_radius").set_value(5000)
    run(at)
    second = num(frame_values(at)["People covered"]).sum()
    assert second > first
    # that only the threshold changes (no new per-cell cost) is the service's: tests/test_service.py


def test_what_if_from_seeded_click():
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "vi"
    at.session_state["cov_units"] = "cities"
    # a proposed health post in the middle of Võ Nhai-side of Thái Nguyên city and one in Phổ Yên
    at.session_state["cov_added"] = [[105.70, 21.62], [105.87, 21.42]]
    run(at)
    comp = frame_values(at, 0)
    assert len(comp) == 3
    change = num(comp["Thay đổi"], "vi")
    assert (change >= 0).all() and change.sum() > 0
    assert any("2 cơ sở đề xuất" in c.value for c in at.caption)


def test_network_mode_without_roads_says_so():
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_mode"] = "network"
    run(at)
    assert any("No routable road layer" in w.value for w in at.warning)


def test_2sfca_column_appears_when_asked():
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_units"] = "cities"
    at.session_state["cov_2sfca"] = True
    run(at)
    table = frame_values(at)
    col = [c for c in table.columns if "2SFCA" in c]
    access = num(table[col[0]])
    assert col and (access[~np.isnan(access)] >= 0).all() and (access > 0).any()


def test_network_mode_with_saved_workspace_layers(tmp_path):
    """A road layer and facilities saved in the workspace drive the network mode."""
    import geopandas as gpd
    import shapely

    from geo import workspace

    # a straight east-west road through Thái Nguyên city with one facility on it
    road = gpd.GeoDataFrame({"highway": ["primary"]},
                            geometry=[shapely.LineString([(105.78, 21.59), (105.90, 21.59)])], crs=4326)
    fac = gpd.GeoDataFrame({"name": ["Trạm thử"]}, geometry=[shapely.Point(105.84, 21.59)], crs=4326)
    workspace.save_layer("duong_thu", road, editor=configure_test_editor()[1])
    workspace.save_layer("tram_thu", fac, editor=configure_test_editor()[1])
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_units"] = "cities"
    at.session_state["cov_facilities"] = "ws:tram_thu"
    at.session_state["cov_mode"] = "network"
    at.session_state["cov_roads_saved"] = "duong_thu"
    at.session_state["cov_profile"] = "motorbike"
    at.session_state["cov_minutes"] = 10
    run(at)
    assert not at.warning or not any("No routable" in w.value for w in at.warning)
    assert any("Road layer: 1 segments" in c.value for c in at.caption)
    table = frame_values(at)
    assert "Median time (minutes)" in table.columns
    covered = dict(zip(table["Unit"], num(table["People covered"])))
    # only Thái Nguyên city is along the road: 10 min at 45 km/h ≈ 7.5 km each way
    assert covered["Thành phố Thái Nguyên"] > 0
    assert covered["Thành phố Sông Công"] == 0 and covered["Thành phố Phổ Yên"] == 0


def test_map_javascript_uses_only_identifier_property_keys():
    """folium writes a unique property key as ``feature.properties.<key>`` into JavaScript:
    a Vietnamese label with a space there broke the whole map."""
    import re

    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "vi"
    at.session_state["cov_units"] = "communes"
    at.session_state["cov_added"] = [[105.80, 21.60]]
    run(at)
    html = at.session_state["_cov_map"].get_root().render()
    keys = re.findall(r"feature\.properties\.([^\s)\];]+)", html)
    assert all(re.fullmatch(r"[A-Za-z_]\w*", k) for k in keys), set(keys)
    assert "Đơn vị" in html  # the labels are still translated (tooltip aliases)


def test_clear_forgets_added_and_closed_facilities():
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_units"] = "cities"
    at.session_state["cov_added"] = [[105.70, 21.62]]
    run(at)
    pick = at.multiselect(key="cov_closed_pick")
    assert not any(o.startswith("nan ") for o in pick.options)  # facilities without a name read "—"
    pick.set_value([int(pick.options[0].rsplit("#", 1)[1].rstrip(")"))])
    run(at)
    assert at.session_state["cov_closed"] and any("1 proposed, 1 closed" in c.value for c in at.caption)
    at.button(key="cov_clear").click()
    run(at)
    assert at.session_state["cov_closed"] == [] and at.session_state["cov_added"] == []
    assert at.multiselect(key="cov_closed_pick").value == []
    assert not any("proposed," in c.value for c in at.caption)  # no what-if section any more


def test_distance_input_only_where_it_is_used():
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_mode"] = "network"
    run(at)
    labels = [n.label for n in at.number_input]
    assert "Travel time (minutes)" in labels and "Distance (m)" not in labels
    at.radio(key="cov_limit").set_value("distance")
    run(at)
    labels = [n.label for n in at.number_input]
    assert "Distance (m)" in labels and "Travel time (minutes)" not in labels


def test_raster_missing_some_units_is_flagged(tmp_path):
    """A population GeoTIFF covering only part of the province: the page says which units hold nobody."""
    import rasterio
    from affine import Affine

    from geo import workspace

    # 5 km × 5 km of people around Thái Nguyên city centre, UTM 48N
    tif = tmp_path / "pop.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=50, height=50, count=1, dtype="float32", crs="EPSG:32648",
                       transform=Affine(100, 0, 586_000, 0, -100, 2_391_000)) as dst:
        dst.write(np.full((50, 50), 10, dtype="float32"), 1)
    workspace.save_raster("dan_so", tif, editor=configure_test_editor()[1])
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_pop"] = "ws:dan_so"
    run(at)
    assert any("holds nobody in" in w.value and "Huyện Võ Nhai" in w.value for w in at.warning)


def test_map_fits_the_chosen_units_and_identifiers_are_not_capacities():
    from folium.map import FitBounds

    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_units"] = "cities"
    at.session_state["cov_2sfca"] = True
    run(at)
    fits = [c for c in at.session_state["_cov_map"]._children.values() if isinstance(c, FitBounds)]
    d = load_layer("districts")
    minx, miny, maxx, maxy = d[d["smart_city"].fillna(False).astype(bool)].to_crs(4326).total_bounds
    assert fits and np.allclose(fits[-1].bounds, [[miny, minx], [maxy, maxx]])
    # osm_id is numeric but is no capacity
    assert "osm_id" not in at.selectbox(key="cov_capacity").options


def test_uploaded_facility_layer_asks_for_a_file_first():
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "vi"
    at.session_state["cov_facilities"] = "upload"
    run(at)
    assert any("Hãy tải lên lớp cơ sở" in i.value for i in at.info)
    assert not at.dataframe  # nothing computed without facilities


def test_saved_polygon_layer_can_be_the_units():
    import geopandas as gpd
    from shapely.geometry import box

    from geo import workspace

    zones = gpd.GeoDataFrame({"tên khu": ["Khu Bắc", "Khu Nam"]},
                             geometry=[box(105.70, 21.60, 106.00, 21.75), box(105.70, 21.40, 106.00, 21.60)], crs=4326)
    entry = workspace.save_layer("Khu quy hoạch", zones, editor=configure_test_editor()[1])
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_facilities"] = "health"
    at.session_state["cov_units"] = f"ws:Khu quy hoạch|{entry['saved_at']}"
    run(at)
    table = frame_values(at)
    assert sorted(table.iloc[:, 0]) == ["Khu Bắc", "Khu Nam"]
    # same numbers as the library on the same units and grid
    grid = census_grid(load_layer("communes"), "population_2019")
    health = load_layer("infrastructure").query("category == 'health'")
    df = cov.coverage_by_unit(health, zones.assign(uid=["1", "2"]), grid, 2000, "uid", "tên khu")
    got = dict(zip(table.iloc[:, 0], num(table["Population"])))
    for r in df.itertuples():
        assert got[r.unit_name] == pytest.approx(round(r.population))


def test_radius_defaults_to_the_category_service_radius():
    """The radius a question starts with is the category's (layers/catalog.toml), as in the
    deck, the indicators, the CLI and the exports; changing the category resets it."""
    from geo.catalog import service_reach

    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_facilities"] = "education"
    run(at)
    assert at.number_input(key="cov_radius").value == service_reach("education")[0] == 1000
    at.selectbox(key="cov_facilities").set_value("public_admin")
    run(at)
    assert at.number_input(key="cov_radius").value == service_reach("public_admin")[0]


def test_closing_every_facility_is_a_valid_scenario_and_clear_stops_click_adding():
    """Nobody is covered when every facility is closed (no crash, no server path), and
    "Clear scenario" also turns off adding facilities by clicking."""
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    at.session_state["cov_units"] = "cities"
    at.session_state["cov_facilities"] = "health"
    run(at)
    pick = at.multiselect(key="cov_closed_pick")
    every = [int(o.rsplit("#", 1)[1].rstrip(")")) for o in pick.options]
    assert every
    pick.set_value(every)
    at.toggle(key="cov_click_adds").set_value(True)
    run(at)
    assert not any("/work" in str(e.value) or "Traceback" in str(e.value) for e in at.error)
    table = frame_values(at)
    covered = [c for c in table.columns if c.startswith("Covered") or c == "Covered"]
    assert covered, list(table.columns)
    assert (num(table[covered[0]]) == 0).all()  # everyone beyond reach
    at.button(key="cov_clear").click()
    run(at)
    assert at.session_state["cov_click_adds"] is False
    assert at.session_state["cov_closed"] == []


def test_two_sessions_asking_the_same_question_share_one_cost_array():
    """Issue 13 §4: the per-cell costs, cells, answer and map are the server's, not each
    session's — a second session with the same question computes nothing and holds the very
    same objects; a session asking something else gets its own."""
    from pages.shared_data import coverage_service

    service = coverage_service()

    def session(units: str) -> AppTest:
        at = AppTest.from_file(PAGE)
        at.session_state["lang"] = "en"
        at.session_state["cov_facilities"] = "education"
        at.session_state["cov_units"] = units
        at.session_state["cov_radius"] = 1750  # a question no other test asks
        return run(at)

    first = session("cities")
    before = service.stats()
    second = session("cities")
    after = service.stats()
    assert after["costs_misses"] == before["costs_misses"] and after["cells_misses"] == before["cells_misses"]
    assert after["results_hits"] > before["results_hits"]
    assert second.session_state["_cov_map"] is first.session_state["_cov_map"]
    assert frame_values(second).equals(frame_values(first))
    other = session("districts")  # same costs (same cells and facilities), another answer
    assert service.stats()["results_misses"] == after["results_misses"] + 1
    assert other.session_state["_cov_map"] is not first.session_state["_cov_map"]

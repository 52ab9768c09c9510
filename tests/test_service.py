"""One coverage question, one answer: the service and every surface that asks it (issue 9 §4, issue 11 step 3)."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from geo import coverage as cov
from geo.catalog import load_layer, service_reach
from geo.errors import AtlasError
from geo.population import census_grid
from geo.service import CoverageRequest, CoverageService, ask, capacity_columns

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "coverage.py")
SONG_CONG = "165"


pytestmark = pytest.mark.usefixtures("workspace_file")


def _page_number(at: AppTest, unit_name: str, column: str = "People covered") -> float:
    table = at.dataframe[-1].value
    row = table[table["Unit"] == unit_name].iloc[0]
    return float(str(row[column]).replace(",", ""))


def _run_page(**state) -> AppTest:
    at = AppTest.from_file(PAGE)
    at.session_state["lang"] = "en"
    for k, v in state.items():
        at.session_state[k] = v
    at.run(timeout=180)
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_one_question_one_number_on_every_surface(tmp_path):
    """Health within the category's radius, census by commune, per district: page, CLI, deck,
    readiness indicator give Sông Công the same covered population; per 2025 ward (their 2025
    figures): page, CLI, indicator and the export ``coverage:health`` give the same number."""
    from geo import report
    from geo.cli import main
    from geo.export import resolve_source
    from geo.indicators import compute_indicator, load_framework
    from geo.printmap import unit_layers

    ind = load_framework().indicators["health_access"]
    assert ind.radius_m == service_reach("health")[0]
    # --- per district, 2019 census by commune
    page = _page_number(_run_page(cov_facilities="health", cov_units="districts", cov_pop="commune"),
                        "Thành phố Sông Công")
    out = tmp_path / "d.csv"
    assert main(["coverage", "--facilities", "infrastructure:health", "--units", "districts", "--out", str(out)]) == 0
    cli = pd.read_csv(out, dtype={"unit_id": str}).set_index("unit_id").loc[SONG_CONG, "covered_population"]
    deck = report.coverage_table(unit_layers("TP Sông Công"), "en").set_index("category").loc["health",
                                                                                              "covered_population"]
    indicator = compute_indicator(ind, "city").set_index("unit_key").loc["districts:165", "covered_population"]
    engine = cov.coverage_by_unit(load_layer("infrastructure").query("category == 'health'"), load_layer("districts"),
                                  census_grid(load_layer("communes"), "population_2019"), ind.radius_m, "level2_id",
                                  "name").set_index("unit_id").loc[SONG_CONG, "covered_population"]
    assert page == cli == deck == indicator == np.round(engine) > 0   # whole people (geo.numbers)
    # --- per 2025 ward, 2025 figures
    ward = load_layer("wards_2025").iloc[0]
    page_w = _page_number(_run_page(cov_facilities="health", cov_units="wards", cov_pop="ward"),
                          str(ward["name_full"]))
    out = tmp_path / "w.csv"
    assert main(["coverage", "--facilities", "infrastructure:health", "--units", "wards_2025",
                 "--population-source", "wards_2025", "--out", str(out)]) == 0
    cli_w = pd.read_csv(out, dtype={"unit_id": str}).set_index("unit_id").loc[ward["gso_code"], "covered_population"]
    ind_w = compute_indicator(ind, "ward").set_index("unit_key").loc[f"wards_2025:{ward['gso_code']}",
                                                                      "covered_population"]
    exported = resolve_source("coverage:health", "en").gdf.set_index("unit_id").loc[ward["gso_code"]]
    out = tmp_path / "w.geojson"
    assert main(["export", "coverage:health", "--format", "geojson", "--out", str(out)]) == 0
    cli_export = gpd.read_file(out).set_index("unit_id").loc[ward["gso_code"], "covered_population"]
    assert page_w == cli_w == ind_w == exported["covered_population"] == cli_export
    assert bool(exported["lower_bound"])   # the export says the figure is "at least"


def test_a_city_does_not_depend_on_the_unit_set_asked():
    """'3 cities' and 'districts' label cells on the same layer: one figure per city."""
    cities = ask(category="health", units="smart_cities").table.set_index("unit_id")
    districts = ask(category="health", units="districts").table.set_index("unit_id")
    assert len(cities) == 3
    for col in ("population", "covered_population", "beyond_population", "covered_share"):
        assert cities[col].tolist() == districts.loc[cities.index, col].tolist(), col
    page = _run_page(cov_facilities="health", cov_units="cities")
    assert _page_number(page, "Thành phố Sông Công") == cities.loc[SONG_CONG, "covered_population"]


def test_changing_only_the_radius_or_detour_re_thresholds_cached_costs():
    svc = CoverageService()
    a = svc.ask(CoverageRequest(category="health", units="districts"))
    n = svc.cost_computations
    b = svc.ask(CoverageRequest(category="health", units="districts", radius_m=5000))
    c = svc.ask(CoverageRequest(category="health", units="districts", radius_m=5000, detour=1.4))
    assert svc.cost_computations == n == 1   # no new per-cell cost: only the threshold changed
    assert b.totals()["covered_population"] > a.totals()["covered_population"] > c.totals()["covered_population"] * 0
    want = cov.coverage_by_unit(a.base_facilities, load_layer("districts"), a.grid, 5000, "level2_id", "name",
                                detour=1.4)
    assert c.table["covered_population"].tolist() == np.round(want["covered_population"]).tolist()


def test_zero_facilities_is_a_valid_scenario():
    base = ask(category="health", units="smart_cities")
    closed = ask(category="health", units="smart_cities", closed=tuple(base.base_facilities.index))
    tot = closed.totals()
    assert len(closed.facilities) == 0 and tot["covered_population"] == 0
    assert tot["beyond_population"] == tot["population"] == base.totals()["population"]
    road = gpd.GeoDataFrame({"highway": ["primary"]}, geometry=[shapely.LineString([(105.78, 21.59), (105.9, 21.59)])],
                            crs=4326)
    from geo.network import build_graph

    net = ask(facilities=base.base_facilities.iloc[0:0], facilities_key="none", units="smart_cities", mode="network",
              minutes=10, roads=build_graph(road, "walk", base.grid.crs), roads_key="road")
    assert net.totals()["covered_population"] == 0 and "median_minutes" in net.table
    page = _run_page(cov_facilities="health", cov_units="cities", cov_closed=list(base.base_facilities.index))
    assert _page_number(page, "Thành phố Sông Công") == 0


def test_people_are_whole_persons_and_shares_come_from_unrounded_figures():
    from geo.numbers import whole_people

    r = ask(category="education", units="wards_2025", population="wards_2025")
    for col in ("population", "covered_population", "beyond_population"):
        assert (r.table[col] == r.table[col].round()).all()
        assert r.table[col].tolist() == whole_people(r.table)[col].astype(float).tolist()  # the one rule
    assert r.table["covered_share"].dropna().between(0, 1).all()


def test_units_without_known_facilities_show_no_facility_data_and_figures_are_lower_bounds():
    r = ask(category="health", units="wards_2025", population="wards_2025")
    none = r.table["facilities_known"] == 0
    assert none.any() and r.table.loc[none, "covered_share"].isna().all()
    assert r.table.loc[~none, "covered_share"].notna().all()
    assert r.lower_bound and "at least" in r.total_sentence("en") and "ít nhất" in r.total_sentence("vi")
    assert "incomplete" in r.completeness.reason("en")
    assert any("No facility data" in s for s in r.sentences("en", top=None))
    unit_sentences = [s for s in r.sentences("en", top=None) if "No facility data" not in s]
    assert unit_sentences and all("known to the atlas" in s for s in unit_sentences)
    assert all("đã biết" in s for s in r.sentences("vi", top=None) if "Chưa có dữ liệu" not in s)
    exported = r.export_frame("en")
    assert exported["lower_bound"].all() and (exported.loc[none, "facility_note"] == "no facility data").all()
    notes = " ".join(r.credits("en").notes)
    assert "Lower bound" in notes and "communes/wards" in notes
    # a planner's own facility list is taken as it is: no completeness judgement
    own = ask(facilities=r.base_facilities, facilities_key="mine", radius_m=2000, units="districts")
    assert own.completeness is None and not own.lower_bound and "at least" not in own.total_sentence("en")
    assert not any("known to the atlas" in s for s in own.sentences("en"))


def test_bad_questions_are_refused_with_a_sentence():
    with pytest.raises(AtlasError) as err:
        ask(category="spaceports")
    assert err.value.key == "coverage_errors.unknown_category"
    with pytest.raises(AtlasError):
        ask(category="health", radius_m=-5)
    with pytest.raises(AtlasError):
        ask(category="health", units="nowhere")
    with pytest.raises(AtlasError) as err:
        ask(category="health", mode="network", minutes=10)
    assert err.value.key == "coverage_errors.no_roads"


def test_capacity_columns_leave_out_identifiers_and_coordinates():
    fac = gpd.GeoDataFrame({"osm_id": [1, 2], "beds": [10, 20], "lat": [21.5, 21.6], "ma_cs": ["a", "b"],
                            "giuong": ["5", "x"]}, geometry=[shapely.Point(105.8, 21.5)] * 2, crs=4326)
    assert capacity_columns(fac) == ["beds", "giuong"]


def test_same_question_shares_one_cost_array_and_is_computed_once_when_asked_together():
    """Issue 13 §4: sessions asking the same question at the same moment wait for one
    computation and get the same cost array (identity), also for a reported subset of
    units and a detour; another radius re-thresholds the same costs."""
    import threading

    service = CoverageService()
    req = CoverageRequest(category="health", units="smart_cities", detour=1.3)
    results = [None] * 4

    def one(i: int) -> None:
        results[i] = service.ask(req)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert service.cost_computations == 1
    assert all(r is results[0] for r in results)
    stats = service.stats()
    assert stats["results_misses"] == 1 and stats["results_hits"] == 3
    wider = service.ask(CoverageRequest(category="health", units="smart_cities", detour=1.3, radius_m=4000))
    assert wider.cost is results[0].cost and wider.cells is results[0].cells
    assert service.cost_computations == 1
    assert (wider.table["covered_population"] >= results[0].table["covered_population"]).all()


def test_service_caches_are_bounded_in_bytes():
    """The least recently used arrays go first once the byte budget is passed; the newest
    stays even alone above it (its caller is using it)."""
    from geo.service import _LRU

    lru = _LRU(size=10, max_bytes=3_000)
    for k in range(4):
        lru.get(k, lambda: np.zeros(125))  # 1,000 bytes each
    assert list(lru.data) == [1, 2, 3] and lru.nbytes == 3_000
    lru.get(1, lambda: pytest.fail("cached"))  # a hit refreshes 1
    lru.get("big", lambda: np.zeros(1_000))
    assert list(lru.data) == ["big"] and lru.hits == 1 and lru.misses == 5


def test_units_inside_the_reported_area_without_a_union():
    """The 2025 units whose point lies in the reported units: same as testing against their
    union, including a point on a shared boundary of two units."""
    from geo.service import _inside_union

    a, b = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    pts = shapely.points([(0.5, 0.5), (1.0, 0.5), (3, 3), (2.0, 0.5)])
    got = _inside_union(np.array([a, b]), pts)
    assert got.tolist() == shapely.contains(shapely.union_all([a, b]), pts).tolist() == [True, True, False, False]


def test_what_if_figures_and_files_come_from_the_answer(tmp_path):
    """The page's what-if summary and downloads ask the answer: sites added, totals before,
    the per-unit comparison, the cost GeoTIFF and the hotspot layers."""
    import rasterio

    base = ask(category="health", units="smart_cities")
    assert base.comparison().empty and base.before_totals() == {} and base.added_count == 0
    assert base.unpopulated_units() == []
    site = (105.86, 21.47)
    what = ask(category="health", units="smart_cities", added=(site,), closed=tuple(base.base_facilities.index[:2]))
    assert what.added_count == 1 and len(what.request.closed) == 2
    assert what.before_totals() == base.totals()
    comp = what.comparison()
    assert list(comp.columns) == ["unit_name", "population", "covered_before", "covered_after", "change",
                                  "share_before", "share_after"]
    assert (comp["change"] == comp["covered_after"] - comp["covered_before"]).all()
    assert comp["change"].is_monotonic_decreasing and comp["change"].sum() == pytest.approx(
        what.totals()["covered_population"] - base.totals()["covered_population"])
    path = what.write_cost_geotiff(tmp_path / "d.tif")
    with rasterio.open(path) as src:
        d = src.read(1)
        assert src.nodata == -1.0 and d.shape == what.grid.values.shape
    want = cov.distance_raster(what.facilities, what.grid, 1.0)
    assert np.allclose(d[np.isfinite(want)], want[np.isfinite(want)], rtol=1e-5)
    layers = what.hotspot_layers(top=5)
    assert set(layers["layer"]) == {"hotspot", "covered_area"} and layers.crs.to_epsg() == 4326
    assert (layers["layer"] == "hotspot").sum() <= 5

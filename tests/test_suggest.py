"""Location-allocation (geo.suggest): small grids solved by hand, property tests, agreement
with the coverage engine and between the exact and greedy methods."""
from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import coverage as cov
from geo import suggest as sg
from geo.errors import AtlasError
from geo.population import PopulationGrid
from geo.settings import METRIC_CRS

X0, Y0 = 430_000.0, 2_380_000.0


pytestmark = pytest.mark.usefixtures("workspace_file")


def grid_of(values) -> PopulationGrid:
    v = np.atleast_2d(np.asarray(values, dtype=float))
    return PopulationGrid(values=v, transform=Affine(100, 0, X0, 0, -100, Y0 + 100 * v.shape[0]), crs=METRIC_CRS)


def units_of(grid: PopulationGrid, splits=None) -> gpd.GeoDataFrame:
    nrows, ncols = grid.shape
    splits = splits or [(0, ncols)]
    geoms = [shapely.box(X0 + 100 * a, Y0, X0 + 100 * b, Y0 + 100 * nrows) for a, b in splits]
    return gpd.GeoDataFrame({"uid": [f"u{i}" for i in range(len(splits))],
                             "uname": [chr(65 + i) for i in range(len(splits))]}, geometry=geoms, crs=METRIC_CRS)


def points(xy) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return gpd.GeoDataFrame({"name": [f"c{i}" for i in range(len(xy))]}, geometry=shapely.points(xy), crs=METRIC_CRS)


def cell_centre(r, c, nrows=1):
    return (X0 + 50 + 100 * c, Y0 + 100 * nrows - 50 - 100 * r)


def problem(values, radius, existing=(), cand_cells=None, splits=None, spacing=0.0, detour=1.0,
            on_lattice=False):
    grid = grid_of(values)
    units = units_of(grid, splits)
    cells = cov.prepare_cells(grid, units, "uid", "uname")
    fac = points([cell_centre(r, c, grid.shape[0]) for r, c in existing]) if existing else points(np.empty((0, 2)))
    cost = cov.nearest_distance(cells, cov.facility_xy(fac, METRIC_CRS), detour)
    if on_lattice:
        cand = sg.grid_candidates(units, METRIC_CRS, 100.0, grid=grid)
    else:
        nrows, ncols = grid.shape
        cand_cells = cand_cells if cand_cells is not None else list(itertools.product(range(nrows), range(ncols)))
        cand = sg.layer_candidates(points([cell_centre(r, c, nrows) for r, c in cand_cells]), METRIC_CRS)
    exist_xy = cov.facility_xy(fac, METRIC_CRS)
    cand = sg.filter_candidates(cand, existing_xy=exist_xy, min_spacing_m=spacing)
    return sg.build_problem(cells, cost, sg.Reach(radius, detour), cand, min_spacing_m=spacing), grid, units, fac


ROW = [5, 1, 1, 1, 9, 9, 1, 1, 1, 5]  # radius 100 m: a site covers its cell and both neighbours


@pytest.mark.parametrize("p,expected", [(1, 19), (2, 26), (3, 33)])
def test_mclp_by_hand(p, expected):
    # p=1: cells 3-5 or 4-6 (19); p=2: + cells 0-2 or 7-9 (7); p=3: both ends (7 + 19 + 7)
    prob, *_ = problem(ROW, 100.0)
    exact = sg.suggest(prob, p, method="exact")
    assert exact.method == "exact"
    assert exact.gain == pytest.approx(expected)
    assert exact.covered_after == pytest.approx(expected)
    assert exact.gap == 0
    greedy = sg.suggest(prob, p, method="greedy")
    assert greedy.gain == pytest.approx(expected)
    assert greedy.bound >= expected - 1e-9


def test_existing_facility_counts_as_covered():
    prob, *_ = problem(ROW, 100.0, existing=[(0, 4)])  # covers cells 3-5: 19 people
    assert prob.covered_before == pytest.approx(19)
    s = sg.suggest(prob, 1, method="exact")
    assert s.gain == pytest.approx(7)  # cells 0-2 or 7-9
    assert s.covered_after == pytest.approx(26)
    assert s.share_before == pytest.approx(19 / 34)


def test_lscp_by_hand():
    prob, *_ = problem(ROW, 100.0)
    full = sg.suggest(prob, 10, model="lscp", target_share=1.0)
    assert len(full.sites) == 4  # 10 cells, 3 per site
    assert full.covered_after == pytest.approx(34)
    assert full.lower_sites == 4 and full.method == "exact"
    part = sg.suggest(prob, 10, model="lscp", target_share=33 / 34)
    assert len(part.sites) == 3 and part.target_reached


def test_lscp_unreachable_target_says_so():
    prob, *_ = problem(ROW, 100.0, cand_cells=[(0, 4)])
    s = sg.suggest(prob, 5, model="lscp", target_share=0.9)
    assert not s.target_reached
    assert s.covered_after == pytest.approx(19)
    assert "90" in sg.sentences(s, "en", "a school")[0]


def test_pmedian_by_hand():
    # 10 people at cell 0, 1 at cell 4: one site minimising the weighted distance sits at cell 0
    prob, *_ = problem([10, 0, 0, 0, 1], 50.0)
    s = sg.suggest(prob, 1, model="pmedian")
    x = s.sites.to_crs(METRIC_CRS).geometry.x.iloc[0]
    assert x == pytest.approx(cell_centre(0, 0)[0])
    assert s.weighted_cost_after == pytest.approx(400 / 11)


def test_spacing_and_exclusions():
    prob, grid, units, _ = problem(ROW, 100.0, spacing=350.0)
    s = sg.suggest(prob, 3, method="exact")
    xy = s.sites.to_crs(METRIC_CRS).geometry.get_coordinates().to_numpy()
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert (d[np.triu_indices(len(xy), 1)] >= 350).all()
    g = sg.suggest(prob, 3, method="greedy")
    gxy = g.sites.to_crs(METRIC_CRS).geometry.get_coordinates().to_numpy()
    gd = np.hypot(*(gxy[:, None, :] - gxy[None, :, :]).transpose(2, 0, 1))
    assert (gd[np.triu_indices(len(gxy), 1)] >= 350).all()
    # an exclusion over cells 3-6: no site there
    ex = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 300, Y0, X0 + 700, Y0 + 100)], crs=METRIC_CRS)
    cand = sg.filter_candidates(sg.layer_candidates(points([cell_centre(0, c) for c in range(10)]), METRIC_CRS),
                                exclusions=ex)
    assert cand.dropped_excluded == 4 and len(cand.xy) == 6
    assert not shapely.intersects(ex.geometry.iloc[0], shapely.points(cand.xy)).any()


def test_answer_agrees_with_the_coverage_engine():
    rng = np.random.default_rng(3)
    vals = rng.integers(0, 20, size=(12, 15)).astype(float)
    prob, grid, units, fac = problem(vals, 260.0, existing=[(2, 3), (9, 11)], splits=[(0, 6), (6, 15)],
                                     on_lattice=True)
    s = sg.suggest(prob, 3)
    fac2 = cov.scenario_facilities(fac, sg.sites_lonlat(s))
    after = cov.coverage_by_unit(fac2, units, grid, 260.0, "uid", "uname")
    assert np.allclose(after["covered_population"].to_numpy(), s.by_unit["covered_after"].to_numpy())
    before = cov.coverage_by_unit(fac, units, grid, 260.0, "uid", "uname")
    assert np.allclose(before["covered_population"].to_numpy(), s.by_unit["covered_before"].to_numpy())


def test_lattice_stencil_equals_point_queries():
    rng = np.random.default_rng(5)
    vals = rng.integers(0, 9, size=(30, 40)).astype(float)
    grid = grid_of(vals)
    units = units_of(grid)
    cells = cov.prepare_cells(grid, units, "uid", "uname")
    cost = np.full(len(cells.pop), np.inf)
    cand = sg.grid_candidates(units, METRIC_CRS, 500.0, grid=grid)
    assert cand.rc is not None
    for radius, detour in ((700.0, 1.0), (1000.0, 1.3), (250.0, 1.0)):
        a = sg.build_problem(cells, cost, sg.Reach(radius, detour), cand).A
        b = sg.Reach(radius, detour).cover_matrix(cand.xy, cells.xy[np.flatnonzero(cells.pop > 0)])
        assert (a != b).nnz == 0


@st.composite
def small_problems(draw):
    nrows = draw(st.integers(2, 6))
    ncols = draw(st.integers(2, 7))
    vals = draw(st.lists(st.integers(0, 30), min_size=nrows * ncols, max_size=nrows * ncols))
    radius = draw(st.sampled_from([100.0, 150.0, 220.0, 310.0]))
    n_ex = draw(st.integers(0, 2))
    existing = [(draw(st.integers(0, nrows - 1)), draw(st.integers(0, ncols - 1))) for _ in range(n_ex)]
    p = draw(st.integers(1, 4))
    return np.array(vals, dtype=float).reshape(nrows, ncols), radius, existing, p


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_properties(case):
    vals, radius, existing, p = case
    if vals.sum() == 0:
        vals[0, 0] = 1
    prob, *_ = problem(vals, radius, existing=existing)
    if prob.n_cand == 0:
        return
    for method in ("greedy", "exact"):
        s = sg.suggest(prob, p, method=method)
        # marginal gains sum to the total gain, which is what the coverage counts say
        assert s.sites["marginal_people"].sum() == pytest.approx(s.gain)
        assert s.covered_after - s.covered_before == pytest.approx(s.gain)
        assert s.by_unit["change"].sum() == pytest.approx(s.gain)
        # adding a site from the answer never lowers coverage
        idx = [int(np.argmin(np.hypot(*(prob.cand.xy - xy).T)))
               for xy in s.sites.to_crs(METRIC_CRS).geometry.get_coordinates().to_numpy()]
        gains = [prob.gain_of(np.array(idx[:k], dtype=np.int64)) for k in range(len(idx) + 1)]
        assert all(b >= a - 1e-9 for a, b in zip(gains, gains[1:]))
        assert (s.sites["marginal_people"] >= -1e-9).all()
        assert np.all(np.diff(s.curve["covered_people"]) >= -1e-9)
    ex = sg.suggest(prob, p, method="exact")
    gr = sg.suggest(prob, p, method="greedy")
    # exact is at least greedy; greedy's reported bound covers the optimum
    assert ex.gain >= gr.gain - 1e-9
    assert ex.gain <= gr.bound + 1e-6
    assert gr.gain >= (1 - gr.gap) * ex.gain - 1e-6
    # brute force on the candidates: the exact answer is optimal
    n = prob.n_cand
    if n <= 12:
        k = min(p, n)
        best = max(prob.gain_of(np.array(c, dtype=np.int64)) for c in itertools.combinations(range(n), k))
        assert ex.gain == pytest.approx(best)


def test_greedy_gap_bounds_a_known_suboptimal_case():
    # greedy takes the middle site (12 people) first; the optimum is the two side sites (8 + 8)
    vals = [[4, 4, 0, 4, 4], [0, 4, 0, 4, 0]]
    prob, *_ = problem(vals, 100.0, cand_cells=[(0, 1), (0, 3), (0, 2)])
    gr = sg.suggest(prob, 2, method="greedy")
    ex = sg.suggest(prob, 2, method="exact")
    assert ex.gain >= gr.gain
    assert gr.bound >= ex.gain - 1e-9


def test_refusals():
    prob, *_ = problem(ROW, 100.0)
    for bad in (0, -1, "x", 2.5, 10_000):
        with pytest.raises(AtlasError) as e:
            sg.suggest(prob, bad)
        assert e.value.key == "suggest_errors.bad_new"
    with pytest.raises(AtlasError, match="Target share"):
        sg.suggest(prob, 3, model="lscp", target_share=1.5)
    with pytest.raises(AtlasError) as e:
        sg.suggest(prob, 3, time_limit=-2)
    assert e.value.key == "suggest_errors.bad_time_limit"
    with pytest.raises(AtlasError):
        sg.suggest(prob, 3, model="nope")
    empty, *_ = problem(ROW, 100.0, cand_cells=[])
    with pytest.raises(AtlasError) as e:
        sg.suggest(empty, 1)
    assert e.value.key == "suggest_errors.no_candidates"


def test_sentences_and_slide_in_both_languages():
    prob, *_ = problem(ROW, 100.0, existing=[(0, 4)])
    s = sg.suggest(prob, 2)
    vi = sg.sentences(s, "vi", cov.facility_label("health", "vi"))
    en = sg.sentences(s, "en", cov.facility_label("health", "en"))
    assert "Thêm 2 điểm mới" in vi[0] and "Adding 2 new sites" in en[0]
    assert sg.method_sentence(s, "en") == en[-1] and "Method" in en[-1]
    slide = sg.slide_content(s, "en", "a health facility")
    assert slide["curve"][0] == (0, pytest.approx(19 / 34))
    assert [r for r, _, _ in slide["sites"]] == [1, 2]
    csv = sg.export_frame(s, "vi")
    assert list(csv["rank"]) == [1, 2] and csv["lon"].between(100, 110).all()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_sparse_highs_model_matches_spopt(case):
    vals, radius, existing, p = case
    if vals.sum() == 0:
        vals[0, 0] = 1
    prob, *_ = problem(vals, radius, existing=existing)
    if prob.n_cand == 0:
        return
    a = sg.exact_mclp(prob, p)
    b = sg.exact_mclp_sparse(prob, p)
    assert a.solver == "spopt" and b.solver == "highs"
    assert b.status == "optimal" and b.objective == pytest.approx(a.objective)


def test_time_limited_exact_never_returns_less_than_its_greedy_start():
    rng = np.random.default_rng(11)
    prob, *_ = problem(rng.integers(0, 50, size=(25, 25)).astype(float), 320.0, on_lattice=True)
    run = sg.greedy_mclp(prob, 6)
    ex = sg.exact_mclp_sparse(prob, 6, time_limit=0.5, start=run.sites)
    assert ex.objective >= run.cumulative[-1] - 1e-9
    assert ex.bound >= ex.objective - 1e-9
    assert ex.objective <= run.bound[-1] + 1e-6  # greedy's submodular bound holds for the solver's answer


# ---------------------------------------------------------------------------------------
# road-network costs: a hand-made network whose answer is known by hand
# ---------------------------------------------------------------------------------------
def _u_road_case():
    """Two parallel roads 200 m apart (bottom row and top row of a 3 × 11 grid of 100 m
    cells), joined only at the east end: a U. Motorbike profile: 30 km/h on the road
    (500 m/min), 10 km/h off it. People: 10 in each of the bottom row's cells 0–2, 12 in
    each of the top row's cells 0–2, 5 in each of the bottom row's cells 8–10 (served by
    an existing station at bottom cell 9). Reach 1.1 min = 550 m of road.

    By hand: a site on the bottom road at cell 1 reaches bottom cells 0–2 (≤ 100 m of road)
    but not the top row — straight across it is 200 m (1.2 min at 10 km/h), round the U
    ≥ 2 km; so one new site adds 36 people (top row), two add 66. In a straight line
    (550 m) one site would reach both rows (66)."""
    from geo.network import build_graph

    vals = np.zeros((3, 11))
    vals[0, 0:3], vals[2, 0:3], vals[2, 8:11] = 12, 10, 5
    grid = grid_of(vals)
    units = units_of(grid)
    yb, yt = Y0 + 50, Y0 + 250
    xe = X0 + 1050
    roads = gpd.GeoDataFrame({"highway": ["residential"] * 3}, geometry=[
        shapely.LineString([(X0 + 50, yb), (xe, yb)]), shapely.LineString([(xe, yb), (xe, yt)]),
        shapely.LineString([(xe, yt), (X0 + 50, yt)])], crs=METRIC_CRS)
    graph = build_graph(roads.assign(highway="unclassified"), "motorbike", METRIC_CRS)
    fac = points([cell_centre(2, 9, 3)])
    cand_cells = [(r, c) for r in (0, 2) for c in range(11)]
    cand = sg.layer_candidates(points([cell_centre(r, c, 3) for r, c in cand_cells]), METRIC_CRS)
    return grid, units, graph, fac, cand


def test_network_answer_by_hand_and_same_costs_as_the_coverage_service():
    from geo.service import CoverageRequest, CoverageService

    grid, units, graph, fac, cand = _u_road_case()
    svc = CoverageService(loader=lambda _: None)
    req = dict(facilities=fac, facilities_key="u-case", units="u", units_frame=units, unit_id="uid",
               unit_name="uname", grid=grid, grid_key="u-grid", mode="network", minutes=1.1, roads=graph,
               roads_key="u-roads", profile="motorbike")
    res = svc.ask(CoverageRequest(**req))
    # the page hands the service's cells and per-cell costs to the suggestion (pages/coverage_suggest.py)
    reach = sg.Reach(res.threshold, graph=graph, metric=res.metric)
    assert res.metric == "time" and res.threshold == pytest.approx(1.1)
    assert np.allclose(reach.costs_from(cov.facility_xy(fac, METRIC_CRS), res.cells.xy), res.cost)
    prob = sg.build_problem(res.cells, res.cost, reach, cand)
    assert prob.covered_before == pytest.approx(15)  # the existing station: bottom cells 8–10
    one = sg.suggest(prob, 1, method="exact")
    assert one.gain == pytest.approx(36)  # the top row: across the gap is too far, round the U far more
    assert cov.facility_xy(one.sites, METRIC_CRS)[0, 1] == pytest.approx(Y0 + 250)
    two = sg.suggest(prob, 2, method="exact")
    assert two.gain == pytest.approx(66) and two.covered_after == pytest.approx(81)
    assert sorted(two.sites["marginal_people"].round(6)) == [30, 36]
    greedy = sg.suggest(prob, 2, method="greedy")
    assert greedy.gain == pytest.approx(66)
    # the what-if on the coverage service with the sites added agrees with the suggestion
    after = svc.ask(CoverageRequest(**req, added=tuple(sg.sites_lonlat(two))))
    assert after.totals()["covered_population"] == pytest.approx(two.covered_after)
    # straight line at the same reach in metres (550 m): one site would do it all
    straight = sg.build_problem(res.cells, cov.nearest_distance(res.cells, cov.facility_xy(fac, METRIC_CRS)),
                                sg.Reach(550.0), cand)
    assert sg.suggest(straight, 1, method="exact").gain == pytest.approx(66)


# ---------------------------------------------------------------------------------------
# the council deck's suggested-sites slide
# ---------------------------------------------------------------------------------------
def test_curve_carries_the_answers_own_point():
    # greedy takes the middle site first (12); the exact answer for 2 sites is 16: the curve
    # must say 16 at 2 sites, as the headline does, and never less after
    vals = [[4, 4, 0, 4, 4], [0, 4, 0, 4, 0]]
    prob, *_ = problem(vals, 100.0, cand_cells=[(0, 1), (0, 3), (0, 2)])
    ex = sg.suggest(prob, 2, method="exact")
    c = ex.curve.set_index("n_sites")
    assert c.loc[2, "covered_people"] == pytest.approx(ex.covered_after)
    assert (c.loc[c.index >= 2, "covered_people"] >= ex.covered_after - 1e-9).all()
    assert np.all(np.diff(ex.curve["covered_people"]) >= -1e-9)
    share = sg.fmt_percent(ex.share_after, "en")
    assert f"2 → {share}" in sg.curve_text(ex, "en")


def test_deck_slide_and_the_deck_with_a_suggestion(tmp_path):
    from pptx import Presentation

    from geo.report import build_deck, to_pptx

    prob, grid, units, _ = problem(ROW, 100.0, existing=[(0, 4)])
    s = sg.suggest(prob, 2)
    s.category = "health"
    slide = sg.deck_slide(s, "vi", units)
    assert slide.title == "Nên xây cơ sở y tế mới ở đâu"
    assert slide.caption.startswith(sg.sentences(s, "vi", cov.facility_label("health", "vi"))[0])
    assert sg.curve_text(s, "vi") in slide.caption and "2 → " in slide.caption
    assert [r[0] for r in slide.table.rows] == ["1", "2"]
    assert slide.table.rows[0][1] == s.sites["label"].iloc[0]  # a layer's site names are kept
    g, *_ = problem(ROW, 100.0, on_lattice=True)
    sg_ = sg.suggest(g, 1)
    lat, lon = sg_.sites.geometry.y.iloc[0], sg_.sites.geometry.x.iloc[0]
    row = sg.deck_slide(sg_, "vi", units).table.rows[0][1]
    assert row == f"{sg.fmt_number(lat, 'vi', 5)}, {sg.fmt_number(lon, 'vi', 5)}"  # grid cells: latitude, longitude
    assert slide.figure((6.0, 4.0)).axes  # the map draws
    deck = build_deck("Thành phố Sông Công", "en", suggestion=s)
    titles = [x.title for x in deck.slides]
    assert titles[4] == "Where to build next: a health facility" and titles[3] == "Service coverage"
    assert len(titles) == len(build_deck("Thành phố Sông Công", "en").slides) + 1
    out = to_pptx(deck, tmp_path / "deck.pptx")
    texts = [sh.text_frame.text for sh in Presentation(out).slides[4].shapes if sh.has_text_frame]
    assert any(sg.curve_text(s, "en") in x for x in texts)


def test_column_sums_equal_the_matrix_product_with_empty_columns():
    from scipy import sparse

    rng = np.random.default_rng(0)
    for _ in range(100):
        n, m = rng.integers(1, 30, 2)
        A = sparse.random(n, m, density=rng.uniform(0, 0.6), format="csc", random_state=rng).astype(bool)
        A = sparse.hstack([A, sparse.csc_matrix((n, 1), dtype=bool)], format="csc")  # trailing empty column
        w = rng.random(n)
        assert np.allclose(sg.column_sums(A, w), A.T.astype(float) @ w)

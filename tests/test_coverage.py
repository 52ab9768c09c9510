"""Per-unit coverage on small grids computed by hand, plus property tests."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import coverage as cov
from geo.errors import AtlasError
from geo.population import PopulationGrid, census_grid
from geo.settings import METRIC_CRS

X0, Y0 = 430_000.0, 2_380_000.0


pytestmark = pytest.mark.usefixtures("workspace_file")


def row_grid(values) -> PopulationGrid:
    """One row of 100 m cells starting at (X0, Y0); cell i is centred at X0 + 50 + 100 i."""
    v = np.atleast_2d(np.asarray(values, dtype=float))
    return PopulationGrid(values=v, transform=Affine(100, 0, X0, 0, -100, Y0 + 100 * v.shape[0]), crs=METRIC_CRS)


def units_by_cols(splits, nrows=1, crs=METRIC_CRS):
    """Units spanning columns [a, b) of the row grid."""
    geoms = [shapely.box(X0 + 100 * a, Y0, X0 + 100 * b, Y0 + 100 * nrows) for a, b in splits]
    gdf = gpd.GeoDataFrame({"uid": [f"u{i}" for i in range(len(splits))],
                            "uname": [chr(65 + i) for i in range(len(splits))]}, geometry=geoms, crs=METRIC_CRS)
    return gdf.to_crs(crs)


def points(xs, ys=None, crs=METRIC_CRS, **cols):
    ys = ys if ys is not None else [Y0 + 50] * len(xs)
    return gpd.GeoDataFrame(cols, geometry=shapely.points(np.column_stack((xs, ys))), crs=METRIC_CRS).to_crs(crs)


def centre(i):
    return X0 + 50 + 100 * i


# --------------------------------------------------------------------------- hand-computed


def test_coverage_by_hand():
    """Pops 1..5, facility on cell 0: distances 0,100,200,300,400; radius 250 covers cells 0-2."""
    grid = row_grid([1, 2, 3, 4, 5])
    units = units_by_cols([(0, 2), (2, 5)])
    df = cov.coverage_by_unit(points([centre(0)]), units, grid, 250, "uid", "uname")
    assert list(df.columns) == cov.COLUMNS
    a, b = df.iloc[0], df.iloc[1]
    assert (a.unit_id, a.unit_name) == ("u0", "A")
    assert (a.population, a.covered_population, a.covered_share, a.beyond_population) == (3, 3, 1.0, 0)
    assert (b.population, b.covered_population, b.covered_share, b.beyond_population) == (12, 3, 0.25, 9)
    # weighted lower quantiles: A {0:1, 100:2}; B {200:3, 300:4, 400:5}
    assert (a.median_distance_m, a.p90_distance_m) == pytest.approx((100, 100))
    assert (b.median_distance_m, b.p90_distance_m) == pytest.approx((300, 400))


def test_detour_shrinks_the_reach_and_scales_distances():
    grid = row_grid([1, 2, 3, 4, 5])
    df = cov.coverage_by_unit(points([centre(0)]), units_by_cols([(0, 2), (2, 5)]), grid, 250, "uid", "uname",
                              detour=1.3)
    # 200 m × 1.3 = 260 > 250: cell 2 is no longer covered
    assert df.covered_population.tolist() == [3, 0]
    assert df.median_distance_m.tolist() == pytest.approx([130, 390])


def test_boundary_is_inclusive_and_two_facilities_take_the_nearest():
    grid = row_grid([1, 1, 1, 1, 1])
    df = cov.coverage_by_unit(points([centre(0), centre(4)]), units_by_cols([(0, 5)]), grid, 100, "uid", "uname")
    # cells 0,1 (d 0,100) and 3,4 covered; cell 2 is 200 from both
    assert df.covered_population.iloc[0] == 4
    assert df.beyond_population.iloc[0] == 1


def test_no_facilities_means_nobody_covered():
    grid = row_grid([1, 2, 3])
    df = cov.coverage_by_unit(points([]), units_by_cols([(0, 3)]), grid, 1000, "uid", "uname")
    assert df.covered_population.iloc[0] == 0 and df.covered_share.iloc[0] == 0
    assert math.isnan(df.median_distance_m.iloc[0])


def test_empty_unit_has_nan_share():
    grid = row_grid([1, 2, 0, 0])
    df = cov.coverage_by_unit(points([centre(0)]), units_by_cols([(0, 2), (2, 4)]), grid, 50, "uid", "uname")
    assert df.population.iloc[1] == 0 and math.isnan(df.covered_share.iloc[1])


def test_crs_of_inputs_does_not_matter():
    grid = row_grid(np.arange(1, 21))
    units_m = units_by_cols([(0, 7), (7, 20)])
    fac_m = points([centre(3), centre(15) + 20])
    a = cov.coverage_by_unit(fac_m, units_m, grid, 330, "uid", "uname")
    b = cov.coverage_by_unit(fac_m.to_crs(4326), units_m.to_crs(32648), grid, 330, "uid", "uname")
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-4)


def test_chunked_and_histogram_modes_agree_with_exact():
    rng = np.random.default_rng(7)
    grid = row_grid(rng.uniform(0, 10, size=(40, 60)))
    units = units_by_cols([(0, 20), (20, 45), (45, 60)], nrows=40)
    fac = points(X0 + rng.uniform(0, 6000, 5), Y0 + rng.uniform(0, 4000, 5))
    exact = cov.coverage_by_unit(fac, units, grid, 700, "uid", "uname")
    chunked = cov.coverage_by_unit(fac, units, grid, 700, "uid", "uname", chunk_cells=130)
    hist = cov.coverage_by_unit(fac, units, grid, 700, "uid", "uname", chunk_cells=500, exact=False)
    pd.testing.assert_frame_equal(exact, chunked)
    pd.testing.assert_frame_equal(exact.drop(columns=["median_distance_m", "p90_distance_m"]),
                                  hist.drop(columns=["median_distance_m", "p90_distance_m"]))
    np.testing.assert_allclose(hist.median_distance_m, exact.median_distance_m, rtol=0.015)
    np.testing.assert_allclose(hist.p90_distance_m, exact.p90_distance_m, rtol=0.015)


def test_prepared_cells_give_the_same_table():
    grid = row_grid([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]])
    units = units_by_cols([(0, 2), (2, 5)], nrows=2)
    fac = points([centre(1)])
    cells = cov.prepare_cells(grid, units, "uid", "uname")
    d = cov.nearest_distance(cells, cov.facility_xy(fac, grid.crs))
    pd.testing.assert_frame_equal(cov.coverage_from_costs(cells, d, 180),
                                  cov.coverage_by_unit(fac, units, grid, 180, "uid", "uname"))


def test_bad_arguments():
    grid = row_grid([1])
    units = units_by_cols([(0, 1)])
    for kwargs, key in (({"radius_m": 0}, "coverage_errors.bad_radius"),
                        ({"radius_m": float("nan")}, "coverage_errors.bad_radius"),
                        ({"radius_m": 10, "detour": 0.5}, "coverage_errors.bad_detour")):
        with pytest.raises(AtlasError) as e:
            cov.coverage_by_unit(points([X0]), units, grid, unit_id="uid", unit_name="uname", **kwargs)
        assert e.value.key == key
    with pytest.raises(AtlasError) as e:
        cov.coverage_by_unit(points([X0]), units, grid, 10, "nope", "uname")
    assert e.value.key == "coverage_errors.no_unit_column"


def test_two_step_fca_by_hand():
    """Pops 10 each; capacity 2 at cell 0, 1 at cell 3; radius 150: R0 = 2/20, R3 = 1/20."""
    grid = row_grid([10, 10, 10, 10])
    fac = points([centre(0), centre(3)], beds=[2, 1])
    df = cov.two_step_fca(fac, units_by_cols([(0, 2), (2, 4)]), grid, 150, "uid", "uname", capacity_col="beds")
    assert df.access_ratio.tolist() == pytest.approx([100.0, 50.0])  # per 1,000 people
    # radius 250: R0 = 2/30 (cells 0-2), R3 = 1/30 (cells 1-3); cells: 2/30, 3/30, 3/30, 1/30
    df = cov.two_step_fca(fac, units_by_cols([(0, 2), (2, 4)]), grid, 250, "uid", "uname", capacity_col="beds")
    assert df.access_ratio.tolist() == pytest.approx([1000 * 2.5 / 30, 1000 * 2 / 30])
    # the whole capacity is handed out when everyone is in reach of something
    assert (df.capacity_in_reach.sum()) == pytest.approx(3.0)
    # default capacity 1
    df1 = cov.two_step_fca(fac, units_by_cols([(0, 4)]), grid, 150, "uid", "uname")
    assert df1.capacity_in_reach.iloc[0] == pytest.approx(2.0)


def test_what_if_add_and_close():
    grid = row_grid([1, 2, 3, 4, 5])
    units = units_by_cols([(0, 2), (2, 5)])
    fac = points([centre(0), centre(1)]).to_crs(4326)
    lon, lat = shapely.get_coordinates(points([centre(4)]).to_crs(4326).geometry.to_numpy())[0]
    res = cov.what_if(fac, units, grid, 50, "uid", "uname", added_lonlat=[(lon, lat)], closed=[0])
    # before: cells 0,1 covered (3 people); after: cell 0 closed, cells 1 and 4 covered
    assert res.covered_before.tolist() == [3, 0]
    assert res.covered_after.tolist() == [2, 5]
    assert res.change.tolist() == [-1, 5]
    scen = cov.scenario_facilities(fac, [(lon, lat)], closed=[0])
    assert len(scen) == 2 and scen.proposed.tolist() == [False, True]


def test_covered_area_is_the_union_of_discs():
    fac = points([X0, X0 + 100, X0 + 10_000])
    area = cov.covered_area(fac, 1000, out_crs=METRIC_CRS)
    a1 = shapely.buffer(shapely.Point(0, 0), 1000, quad_segs=4).area
    two = shapely.union_all([shapely.Point(0, 0).buffer(1000, quad_segs=4), shapely.Point(100, 0).buffer(1000, quad_segs=4)]).area
    assert area.geometry.iloc[0].area == pytest.approx(two + a1, rel=1e-6)
    assert cov.covered_area(points([]), 1000).geometry.iloc[0].is_empty


def test_distance_raster_and_geotiff(tmp_path):
    grid = row_grid([[1, 1, 1], [1, 1, 1]])
    fac = points([centre(0)], [Y0 + 150])  # centre of the top-left cell
    d = cov.distance_raster(fac, grid)
    np.testing.assert_allclose(d, [[0, 100, 200], [100, math.hypot(100, 100), math.hypot(200, 100)]], rtol=1e-6)
    with rasterio.open(cov.write_distance_geotiff(fac, grid, tmp_path / "d.tif")) as src:
        np.testing.assert_allclose(src.read(1), d)
        assert src.transform == grid.transform


def test_hotspots_and_covered_mask():
    grid = row_grid(np.array([[1.0] * 30]))
    cells = cov.prepare_cells(grid, units_by_cols([(0, 30)]), "uid", "uname")
    cost = cov.nearest_distance(cells, np.array([[centre(0), Y0 + 50]]))
    hs = cov.hotspots(cells, cost, 450, block=10, top=5, out_crs=METRIC_CRS)
    # cells 0-4 covered; blocks of 10 cells have 5, 10, 10 people beyond
    assert hs.people_beyond.tolist() == [10, 10, 5]
    assert hs.unit_name.tolist() == ["A", "A", "A"]
    assert hs.geometry.iloc[2].bounds == pytest.approx((X0, Y0 - 900, X0 + 1000, Y0 + 100))
    m = cov.covered_mask(cells, cost, 450)
    assert m.sum() == 5
    poly = cov.mask_polygons(m, grid.transform, grid.crs, out_crs=METRIC_CRS)
    assert poly.geometry.iloc[0].area == pytest.approx(5 * 100 * 100)


def test_sentences():
    df = pd.DataFrame({"unit_id": [1, 2, 3], "unit_name": ["Phổ Yên", "Sông Công", "Đại Từ"],
                       "population": [200000.0, 50000.0, 10.0], "covered_population": [181563.0, 50000.0, 10.0],
                       "covered_share": [0.9078, 1.0, 1.0], "beyond_population": [18437.0, 0.0, 0.0],
                       "median_distance_m": [1.0] * 3, "p90_distance_m": [1.0] * 3})
    vi = cov.coverage_sentences(df, "vi", cov.facility_label("health", "vi"), radius_m=2000)
    assert vi == ["Phổ Yên: 18.400 người ở xa cơ sở y tế hơn 2 km"]
    en = cov.coverage_sentences(df, "en", cov.facility_label("health", "en"), radius_m=1500)
    assert en == ["Phổ Yên: 18,400 people live farther than 1.5 km from a health facility"]
    assert "1,5 km" in cov.coverage_sentences(df, "vi", "x", radius_m=1500)[0]
    assert "15 phút" in cov.coverage_sentences(df, "vi", "x", minutes=15)[0]
    assert "40.000" not in cov.total_sentence(df, "vi", "x", radius_m=800) and "800 m" in cov.total_sentence(df, "vi", "x", radius_m=800)


def test_real_communes_population_is_kept():
    """Shipped data: census grid from communes, coverage per commune returns the census figures."""
    from geo.catalog import load_layer

    communes = load_layer("communes")
    grid = census_grid(communes, "population_2019")
    health = load_layer("infrastructure").query("category == 'health'")
    df = cov.coverage_by_unit(health, communes, grid, 2000, "commune_id", "commune_vn")
    assert len(df) == len(communes)
    assert df.population.sum() == pytest.approx(communes.population_2019.sum(), rel=1e-3)
    ok = communes.population_2019.notna().to_numpy()
    np.testing.assert_allclose(df.population.to_numpy()[ok], communes.population_2019.to_numpy()[ok], rtol=0.02, atol=50)
    assert df.covered_share.dropna().between(0, 1).all()
    assert 0 < df.covered_population.sum() < df.population.sum()


# --------------------------------------------------------------------------- properties

coords = st.tuples(st.floats(-300, 1500), st.floats(-300, 1300))


@st.composite
def scenes(draw):
    nr, nc = draw(st.integers(1, 12)), draw(st.integers(1, 15))
    vals = np.array(draw(st.lists(st.floats(0, 1000), min_size=nr * nc, max_size=nr * nc))).reshape(nr, nc)
    splits = sorted(set(draw(st.lists(st.integers(1, max(1, nc - 1)), max_size=3))) | {0, nc})
    facs = draw(st.lists(coords, min_size=0, max_size=6))
    return row_grid(vals), units_by_cols(list(zip(splits[:-1], splits[1:])), nrows=nr), facs


def _fac(xy):
    return points([X0 + x for x, _ in xy], [Y0 + y for _, y in xy])


@settings(max_examples=40, deadline=None)
@given(scenes(), st.floats(10, 1500), st.floats(0, 1000), coords)
def test_coverage_properties(scene, r1, dr, extra):
    grid, units, facs = scene
    fac = _fac(facs)
    base = cov.coverage_by_unit(fac, units, grid, r1, "uid", "uname")
    wider = cov.coverage_by_unit(fac, units, grid, r1 + dr, "uid", "uname")
    more = cov.coverage_by_unit(_fac(facs + [extra]), units, grid, r1, "uid", "uname")
    eps = 1e-9 * max(1.0, grid.total())
    assert (wider.covered_population >= base.covered_population - eps).all()
    assert (more.covered_population >= base.covered_population - eps).all()
    for df in (base, wider, more):
        s = df.covered_share.dropna()
        assert ((s >= 0) & (s <= 1)).all()
        assert (df.covered_population <= df.population + eps).all()
        assert df.population.sum() == pytest.approx(grid.total(), rel=1e-9, abs=1e-9)
    # medians never exceed the 90th percentile, and nearest distances never grow with more facilities
    ok = base.median_distance_m.notna()
    assert (base.median_distance_m[ok] <= base.p90_distance_m[ok] + 1e-9).all()
    ok = ok & more.median_distance_m.notna()
    assert (more.median_distance_m[ok] <= base.median_distance_m[ok] + 1e-9).all()


@pytest.mark.parametrize("n_fac, spread", [(1, 3000), (5, 3000), (300, 3000), (400, 150), (50, 60000)])
def test_lattice_distances_equal_brute_force(n_fac, spread):
    """The block/candidate raster path is exact: same distances as a brute-force minimum."""
    rng = np.random.default_rng(n_fac)
    grid = row_grid(np.ones((37, 53)))
    fac = np.column_stack((X0 + 2650 + rng.normal(0, spread, n_fac), Y0 + 1850 + rng.normal(0, spread, n_fac)))
    got = cov.EuclideanCost(fac, detour=1.2).raster(grid, 3, 37)
    rr, cc = np.meshgrid(np.arange(3, 37), np.arange(53), indexing="ij")
    xy = grid.cell_centres(rr.ravel(), cc.ravel())
    brute = np.sqrt(((xy[:, None, :] - fac[None, :, :]) ** 2).sum(axis=2)).min(axis=1) * 1.2
    np.testing.assert_allclose(got.ravel(), brute, rtol=1e-12, atol=1e-6)


@pytest.mark.parametrize("k, retry_k", [(10, 40), (2, 6), (1, 1), (3, 500)])
def test_lattice_retry_paths_equal_brute_force(k, retry_k):
    """Crowded facilities make blocks fail the first K-nearest test: their retry with
    ``retry_k`` candidates and the last-resort per-cell query give the brute-force distances."""
    rng = np.random.default_rng(k * 100 + retry_k)
    grid = row_grid(np.ones((41, 45)))
    fac = np.concatenate((np.column_stack((X0 + 2000 + rng.normal(0, 120, 300), Y0 + 2000 + rng.normal(0, 120, 300))),
                          np.column_stack((X0 + rng.random(40) * 4500, Y0 + rng.random(40) * 4100))))
    cost = cov.EuclideanCost(fac, block=6, k=k, retry_k=retry_k)
    got = cost.raster(grid, 2, 41)
    rr, cc = np.meshgrid(np.arange(2, 41), np.arange(45), indexing="ij")
    xy = grid.cell_centres(rr.ravel(), cc.ravel())
    brute = np.sqrt(((xy[:, None, :] - fac[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    np.testing.assert_allclose(got.ravel(), brute, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("block", [1, 4, 9, 20])
def test_lattice_on_oblong_cells_equals_brute_force(block):
    """Cells 30 m × 70 m: the candidate pruning uses the block's true half-extents in x and y."""
    rng = np.random.default_rng(block)
    nrows, ncols = 45, 61
    grid = PopulationGrid(values=np.ones((nrows, ncols)), transform=Affine(30, 0, X0, 0, -70, Y0 + 70 * nrows),
                          crs=METRIC_CRS)
    fac = np.column_stack((X0 + rng.random(60) * 30 * ncols, Y0 + rng.random(60) * 70 * nrows))
    fac = np.concatenate((fac, fac[:5] + [[30.0, 0.0], [0.0, 70.0], [15.0, 35.0], [-30.0, 0.0], [0.0, -70.0]]))
    got = cov.EuclideanCost(fac, block=block).raster(grid, 0, nrows)
    rr, cc = np.meshgrid(np.arange(nrows), np.arange(ncols), indexing="ij")
    xy = grid.cell_centres(rr.ravel(), cc.ravel())
    brute = np.sqrt(((xy[:, None, :] - fac[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    np.testing.assert_allclose(got.ravel(), brute, rtol=1e-12, atol=1e-9)


def test_histogram_bins_are_the_log1p_bins_next_to_every_edge():
    """The fast binning (float32 log, log1p only near an edge) equals the plain log1p formula,
    including the floats right next to each bin edge, 0, negatives, NaN and inf."""
    def plain(cost):
        with np.errstate(invalid="ignore", over="ignore"):
            c = np.maximum(cost, 0).astype(np.float32)
            c *= np.float32(1 / cov._HIST_SCALE)
            np.log1p(c, out=c)
            c *= np.float32(1 / math.log(cov._HIST_BASE))
            np.floor(c, out=c)
        c[~np.isfinite(c)] = cov._HIST_BINS - 1
        return np.clip(c, 0, cov._HIST_BINS - 1).astype(np.int64)

    rng = np.random.default_rng(7)
    edges = (cov._HIST_SCALE * (cov._HIST_BASE ** np.arange(-1, cov._HIST_BINS + 2) - 1)).astype(np.float32)
    near = (edges.view(np.int32)[None, :] + np.arange(-64, 65, dtype=np.int32)[:, None]).view(np.float32)
    x = np.concatenate((rng.random(200_000) * 1e4, np.exp(rng.uniform(-20, 17, 200_000)),
                        near.ravel().astype(np.float64), [0.0, -0.0, -5.0, np.nan, np.inf, -np.inf, 1e300]))
    np.testing.assert_array_equal(cov._hist_bin(x), plain(x))


def test_distance_grid_is_exportable(tmp_path):
    grid = row_grid([[1, 1, 1]])
    dg = cov.distance_grid(points([centre(2)]), grid)
    np.testing.assert_allclose(dg.values, [[200, 100, 0]])
    assert dg.transform == grid.transform and dg.crs == grid.crs
    try:
        from geo.export import as_raster
    except ImportError:
        return
    assert as_raster(dg, "distance") is not None


def test_cells_raster_places_values_on_their_cells():
    grid = row_grid([[1, 0, 2], [0, 3, 0]])
    cells = cov.prepare_cells(grid, units_by_cols([(0, 3)], nrows=2), "uid", "uname")
    r = cov.cells_raster(cells, np.array([10.0, np.inf, 30.0]))  # populated cells in row-major order
    np.testing.assert_allclose(r, [[10, -1, -1], [-1, 30, -1]])


def test_distances_in_sentences_keep_the_radius_typed():
    assert cov.fmt_distance(2000, "en") == "2 km"
    assert cov.fmt_distance(1500, "vi") == "1,5 km"
    assert cov.fmt_distance(2250, "en") == "2.25 km"  # not "2.2 km": the sentence must state the real reach
    assert cov.fmt_distance(800, "vi") == "800 m"


def test_missing_capacity_column_is_refused():
    grid = row_grid([10, 10])
    fac = points([centre(0)], beds=[2])
    with pytest.raises(AtlasError) as e:
        cov.two_step_fca(fac, units_by_cols([(0, 2)]), grid, 150, "uid", "uname", capacity_col="giuong")
    assert e.value.key == "coverage_errors.no_capacity_column" and "beds" in e.value.message("en")


def test_bad_radius_message_shows_what_was_typed():
    with pytest.raises(AtlasError) as e:
        cov.coverage_by_unit(points([X0]), units_by_cols([(0, 1)]), row_grid([1]), float("nan"), "uid", "uname")
    assert "'nan'" in e.value.message("en")


def test_cost_raster_streams_any_cost_function():
    """Populated cells inside a unit get the cost (unreachable → nodata); all other cells nodata."""
    grid = row_grid([[1, 0, 2, 5], [3, 4, 0, 6]])
    units = units_by_cols([(0, 3)], nrows=2)  # column 3 is outside every unit

    def cost(xy):
        c = xy[:, 0] - X0
        return np.where(c > 200, np.inf, c)

    r = cov.cost_raster(cost, units, grid, chunk_cells=3)
    np.testing.assert_allclose(r, [[50, -1, -1, -1], [50, 150, -1, -1]])
    assert r.dtype == np.float32


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(2, 14), st.data())
def test_unit_population_is_the_grid_inside_the_units(nr, nc, data):
    """Units covering only some columns (with gaps): each gets exactly the cells whose centre it holds."""
    vals = np.array(data.draw(st.lists(st.floats(0, 1e4), min_size=nr * nc, max_size=nr * nc))).reshape(nr, nc)
    cuts = sorted(set(data.draw(st.lists(st.integers(0, nc), min_size=2, max_size=6))))
    spans = [(a, b) for a, b in zip(cuts[:-1], cuts[1:])][::2] or [(0, nc)]  # every other span: gaps
    df = cov.coverage_by_unit(points([centre(0)]), units_by_cols(spans, nrows=nr), row_grid(vals), 100, "uid", "uname")
    want = [vals[:, a:b].sum() for a, b in spans]
    np.testing.assert_allclose(df.population, want, rtol=1e-9, atol=1e-9)
    assert df.population.sum() == pytest.approx(sum(want), rel=1e-9, abs=1e-9)


def _random_case(seed: int, nrows: int = 120, ncols: int = 150):
    rng = np.random.default_rng(seed)
    x0, y0 = 430_000.0, 2_380_000.0
    frame = shapely.box(x0, y0, x0 + ncols * 100, y0 + nrows * 100)
    seeds = np.column_stack((x0 + rng.random(40) * ncols * 100, y0 + rng.random(40) * nrows * 100))
    polys = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds))), frame)
    units = gpd.GeoDataFrame({"uid": range(len(polys)), "uname": [f"U{i}" for i in range(len(polys))]},
                             geometry=polys, crs=METRIC_CRS)
    vals = rng.gamma(0.6, 5.0, (nrows, ncols)).astype(np.float32)
    vals[rng.random((nrows, ncols)) < 0.4] = 0  # sparse blocks take the per-cell path
    grid = PopulationGrid(values=vals, transform=Affine(100, 0, x0, 0, -100, y0 + nrows * 100), crs=METRIC_CRS)
    fac = gpd.GeoDataFrame(geometry=shapely.points(np.column_stack(
        (x0 + rng.random(30) * ncols * 100, y0 + rng.random(30) * nrows * 100))), crs=METRIC_CRS)
    return units, grid, fac


@pytest.mark.parametrize("exact", [True, False])
def test_threaded_blocks_give_the_single_thread_answer(monkeypatch, exact):
    units, grid, fac = _random_case(3)
    cov._LABEL_CACHE.clear()
    monkeypatch.setattr(cov, "WORKERS", 1)
    one = cov.coverage_by_unit(fac, units, grid, 800, "uid", "uname", chunk_cells=3000, exact=exact)
    cov._LABEL_CACHE.clear()
    monkeypatch.setattr(cov, "WORKERS", 2)
    two = cov.coverage_by_unit(fac, units, grid, 800, "uid", "uname", chunk_cells=3000, exact=exact)
    pd.testing.assert_frame_equal(one, two, check_exact=False, rtol=1e-9)
    # independent check of covered people: every populated cell centre against every facility
    lab = rasterio.features.rasterize(((g, i + 1) for i, g in enumerate(units.geometry)), out_shape=grid.shape,
                                      transform=grid.transform, fill=0, dtype="int32")
    rr, cc = np.nonzero((lab > 0) & (grid.values > 0))
    xy = grid.cell_centres(rr, cc)
    d = np.sqrt(((xy[:, None, :] - cov.facility_xy(fac, grid.crs)[None]) ** 2).sum(-1)).min(axis=1)
    want = np.bincount(lab[rr, cc] - 1, weights=np.where(d <= 800, grid.values[rr, cc], 0), minlength=len(units))
    assert np.allclose(two["covered_population"].to_numpy(), want)


def test_unit_mappings_for_rasterio_are_the_geojson_of_each_geometry():
    """Rings sliced from one coordinate list give the same GeoJSON as shapely, holes and parts included."""
    import json

    holed = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (4, 2), (4, 4)], [(6, 6), (8, 6), (8, 8)]])
    multi = shapely.MultiPolygon([holed, shapely.box(20, 20, 30, 25)])
    geoms = np.array([shapely.box(0, 0, 1, 1), holed, multi, shapely.LineString([(0, 0), (5, 5)]),
                      shapely.Point(3, 4), shapely.box(-5, -5, -1, -2)], dtype=object)
    assert cov._mappings(geoms) == [json.loads(g) for g in shapely.to_geojson(geoms)]


def test_unit_labels_are_cached_per_grid_and_unit_layer():
    units, grid, _ = _random_case(4)
    cov._LABEL_CACHE.clear()
    geoms = units.geometry.to_numpy()
    first = cov.unit_labels(grid, geoms)
    assert cov.unit_labels(grid, geoms.copy()) is first  # same content → cache hit
    assert not first.flags.writeable
    moved = shapely.transform(geoms, lambda c: c + 500)
    other = cov.unit_labels(grid, moved)
    assert other is not first and not np.array_equal(other, first)
    assert len(cov._LABEL_CACHE) == 2


def test_units_present_in_a_row_block_are_remembered_per_label_raster():
    key = ("test-present",)
    a = np.array([[0, 2, 2], [5, 5, 0], [7, 7, 7]], dtype=np.int16)
    np.testing.assert_array_equal(cov._present_labels(key, a, 0, 2), [0, 2, 5])
    assert cov._present_labels(key, a, 0, 2) is cov._present_labels(key, a, 0, 2)  # remembered
    b = a.copy()
    b[1, 2] = 9  # a raster rebuilt under the same key: never answered from the old one
    np.testing.assert_array_equal(cov._present_labels(key, b, 0, 2), [0, 2, 5, 9])


def test_rasterising_units_prints_no_georeference_warning_and_other_warnings_still_do(monkeypatch):
    """rasterio may warn NotGeoreferencedWarning while the atlas rasterises onto its own grid
    (mid-output of `indicators show`, `report --format pdf`): silenced there, and only there."""
    import warnings

    import rasterio.features
    from rasterio.errors import NotGeoreferencedWarning

    real = rasterio.features.rasterize

    def noisy(*a, **k):
        warnings.warn("Dataset has no geotransform, gcps, or rpcs.", NotGeoreferencedWarning, stacklevel=1)
        warnings.warn("something else", UserWarning, stacklevel=1)
        return real(*a, **k)

    monkeypatch.setattr(rasterio.features, "rasterize", noisy)
    units, grid, _ = _random_case(5)
    cov._LABEL_CACHE.clear()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        labels = cov.unit_labels(grid, units.geometry.to_numpy())
        after = len(seen)
        warnings.warn("a real one", NotGeoreferencedWarning, stacklevel=1)   # outside the rasterising: still shown
    assert labels.max() > 0
    kinds = [w.category for w in seen[:after]]
    assert NotGeoreferencedWarning not in kinds and UserWarning in kinds
    assert seen[-1].category is NotGeoreferencedWarning


def test_reach_limits_refuse_absurd_values_with_the_value_as_typed():
    from geo.coverage import MAX_DETOUR, MAX_MINUTES, MAX_RADIUS_M, check_limits
    from geo.errors import AtlasError

    check_limits(MAX_RADIUS_M, MAX_MINUTES, MAX_DETOUR)  # the limits themselves are allowed
    for kwargs, key in (({"radius_m": "1e12"}, "radius_too_large"), ({"minutes": 1e6}, "minutes_too_large"),
                        ({"detour": 4}, "detour_too_large")):
        with pytest.raises(AtlasError) as err:
            check_limits(**kwargs)
        assert err.value.key == f"coverage_errors.{key}"
        assert str(next(iter(kwargs.values()))) in err.value.message("vi")

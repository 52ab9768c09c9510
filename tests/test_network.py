"""Road-network costs on small synthetic networks with hand-computed answers."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.coverage import COLUMNS
from geo.errors import AtlasError
from geo.network import build_graph, network_cost_fn, network_coverage_by_unit
from geo.population import PopulationGrid
from geo.settings import METRIC_CRS

X0, Y0 = 430_000.0, 2_380_000.0


pytestmark = pytest.mark.usefixtures("workspace_file")


def roads(lines, classes=None, crs=METRIC_CRS):
    geoms = [shapely.LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines]
    cols = {"highway": classes} if classes is not None else {}
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=METRIC_CRS).to_crs(crs)


def xy(*pts):
    return np.array([(X0 + x, Y0 + y) for x, y in pts], dtype=float)


L_SHAPE = [[(0, 0), (500, 0), (1000, 0)], [(1000, 0), (1000, 1000)]]


def test_distances_along_an_l_shaped_road():
    g = build_graph(roads(L_SHAPE), "walk")
    assert (g.n_nodes, g.n_edges) == (4, 3)
    cost = network_cost_fn(g, xy((0, 10)), "distance", direct=False)
    # facility 10 m off the road at x=0
    got = cost(xy((250, -20), (1000, 500), (990, 900), (5000, 5000)))
    assert got[:3] == pytest.approx([10 + 250 + 20, 10 + 1000 + 500, 10 + 1000 + 900 + 10])
    assert math.isinf(got[3])  # more than max_snap_m from any road


def test_travel_time_by_road_class_for_motorbikes():
    g = build_graph(roads(L_SHAPE, ["residential", "primary"]), "motorbike")
    assert sorted(np.round(g.edge_speed * 3.6, 6)) == [25, 25, 45]
    cost = network_cost_fn(g, xy((0, 10)), "time", direct=False)
    # 10 m access at 10 km/h + 250 m at 25 km/h + 20 m access; 1000 m at 25 then 500 m at 45
    want = [(10 / 10 + 250 / 25 + 20 / 10) * 3.6 / 60, (10 / 10 + 1000 / 25 + 500 / 45) * 3.6 / 60]
    assert cost(xy((250, -20), (1000, 500))) == pytest.approx(want)


def test_excluded_classes_and_walking_speed():
    r = roads([[(0, 0), (1000, 0)], [(1000, 0), (2000, 0)]], ["motorway", "footway"])
    walk = build_graph(r, "walk")
    assert walk.n_edges == 1 and walk.edge_len[0] == pytest.approx(1000)  # no walking on motorways
    t = network_cost_fn(walk, xy((2000, 0)), "time", direct=False)(xy((1000, 0)))
    assert t == pytest.approx([12.0])  # 1 km at 5 km/h
    with pytest.raises(AtlasError) as e:
        build_graph(roads([[(0, 0), (1, 0)]], ["motorway"]), "motorbike")
    assert e.value.key == "coverage_errors.roads_empty"


def test_crossing_without_a_shared_vertex_does_not_connect():
    cross = [[(0, 0), (1000, 0)], [(500, -500), (500, 500)]]
    g = build_graph(roads(cross), "walk")
    cost = network_cost_fn(g, xy((0, 0)), "distance", direct=False)
    assert math.isinf(cost(xy((500, 500)))[0])
    shared = [[(0, 0), (500, 0), (1000, 0)], [(500, -500), (500, 0), (500, 500)]]
    cost = network_cost_fn(build_graph(roads(shared), "walk"), xy((0, 0)), "distance", direct=False)
    assert cost(xy((500, 500)))[0] == pytest.approx(1000)


def test_shortest_of_two_routes_and_nearest_of_two_facilities():
    # square loop 0,0 → 1000,0 → 1000,1000 → 0,1000 → 0,0 with a facility at each of two corners
    loop = [[(0, 0), (1000, 0), (1000, 1000), (0, 1000), (0, 0)]]
    g = build_graph(roads(loop), "walk")
    cost = network_cost_fn(g, xy((0, 0), (1000, 1000)), "distance", direct=False)
    assert cost(xy((100, 0), (1000, 300), (0, 700), (700, 0))) == pytest.approx([100, 700, 700, 700])


def test_facility_and_cell_on_the_same_edge():
    g = build_graph(roads([[(0, 0), (1000, 0)]]), "walk")
    cost = network_cost_fn(g, xy((600, 5)), "distance", direct=False)
    assert cost(xy((700, -5), (450, 0))) == pytest.approx([5 + 100 + 5, 5 + 150])


def test_direct_access_when_cheaper():
    g = build_graph(roads([[(0, 0), (1000, 0)]]), "walk")
    cost = network_cost_fn(g, xy((0, 300)), "distance", direct=True)
    # via the road: 300 + 100 + 300 = 700; straight: hypot(100, 0) = 100
    assert cost(xy((100, 300)))[0] == pytest.approx(100)
    assert network_cost_fn(g, xy((0, 300)), "distance", direct=False)(xy((100, 300)))[0] == pytest.approx(700)


def test_inputs_in_other_crs():
    g4326 = build_graph(roads(L_SHAPE, crs=4326), "walk")
    cost = network_cost_fn(g4326, xy((0, 10)), "distance", direct=False)
    assert cost(xy((1000, 500)))[0] == pytest.approx(1510, rel=1e-4)


def test_network_coverage_per_unit():
    """Five 100 m cells on a straight road; facility at cell 0's centre; walking."""
    grid = PopulationGrid(values=np.array([[1.0, 2, 3, 4, 5]]), transform=Affine(100, 0, X0, 0, -100, Y0 + 100),
                          crs=METRIC_CRS)
    units = gpd.GeoDataFrame({"uid": [1, 2], "uname": ["A", "B"]},
                             geometry=[shapely.box(X0, Y0, X0 + 200, Y0 + 100), shapely.box(X0 + 200, Y0, X0 + 500, Y0 + 100)],
                             crs=METRIC_CRS)
    road = roads([[(0, 50), (500, 50)]])
    fac = gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 50, Y0 + 50)], crs=METRIC_CRS)
    df = network_coverage_by_unit(fac, units, grid, road, "uid", "uname", distance_m=250)
    assert list(df.columns) == COLUMNS
    assert df.covered_population.tolist() == [3, 3]
    # 5 km/h = 83.33 m/min: 3 minutes reach 250 m → cells 0-2; 3.7 minutes reach 308 m → cell 3 too
    df = network_coverage_by_unit(fac, units, grid, road, "uid", "uname", minutes=3.7)
    assert "median_minutes" in df.columns and "median_distance_m" not in df.columns
    assert df.covered_population.tolist() == [3, 7]
    assert df.median_minutes.tolist() == pytest.approx([100 / 83.3333333, 300 / 83.3333333])
    cut = network_coverage_by_unit(fac, units, grid, road, "uid", "uname", minutes=3.7, limit=3.7)
    assert cut.covered_population.tolist() == [3, 7]  # the limit keeps coverage exact
    with pytest.raises(AtlasError) as e:
        network_coverage_by_unit(fac, units, grid, road, "uid", "uname")
    assert e.value.key == "coverage_errors.no_limit"
    with pytest.raises(AtlasError) as e:
        network_coverage_by_unit(fac, units, grid, road, "uid", "uname", minutes=-1)
    assert e.value.key == "coverage_errors.bad_minutes"


def test_bad_profile_and_empty_layer():
    with pytest.raises(AtlasError) as e:
        build_graph(roads(L_SHAPE), "bicycle")
    assert e.value.key == "coverage_errors.bad_profile"
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs=METRIC_CRS)
    with pytest.raises(AtlasError) as e:
        build_graph(pts, "walk")
    assert e.value.key == "coverage_errors.roads_empty"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=2, max_size=5, unique=True),
                min_size=1, max_size=6),
       st.lists(st.tuples(st.floats(0, 2000), st.floats(0, 2000)), min_size=1, max_size=3),
       st.lists(st.tuples(st.floats(0, 2000), st.floats(0, 2000)), min_size=1, max_size=10))
def test_network_distance_is_never_shorter_than_straight_line(lines, facs, pts):
    """Triangle inequality: along roads you never beat the crow's flight; more facilities never hurt."""
    r = roads([[(100 * x, 100 * y) for x, y in line] for line in lines])
    g = build_graph(r, "walk")
    fxy, pxy = xy(*facs), xy(*pts)
    net = network_cost_fn(g, fxy, "distance", max_snap_m=3000, direct=False)(pxy)
    straight = np.min(np.hypot(pxy[:, None, 0] - fxy[None, :, 0], pxy[:, None, 1] - fxy[None, :, 1]), axis=1)
    assert (net >= straight - 1e-6).all()
    more = network_cost_fn(g, np.vstack((fxy, pxy[:1])), "distance", max_snap_m=3000, direct=False)(pxy)
    assert (more <= net + 1e-6).all()


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=6, max_size=6), st.floats(0.5, 10), st.floats(0, 10),
       st.floats(0, 500))
def test_network_coverage_never_falls_with_more_time_or_a_new_facility(pops, minutes, more, new_x):
    grid = PopulationGrid(values=np.array([pops[:3], pops[3:]]) * 100,
                          transform=Affine(100, 0, X0, 0, -100, Y0 + 200), crs=METRIC_CRS)
    units = gpd.GeoDataFrame({"uid": [1], "uname": ["A"]}, geometry=[shapely.box(X0, Y0, X0 + 300, Y0 + 200)],
                             crs=METRIC_CRS)
    road = roads([[(0, 100), (300, 100)], [(150, 0), (150, 100), (150, 200)]])
    fac = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0 + 100)], crs=METRIC_CRS)
    g = build_graph(road, "walk")
    base = network_coverage_by_unit(fac, units, grid, g, "uid", "uname", minutes=minutes)
    longer = network_coverage_by_unit(fac, units, grid, g, "uid", "uname", minutes=minutes + more)
    fac2 = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0 + 100), shapely.Point(X0 + new_x * 0.6, Y0 + 100)],
                            crs=METRIC_CRS)
    added = network_coverage_by_unit(fac2, units, grid, g, "uid", "uname", minutes=minutes)
    eps = 1e-9
    assert longer.covered_population.iloc[0] >= base.covered_population.iloc[0] - eps
    assert added.covered_population.iloc[0] >= base.covered_population.iloc[0] - eps
    assert 0 <= base.covered_share.fillna(0).iloc[0] <= 1


def _brute_nearest(g, pts):
    """Nearest edge by brute force over every segment (ties → lowest index)."""
    from geo.network import _seg_dist

    e = np.broadcast_to(np.arange(g.n_edges), (len(pts), g.n_edges))
    d, _ = _seg_dist(g, pts, np.ascontiguousarray(e))
    return d.min(axis=1), np.argmin(d, axis=1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_snapping_matches_brute_force(seed):
    from geo.network import snap_points

    rng = np.random.default_rng(seed)
    # random segments of very different lengths (short ones force the exactness fallback)
    starts = rng.uniform(0, 3000, (300, 2))
    ends = starts + rng.normal(0, rng.choice([5, 100, 1500], 300)[:, None], (300, 2))
    g = build_graph(roads([[tuple(a), tuple(b)] for a, b in zip(starts, ends)]), "walk")
    pts = np.column_stack((X0 + rng.uniform(-500, 3500, 3000), Y0 + rng.uniform(-500, 3500, 3000)))
    snap = snap_points(g, pts, max_snap_m=200.0)
    d, e = _brute_nearest(g, pts)
    near = d <= 200.0
    assert (snap.edge[~near] == -1).all() and np.isinf(snap.off[~near]).all()
    assert np.allclose(snap.off[near], d[near], rtol=0, atol=1e-9)
    assert (snap.edge[near] == e[near]).all()


def test_snapping_tolerance_joins_nearby_vertices():
    gap = [[(0, 0), (1000, 0)], [(1000.4, 0), (2000, 0)]]  # a 40 cm digitising gap
    fac = xy((0, 0))
    loose = build_graph(roads(gap), "walk")
    assert math.isinf(network_cost_fn(loose, fac, "distance", direct=False)(xy((1500, 0)))[0])
    tight = build_graph(roads(gap), "walk", snap_tolerance_m=1.0)
    assert tight.n_nodes == 3 and tight.snap_tolerance_m == 1.0
    assert network_cost_fn(tight, fac, "distance", direct=False)(xy((1500, 0)))[0] == pytest.approx(1500, abs=1)


def test_cost_limit_is_exact_below_and_inf_above():
    rng = np.random.default_rng(5)
    lines = [[(x, 0), (x, 3000)] for x in range(0, 3001, 300)] + [[(0, y), (3000, y)] for y in range(0, 3001, 300)]
    g = build_graph(roads(lines), "walk", snap_tolerance_m=0.5)
    fac = xy((150, 150), (2500, 2600))
    pts = np.column_stack((X0 + rng.uniform(0, 3000, 2000), Y0 + rng.uniform(0, 3000, 2000)))
    full = network_cost_fn(g, fac, "time", direct=False)(pts)
    cut = network_cost_fn(g, fac, "time", direct=False, limit=20.0)(pts)
    inside = full <= 20.0
    assert 0 < inside.sum() < len(pts)
    assert np.allclose(cut[inside], full[inside]) and np.isinf(cut[~inside]).all()

"""Road-network travel distance/time from facilities to population cells.

The atlas ships no routable roads, so the graph is built from a user's line layer:

* every pair of consecutive vertices of a line is an edge; lines connect where they share
  a vertex: vertices closer than the snapping tolerance ``snap_tolerance_m`` (default
  1 cm) are one node (clusters joined transitively, ``scipy.spatial.cKDTree.query_pairs``
  + connected components) — crossings without a shared vertex do not connect (bridges,
  flyovers);
* edge cost is its length (metres) or travel time at the profile's speed for the road
  class (``highway``/``fclass``/``class``/``road_class``/``loai_duong`` column; classes the
  profile may not use are dropped, e.g. motorways for walking and motorbikes);
* facilities and cells are snapped to the nearest edge (within ``max_snap_m``; on equal
  distances the edge with the lowest index); the leg from the point to the road is
  straight, at the profile's access speed. Snapping is vectorised (:func:`snap_points`:
  KD-tree candidates from points sampled along the edges, exact point–segment distances,
  an exactness bound per point and an R-tree fallback where the bound does not hold);
* one multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra`` from a virtual source
  joined to every facility's snap point, stopped at the cost ``limit`` when one is given)
  gives the cost to every node; a cell's cost is
  its access leg + the cheaper way along its edge to either end (or directly to a
  facility snapped on the same edge). With ``direct=True`` a cell may also go straight to
  the nearest facility at the access speed, when that is cheaper.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.errors import AtlasError
from geo.settings import METRIC_CRS
from geo.text import fold

CLASS_COLUMNS = ("highway", "fclass", "road_class", "class", "type", "loai_duong", "loaiduong", "cap_duong")

# km/h per road class; None = not allowed. "default" for classes not listed.
PROFILES: dict[str, dict] = {
    "walk": {
        "default": 5.0, "access": 5.0,
        "speeds": {"motorway": None, "motorway_link": None, "cao toc": None, "duong cao toc": None},
    },
    "motorbike": {
        "default": 30.0, "access": 10.0,
        "speeds": {
            # motorbikes are banned from expressways in Viet Nam
            "motorway": None, "motorway_link": None, "cao toc": None, "duong cao toc": None,
            "trunk": 50.0, "trunk_link": 40.0, "quoc lo": 50.0,
            "primary": 45.0, "primary_link": 35.0, "tinh lo": 45.0,
            "secondary": 40.0, "secondary_link": 30.0, "huyen lo": 35.0,
            "tertiary": 35.0, "tertiary_link": 30.0, "duong xa": 30.0, "duong do thi": 30.0,
            "unclassified": 30.0, "residential": 25.0, "living_street": 15.0, "service": 15.0,
            "track": 15.0, "path": 10.0, "duong mon": 10.0,
            "footway": None, "pedestrian": None, "steps": None, "cycleway": None,
        },
    },
}
_SNAP_ROUND = 100.0  # 1 cm


@dataclass
class RoadGraph:
    """An undirected road graph in a metric CRS, with per-edge length and speed."""

    node_xy: np.ndarray  # (n_nodes, 2)
    edge_a: np.ndarray  # node index
    edge_b: np.ndarray
    edge_len: np.ndarray  # metres
    edge_speed: np.ndarray  # metres per second
    profile: str
    access_speed: float  # m/s, for the leg between a point and the road
    crs: str = METRIC_CRS
    snap_tolerance_m: float = 1.0 / _SNAP_ROUND
    _tree: shapely.STRtree | None = field(default=None, repr=False)
    _samples: tuple | None = field(default=None, repr=False)
    _csr: dict = field(default_factory=dict, repr=False)
    _seg: tuple | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of road-network nodes."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Number of road-network edges."""
        return len(self.edge_a)

    def weights(self, metric: str) -> np.ndarray:
        """Edge cost: metres (``distance``) or seconds (``time``)."""
        return self.edge_len if metric == "distance" else self.edge_len / self.edge_speed

    def tree(self) -> shapely.STRtree:
        """R-tree of the edge segments (the exact fallback of :func:`snap_points`)."""
        if self._tree is None:
            segs = shapely.linestrings(np.stack((self.node_xy[self.edge_a], self.node_xy[self.edge_b]), axis=1))
            self._tree = shapely.STRtree(segs)
        return self._tree

    def samples(self) -> tuple[cKDTree, np.ndarray, float]:
        """KD-tree of points sampled along every edge, the edge of each sample and ``h``:
        an edge is cut into pieces no longer than ``h`` and sampled at each piece's middle,
        so every point of an edge is within ``h / 2`` of one of its samples, which bounds
        the distance to edges that are not candidates. Samples are never at the ends: a
        node shared by several edges would otherwise fill the nearest-sample list with
        copies of one point."""
        if self._samples is None:
            L = self.edge_len
            h = max(float(np.median(L)) / 2.0, float(L.sum()) / (8.0 * max(1, len(L))), 1e-3)
            k = np.maximum(1, np.ceil(L / h)).astype(np.int64)  # pieces (= samples) per edge
            edge = np.repeat(np.arange(len(L)), k)
            start = np.concatenate(([0], np.cumsum(k)[:-1]))
            f = (np.arange(len(edge)) - np.repeat(start, k) + 0.5) / np.repeat(k, k)
            A, B = self.node_xy[self.edge_a[edge]], self.node_xy[self.edge_b[edge]]
            pts = A + (B - A) * f[:, None]
            self._samples = (cKDTree(pts), edge, float(h))
        return self._samples

    def seg_arrays(self) -> tuple[np.ndarray, ...]:
        """Per edge: start x, y, direction x, y and 1 / squared length (0 for a point)."""
        if self._seg is None:
            A = self.node_xy[self.edge_a]
            AB = self.node_xy[self.edge_b] - A
            L2 = (AB ** 2).sum(axis=1)
            inv = np.divide(1.0, L2, out=np.zeros_like(L2), where=L2 > 0)
            self._seg = (A[:, 0].copy(), A[:, 1].copy(), AB[:, 0].copy(), AB[:, 1].copy(), inv)
        return self._seg

    def csr(self, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Both directions of every edge as CSR arrays (indptr, indices, data), built once per metric."""
        if metric not in self._csr:
            w = np.maximum(self.weights(metric), 1e-9)  # explicit zeros would vanish
            rows = np.concatenate((self.edge_a, self.edge_b))
            cols = np.concatenate((self.edge_b, self.edge_a))
            order = np.argsort(rows, kind="stable")
            indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=self.n_nodes))))
            self._csr[metric] = (indptr.astype(np.int32), cols[order].astype(np.int32),
                                 np.concatenate((w, w))[order])
        return self._csr[metric]


def _class_column(roads: gpd.GeoDataFrame, class_col: str | None) -> str | None:
    if class_col:
        return class_col if class_col in roads.columns else None
    lower = {c.lower(): c for c in roads.columns}
    for c in CLASS_COLUMNS:
        if c in lower:
            return lower[c]
    return None


def speeds_for(classes: pd.Series | None, n: int, profile: str) -> np.ndarray:
    """Speed (km/h, NaN = not allowed) for each road class value under ``profile``."""
    prof = PROFILES[profile]
    if classes is None:
        return np.full(n, prof["default"])
    table = {fold(k): (np.nan if v is None else v) for k, v in prof["speeds"].items()}
    codes, uniq = pd.factorize(classes, use_na_sentinel=True)  # fold each distinct class once
    speed = np.array([table.get(fold(v) if isinstance(v, str) else fold(str(v)), prof["default"]) for v in uniq]
                     + [prof["default"]], dtype=np.float64)
    return speed[codes]  # code -1 (missing class) → the profile's default


def _merge_close(node_xy: np.ndarray, tol: float) -> np.ndarray:
    """Label of each node after joining nodes closer than ``tol`` (transitively)."""
    from scipy.sparse.csgraph import connected_components

    pairs = cKDTree(node_xy).query_pairs(tol, output_type="ndarray")
    if len(pairs) == 0:
        return np.arange(len(node_xy))
    m = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(node_xy),) * 2)
    return connected_components(m, directed=False)[1]


def build_graph(roads: gpd.GeoDataFrame, profile: str = "walk", crs: str = METRIC_CRS,
                class_col: str | None = None, snap_tolerance_m: float = 1.0 / _SNAP_ROUND) -> RoadGraph:
    """Build a :class:`RoadGraph` from a line layer (any CRS) for ``profile`` (walk|motorbike).

    Parameters
    ----------
    roads : GeoDataFrame of (Multi)LineStrings, any CRS; the road class is read from
        ``class_col`` or the first of ``CLASS_COLUMNS`` present.
    profile : "walk" or "motorbike" (speeds per class in ``PROFILES``).
    crs : metric CRS of the graph (the population grid's).
    snap_tolerance_m : vertices closer than this (metres) become one node (default 1 cm:
        lines join only where they share a vertex; raise it for layers digitised with gaps).

    Raises
    ------
    AtlasError
        ``coverage_errors.bad_profile``, ``coverage_errors.no_crs``, ``coverage_errors.roads_empty``.
    """
    if profile not in PROFILES:
        raise AtlasError("coverage_errors.bad_profile", value=profile)
    if roads.crs is None:
        raise AtlasError("coverage_errors.no_crs", what="roads")
    r = roads.to_crs(crs)
    geoms = r.geometry.to_numpy()
    kind = shapely.get_type_id(geoms)
    is_line = np.isin(kind, (1, 2, 5))  # LineString, LinearRing, MultiLineString
    col = _class_column(r, class_col)
    speeds_kmh = speeds_for(r[col] if col else None, len(r), profile)
    keep = is_line & ~shapely.is_empty(geoms) & np.isfinite(speeds_kmh)
    if not keep.any():
        raise AtlasError("coverage_errors.roads_empty")
    parts, part_of = shapely.get_parts(geoms[keep], return_index=True)
    speed_part = speeds_kmh[keep][part_of]
    coords, line_idx = shapely.get_coordinates(parts, return_index=True)
    if len(coords) < 2:
        raise AtlasError("coverage_errors.roads_empty")
    same = line_idx[1:] == line_idx[:-1]
    keys = np.round(coords * _SNAP_ROUND).astype(np.int64)
    order = np.lexsort((keys[:, 1], keys[:, 0]))
    ks = keys[order]
    new = np.ones(len(ks), dtype=bool)
    new[1:] = (ks[1:] != ks[:-1]).any(axis=1)
    node_of = np.empty(len(keys), dtype=np.int64)
    node_of[order] = np.cumsum(new) - 1
    node_xy = ks[new].astype(np.float64) / _SNAP_ROUND
    tol = float(snap_tolerance_m)
    if not math.isfinite(tol) or tol < 0:
        raise AtlasError("coverage_errors.bad_radius", value=str(snap_tolerance_m))
    if tol > 1.0 / _SNAP_ROUND:
        label = _merge_close(node_xy, tol)
        first = np.unique(label, return_index=True)[1]  # a cluster sits at its first node
        node_xy = node_xy[first]
        node_of = label[node_of]
    a = node_of[:-1][same]
    b = node_of[1:][same]
    seg_speed = speed_part[line_idx[:-1][same]]
    length = np.hypot(*(node_xy[b] - node_xy[a]).T)
    ok = (a != b) & (length > 0)
    a, b, length, seg_speed = a[ok], b[ok], length[ok], seg_speed[ok]
    if len(a) == 0:
        raise AtlasError("coverage_errors.roads_empty")
    # one edge per node pair: keep the fastest (then shortest)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    time = length / seg_speed
    order = np.lexsort((length, time, hi, lo))
    lo, hi, length, seg_speed = lo[order], hi[order], length[order], seg_speed[order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    prof = PROFILES[profile]
    return RoadGraph(node_xy=node_xy, edge_a=lo[first], edge_b=hi[first], edge_len=length[first],
                     edge_speed=seg_speed[first] / 3.6, profile=profile, access_speed=prof["access"] / 3.6, crs=crs,
                     snap_tolerance_m=max(tol, 1.0 / _SNAP_ROUND))


@dataclass
class Snap:
    """Points snapped to edges: edge index (-1 = too far), fraction along a→b, leg length (m)."""

    edge: np.ndarray
    frac: np.ndarray
    off: np.ndarray


def _seg_dist(graph: RoadGraph, xy: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance from points ``xy`` (m, 2) to edges ``e`` ((m, k) or (m,)) and the fraction along a→b."""
    ax, ay, abx, aby, inv = graph.seg_arrays()
    px = (xy[:, 0, None] if e.ndim == 2 else xy[:, 0]) - ax[e]
    py = (xy[:, 1, None] if e.ndim == 2 else xy[:, 1]) - ay[e]
    ex, ey = abx[e], aby[e]
    f = px * ex
    f += py * ey
    f *= inv[e]
    np.clip(f, 0.0, 1.0, out=f)
    ex *= f
    ey *= f
    px -= ex
    py -= ey
    px *= px
    py *= py
    px += py
    return np.sqrt(px, out=px), f


def _snap_candidates(graph: RoadGraph, q: np.ndarray, k: int, bound: float, max_snap_m: float):
    """One KD-tree pass of :func:`snap_points` for points ``q``: nearest edge among the
    candidates, its fraction and distance, and whether that answer is proven exact."""
    tree, sample_edge, h = graph.samples()
    k = int(min(k, len(sample_edge)))
    dk, ik = tree.query(q, k=k, distance_upper_bound=bound, workers=1)
    dk, ik = dk.reshape(len(q), k), ik.reshape(len(q), k)
    found = ik < len(sample_edge)
    cand = sample_edge[np.where(found, ik, 0)]
    d, f = _seg_dist(graph, q, cand)
    d[~found] = np.inf
    best = d.min(axis=1)
    ecand = np.where(d <= best[:, None], cand, np.iinfo(np.int64).max)  # ties: lowest edge index
    j = np.argmin(ecand, axis=1)
    rows = np.arange(len(q))
    # exact when no unseen edge can be closer: every edge outside the candidates has all its
    # samples at ≥ the k-th sample's distance (≥ bound when fewer than k were found)
    far = np.where(found[:, -1], dk[:, -1], bound)
    exact = far - h / 2 >= np.minimum(best, max_snap_m) - 1e-9
    return cand[rows, j], f[rows, j], best, exact


def snap_points(graph: RoadGraph, xy: np.ndarray, max_snap_m: float = 500.0, chunk: int = 50_000,
                workers: int = 2) -> Snap:
    """Snap points ``(n, 2)`` (graph CRS) to their nearest edge within ``max_snap_m`` metres.

    Rule: the edge at the smallest point–segment distance (ties: lowest edge index); no
    edge (``edge = -1``, ``off = inf``) when it is farther than ``max_snap_m``.

    Method (vectorised; own code because no library gives exact nearest segments for
    millions of points fast — ``shapely.STRtree.query_nearest`` takes ~40 µs a point):
    the 8 nearest samples along edges (``RoadGraph.samples``, spacing ``h``) propose
    candidate edges whose exact distances numpy computes. The answer is exact when the
    8th sample is farther than the best distance + ``h/2`` (no other edge can be closer);
    points where that fails retry with 32 samples, and the rare rest are answered by the
    edges' R-tree (``query_nearest``, all ties, lowest index kept). Chunks run on
    ``workers`` threads (scipy and numpy release the GIL).
    """
    from concurrent.futures import ThreadPoolExecutor

    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    n = len(xy)
    edge = np.full(n, -1, dtype=np.int64)
    frac = np.zeros(n)
    off = np.full(n, np.inf)
    if n == 0 or graph.n_edges == 0:
        return Snap(edge, frac, off)
    h = graph.samples()[2]
    bound = float(max_snap_m) + h  # samples beyond this cannot belong to an edge within reach

    def run(idx: np.ndarray) -> np.ndarray:
        todo = idx
        for k in (8, 32):
            if len(todo) == 0:
                break
            be, bf, best, exact = _snap_candidates(graph, xy[todo], k, bound, max_snap_m)
            ok = exact & (best <= max_snap_m)
            p = todo[ok]
            edge[p], frac[p], off[p] = be[ok], bf[ok], best[ok]
            todo = todo[~exact]
        return todo

    chunks = [np.arange(s, min(n, s + chunk)) for s in range(0, n, chunk)]
    if workers > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(workers) as pool:
            left = list(pool.map(run, chunks))
    else:
        left = [run(c) for c in chunks]
    fb = np.concatenate(left)
    if len(fb):
        (pi, ei), dist = graph.tree().query_nearest(shapely.points(xy[fb]), max_distance=max_snap_m,
                                                    return_distance=True, all_matches=True)
        if len(pi):
            o = np.lexsort((ei, dist, pi))  # per point: smallest distance, then lowest edge index
            pi, ei = pi[o], ei[o]
            first = np.ones(len(pi), dtype=bool)
            first[1:] = pi[1:] != pi[:-1]
            pi, ei = pi[first], ei[first]
            p = fb[pi]
            d, f = _seg_dist(graph, xy[p], ei)
            edge[p], frac[p], off[p] = ei, f, d
    return Snap(edge, frac, off)


def _access_cost(graph: RoadGraph, metres: np.ndarray, metric: str) -> np.ndarray:
    return metres if metric == "distance" else metres / graph.access_speed


def node_costs(graph: RoadGraph, fac: Snap, metric: str = "distance", limit: float | None = None) -> np.ndarray:
    """Cost (metres or seconds) from the nearest facility to every node: one
    ``scipy.sparse.csgraph.dijkstra`` from a virtual source joined to each facility's snap
    point; with ``limit`` the search stops there and farther nodes are ``inf``."""
    w = graph.weights(metric)
    n = graph.n_nodes
    ok = fac.edge >= 0
    if not ok.any():
        return np.full(n, np.inf)
    e = fac.edge[ok]
    acc = _access_cost(graph, fac.off[ok], metric)
    cols = np.concatenate((graph.edge_a[e], graph.edge_b[e]))
    vals = np.concatenate((acc + fac.frac[ok] * w[e], acc + (1 - fac.frac[ok]) * w[e]))
    src_cost = np.full(n, np.inf)  # several facilities reach one node: keep the cheapest
    np.minimum.at(src_cost, cols, vals)
    src_cols = np.flatnonzero(np.isfinite(src_cost)).astype(np.int32)
    src_vals = np.maximum(src_cost[src_cols], 1e-9)
    indptr, indices, data = graph.csr(metric)
    m = csr_matrix((np.concatenate((data, src_vals)), np.concatenate((indices, src_cols)),
                    np.concatenate((indptr, [indptr[-1] + len(src_cols)]))), shape=(n + 1, n + 1))
    d = dijkstra(m, directed=True, indices=n, limit=np.inf if limit is None else float(limit))
    return d[:n]


def point_costs(graph: RoadGraph, D: np.ndarray, cells: Snap, fac: Snap, metric: str = "distance") -> np.ndarray:
    """Cost for snapped points given node costs ``D`` (inf when unreachable/too far)."""
    w = graph.weights(metric)
    out = np.full(len(cells.edge), np.inf)
    ok = cells.edge >= 0
    e = cells.edge[ok]
    s = cells.frac[ok]
    along = np.minimum(D[graph.edge_a[e]] + s * w[e], D[graph.edge_b[e]] + (1 - s) * w[e])
    out[ok] = _access_cost(graph, cells.off[ok], metric) + along
    # a facility on the same edge can be reached without passing an end node
    fok = fac.edge >= 0
    if fok.any():
        fe = fac.edge[fok]
        hit = np.flatnonzero(ok)[np.isin(e, fe)]
        if len(hit):
            cdf = pd.DataFrame({"i": hit, "edge": cells.edge[hit], "s": cells.frac[hit]})
            fdf = pd.DataFrame({"edge": fe, "t": fac.frac[fok], "fa": _access_cost(graph, fac.off[fok], metric)})
            j = cdf.merge(fdf, on="edge")
            j["c"] = j["fa"] + (j["t"] - j["s"]).abs() * w[j["edge"].to_numpy()]
            best = j.groupby("i")["c"].min()
            idx = best.index.to_numpy()
            out[idx] = np.minimum(out[idx], _access_cost(graph, cells.off[idx], metric) + best.to_numpy())
    return out


def network_cost_fn(graph: RoadGraph, fac_xy: np.ndarray, metric: str = "distance", max_snap_m: float = 500.0,
                    direct: bool = True, limit: float | None = None, timings: dict[str, float] | None = None):
    """Cost function for :func:`geo.coverage.coverage_with_cost`: metres (``distance``) or
    minutes (``time``) from each point to the nearest facility through the network.

    With ``limit`` (same unit as the result) the Dijkstra search stops at the limit and
    every point whose cost exceeds it gets ``inf`` (covered / not covered stays exact;
    costs above the limit are not known). ``timings``, when given, receives the wall seconds
    of each step (``edge_index`` — the edge samples' KD-tree, built once per graph —,
    ``facility_snap``, ``dijkstra`` once; ``cell_snap``, ``cell_cost``
    summed over calls) — the profile printed by ``bench/bench_network.py``.
    """
    clock = _Clock(timings)
    scale = 1.0 if metric == "distance" else 1 / 60.0
    with clock("edge_index"):  # built once per graph, then cached on it
        graph.samples()
        graph.seg_arrays()
    with clock("facility_snap"):
        fac = snap_points(graph, fac_xy, max_snap_m)
    with clock("dijkstra"):
        D = node_costs(graph, fac, metric, None if limit is None else float(limit) / scale)
    tree = cKDTree(fac_xy) if (direct and len(fac_xy)) else None

    def cost(xy: np.ndarray) -> np.ndarray:
        with clock("cell_snap"):
            snapped = snap_points(graph, xy, max_snap_m)
        with clock("cell_cost"):
            c = point_costs(graph, D, snapped, fac, metric)
        if tree is not None:
            d, _ = tree.query(xy, k=1, workers=-1)
            c = np.minimum(c, _access_cost(graph, d, metric))
        c *= scale
        if limit is not None:
            c[c > limit] = np.inf
        return c

    return cost


class _Clock:
    """Adds the wall time of ``with clock(name):`` blocks to a dict (no-op without one)."""

    def __init__(self, into: dict[str, float] | None) -> None:
        self.into = into

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if self.into is None:
            yield
            return
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.into[name] = self.into.get(name, 0.0) + time.perf_counter() - t0


def network_coverage_by_unit(facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame, grid, roads,
                             unit_id: str, unit_name: str, minutes: float | None = None,
                             distance_m: float | None = None, profile: str = "walk",
                             max_snap_m: float = 500.0, direct: bool = True, progress=None,
                             limit: float | None = None) -> pd.DataFrame:
    """Per-unit coverage along the road network (``roads``: a line layer or a built
    :class:`RoadGraph`). Give ``minutes`` (travel time) or ``distance_m`` (network metres).

    Same columns as :func:`geo.coverage.coverage_by_unit`; with ``minutes`` the distance
    columns are replaced by ``median_minutes`` / ``p90_minutes``. With ``limit`` (≥ the
    threshold, same unit) the Dijkstra search stops there: covered counts stay exact and a
    quantile above the limit is NaN (not known).
    """
    from geo.coverage import coverage_with_cost, facility_xy

    if minutes is None and distance_m is None:
        raise AtlasError("coverage_errors.no_limit")
    if minutes is not None and (not math.isfinite(float(minutes)) or float(minutes) <= 0):
        raise AtlasError("coverage_errors.bad_minutes", value=minutes)
    if distance_m is not None and (not math.isfinite(float(distance_m)) or float(distance_m) <= 0):
        raise AtlasError("coverage_errors.bad_radius", value=distance_m)
    graph = roads if isinstance(roads, RoadGraph) else build_graph(roads, profile, grid.crs)
    metric = "time" if minutes is not None else "distance"
    threshold = float(minutes) if minutes is not None else float(distance_m)
    if limit is not None:
        limit = max(float(limit), threshold)
    cost = network_cost_fn(graph, facility_xy(facilities, grid.crs), metric, max_snap_m, direct, limit)
    df = coverage_with_cost(cost, units, grid, threshold, unit_id, unit_name, progress=progress)
    if metric == "time":
        df = df.rename(columns={"median_distance_m": "median_minutes", "p90_distance_m": "p90_minutes"})
    return df

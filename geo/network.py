"""Road-network travel distance/time from facilities to population cells.

The atlas ships no routable roads, so the graph is built from a user's line layer:

* every pair of consecutive vertices of a line is an edge; lines connect where they share
  a vertex (coordinates rounded to 1 cm) — crossings without a shared vertex do not
  connect (bridges, flyovers);
* edge cost is its length (metres) or travel time at the profile's speed for the road
  class (``highway``/``fclass``/``class``/``road_class``/``loai_duong`` column; classes the
  profile may not use are dropped, e.g. motorways for walking and motorbikes);
* facilities and cells are snapped to the nearest edge (within ``max_snap_m``); the leg
  from the point to the road is straight, at the profile's access speed;
* one multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra`` from a virtual source
  joined to every facility's snap point) gives the cost to every node; a cell's cost is
  its access leg + the cheaper way along its edge to either end (or directly to a
  facility snapped on the same edge). With ``direct=True`` a cell may also go straight to
  the nearest facility at the access speed, when that is cheaper.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.errors import AtlasError
from geo.paths import METRIC_CRS
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
    _tree: shapely.STRtree | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        return len(self.edge_a)

    def weights(self, metric: str) -> np.ndarray:
        """Edge cost: metres (``distance``) or seconds (``time``)."""
        return self.edge_len if metric == "distance" else self.edge_len / self.edge_speed

    def tree(self) -> shapely.STRtree:
        if self._tree is None:
            segs = shapely.linestrings(np.stack((self.node_xy[self.edge_a], self.node_xy[self.edge_b]), axis=1))
            self._tree = shapely.STRtree(segs)
        return self._tree


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
    folded = classes.map(lambda v: fold(v) if v is not None and not (isinstance(v, float) and math.isnan(v)) else "")
    return folded.map(lambda k: table.get(k, prof["default"])).to_numpy(dtype=np.float64)


def build_graph(roads: gpd.GeoDataFrame, profile: str = "walk", crs: str = METRIC_CRS,
                class_col: str | None = None) -> RoadGraph:
    """Build a :class:`RoadGraph` from a line layer (any CRS) for ``profile`` (walk|motorbike)."""
    if profile not in PROFILES:
        raise AtlasError("coverage_errors.bad_profile", value=profile)
    if roads.crs is None:
        raise AtlasError("coverage_errors.no_crs", what="roads")
    r = roads.to_crs(crs)
    geoms = r.geometry.to_numpy()
    kind = shapely.get_type_id(geoms)
    is_line = np.isin(kind, (1, 2, 5))  # LineString, LinearRing, MultiLineString
    speeds_kmh = speeds_for(r[_class_column(r, class_col)] if _class_column(r, class_col) else None, len(r), profile)
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
    uniq, node_of = np.unique(keys, axis=0, return_inverse=True)
    node_of = node_of.ravel()
    node_xy = uniq.astype(np.float64) / _SNAP_ROUND
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
                     edge_speed=seg_speed[first] / 3.6, profile=profile, access_speed=prof["access"] / 3.6, crs=crs)


@dataclass
class Snap:
    """Points snapped to edges: edge index (-1 = too far), fraction along a→b, leg length (m)."""

    edge: np.ndarray
    frac: np.ndarray
    off: np.ndarray


def snap_points(graph: RoadGraph, xy: np.ndarray, max_snap_m: float = 500.0) -> Snap:
    """Snap points to their nearest edge within ``max_snap_m`` metres."""
    n = len(xy)
    edge = np.full(n, -1, dtype=np.int64)
    frac = np.zeros(n)
    off = np.full(n, np.inf)
    if n == 0:
        return Snap(edge, frac, off)
    pts = shapely.points(xy)
    (pi, ei), dist = graph.tree().query_nearest(pts, max_distance=max_snap_m, return_distance=True, all_matches=False)
    edge[pi] = ei
    off[pi] = dist
    A = graph.node_xy[graph.edge_a[ei]]
    B = graph.node_xy[graph.edge_b[ei]]
    AB = B - A
    L2 = (AB ** 2).sum(axis=1)
    frac[pi] = np.clip(((xy[pi] - A) * AB).sum(axis=1) / np.where(L2 > 0, L2, 1), 0.0, 1.0)
    return Snap(edge, frac, off)


def _access_cost(graph: RoadGraph, metres: np.ndarray, metric: str) -> np.ndarray:
    return metres if metric == "distance" else metres / graph.access_speed


def node_costs(graph: RoadGraph, fac: Snap, metric: str = "distance") -> np.ndarray:
    """Cost from the nearest facility to every node (multi-source Dijkstra)."""
    w = graph.weights(metric)
    n = graph.n_nodes
    ok = fac.edge >= 0
    if not ok.any():
        return np.full(n, np.inf)
    e = fac.edge[ok]
    acc = _access_cost(graph, fac.off[ok], metric)
    src = n  # virtual source node
    sa = acc + fac.frac[ok] * w[e]
    sb = acc + (1 - fac.frac[ok]) * w[e]
    rows = np.concatenate((graph.edge_a, graph.edge_b, np.full(len(e), src), np.full(len(e), src)))
    cols = np.concatenate((graph.edge_b, graph.edge_a, graph.edge_a[e], graph.edge_b[e]))
    vals = np.maximum(np.concatenate((w, w, sa, sb)), 1e-9)  # explicit zeros would vanish
    # duplicates (several facilities on one edge end): keep the minimum
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    m = coo_matrix((vals[first], (rows[first], cols[first])), shape=(n + 1, n + 1)).tocsr()
    d = dijkstra(m, directed=True, indices=src)
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
                    direct: bool = True):
    """Cost function for :func:`geo.coverage.coverage_with_cost`: metres (``distance``) or
    minutes (``time``) from each point to the nearest facility through the network."""
    fac = snap_points(graph, fac_xy, max_snap_m)
    D = node_costs(graph, fac, metric)
    tree = cKDTree(fac_xy) if (direct and len(fac_xy)) else None
    scale = 1.0 if metric == "distance" else 1 / 60.0

    def cost(xy: np.ndarray) -> np.ndarray:
        c = point_costs(graph, D, snap_points(graph, xy, max_snap_m), fac, metric)
        if tree is not None:
            d, _ = tree.query(xy, k=1, workers=-1)
            c = np.minimum(c, _access_cost(graph, d, metric))
        return c * scale

    return cost


def network_coverage_by_unit(facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame, grid, roads,
                             unit_id: str, unit_name: str, minutes: float | None = None,
                             distance_m: float | None = None, profile: str = "walk",
                             max_snap_m: float = 500.0, direct: bool = True, progress=None) -> pd.DataFrame:
    """Per-unit coverage along the road network (``roads``: a line layer or a built
    :class:`RoadGraph`). Give ``minutes`` (travel time) or ``distance_m`` (network metres).

    Same columns as :func:`geo.coverage.coverage_by_unit`; with ``minutes`` the distance
    columns are replaced by ``median_minutes`` / ``p90_minutes``.
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
    cost = network_cost_fn(graph, facility_xy(facilities, grid.crs), metric, max_snap_m, direct)
    df = coverage_with_cost(cost, units, grid, threshold, unit_id, unit_name, progress=progress)
    if metric == "time":
        df = df.rename(columns={"median_distance_m": "median_minutes", "p90_distance_m": "p90_minutes"})
    return df

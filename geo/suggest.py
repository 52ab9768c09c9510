"""Where to build next: location-allocation on the coverage grid (MCLP, LSCP, p-median).

Models (PySAL ``spopt.locate`` with PuLP's HiGHS solver — the atlas writes no solver):

* **MCLP** (maximal covering, Church & ReVelle 1974): choose ``p`` new sites among the
  candidates to maximise the people newly within reach, given the existing facilities.
* **LSCP** (set covering for a target share): the fewest new sites so that ``target``
  of the people in scope is within reach. Answered as the smallest ``p`` whose MCLP
  optimum reaches the target (spopt's ``LSCP`` demands that *every* demand point be
  covered, so a partial target such as 95 % is not expressible in it).
* **p-median** (Hakimi 1964): ``p`` new sites minimising population-weighted cost to the
  nearest facility (existing ones kept); small problems only (dense cost matrix).

Rules, the same as the coverage page (:mod:`geo.coverage`): a population cell is covered
when its cost to a facility (straight line × ``detour``, or road-network cost from
:mod:`geo.network`) is ≤ the reach. The demand is the cells not covered by the existing
facilities; a candidate covers the demand cells within its reach.

Methods, stated on every answer (:attr:`Suggestion.method`):

* ``greedy`` — add the site with the largest marginal gain, ``p`` times (sparse
  coverage matrix, incremental gains). Its **gap** is an a-posteriori bound: coverage is
  submodular, so for every greedy step ``i`` the optimum is ≤ f(Sᵢ) + the sum of the
  ``p`` largest marginal gains at that step (Nemhauser, Wolsey & Fisher 1978; Minoux
  1978); the bound is the minimum over the steps and is never weaker than the
  a-priori (1 − 1/e) guarantee. ``gap = (bound − found) / bound`` of the *new* people.
* ``exact`` — spopt's ``MCLP.from_cost_matrix`` solved by HiGHS (through PuLP) on the
  reduced problem (demand cells with identical candidate sets merged, candidates that
  cover nobody dropped — both exact reductions). spopt builds a dense matrix in Python,
  so above ``EXACT_MAX_ENTRIES`` cells × candidates the same model goes to HiGHS as
  sparse arrays (:func:`exact_mclp_sparse`), up to ``SPARSE_MAX_NNZ`` nonzeros; beyond,
  greedy only. With a time limit, HiGHS returns the best answer so far and its dual
  bound: method ``exact_time_limit`` with that gap (or greedy's answer if better).

Candidates: coarse grid cells (``cell_m``, default 500 m) whose centre lies inside the
units, a user's point layer, or the facilities of another category; minus those inside
an exclusion polygon layer and those closer than ``min_spacing_m`` to an existing
facility; chosen sites are also at least ``min_spacing_m`` apart.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from geo.coverage import CellSet, facility_xy, fmt_distance, to_grid_crs
from geo.errors import AtlasError
from geo.i18n import fmt_number, fmt_percent, t
from geo.settings import STORE_CRS

MODELS = ("mclp", "lscp", "pmedian")
EXACT_MAX_ENTRIES = 1_500_000  # spopt builds a dense clients × facilities model in Python
EXACT_PRECHECK_NNZ = 8_000_000  # larger cover matrices are not even reduced for the exact model
SPARSE_MAX_NNZ = 500_000  # HiGHS overran a 20 s limit 13× at 2.6 M (bench_suggest): greedy only beyond
PMEDIAN_MAX_ENTRIES = 600_000
MAX_NEW = 500
DEFAULT_CELL_M = 500.0
Progress = Callable[[float, str], None]

# ---------------------------------------------------------------------------------------
# candidates
# ---------------------------------------------------------------------------------------


@dataclass
class Candidates:
    """Candidate sites in a metric CRS: ``xy`` ``(n, 2)``, a label per site, their origin."""

    xy: np.ndarray
    label: np.ndarray
    origin: str  # "grid" | "layer"
    crs: str
    dropped_excluded: int = 0
    dropped_spacing: int = 0
    rc: np.ndarray | None = None  # (n, 2) row/col on the population grid when on its lattice


def grid_candidates(units: gpd.GeoDataFrame, crs: str, cell_m: float = DEFAULT_CELL_M,
                    grid=None) -> Candidates:
    """Centres of a ``cell_m`` grid (aligned on multiples of ``cell_m`` in ``crs``) that lie
    inside the union of ``units``. With ``grid`` (the :class:`~geo.population.PopulationGrid`,
    north-up) the candidates are the centre cells of ``cell_m`` blocks of that grid, so
    every candidate sits on the population lattice and reach is one shared stencil; a block
    is inside when its centre cell belongs to a unit (the coverage engine's cell-centre rule).

    Raises
    ------
    AtlasError
        ``suggest_errors.bad_cell`` for a non-positive size; ``suggest_errors.too_many_candidates``
        when the grid would hold more than 200,000 candidates.
    """
    if not (isinstance(cell_m, (int, float)) and math.isfinite(cell_m) and cell_m > 0):
        raise AtlasError("suggest_errors.bad_cell", value=str(cell_m))
    u = to_grid_crs(units, crs, "units")
    rc = None
    tr = getattr(grid, "transform", None)
    if tr is not None and tr.b == 0 and tr.d == 0 and abs(tr.a) == abs(tr.e) and str(grid.crs) == str(crs):
        from geo.coverage import unit_labels

        k = max(1, int(round(cell_m / abs(tr.a))))
        nrows, ncols = grid.shape
        if (nrows // k + 1) * (ncols // k + 1) > 20_000_000:
            raise AtlasError("suggest_errors.too_many_candidates", count=(nrows // k + 1) * (ncols // k + 1))
        rr, cc = np.meshgrid(np.arange(k // 2, nrows, k), np.arange(k // 2, ncols, k), indexing="ij")
        rr, cc = rr.ravel(), cc.ravel()
        # inside = the block's centre cell belongs to a unit: the coverage engine's cell-centre
        # rule on its cached label raster (no polygon union, no point-in-polygon test)
        inside = unit_labels(grid, u.geometry.to_numpy())[rr, cc] > 0
        rr, cc = rr[inside], cc[inside]
        xy0 = grid.cell_centres(rr, cc)
        # a quarter cell off the centre: no cell centre is then ever exactly at a round reach
        # (sums of two odd squares are never ≡ 0 mod 4), so a site sent to the what-if as
        # lon/lat (a ~1e-9 m round trip) covers exactly the cells counted here
        xy = np.column_stack((xy0[:, 0] + tr.a / 4, xy0[:, 1] + tr.e / 4))
        rc = np.column_stack((rr, cc))
    else:
        geom = shapely.union_all(u.geometry.to_numpy())
        if geom is None or geom.is_empty:
            return Candidates(np.empty((0, 2)), np.empty(0, dtype=object), "grid", crs)
        x0, y0, x1, y1 = geom.bounds
        xs = np.arange(math.floor(x0 / cell_m), math.ceil(x1 / cell_m)) * cell_m + cell_m / 2
        ys = np.arange(math.floor(y0 / cell_m), math.ceil(y1 / cell_m)) * cell_m + cell_m / 2
        if len(xs) * len(ys) > 20_000_000:
            raise AtlasError("suggest_errors.too_many_candidates", count=len(xs) * len(ys))
        gx, gy = np.meshgrid(xs, ys)
        gx, gy = gx.ravel(), gy.ravel()
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, gx, gy)
        xy = np.column_stack((gx[inside], gy[inside]))
    if len(xy) > 200_000:
        raise AtlasError("suggest_errors.too_many_candidates", count=len(xy))
    labels = np.char.add(np.char.add(np.round(xy[:, 0]).astype(np.int64).astype(str), " "),
                         np.round(xy[:, 1]).astype(np.int64).astype(str)).astype(object)
    return Candidates(xy, labels, "grid", crs, rc=rc)


def layer_candidates(layer: gpd.GeoDataFrame, crs: str, label_col: str | None = None) -> Candidates:
    """Candidate sites from a point layer (other shapes by a point on them), e.g. public land,
    existing buildings, or the facilities of another category; labelled by ``label_col``
    (default: ``name`` if present, else the row number)."""
    xy = facility_xy(layer, crs)
    col = label_col or ("name" if "name" in layer.columns else None)
    if col and len(xy) == len(layer):
        labels = layer[col].astype(str).to_numpy(dtype=object)
    else:
        labels = np.array([str(i + 1) for i in range(len(xy))], dtype=object)
    return Candidates(xy, labels, "layer", crs)


def candidates_within(cand: Candidates, units: gpd.GeoDataFrame) -> Candidates:
    """Keep the candidates of a layer that lie inside (or on the border of) ``units``
    (any CRS) — a user's site list or another category's facilities often reach beyond
    the unit asked about."""
    if len(cand.xy) == 0:
        return cand
    inside = shapely.union_all(to_grid_crs(units, cand.crs, "units").geometry.to_numpy())
    keep = shapely.intersects(inside, shapely.points(cand.xy))
    return Candidates(cand.xy[keep], cand.label[keep], cand.origin, cand.crs, cand.dropped_excluded,
                      cand.dropped_spacing, rc=None if cand.rc is None else cand.rc[keep])


def exclusion_polygons(layer: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """``layer`` checked to be an exclusion layer: polygons only (empty rows ignored).

    Raises
    ------
    AtlasError
        ``suggest_errors.exclusions_not_polygons`` (with ``name``) for points or lines.
    """
    kinds = set(layer.geom_type.dropna().unique()) if len(layer) else set()
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise AtlasError("suggest_errors.exclusions_not_polygons", name=name)
    return layer


def filter_candidates(cand: Candidates, exclusions: gpd.GeoDataFrame | None = None,
                      existing_xy: np.ndarray | None = None, min_spacing_m: float = 0.0) -> Candidates:
    """Drop candidates inside (or on) an exclusion polygon and those closer than
    ``min_spacing_m`` to an existing facility; the counts dropped are kept on the result."""
    keep = np.ones(len(cand.xy), dtype=bool)
    n_excl = n_space = 0
    if exclusions is not None and len(exclusions) and len(cand.xy):
        ex = to_grid_crs(exclusions, cand.crs, "exclusions").geometry.to_numpy()
        ex = ex[~(shapely.is_missing(ex) | shapely.is_empty(ex))]
        if len(ex):
            hit = shapely.STRtree(ex).query(shapely.points(cand.xy), predicate="intersects")[0]
            bad = np.zeros(len(cand.xy), dtype=bool)
            bad[np.unique(hit)] = True
            n_excl = int(bad.sum())
            keep &= ~bad
    if min_spacing_m > 0 and existing_xy is not None and len(existing_xy) and len(cand.xy):
        d, _ = cKDTree(existing_xy).query(cand.xy, k=1)
        near = d < min_spacing_m
        n_space = int((near & keep).sum())
        keep &= ~near
    return Candidates(cand.xy[keep], cand.label[keep], cand.origin, cand.crs, n_excl, n_space,
                      rc=None if cand.rc is None else cand.rc[keep])


# ---------------------------------------------------------------------------------------
# reach: which demand cells a candidate covers (the coverage engine's costs)
# ---------------------------------------------------------------------------------------


@dataclass
class Reach:
    """How a site reaches people: straight line × ``detour`` ≤ ``threshold`` metres, or road
    network cost (``graph`` a :class:`geo.network.RoadGraph`, ``metric`` distance|time,
    ``threshold`` metres or minutes) — the rules of :mod:`geo.coverage` / :mod:`geo.network`."""

    threshold: float
    detour: float = 1.0
    graph: object | None = None
    metric: str = "distance"
    max_snap_m: float = 500.0

    def costs_from(self, fac_xy: np.ndarray, xy: np.ndarray) -> np.ndarray:
        """Cost from each point of ``xy`` to the nearest of ``fac_xy`` (coverage engine)."""
        if self.graph is None:
            from geo.coverage import euclidean_cost

            return euclidean_cost(fac_xy, self.detour)(xy)
        from geo.network import network_cost_fn

        return network_cost_fn(self.graph, fac_xy, self.metric, self.max_snap_m)(xy)

    def straight_limit(self) -> float:
        """Largest straight-line distance (m) at which a cell can be within reach."""
        if self.graph is None:
            return self.threshold / self.detour
        if self.metric == "distance":
            return self.threshold
        speeds = np.asarray(getattr(self.graph, "edge_speed", [1.0]), dtype=float)
        vmax = max(float(np.nanmax(speeds)) if len(speeds) else 1.0, float(self.graph.access_speed))
        return self.threshold * 60.0 * vmax

    def stencil_matrix(self, cand_rc: np.ndarray, dem_rc: np.ndarray, grid_shape: tuple[int, int],
                       cell: tuple[float, float]) -> sparse.csc_matrix:
        """Cover matrix when candidates and demand sit on the same lattice (straight line):
        one disk stencil of (row, col) offsets, the same rule ``distance × detour ≤ reach``
        evaluated between cell centres."""
        n_d, n_c = len(dem_rc), len(cand_rc)
        lim = self.threshold / self.detour
        rmax, cmax = int(lim // abs(cell[1])) + 1, int(lim // abs(cell[0])) + 1
        dr, dc = np.meshgrid(np.arange(-rmax, rmax + 1), np.arange(-cmax, cmax + 1), indexing="ij")
        dr, dc = dr.ravel(), dc.ravel()
        # candidates sit a quarter cell off their cell's centre (see grid_candidates)
        inside = np.hypot((dr - 0.25) * cell[1], (dc - 0.25) * cell[0]) * self.detour <= self.threshold
        dr, dc = dr[inside], dc[inside]
        nrows, ncols = grid_shape
        itype = np.int32 if n_d < np.iinfo(np.int32).max else np.int64  # half the memory traffic
        idx = np.full(grid_shape, -1, dtype=itype)
        idx[dem_rc[:, 0], dem_rc[:, 1]] = np.arange(n_d, dtype=itype)
        pad = np.pad(idx, ((rmax, rmax), (cmax, cmax)), constant_values=-1)
        flat = pad.ravel()
        width = ncols + 2 * cmax
        off = dr * width + dc
        parts_i, counts = [], np.zeros(n_c, dtype=np.int64)
        step = max(1, 4_000_000 // max(1, len(off)))
        for s0 in range(0, n_c, step):
            rc = cand_rc[s0:s0 + step]
            base = (rc[:, 0] + rmax) * width + rc[:, 1] + cmax
            hit = flat[base[:, None] + off[None, :]]
            ok = hit >= 0
            counts[s0:s0 + len(rc)] = ok.sum(axis=1)
            parts_i.append(hit[ok])
        indices = np.concatenate(parts_i) if parts_i else np.empty(0, dtype=itype)
        indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64 if len(indices) >= 2**31 else itype)
        m = sparse.csc_matrix((np.ones(len(indices), dtype=bool), indices, indptr), shape=(n_d, n_c))
        # offsets run row by row and demand is numbered in raster order: rows already sorted
        m.has_sorted_indices = bool(np.all(np.diff(off) > 0)) and bool(np.all(np.diff(idx[idx >= 0]) > 0))
        m.sort_indices()
        return m

    def cover_matrix(self, cand_xy: np.ndarray, dem_xy: np.ndarray,
                     progress: Progress | None = None) -> sparse.csc_matrix:
        """Boolean ``(n_demand, n_candidates)`` matrix: candidate j reaches demand cell i."""
        n_d, n_c = len(dem_xy), len(cand_xy)
        if n_d == 0 or n_c == 0:
            return sparse.csc_matrix((n_d, n_c), dtype=bool)
        tree = cKDTree(dem_xy)
        lim = self.straight_limit()
        near = tree.query_ball_point(cand_xy, r=lim * (1 + 1e-12), workers=-1, return_sorted=True)
        lengths = np.fromiter((len(x) for x in near), dtype=np.int64, count=n_c)
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        indices = np.concatenate([np.asarray(x, dtype=np.int64) for x in near]) if indptr[-1] else \
            np.empty(0, dtype=np.int64)
        if self.graph is None:
            # exact check with the coverage rule (distance × detour ≤ threshold)
            cols = np.repeat(np.arange(n_c), lengths)
            d = np.hypot(*(dem_xy[indices] - cand_xy[cols]).T) * self.detour
            ok = d <= self.threshold
        else:
            from geo.network import network_cost_fn

            ok = np.zeros(len(indices), dtype=bool)
            for j in range(n_c):  # one Dijkstra per candidate, stopped at the reach: the network engine
                s, e = indptr[j], indptr[j + 1]
                if e > s:
                    fn = network_cost_fn(self.graph, cand_xy[j:j + 1], self.metric, self.max_snap_m,
                                         limit=self.threshold)
                    ok[s:e] = fn(dem_xy[indices[s:e]]) <= self.threshold
                if progress is not None and j % 20 == 0:
                    progress(j / n_c, "suggest.stage_reach")
        keep_cols = np.repeat(np.arange(n_c), lengths)[ok]
        m = sparse.csc_matrix((np.ones(int(ok.sum()), dtype=bool), (indices[ok], keep_cols)), shape=(n_d, n_c))
        return m


# ---------------------------------------------------------------------------------------
# the problem
# ---------------------------------------------------------------------------------------


@dataclass
class Problem:
    """A location-allocation problem on population cells.

    ``pop``/``unit`` per cell (all cells in scope), ``covered0`` covered by the existing
    facilities, ``dem`` indices of the uncovered cells, ``A`` ``(len(dem), n_cand)`` cover
    matrix (CSC), candidate coordinates in ``crs``.
    """

    pop: np.ndarray
    unit: np.ndarray
    unit_ids: np.ndarray
    unit_names: np.ndarray
    covered0: np.ndarray
    dem: np.ndarray
    A: sparse.csc_matrix
    cand: Candidates
    reach: Reach
    min_spacing_m: float = 0.0
    existing_cost: np.ndarray | None = field(default=None, repr=False)
    cells_xy: np.ndarray | None = field(default=None, repr=False)
    _reachable: float | None = field(default=None, repr=False)

    @property
    def n_cand(self) -> int:
        """Number of candidate sites (columns of ``A``)."""
        return self.A.shape[1]

    @property
    def population(self) -> float:
        """Total population of the cells (people)."""
        return float(self.pop.sum())

    @property
    def covered_before(self) -> float:
        """Population already covered by existing facilities (people)."""
        return float(self.pop[self.covered0].sum())

    @property
    def w(self) -> np.ndarray:
        """People in each uncovered (demand) cell."""
        return self.pop[self.dem]

    def reachable(self) -> float:
        """Uncovered people that at least one candidate reaches (the most any answer can add)."""
        if self._reachable is None:
            hit = np.zeros(self.A.shape[0], dtype=bool)
            hit[self.A.indices] = True
            self._reachable = float(self.w[hit].sum())
        return self._reachable

    def gain_of(self, sites: np.ndarray) -> float:
        """New people covered by the candidate indices ``sites`` (exact evaluation)."""
        if len(sites) == 0:
            return 0.0
        hit = np.asarray(self.A[:, np.asarray(sites, dtype=np.int64)].sum(axis=1)).ravel() > 0
        return float(self.w[hit].sum())


def build_problem(cells: CellSet, existing_cost: np.ndarray, reach: Reach, cand: Candidates,
                  min_spacing_m: float = 0.0, progress: Progress | None = None) -> Problem:
    """Set up the problem from the coverage engine's per-cell costs.

    Parameters
    ----------
    cells
        Populated cells with their unit (:func:`geo.coverage.prepare_cells`), metric CRS.
    existing_cost
        ``(len(cells.pop),)`` cost of each cell to the nearest existing facility, the same
        array the coverage page uses (metres or minutes; ``inf`` = none).
    reach, cand
        The reach rule and the candidate sites (in ``cells.crs``).
    min_spacing_m
        Chosen new sites are at least this far apart (metres, straight line).
    """
    if not (math.isfinite(reach.threshold) and reach.threshold > 0):
        raise AtlasError("coverage_errors.bad_radius", value=str(reach.threshold))
    if not (math.isfinite(min_spacing_m) and min_spacing_m >= 0):
        raise AtlasError("suggest_errors.bad_spacing", value=str(min_spacing_m))
    covered0 = np.asarray(existing_cost) <= reach.threshold
    dem = np.flatnonzero(~covered0 & (cells.pop > 0))
    if progress is not None:
        progress(0.0, "suggest.stage_reach")
    on_lattice = (cand.rc is not None and reach.graph is None and cells.transform.b == 0
                  and cells.transform.d == 0)
    if on_lattice:
        A = reach.stencil_matrix(cand.rc, np.column_stack((cells.rows[dem], cells.cols[dem])), cells.grid_shape,
                                 (cells.transform.a, cells.transform.e))
    else:
        A = reach.cover_matrix(cand.xy, cells.xy[dem], progress)
    return Problem(pop=cells.pop, unit=cells.unit, unit_ids=cells.unit_ids, unit_names=cells.unit_names,
                   covered0=covered0, dem=dem, A=A, cand=cand, reach=reach, min_spacing_m=float(min_spacing_m),
                   existing_cost=np.asarray(existing_cost), cells_xy=cells.xy)


# ---------------------------------------------------------------------------------------
# greedy MCLP with its a-posteriori bound
# ---------------------------------------------------------------------------------------


def column_sums(A: sparse.csc_matrix, w: np.ndarray) -> np.ndarray:
    """``A.T @ w`` for a boolean CSC matrix without scipy's float copy of ``A`` (which
    doubles the memory of a 40 M-entry province matrix): a gather and a segmented sum."""
    n_c = A.shape[1]
    if n_c == 0 or A.nnz == 0:
        return np.zeros(n_c)
    counts = np.diff(A.indptr)
    starts = A.indptr[:-1]
    vals = np.append(w[A.indices], 0.0)  # a sentinel: trailing empty columns start at nnz
    sums = np.add.reduceat(vals, starts.astype(np.int64))
    return np.where(counts > 0, sums, 0.0)


@dataclass
class GreedyRun:
    """Greedy order of sites, cumulative new people after each, and upper bounds
    ``bound[k-1]`` on the optimum with ``k`` new sites (see the module docstring)."""

    sites: np.ndarray
    gains: np.ndarray
    cumulative: np.ndarray
    bound: np.ndarray


def greedy_mclp(prob: Problem, p: int, progress: Progress | None = None,
                stop_at: float | None = None) -> GreedyRun:
    """Greedy MCLP for up to ``p`` sites (stops early when no site adds anyone, or when the
    new people reach ``stop_at``). Incremental gains on the sparse cover matrix: after a
    pick, only candidates within twice the straight-line reach of it can share people
    with it, and only their gains are recomputed (exactly, from the matrix)."""
    A = prob.A
    w = prob.w
    wl = w.astype(np.float64).copy()  # people not yet covered
    n_c = prob.n_cand
    gains = column_sums(A, wl)
    allowed = np.ones(n_c, dtype=bool)
    covered = np.zeros(len(w), dtype=bool)
    ctree = cKDTree(prob.cand.xy) if n_c else None
    share_r = 2.0 * prob.reach.straight_limit() * (1 + 1e-9) + 1e-6
    tree = ctree if prob.min_spacing_m > 0 else None
    sites, g_list, cum = [], [], []
    bound = np.full(p, np.inf)
    f = 0.0

    def update_bound(fv: float) -> None:
        k = min(p, n_c)
        if k == 0:
            bound[:] = fv
            return
        top = np.sort(np.partition(gains, n_c - k)[n_c - k:])[::-1]
        cs = np.cumsum(np.maximum(top, 0.0))
        b = np.concatenate((fv + cs, np.full(p - k, fv + cs[-1])))
        np.minimum(bound, b, out=bound)

    update_bound(0.0)
    for step in range(p):
        if n_c == 0:
            break
        cand_gain = np.where(allowed, gains, -1.0)
        j = int(np.argmax(cand_gain))
        if cand_gain[j] <= 0:
            break
        rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
        new = rows[~covered[rows]]
        covered[new] = True
        g = float(w[new].sum())
        if len(new):
            wl[new] = 0.0
            nb = np.asarray(ctree.query_ball_point(prob.cand.xy[j], r=share_r), dtype=np.int64)
            gains[nb] = np.asarray(A[:, nb].T @ wl, dtype=np.float64).ravel()
        f += g
        sites.append(j)
        g_list.append(g)
        cum.append(f)
        allowed[j] = False
        if tree is not None:
            allowed[tree.query_ball_point(prob.cand.xy[j], r=prob.min_spacing_m * (1 - 1e-12))] = False
        update_bound(f)
        if progress is not None:
            progress((step + 1) / p, "suggest.stage_greedy")
        if stop_at is not None and f >= stop_at:
            break
    # bounds are never below what was found, nor above all reachable people
    reach = prob.reachable()
    cum_arr = np.array(cum)
    found = np.concatenate((cum_arr, np.full(p - len(cum_arr), cum_arr[-1] if len(cum_arr) else 0.0)))
    bound = np.clip(bound, found, max(reach, float(found.max()) if len(found) else 0.0))
    # with a spacing rule the bound is that of the unconstrained problem: still valid (looser)
    return GreedyRun(np.array(sites, dtype=np.int64), np.array(g_list), cum_arr, bound)


# ---------------------------------------------------------------------------------------
# exact MCLP with spopt
# ---------------------------------------------------------------------------------------


@dataclass
class ExactRun:
    """The result of one exact (MILP) solve: chosen sites, objective, dual bound and solver status."""

    sites: np.ndarray
    objective: float  # new people covered by the returned sites
    bound: float  # solver's dual bound on the optimum (== objective when optimal)
    status: str  # "optimal" | "time_limit"
    seconds: float
    solver: str = "spopt"  # "spopt" (spopt's MCLP model) | "highs" (the same model as sparse arrays)


_BANNER = {"done": False}


def _quiet_highs():
    """A ``highspy.Highs``; the first one in a process prints a licence banner on the C
    stdout, which would corrupt CLI output: that one is built with fd 1 sent to null."""
    import os
    import sys

    import highspy

    if _BANNER["done"]:
        return highspy.Highs()
    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
        _BANNER["done"] = True
    return h


def _row_keys(M: sparse.csr_matrix, seed: int = 7) -> np.ndarray:
    """Two random projections per row: rows with the same set of nonzero columns get the
    same key (collisions of different sets have probability ~1e-30)."""
    rng = np.random.default_rng(seed)
    r = rng.random((M.shape[1], 2))
    return np.asarray(M.astype(np.float64) @ r)


def reduced(prob: Problem) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Exact reductions for the MILP: drop demand no candidate reaches and candidates that
    reach nobody; merge demand cells with the same candidate set (people summed).
    Returns the reduced boolean matrix, its weights and the kept candidate indices."""
    A = prob.A.tocsr()
    w = prob.w
    rows = np.flatnonzero(A.getnnz(axis=1) > 0)
    cols = np.flatnonzero(A.getnnz(axis=0) > 0)
    A = A[rows][:, cols].tocsr()
    A.sort_indices()
    w = w[rows]
    if A.shape[0] == 0:
        return A, w, cols
    keys = _row_keys(A)
    _, first, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    wr = np.bincount(inv.ravel(), weights=w, minlength=len(first))
    return A[first].tocsr(), wr, cols


def exact_size(prob: Problem) -> int:
    """Entries of the dense matrix spopt would build for ``prob`` (after reductions)."""
    A, _, cols = reduced(prob)
    return int(A.shape[0]) * int(len(cols))


def exact_mclp(prob: Problem, p: int, time_limit: float | None = None, msg: bool = False,
               reduction: tuple | None = None, start: np.ndarray | None = None) -> ExactRun | None:
    """Optimal MCLP with spopt (``MCLP.from_cost_matrix``) and HiGHS; ``None`` when the
    reduced problem is larger than ``EXACT_MAX_ENTRIES``. Spacing pairs become
    ``x_i + x_j ≤ 1`` constraints on spopt's PuLP model."""
    if reduction is None and prob.A.nnz > EXACT_PRECHECK_NNZ:
        return None  # certainly too large: skip the cost of the reductions
    red = reduction if reduction is not None else reduced(prob)
    A, wr, cols = red
    n_cli, n_fac = A.shape
    if n_cli * n_fac > EXACT_MAX_ENTRIES:
        return exact_mclp_sparse(prob, p, time_limit, red, start)
    import pulp  # imported here: spopt's import alone takes seconds, paid only when it is used
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    if n_cli == 0 or n_fac == 0:
        return ExactRun(np.empty(0, dtype=np.int64), 0.0, 0.0, "optimal", 0.0)
    p_eff = min(p, n_fac)
    cost = np.where(A.toarray(), 0.0, 1.0)  # covered ⇔ cost ≤ 0.5
    model = MCLP.from_cost_matrix(cost, wr, service_radius=0.5, p_facilities=p_eff, name="atlas_mclp")
    if prob.min_spacing_m > 0:
        for a, b in cKDTree(prob.cand.xy[cols]).query_pairs(prob.min_spacing_m * (1 - 1e-12)):
            model.problem += model.fac_vars[a] + model.fac_vars[b] <= 1
    _quiet_highs()
    solver = pulp.HiGHS(msg=msg, timeLimit=None if time_limit is None else max(0.5, float(time_limit)))
    model.problem.solve(solver)
    status_ok = model.problem.status == 1
    if not status_ok:
        return None
    x = np.array([v.value() or 0.0 for v in model.fac_vars]) > 0.5
    sites = cols[np.flatnonzero(x)]
    obj = prob.gain_of(sites)
    bound = obj
    status = "optimal"
    info = getattr(getattr(model.problem, "solverModel", None), "getInfo", None)
    if info is not None:
        try:
            inf = info()
            db = float(inf.mip_dual_bound)
            if math.isfinite(db) and db > obj * (1 + 1e-6) + 1e-6 and \
                    float(inf.mip_gap) > 1e-4:
                bound, status = db, "time_limit"
        except Exception:  # an older HiGHS without the field: trust the status
            pass
    return ExactRun(sites, obj, bound, status, time.perf_counter() - t0)


def exact_mclp_sparse(prob: Problem, p: int, time_limit: float | None = None,
                      reduction: tuple | None = None, start: np.ndarray | None = None) -> ExactRun | None:
    """The same MCLP model as spopt's (Church & ReVelle 1974: max Σ wᵢyᵢ, yᵢ ≤ Σ_{j∈Nᵢ} xⱼ,
    Σ xⱼ = p, x binary) handed to HiGHS as sparse arrays through ``highspy``.

    Why not spopt here: spopt builds a dense clients × candidates matrix and one PuLP
    expression per client in Python, which does not fit city-scale problems (hundreds of
    thousands of cells); this only formulates the model — HiGHS solves it. ``y`` is
    continuous in [0, 1] (with binary ``x`` the optimum has integral ``y``), which leaves
    HiGHS ``n_candidates`` integer variables. ``start`` (candidate indices, e.g. the greedy
    answer) is given to HiGHS as a first incumbent, so a time limit never returns less.
    ``None`` above ``SPARSE_MAX_NNZ``.
    """
    import highspy

    A, wr, cols = reduction if reduction is not None else reduced(prob)
    n_cli, n_fac = A.shape
    if A.nnz > SPARSE_MAX_NNZ:
        return None
    t0 = time.perf_counter()
    if n_cli == 0 or n_fac == 0:
        return ExactRun(np.empty(0, dtype=np.int64), 0.0, 0.0, "optimal", 0.0, "highs")
    p_eff = min(p, n_fac)
    blocks = [sparse.hstack([-A.astype(np.float64), sparse.identity(n_cli, format="csr")]),
              sparse.csr_matrix(np.concatenate((np.ones(n_fac), np.zeros(n_cli)))[None, :])]
    upper = [np.zeros(n_cli), np.array([float(p_eff)])]
    lower = [np.full(n_cli, -highspy.kHighsInf), np.array([float(p_eff)])]
    if prob.min_spacing_m > 0:
        pairs = np.array(sorted(cKDTree(prob.cand.xy[cols]).query_pairs(prob.min_spacing_m * (1 - 1e-12))),
                         dtype=np.int64).reshape(-1, 2)
        if len(pairs):
            r = np.repeat(np.arange(len(pairs)), 2)
            blocks.append(sparse.csr_matrix((np.ones(2 * len(pairs)), (r, pairs.ravel())),
                                            shape=(len(pairs), n_fac + n_cli)))
            upper.append(np.ones(len(pairs)))
            lower.append(np.full(len(pairs), -highspy.kHighsInf))
            # with spacing, "exactly p" may be infeasible: allow fewer
            lower[1] = np.array([0.0])
    M = sparse.vstack(blocks).tocsc()
    M.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_ = n_fac + n_cli
    lp.num_row_ = M.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate((np.zeros(n_fac), wr)).astype(np.float64)
    lp.col_lower_ = np.zeros(n_fac + n_cli)
    lp.col_upper_ = np.ones(n_fac + n_cli)
    lp.row_lower_ = np.concatenate(lower).astype(np.float64)
    lp.row_upper_ = np.concatenate(upper).astype(np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = M.indptr.astype(np.int32)
    lp.a_matrix_.index_ = M.indices.astype(np.int32)
    lp.a_matrix_.value_ = M.data.astype(np.float64)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_fac + [highspy.HighsVarType.kContinuous] * n_cli
    h = _quiet_highs()
    h.setOptionValue("output_flag", False)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(0.5, float(time_limit)))
    h.passModel(lp)
    if start is not None and len(start):
        pos = np.searchsorted(cols, np.asarray(start, dtype=np.int64))
        pos = pos[(pos < n_fac) & (cols[np.minimum(pos, n_fac - 1)] == np.asarray(start))][:p_eff]
        x0 = np.zeros(n_fac)
        x0[pos] = 1.0
        y0 = np.minimum(1.0, np.asarray(A.astype(np.float64) @ x0).ravel())
        sol = highspy.HighsSolution()
        sol.col_value = np.concatenate((x0, y0)).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    x = np.asarray(h.getSolution().col_value[:n_fac])
    if len(x) != n_fac or not np.isfinite(x).all():
        return None
    sites = cols[np.flatnonzero(x > 0.5)]
    obj = prob.gain_of(sites)
    info = h.getInfo()
    db = float(info.mip_dual_bound)
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    bound = obj if optimal or not math.isfinite(db) else max(db, obj)
    if not optimal and not math.isfinite(db):
        bound = math.inf
    return ExactRun(sites, obj, bound, "optimal" if optimal else "time_limit", time.perf_counter() - t0, "highs")


# ---------------------------------------------------------------------------------------
# answers
# ---------------------------------------------------------------------------------------


@dataclass
class Suggestion:
    """The answer.

    ``sites``: GeoDataFrame EPSG:4326, one row per new site in rank order with ``rank``,
    ``label``, ``marginal_people`` (people it adds after the sites ranked before it),
    ``cumulative_people``, ``covered_share`` (of the people in scope, after it), ``method``.
    ``curve``: ``n_sites``, ``covered_people``, ``covered_share``, ``bound_share``
    (the most any ``n_sites`` new sites could reach), ``method``.
    ``by_unit``: ``unit_id``, ``unit_name``, ``population``, ``covered_before``,
    ``covered_after``, ``change``, ``share_before``, ``share_after``.
    """

    model: str
    method: str  # "greedy" | "exact" | "exact_time_limit"
    sites: gpd.GeoDataFrame
    curve: pd.DataFrame
    by_unit: pd.DataFrame
    population: float
    covered_before: float
    covered_after: float
    gain: float
    bound: float  # upper bound on the best possible gain with this number of sites
    reachable: float  # uncovered people that some candidate reaches
    threshold: float
    metric: str
    seconds: float
    n_candidates: int
    target_share: float | None = None
    lower_sites: int | None = None  # LSCP: fewest sites that could possibly reach the target
    target_reached: bool = True
    notes: list[str] = field(default_factory=list)
    solver: str = ""  # exact answers: "spopt" or "highs" (see exact_mclp_sparse)
    weighted_cost_before: float | None = None  # p-median
    weighted_cost_after: float | None = None
    category: str | None = None  # facility category asked about (deck wording); None = a given layer

    @property
    def gap(self) -> float:
        """Relative gap of the new people found vs the bound (0 = proven optimal)."""
        if self.bound <= 0:
            return 0.0
        return max(0.0, (self.bound - self.gain) / self.bound)

    @property
    def share_before(self) -> float:
        """Share of the population covered before the new sites (0–1; nan without population)."""
        return self.covered_before / self.population if self.population > 0 else float("nan")

    @property
    def share_after(self) -> float:
        """Share of the population covered with the new sites (0–1; nan without population)."""
        return self.covered_after / self.population if self.population > 0 else float("nan")


def _ranked(prob: Problem, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order ``sites`` greedily among themselves: marginal gains that sum to their total."""
    A = prob.A
    w = prob.w
    covered = np.zeros(len(w), dtype=bool)
    left = list(int(s) for s in sites)
    order, gains = [], []
    while left:
        best, bg, bnew = None, -1.0, None
        for j in left:
            rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
            new = rows[~covered[rows]]
            g = float(w[new].sum())
            if g > bg:
                best, bg, bnew = j, g, new
        covered[bnew] = True
        order.append(best)
        gains.append(bg)
        left.remove(best)
    return np.array(order, dtype=np.int64), np.array(gains)


def _covered_after(prob: Problem, sites: np.ndarray) -> np.ndarray:
    cov = prob.covered0.copy()
    if len(sites):
        hit = np.asarray(prob.A[:, sites].sum(axis=1)).ravel() > 0
        cov[prob.dem[hit]] = True
    return cov


def _by_unit(prob: Problem, covered_after: np.ndarray) -> pd.DataFrame:
    n = len(prob.unit_ids)
    pop = np.bincount(prob.unit, weights=prob.pop, minlength=n)
    before = np.bincount(prob.unit, weights=np.where(prob.covered0, prob.pop, 0.0), minlength=n)
    after = np.bincount(prob.unit, weights=np.where(covered_after, prob.pop, 0.0), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        sb = np.where(pop > 0, before / np.where(pop > 0, pop, 1), np.nan)
        sa = np.where(pop > 0, after / np.where(pop > 0, pop, 1), np.nan)
    return pd.DataFrame({"unit_id": prob.unit_ids, "unit_name": prob.unit_names, "population": pop,
                         "covered_before": before, "covered_after": after, "change": after - before,
                         "share_before": sb, "share_after": sa})


def _sites_frame(prob: Problem, order: np.ndarray, gains: np.ndarray, method: str) -> gpd.GeoDataFrame:
    pop = prob.population
    cum = np.cumsum(gains) if len(gains) else np.empty(0)
    xy = prob.cand.xy[order] if len(order) else np.empty((0, 2))
    df = pd.DataFrame({
        "rank": np.arange(1, len(order) + 1), "label": prob.cand.label[order] if len(order) else [],
        "marginal_people": gains, "cumulative_people": cum,
        "covered_share": (prob.covered_before + cum) / pop if pop > 0 else np.full(len(cum), np.nan),
        "method": method,
    })
    gdf = gpd.GeoDataFrame(df, geometry=shapely.points(xy) if len(xy) else [], crs=prob.cand.crs)
    return gdf.to_crs(STORE_CRS)


def _curve(prob: Problem, run: GreedyRun, upto: int) -> pd.DataFrame:
    pop = prob.population
    n = min(upto, len(run.cumulative))
    k = np.arange(0, n + 1)
    cum = np.concatenate(([0.0], run.cumulative[:n]))
    bnd = np.concatenate(([0.0], run.bound[:n]))
    return pd.DataFrame({"n_sites": k, "covered_people": prob.covered_before + cum,
                         "covered_share": (prob.covered_before + cum) / pop if pop > 0 else np.nan,
                         "bound_share": (prob.covered_before + bnd) / pop if pop > 0 else np.nan,
                         "method": "greedy"})


def _with_answer(curve: pd.DataFrame, prob: Problem, k: int, covered_after: float, method: str) -> pd.DataFrame:
    """The curve with the answer's own point: at ``k`` sites the answer's coverage (an exact
    answer may beat greedy's); beyond ``k`` never below it (the answer plus any further
    sites covers at least as many), so the curve and the headline tell the same figure."""
    if method == "greedy" or k < 1 or covered_after <= 0:
        return curve
    c = curve.copy()
    later = c["n_sites"] >= k
    better = later & (c["covered_people"] < covered_after)
    c.loc[better, "covered_people"] = covered_after
    c.loc[better, "covered_share"] = covered_after / prob.population if prob.population > 0 else np.nan
    c.loc[better, "method"] = method
    return c


def _check_p(p) -> int:
    try:
        v = int(p)
    except (TypeError, ValueError):
        raise AtlasError("suggest_errors.bad_new", value=str(p)) from None
    if v < 1 or v > MAX_NEW or (isinstance(p, float) and not float(p).is_integer()):
        raise AtlasError("suggest_errors.bad_new", value=str(p))
    return v


def _check_time(time_limit) -> float | None:
    if time_limit is None:
        return None
    try:
        v = float(time_limit)
    except (TypeError, ValueError):
        raise AtlasError("suggest_errors.bad_time_limit", value=str(time_limit)) from None
    if not math.isfinite(v) or v <= 0:
        raise AtlasError("suggest_errors.bad_time_limit", value=str(time_limit))
    return v


def suggest(prob: Problem, p: int = 3, model: str = "mclp", target_share: float | None = None,
            method: str = "auto", time_limit: float | None = None, curve_upto: int = 10,
            progress: Progress | None = None) -> Suggestion:
    """Suggest new sites for ``prob``.

    Parameters
    ----------
    p
        MCLP / p-median: number of new sites (1…500). LSCP: the most sites to consider.
    model
        ``"mclp"``, ``"lscp"`` (needs ``target_share`` in (0, 1]) or ``"pmedian"``.
    method
        ``"auto"`` (exact when the reduced problem fits ``EXACT_MAX_ENTRIES``, else greedy),
        ``"greedy"`` or ``"exact"`` (falls back to greedy, with a note, when too large).
    time_limit
        Seconds for the exact solver; on expiry the best answer so far is returned with
        its gap (``method == "exact_time_limit"``), or the greedy one if it is better.
    curve_upto
        Points of the coverage curve (covered share for 0…``curve_upto`` greedy sites).
    progress
        Called as ``progress(fraction, stage_key)``; stage keys are catalog strings.

    Returns
    -------
    Suggestion

    Raises
    ------
    AtlasError
        bad ``p``, ``model``, ``target_share`` or ``time_limit``; no candidate sites;
        p-median too large for the exact model.
    """
    t0 = time.perf_counter()
    p = _check_p(p)
    limit = _check_time(time_limit)
    if model not in MODELS:
        raise AtlasError("suggest_errors.bad_model", value=str(model))
    if method not in ("auto", "greedy", "exact"):
        raise AtlasError("suggest_errors.bad_model", value=str(method))
    if prob.n_cand == 0:
        raise AtlasError("suggest_errors.no_candidates")
    if prob.population <= 0:
        raise AtlasError("coverage_errors.no_overlap")
    if model == "pmedian":
        return _pmedian(prob, p, limit, t0, progress)
    if model == "lscp":
        return _lscp(prob, p, target_share, method, limit, curve_upto, t0, progress)
    notes: list[str] = []
    run = greedy_mclp(prob, max(p, curve_upto), progress)
    g_sites = run.sites[:p]
    g_gain = float(run.cumulative[min(p, len(run.cumulative)) - 1]) if len(run.cumulative) else 0.0
    bound = float(run.bound[p - 1])
    chosen, used, gain, solver = g_sites, "greedy", g_gain, ""
    if method == "exact" or (method == "auto" and g_gain < bound * (1 - 1e-9)):
        remaining = None if limit is None else max(0.5, limit - (time.perf_counter() - t0))
        if progress is not None:
            progress(0.0, "suggest.stage_exact")
        ex = exact_mclp(prob, p, remaining, start=g_sites)
        if ex is None:
            if method == "exact":
                notes.append("suggest.note_too_large")
        else:
            bound = min(bound, ex.bound) if ex.status == "optimal" else min(bound, max(ex.bound, g_gain))
            if ex.objective >= g_gain - 1e-9:
                chosen, gain, solver = ex.sites, ex.objective, ex.solver
                used = "exact" if ex.status == "optimal" else "exact_time_limit"
            elif ex.status != "optimal":
                notes.append("suggest.note_greedy_better")
            if ex.status == "optimal":
                bound = gain
    elif g_gain >= bound * (1 - 1e-9):
        used = "greedy"  # the bound proves the greedy answer optimal
    order, gains = _ranked(prob, chosen)
    cov_after = _covered_after(prob, order)
    sites = _sites_frame(prob, order, gains, used)
    curve = _with_answer(_curve(prob, run, curve_upto), prob, len(order), float(prob.pop[cov_after].sum()), used)
    return Suggestion(model="mclp", method=used, sites=sites, curve=curve, by_unit=_by_unit(prob, cov_after),
                      population=prob.population, covered_before=prob.covered_before,
                      covered_after=float(prob.pop[cov_after].sum()), gain=float(gains.sum()), bound=max(bound, gain),
                      reachable=prob.reachable(), threshold=prob.reach.threshold, metric=prob.reach.metric,
                      seconds=time.perf_counter() - t0, n_candidates=prob.n_cand, notes=notes, solver=solver)


def _lscp(prob: Problem, p_max: int, target_share, method: str, limit: float | None, curve_upto: int, t0: float,
          progress: Progress | None) -> Suggestion:
    try:
        target = float(target_share)
    except (TypeError, ValueError):
        raise AtlasError("suggest_errors.bad_target", value=str(target_share)) from None
    if not (0 < target <= 1):
        raise AtlasError("suggest_errors.bad_target", value=str(target_share))
    need = target * prob.population - prob.covered_before - 1e-6 * prob.population
    notes: list[str] = []
    if need <= 0:
        run = greedy_mclp(prob, curve_upto, progress)
        cov = prob.covered0
        return Suggestion(model="lscp", method="greedy", sites=_sites_frame(prob, np.empty(0, dtype=np.int64),
                          np.empty(0), "greedy"), curve=_curve(prob, run, curve_upto), by_unit=_by_unit(prob, cov),
                          population=prob.population, covered_before=prob.covered_before,
                          covered_after=prob.covered_before, gain=0.0, bound=0.0, reachable=prob.reachable(),
                          threshold=prob.reach.threshold, metric=prob.reach.metric,
                          seconds=time.perf_counter() - t0, n_candidates=prob.n_cand, target_share=target,
                          lower_sites=0)
    run = greedy_mclp(prob, p_max, progress, stop_at=need)
    reached = len(run.cumulative) > 0 and run.cumulative[-1] >= need
    k_greedy = len(run.cumulative) if reached else None
    # fewest sites that could possibly reach the target: the first k whose bound reaches it
    ok = np.flatnonzero(run.bound >= need)
    lower = int(ok[0]) + 1 if len(ok) else None
    chosen, used, solver = run.sites, "greedy", ""
    if reached and lower is not None and lower < k_greedy and method in ("auto", "exact"):
        if progress is not None:
            progress(0.0, "suggest.stage_exact")
        red = reduced(prob) if prob.A.nnz <= EXACT_PRECHECK_NNZ else None
        proven = red is not None
        if red is None:
            notes.append("suggest.note_too_large")
        for k in (range(lower, k_greedy) if red is not None else ()):
            remaining = None if limit is None else limit - (time.perf_counter() - t0)
            if remaining is not None and remaining <= 0.5:
                proven = False
                break
            ex = exact_mclp(prob, k, remaining, reduction=red)
            if ex is None:
                proven = False
                notes.append("suggest.note_too_large")
                break
            solver = ex.solver
            if ex.objective >= need:
                chosen, used, k_greedy = ex.sites, "exact", k
                break
            if ex.status != "optimal":
                proven = False
                break
            lower = k + 1  # proven: k sites cannot reach the target
        if proven and used == "greedy":
            used = "exact"  # every smaller k was proven short: greedy's count is the minimum
            lower = k_greedy
    elif reached and lower is not None and lower >= k_greedy:
        lower = k_greedy
    order, gains = _ranked(prob, chosen)
    cov_after = _covered_after(prob, order)
    curve = _curve(prob, greedy_mclp(prob, curve_upto) if curve_upto > len(run.cumulative) else run, curve_upto)
    curve = _with_answer(curve, prob, len(order), float(prob.pop[cov_after].sum()), used)
    s = Suggestion(model="lscp", method=used, sites=_sites_frame(prob, order, gains, used), curve=curve,
                   by_unit=_by_unit(prob, cov_after), population=prob.population, covered_before=prob.covered_before,
                   covered_after=float(prob.pop[cov_after].sum()), gain=float(gains.sum()),
                   bound=float(run.bound[min(len(order), p_max) - 1]) if len(order) else 0.0,
                   reachable=prob.reachable(), threshold=prob.reach.threshold, metric=prob.reach.metric,
                   seconds=time.perf_counter() - t0, n_candidates=prob.n_cand, target_share=target,
                   lower_sites=lower, target_reached=bool(reached), notes=notes, solver=solver)
    if used == "exact":
        s.bound = s.gain
    return s


def _pmedian(prob: Problem, p: int, limit: float | None, t0: float, progress: Progress | None) -> Suggestion:
    """p-median with spopt's ``PMedian.from_cost_matrix``: existing facilities are kept
    (``predefined_facilities_arr``); demand is every populated cell in scope."""
    import pulp
    from spopt.locate import PMedian

    if prob.existing_cost is None or prob.cells_xy is None:
        raise AtlasError("suggest_errors.pmedian_too_large", cells=0, candidates=prob.n_cand)
    n_cells, n_cand = len(prob.pop), prob.n_cand
    if n_cells * (n_cand + 1) > PMEDIAN_MAX_ENTRIES:
        raise AtlasError("suggest_errors.pmedian_too_large", cells=n_cells, candidates=n_cand)
    if progress is not None:
        progress(0.0, "suggest.stage_exact")
    r = prob.reach
    cand_cost = np.column_stack([r.costs_from(prob.cand.xy[j:j + 1], prob.cells_xy) for j in range(n_cand)])
    # the existing facilities act as one always-open column: each cell's cost to its nearest one
    existing = np.where(np.isfinite(prob.existing_cost), prob.existing_cost, 1e12)
    cand_cost = np.where(np.isfinite(cand_cost), cand_cost, 1e12)
    has_existing = bool(np.isfinite(prob.existing_cost).any())
    cost = np.column_stack((existing, cand_cost)) if has_existing else cand_cost
    pre = np.concatenate(([1], np.zeros(n_cand, dtype=int))) if has_existing else None
    m = PMedian.from_cost_matrix(cost, prob.pop, p_facilities=min(p, n_cand) + int(has_existing),
                                 predefined_facilities_arr=pre, name="atlas_pmedian")
    _quiet_highs()
    m.problem.solve(pulp.HiGHS(msg=False, timeLimit=limit))
    if m.problem.status != 1:
        raise AtlasError("suggest_errors.no_solution")
    x = np.array([v.value() or 0.0 for v in m.fac_vars]) > 0.5
    sites = np.flatnonzero(x[1:] if has_existing else x)
    best_after = cost[:, np.concatenate(([0], sites + 1)) if has_existing else sites].min(axis=1)
    wc_before = float((np.minimum(existing, 1e12) * prob.pop).sum() / prob.population) if has_existing else None
    wc_after = float((best_after * prob.pop).sum() / prob.population)
    status = "exact"
    try:
        inf = m.problem.solverModel.getInfo()
        if float(inf.mip_gap) > 1e-4:
            status = "exact_time_limit"
    except Exception:
        pass
    order, gains = _ranked(prob, sites)
    cov_after = _covered_after(prob, order)
    run = greedy_mclp(prob, 10)
    return Suggestion(model="pmedian", method=status, sites=_sites_frame(prob, order, gains, status),
                      curve=_curve(prob, run, 10), by_unit=_by_unit(prob, cov_after), population=prob.population,
                      covered_before=prob.covered_before, covered_after=float(prob.pop[cov_after].sum()),
                      gain=float(gains.sum()), bound=float(gains.sum()), reachable=prob.reachable(),
                      threshold=r.threshold, metric=r.metric, seconds=time.perf_counter() - t0, n_candidates=n_cand,
                      weighted_cost_before=wc_before, weighted_cost_after=wc_after, solver="spopt")


# ---------------------------------------------------------------------------------------
# planner sentences and the deck slide
# ---------------------------------------------------------------------------------------


def _reach_text(s: Suggestion, lang: str) -> str:
    if s.metric == "time":
        return t("coverage.minutes", lang, value=fmt_number(s.threshold, lang))
    return fmt_distance(s.threshold, lang)


def _people(x: float, lang: str) -> str:
    from geo.coverage import _round_people

    return fmt_number(_round_people(float(x)), lang)


def curve_text(s: Suggestion, lang: str, points: tuple[int, ...] = (1, 2, 3, 5, 10)) -> str:
    """"1 điểm → 91 %, 2 → 95 %, …" for the curve's points that exist."""
    c = s.curve.set_index("n_sites")["covered_share"]
    parts = [t("suggest.curve_point", lang, n=k, share=fmt_percent(float(c[k]), lang)) for k in points if k in c.index]
    return t("suggest.curve_sentence", lang, points=", ".join(parts),
             before=fmt_percent(float(c.get(0, s.share_before)), lang))


def _solver_name(s: Suggestion, lang: str) -> str:
    return t("suggest.solver_highs" if s.solver == "highs" else "suggest.solver_spopt", lang)


def method_sentence(s: Suggestion, lang: str) -> str:
    """Which method produced the answer and how far from optimal it can be."""
    if s.model == "lscp" and s.target_reached:
        n = len(s.sites)
        if s.method == "exact" or s.lower_sites == n:
            return t("suggest.method_lscp_exact", lang, solver=_solver_name(s, lang))
        return t("suggest.method_lscp_greedy", lang, lower=s.lower_sites if s.lower_sites is not None else n, n=n)
    if s.method == "exact":
        return t("suggest.method_exact", lang, solver=_solver_name(s, lang))
    if s.method == "exact_time_limit":
        return t("suggest.method_time_limit", lang, gap=fmt_percent(s.gap, lang), solver=_solver_name(s, lang),
                 bound=_people(s.bound, lang))
    if s.gap <= 1e-9:
        return t("suggest.method_greedy_optimal", lang)
    return t("suggest.method_greedy", lang, gap=fmt_percent(s.gap, lang), bound=_people(s.bound, lang))


def sentences(s: Suggestion, lang: str, facility: str, top_units: int = 5) -> list[str]:
    """Planner sentences: the headline, the curve, per-unit gains, method and caveats.
    ``facility`` is the category label already in ``lang`` (e.g. from
    :func:`geo.coverage.facility_label`)."""
    reach = _reach_text(s, lang)
    n = len(s.sites)
    out = []
    if s.model == "lscp":
        key = "suggest.lscp_reached" if s.target_reached else "suggest.lscp_not_reached"
        out.append(t(key, lang, n=n, facility=facility, target=fmt_percent(s.target_share, lang), reach=reach,
                     share=fmt_percent(s.share_after, lang), lower=s.lower_sites if s.lower_sites is not None else n))
    else:
        out.append(t("suggest.headline", lang, n=n, facility=facility, people=_people(s.gain, lang), reach=reach,
                     before=fmt_percent(s.share_before, lang), after=fmt_percent(s.share_after, lang)))
    if s.model == "pmedian" and s.weighted_cost_after is not None:
        unit = "coverage.minutes" if s.metric == "time" else None
        after = t(unit, lang, value=fmt_number(s.weighted_cost_after, lang)) if unit else \
            fmt_distance(s.weighted_cost_after, lang)
        before = "—" if s.weighted_cost_before is None else (
            t(unit, lang, value=fmt_number(s.weighted_cost_before, lang)) if unit else
            fmt_distance(s.weighted_cost_before, lang))
        out.append(t("suggest.pmedian_sentence", lang, before=before, after=after))
    out.append(curve_text(s, lang))
    d = s.by_unit[s.by_unit["change"] >= 0.5].sort_values("change", ascending=False).head(top_units)
    for row in d.itertuples(index=False):
        out.append(t("suggest.unit_sentence", lang, unit=str(row.unit_name), people=_people(row.change, lang),
                     before=fmt_percent(row.share_before, lang), after=fmt_percent(row.share_after, lang)))
    out.append(method_sentence(s, lang))
    unreach = max(0.0, s.population - s.covered_before - s.reachable)
    if unreach >= 0.5:
        out.append(t("suggest.unreachable", lang, people=_people(unreach, lang), reach=reach))
    for key in s.notes:
        out.append(t(key, lang))
    return out


def slide_content(s: Suggestion, lang: str, facility: str) -> dict:
    """Content of a council-deck slide: ``title``, ``sentence`` (headline), ``curve``
    (list of ``(n_sites, covered_share)``), ``bullets`` (curve, method) and ``sites``
    (rank, label, marginal people) — the deck (geo/report.py) lays it out."""
    lines = sentences(s, lang, facility, top_units=3)
    return {
        "title": t("suggest.slide_title", lang, facility=facility),
        "sentence": lines[0],
        "curve": [(int(k), float(v)) for k, v in zip(s.curve["n_sites"], s.curve["covered_share"])],
        "bullets": lines[1:],
        "sites": [(int(r.rank), str(r.label), float(r.marginal_people)) for r in s.sites.itertuples(index=False)],
    }


def deck_slide(s: Suggestion, lang: str, units: gpd.GeoDataFrame | None = None):
    """The council deck's suggested-sites slide (a :class:`geo.report.Slide`): the sites
    numbered by rank on a map over the outlines of ``units`` (any CRS; e.g. the deck unit's
    wards), the sites table (rank, site, people added, covered share after it) and, under
    them, the headline and the curve sentence ("Today 27 %; by number of new sites:
    1 → 45 %, 2 → 58 %, …") from :func:`slide_content`; the method in the footer."""
    from matplotlib.figure import Figure

    from geo.coverage import facility_label
    from geo.paths import METRIC_CRS
    from geo.printmap import rc
    from geo.report import SLIDE_DPI, Slide, Table

    content = slide_content(s, lang, facility_label(s.category, lang))
    sites = s.sites.to_crs(METRIC_CRS)
    outlines = units.to_crs(METRIC_CRS) if units is not None and len(units) else None

    def fig(size: tuple[float, float]) -> Figure:
        import matplotlib.pyplot as plt

        with plt.rc_context(rc()):
            f = Figure(figsize=size, dpi=SLIDE_DPI)
            ax = f.add_axes((0.02, 0.24, 0.96, 0.74))  # the slide's caption goes under the map
            if outlines is not None:
                outlines.boundary.plot(ax=ax, color="#6b7280", linewidth=0.6)
            xy = sites.geometry.get_coordinates().to_numpy()
            ax.scatter(xy[:, 0], xy[:, 1], s=260, color="#dc2626", edgecolor="white", linewidth=1.5, zorder=3)
            for rank, (x, y) in zip(sites["rank"], xy):
                ax.text(x, y, str(int(rank)), color="white", fontsize=10, fontweight="bold", ha="center",
                        va="center", zorder=4)
            if outlines is None and len(xy):
                pad = max(1000.0, 0.1 * float(np.ptp(xy, axis=0).max()))
                ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
                ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
            ax.set_aspect("equal")
            ax.set_axis_off()
        return f

    lonlat = s.sites.to_crs(STORE_CRS).geometry.get_coordinates().to_numpy()
    # grid cells are labelled by their metric coordinates: a council reads latitude, longitude
    grid_labels = s.sites["label"].astype(str).str.fullmatch(r"-?\d+ -?\d+").all()
    rows = [[str(r.rank), f"{fmt_number(lat, lang, 5)}, {fmt_number(lon, lang, 5)}" if grid_labels else str(r.label),
             fmt_number(round(float(r.marginal_people)), lang), fmt_percent(float(r.covered_share), lang)]
            for r, (lon, lat) in zip(s.sites.itertuples(index=False), lonlat)]
    table = Table([t("suggest.col_rank", lang), t("suggest.col_label", lang), t("suggest.col_marginal", lang),
                   t("suggest.col_share", lang)], rows[:12])
    return Slide(title=content["title"], figure=fig if len(sites) else None, table=table if rows else None,
                 caption=f"{content['sentence']} {curve_text(s, lang)}", note=method_sentence(s, lang))


def export_frame(s: Suggestion, lang: str) -> pd.DataFrame:
    """The sites as a table for CSV (lon/lat in EPSG:4326) with the method stated."""
    pts = s.sites.geometry
    return pd.DataFrame({
        "rank": s.sites["rank"].to_numpy(), "label": s.sites["label"].to_numpy(),
        "lon": pts.x.round(6).to_numpy() if len(pts) else [], "lat": pts.y.round(6).to_numpy() if len(pts) else [],
        "marginal_people": s.sites["marginal_people"].round(0).to_numpy(),
        "cumulative_people": s.sites["cumulative_people"].round(0).to_numpy(),
        "covered_share": s.sites["covered_share"].round(4).to_numpy(),
        "method": [t(f"suggest.method_name_{m}", lang) for m in s.sites["method"]],
    })


def units_export_frame(s: Suggestion) -> pd.DataFrame:
    """Per-unit before/after for CSV, whole people: ``unit_id``, ``unit_name``,
    ``population``, ``covered_population_before``, ``covered_population_after``,
    ``people_added``, ``covered_share_before``, ``covered_share_after`` (0–1)."""
    b = s.by_unit
    whole = lambda col: np.round(b[col].to_numpy(dtype=float)).astype(np.int64)
    return pd.DataFrame({"unit_id": b["unit_id"].to_numpy(), "unit_name": b["unit_name"].astype(str).to_numpy(),
                         "population": whole("population"), "covered_population_before": whole("covered_before"),
                         "covered_population_after": whole("covered_after"), "people_added": whole("change"),
                         "covered_share_before": b["share_before"].round(4).to_numpy(),
                         "covered_share_after": b["share_after"].round(4).to_numpy()})


def curve_export_frame(s: Suggestion, lang: str) -> pd.DataFrame:
    """The curve for CSV: ``n_sites``, ``covered_population`` (whole people),
    ``covered_share`` and ``upper_bound_share`` (0–1), ``method`` (in ``lang``)."""
    c = s.curve
    return pd.DataFrame({"n_sites": c["n_sites"].to_numpy(),
                         "covered_population": np.round(c["covered_people"].to_numpy(dtype=float)).astype(np.int64),
                         "covered_share": c["covered_share"].round(4).to_numpy(),
                         "upper_bound_share": c["bound_share"].round(4).to_numpy(),
                         "method": [t(f"suggest.method_name_{m}", lang) for m in c["method"]]})


def sites_lonlat(s: Suggestion) -> list[tuple[float, float]]:
    """The sites as (lon, lat) pairs — what the what-if scenario takes."""
    return [(float(p.x), float(p.y)) for p in s.sites.geometry]

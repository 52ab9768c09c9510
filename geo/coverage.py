"""Service coverage on a population grid: who lives within reach of a facility.

Rules (stated in the UI and exports):

* a grid cell belongs to the unit containing its centre;
* a cell is covered when its centre is within the distance of a facility — straight
  line × ``detour`` ≤ radius (euclidean mode) or the road-network cost ≤ the limit
  (network mode, see :mod:`geo.network`).

Everything runs in the grid's metric CRS, vectorised: nearest-facility distances come
from a ``scipy.spatial.cKDTree``, units are rasterised onto the grid
(``rasterio.features.rasterize``, cell-centre rule) and summed with ``numpy.bincount``.
Big grids are processed in row blocks (``chunk_cells``) so memory stays bounded, on
``WORKERS`` threads; on a grid the KD-tree is asked once per block of B×B cells for the
candidates of all its cells, whose distances are then computed cell by cell
(:meth:`EuclideanCost.raster`: exact, not an approximation).

Reported distances (``median_distance_m``/``p90_distance_m``) are population-weighted
quantiles of the straight-line distance × ``detour`` to the nearest facility (the lower
weighted quantile: the smallest distance reaching that share of the unit's people).
Grids larger than ``EXACT_LIMIT`` cells use a log-binned histogram instead (≤ 1 % error).
"""
from __future__ import annotations

import hashlib
import json
import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS
from scipy.spatial import cKDTree

from geo import cancel
from geo.errors import AtlasError
from geo.i18n import fmt_number, fmt_percent, t
from geo.population import PopulationGrid, rasterising, write_grid_geotiff
from geo.settings import METRIC_CRS, STORE_CRS

COLUMNS = ["unit_id", "unit_name", "population", "covered_population", "covered_share",
           "beyond_population", "median_distance_m", "p90_distance_m"]
CHUNK_CELLS = 2_000_000
EXACT_LIMIT = 3_000_000
_HIST_BASE = 1.02  # histogram bins: relative width 2 % (≤ 1 % error at the bin middle)
_HIST_SCALE = 10.0  # metres; bins are fine (≪ 1 m) near 0
_HIST_BINS = 700  # covers up to ~10 * 1.02**700 ≈ 10,000 km
_HIST_SURE = 4e-3  # bins: farther than this from an edge, the fast log's bin is the log1p one

CostFn = Callable[[np.ndarray], np.ndarray]


# ---------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------

def _same_crs(a, b) -> bool:
    try:
        return CRS.from_user_input(a).equals(CRS.from_user_input(b))
    except Exception:
        return False


def to_grid_crs(gdf: gpd.GeoDataFrame, crs: str, what: str = "layer") -> gpd.GeoDataFrame:
    """``gdf`` in ``crs`` (no copy when it is already there)."""
    if gdf.crs is None:
        raise AtlasError("coverage_errors.no_crs", what=what)
    return gdf if _same_crs(gdf.crs, crs) else gdf.to_crs(crs)


def facility_xy(facilities: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """``(n, 2)`` facility coordinates in ``crs`` (points; other shapes by a point on them)."""
    if len(facilities) == 0:
        return np.empty((0, 2), dtype=np.float64)
    f = to_grid_crs(facilities, crs, "facilities")
    g = f.geometry.to_numpy()
    g = g[~(shapely.is_missing(g) | shapely.is_empty(g))]
    if len(g) == 0:
        return np.empty((0, 2), dtype=np.float64)
    not_pt = shapely.get_type_id(g) != 0
    if not_pt.any():
        g = g.copy()
        g[not_pt] = shapely.point_on_surface(g[not_pt])
    xy = shapely.get_coordinates(g)
    return xy[np.isfinite(xy).all(axis=1)]


def _check_units(units: gpd.GeoDataFrame, unit_id: str, unit_name: str) -> None:
    for col in (unit_id, unit_name):
        if col not in units.columns:
            raise AtlasError("coverage_errors.no_unit_column", column=col,
                             columns=", ".join(c for c in units.columns if c != units.geometry.name))
    if len(units) == 0:
        raise AtlasError("coverage_errors.no_units")


def _finite(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


MAX_RADIUS_M = 100_000.0  # metres: farther than across the province (about 100 km)
MAX_MINUTES = 240.0  # minutes of travel
MAX_DETOUR = 3.0  # road distance / straight line; real road networks stay well below


def check_limits(radius_m: float | None = None, minutes: float | None = None, detour: float | None = None) -> None:
    """Refuse a reach no question about the province needs (``None`` = not given).

    Raises
    ------
    AtlasError
        ``coverage_errors.radius_too_large`` (> ``MAX_RADIUS_M`` m), ``minutes_too_large``
        (> ``MAX_MINUTES`` minutes) or ``detour_too_large`` (> ``MAX_DETOUR``); the value is
        shown as typed.
    """
    for value, limit, key in ((radius_m, MAX_RADIUS_M, "radius_too_large"), (minutes, MAX_MINUTES, "minutes_too_large"),
                              (detour, MAX_DETOUR, "detour_too_large")):
        v = _finite(value) if value is not None else None
        if v is not None and v > limit:
            raise AtlasError(f"coverage_errors.{key}", value=str(value), max=limit)


def _check_radius(radius_m: float, detour: float = 1.0) -> None:
    # values are shown as typed (str): a NaN must read "nan", not the catalog's "no data"
    r = _finite(radius_m)
    if r is None or r <= 0:
        raise AtlasError("coverage_errors.bad_radius", value=str(radius_m))
    d = _finite(detour)
    if d is None or d < 1.0:
        raise AtlasError("coverage_errors.bad_detour", value=str(detour))
    check_limits(radius_m=r, detour=d)


# ---------------------------------------------------------------------------------------
# cells of the grid that hold people inside a unit
# ---------------------------------------------------------------------------------------

class CellBlock:
    """Populated cells of one row block (rows ``r0:r1`` of the grid) that lie in a unit."""

    __slots__ = ("grid", "r0", "r1", "rows", "cols", "pop", "unit", "_xy")

    def __init__(self, grid: PopulationGrid, r0: int, r1: int, rows: np.ndarray, cols: np.ndarray,
                 pop: np.ndarray, unit: np.ndarray) -> None:
        self.grid, self.r0, self.r1 = grid, r0, r1
        self.rows, self.cols, self.pop, self.unit = rows, cols, pop, unit
        self._xy: np.ndarray | None = None

    @property
    def xy(self) -> np.ndarray:
        """Cell centres ``(n, 2)`` (computed on first use)."""
        if self._xy is None:
            self._xy = self.grid.cell_centres(self.rows, self.cols)
        return self._xy

    @property
    def dense(self) -> bool:
        """True when most cells of the row block are in the selection (a raster pass pays off)."""
        return len(self.rows) >= 0.3 * (self.r1 - self.r0) * self.grid.shape[1]


_LABEL_CACHE: OrderedDict[tuple, np.ndarray] = OrderedDict()
_LABEL_CACHE_BYTES = 400 * 2**20  # bound on cached label rasters (≈ six Vietnam-size int16 grids)
_LABEL_LOCK = threading.Lock()
WORKERS = 2  # threads for block work (numpy, scipy, GDAL release the GIL)


def _geoms_key(unit_geoms: np.ndarray) -> str:
    """Content hash of unit geometries (WKB), so a reloaded identical layer hits the cache."""
    h = hashlib.blake2b(digest_size=16)
    for w in shapely.to_wkb(unit_geoms):
        h.update(b"\0" if w is None else w)
    return h.hexdigest()


def _mappings(geoms: np.ndarray) -> list:
    """GeoJSON-like mappings of non-empty ``geoms`` for ``rasterio.features.rasterize``.

    (Multi)polygons are built from one coordinate array (``tolist`` once, sliced per ring:
    about 8× faster than parsing ``shapely.to_geojson`` text); other types go through
    ``shapely.to_geojson``.
    """
    tid = shapely.get_type_id(geoms)
    out: list = [None] * len(geoms)
    is_poly = (tid == 3) | (tid == 6)
    other = np.flatnonzero(~is_poly)
    for i, text in zip(other.tolist(), shapely.to_geojson(geoms[other])):
        out[i] = json.loads(text)
    poly = np.flatnonzero(is_poly)
    if len(poly) == 0:
        return out
    parts, part_of = shapely.get_parts(geoms[poly], return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)  # exterior first, then the holes
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    xy = coords.tolist()

    def groups(items: list, owner: np.ndarray, n: int) -> list:
        cut = np.searchsorted(owner, np.arange(n + 1)).tolist()
        return [items[a:b] for a, b in zip(cut[:-1], cut[1:])]

    per_part = groups(groups(xy, coord_of, len(rings)), ring_of, len(parts))
    for i, p in zip(poly.tolist(), groups(per_part, part_of, len(poly))):
        out[i] = {"type": "Polygon", "coordinates": p[0]} if tid[i] == 3 else {"type": "MultiPolygon", "coordinates": p}
    return out


def _labels_key(grid: PopulationGrid, unit_geoms: np.ndarray) -> tuple:
    """Cache key of a label raster: grid shape, transform and CRS, unit geometries' content."""
    return (grid.shape, tuple(grid.transform)[:6], str(grid.crs), len(unit_geoms), _geoms_key(unit_geoms))


class _LabelBuild:
    """A label raster being rasterised row block by row block (see :func:`unit_labels`)."""

    def __init__(self, grid: PopulationGrid, unit_geoms: np.ndarray, key: tuple) -> None:
        from rasterio.features import rasterize

        self.rasterize, self.grid, self.key = rasterize, grid, key
        dtype = np.int16 if len(unit_geoms) < np.iinfo(np.int16).max else np.int32
        self.out = np.zeros(grid.shape, dtype=dtype)
        valid = ~(shapely.is_missing(unit_geoms) | shapely.is_empty(unit_geoms))
        self.tree = shapely.STRtree(np.where(valid, unit_geoms, None))
        # GeoJSON mappings made once instead of rasterio reading ``__geo_interface__`` again for
        # every block a unit touches
        self.gj = np.full(len(unit_geoms), None, dtype=object)
        self.gj[valid] = _mappings(unit_geoms[valid])

    def fill(self, r0: int, r1: int) -> None:
        """Burn the units into rows ``r0:r1`` (later geometries win overlaps)."""
        t, ncols = self.grid.transform, self.grid.shape[1]
        bt = t @ Affine.translation(0, r0)
        x0, y0 = bt @ (0, 0)
        x1, y1 = bt @ (ncols, r1 - r0)
        sel = self.tree.query(shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
        if len(sel):
            self.rasterize(((self.gj[i], int(i) + 1) for i in np.sort(sel)), out=self.out[r0:r1], transform=bt)

    def store(self) -> np.ndarray:
        """The finished raster, read-only, kept in the cache (bounded by ``_LABEL_CACHE_BYTES``)."""
        out = self.out
        out.flags.writeable = False  # shared by every caller
        if out.nbytes <= _LABEL_CACHE_BYTES:
            with _LABEL_LOCK:
                _LABEL_CACHE[self.key] = out
                while sum(v.nbytes for v in _LABEL_CACHE.values()) > _LABEL_CACHE_BYTES:
                    _LABEL_CACHE.popitem(last=False)
        return out


def _cached_labels(key: tuple) -> np.ndarray | None:
    with _LABEL_LOCK:
        hit = _LABEL_CACHE.get(key)
        if hit is not None:
            _LABEL_CACHE.move_to_end(key)
        return hit


def unit_labels(grid: PopulationGrid, unit_geoms: np.ndarray, chunk_cells: int = CHUNK_CELLS,
                key: tuple | None = None) -> np.ndarray:
    """Unit label of every cell of ``grid`` (``0`` = no unit, ``i + 1`` = ``unit_geoms[i]``;
    cell-centre rule, later geometries win overlaps), ``(nrows, ncols)`` int16 (int32 for
    more than 32,766 units).

    Rasterised once per (grid shape/transform/CRS, unit geometries) and kept in a bounded
    in-process cache (``_LABEL_CACHE_BYTES``): the label raster does not depend on the
    people in the grid, facilities or radius, so every later question on the same grid and
    unit layer skips ``rasterio.features.rasterize``. Row blocks are burnt one after the
    other: rasterio holds the GIL while it burns, so threads do not help here (measured:
    two threads took the same wall time as one). ``key`` is ``_labels_key(grid,
    unit_geoms)`` when the caller already has it.
    """
    key = key if key is not None else _labels_key(grid, unit_geoms)
    hit = _cached_labels(key)
    if hit is not None:
        return hit
    nrows, ncols = grid.shape
    build = _LabelBuild(grid, unit_geoms, key)
    rows_per = max(1, int(chunk_cells) // max(1, ncols))
    with rasterising():
        for r0 in range(0, nrows, rows_per):
            cancel.check()
            build.fill(r0, min(nrows, r0 + rows_per))
    return build.store()


_PRESENT: OrderedDict[tuple, tuple[weakref.ref, dict]] = OrderedDict()  # key → (labels, {(r0, r1): present})


def _present_labels(key: tuple, labels: np.ndarray, r0: int, r1: int) -> np.ndarray:
    """Sorted labels (``0`` included when some cell is outside every unit) in rows ``r0:r1`` of the
    read-only label raster ``labels`` cached under ``key``; remembered per (raster, rows)."""
    with _LABEL_LOCK:
        entry = _PRESENT.get(key)
        if entry is None or entry[0]() is not labels:  # a rebuilt raster starts afresh
            entry = _PRESENT[key] = (weakref.ref(labels), {})  # weak: never keeps an evicted raster alive
            while len(_PRESENT) > 8:
                _PRESENT.popitem(last=False)
        per = entry[1]
        hit = per.get((r0, r1))
    if hit is None:
        hit = per[(r0, r1)] = np.flatnonzero(np.bincount(labels[r0:r1].ravel()))
    return hit


def _block_cells(grid: PopulationGrid, labels: np.ndarray, r0: int, r1: int,
                 populated_only: bool = True) -> CellBlock | None:
    lab = labels[r0:r1]
    vals = grid.values[r0:r1]
    if populated_only:
        with np.errstate(invalid="ignore"):
            mask = (lab > 0) & (vals > 0)
    else:
        mask = lab > 0
    rr, cc = np.nonzero(mask)
    if len(rr) == 0:
        return None
    pop = np.nan_to_num(vals[rr, cc].astype(np.float64))
    return CellBlock(grid, r0, r1, rr + r0, cc, pop, lab[rr, cc].astype(np.int64) - 1)


def _row_blocks(grid: PopulationGrid, chunk_cells: int, multiple: int = 1) -> list[tuple[int, int]]:
    nrows, ncols = grid.shape
    rows_per = max(1, int(chunk_cells) // max(1, ncols))
    rows_per = max(1, rows_per // multiple) * multiple  # whole lattice blocks: no part-empty block rows
    return [(r0, min(nrows, r0 + rows_per)) for r0 in range(0, nrows, rows_per)]


def iter_cells(grid: PopulationGrid, unit_geoms: np.ndarray, chunk_cells: int = CHUNK_CELLS,
               populated_only: bool = True) -> Iterator[CellBlock]:
    """Yield the grid's populated cells in row blocks, labelled with their unit (centre rule).

    ``unit_geoms`` are shapely geometries in ``grid.crs``; later geometries win overlaps.
    Labels come from :func:`unit_labels` (cached per grid and unit layer).
    """
    labels = unit_labels(grid, unit_geoms, chunk_cells)
    for r0, r1 in _row_blocks(grid, chunk_cells):
        cancel.check()  # the session that asked is gone: stop between blocks
        b = _block_cells(grid, labels, r0, r1, populated_only)
        if b is not None:
            yield b


@dataclass
class CellSet:
    """All populated, unit-labelled cells of a grid, materialised (for interactive reuse:
    a page keeps one per grid × unit layer and only re-queries distances)."""

    rows: np.ndarray
    cols: np.ndarray
    xy: np.ndarray
    pop: np.ndarray
    unit: np.ndarray
    unit_ids: np.ndarray
    unit_names: np.ndarray
    grid_shape: tuple[int, int]
    transform: Affine
    crs: str

    @property
    def n_units(self) -> int:
        """Number of planning units the cells are assigned to."""
        return len(self.unit_ids)

    def unit_population(self) -> np.ndarray:
        """Population per planning unit (people), summed over its cells; shape (n_units,)."""
        return np.bincount(self.unit, weights=self.pop, minlength=self.n_units)


def prepare_cells(grid: PopulationGrid, units: gpd.GeoDataFrame, unit_id: str, unit_name: str,
                  chunk_cells: int = CHUNK_CELLS) -> CellSet:
    """Materialise the populated cells of ``grid`` with the unit (row of ``units``) they fall in."""
    _check_units(units, unit_id, unit_name)
    u = to_grid_crs(units, grid.crs, "units")
    parts = list(iter_cells(grid, u.geometry.to_numpy(), chunk_cells))
    if parts:
        cat = {k: np.concatenate([getattr(p, k) for p in parts]) for k in ("rows", "cols", "pop", "unit")}
        xy = np.concatenate([p.xy for p in parts])
    else:
        cat = {k: np.empty(0, dtype=np.int64) for k in ("rows", "cols", "unit")}
        cat["pop"] = np.empty(0)
        xy = np.empty((0, 2))
    return CellSet(rows=cat["rows"], cols=cat["cols"], xy=xy, pop=cat["pop"], unit=cat["unit"].astype(np.int64),
                   unit_ids=units[unit_id].to_numpy(), unit_names=units[unit_name].to_numpy(),
                   grid_shape=grid.shape, transform=grid.transform, crs=grid.crs)


# ---------------------------------------------------------------------------------------
# costs
# ---------------------------------------------------------------------------------------

class EuclideanCost:
    """Straight-line distance × ``detour`` to the nearest facility (inf if there is none).

    Call it with points ``(n, 2)``; or ask :meth:`raster` for whole rows of a grid, which
    uses the lattice: the candidates of a block of B×B cells are the K facilities nearest
    to its centre, which is exact when the K-th is farther than the 1st + the block's
    diameter. A block where that fails asks its centre again for ``retry_k`` candidates;
    only a block failing that too falls back to a KD-tree query per cell. ``block=None``
    picks B per grid from the mean facility spacing (:meth:`block_size`).
    """

    def __init__(self, fac_xy: np.ndarray, detour: float = 1.0, block: int | None = None, k: int = 10,
                 retry_k: int = 40, workers: int = -1) -> None:
        self.fac_xy = np.asarray(fac_xy, dtype=np.float64).reshape(-1, 2)
        self.detour = float(detour)
        self.tree = cKDTree(self.fac_xy) if len(self.fac_xy) else None
        self.block = None if block is None else int(block)
        self.k, self.retry_k = int(k), int(retry_k)
        self.workers = int(workers)  # cKDTree.query threads (1 when the caller runs blocks on its own threads)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        """Distance in metres (times the detour factor) from each point of ``xy`` (n, 2; EPSG:9213) to its nearest
        facility; inf when there is none.
        """
        if self.tree is None:
            return np.full(len(xy), np.inf)
        d, _ = self.tree.query(xy, k=1, workers=self.workers)
        return d * self.detour if self.detour != 1.0 else d

    def block_size(self, grid: PopulationGrid) -> int:
        """Lattice block side for ``grid``.

        Parameters
        ----------
        grid : PopulationGrid
            The grid :meth:`raster` will be asked about (its cell size and extent, metric CRS).

        Returns
        -------
        int
            B in cells: the ``block`` given, else about 0.9 × the mean facility spacing over the
            grid, within 4–20, so a block rarely needs more than the K candidates its centre asks
            for (measured, 33 M cells: 20 beats 8 and 12 at a 2.6 km spacing; 500,000 facilities
            on 5 M cells: 4 beats 20 by 30 %).
        """
        if self.block is not None:
            return self.block
        t = grid.transform
        area = abs(t.a * t.e - t.b * t.d) * grid.values.size
        spacing = math.sqrt(area / max(1, len(self.fac_xy))) / max(math.sqrt(abs(t.a * t.e - t.b * t.d)), 1e-12)
        return int(min(20, max(4, 0.9 * spacing)))

    def raster(self, grid: PopulationGrid, r0: int, r1: int) -> np.ndarray:
        """Cost of every cell of some rows of a grid.

        Parameters
        ----------
        grid : PopulationGrid
            Grid in a metric CRS (the facilities' CRS); rotated transforms fall back to
            per-cell KD-tree queries.
        r0, r1 : int
            Rows ``r0:r1`` of the grid.

        Returns
        -------
        numpy.ndarray
            ``(r1 - r0, ncols)`` float64: straight-line distance from each cell centre to the
            nearest facility × detour, metres; inf without facilities. Exact (the lattice only
            narrows the candidates; distances are computed per cell).
        """
        nrows, ncols = r1 - r0, grid.shape[1]
        if self.tree is None:
            return np.full((nrows, ncols), np.inf)
        t = grid.transform
        if t.b != 0 or t.d != 0:  # rotated grid: no lattice shortcut
            rr, cc = np.meshgrid(np.arange(r0, r1), np.arange(ncols), indexing="ij")
            return self(grid.cell_centres(rr.ravel(), cc.ravel())).reshape(nrows, ncols)
        B = self.block_size(grid)
        nbr, nbc = -(-nrows // B), -(-ncols // B)
        bx = t.c + t.a * (np.arange(nbc) * B + B / 2)
        by = t.f + t.e * (r0 + np.arange(nbr) * B + B / 2)
        centres = np.column_stack((np.tile(bx, nbr), np.repeat(by, nbc)))  # block (i, j) is row i * nbc + j
        full = np.empty((nbr, B, nbc, B))
        blocks = full.transpose(0, 2, 1, 3)  # (nbr, nbc, B, B) view: results land in raster order directly
        for g, d in self._blocks(centres, t.a, t.e, B):
            blocks[g // nbc, g % nbc] = d
        out = full.reshape(nbr * B, nbc * B)[:nrows, :ncols]
        if self.detour != 1.0:
            out *= self.detour
        return out

    def _blocks(self, centres: np.ndarray, sx: float, sy: float, B: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(g, d)``: indices ``g`` (m,) of blocks (rows of ``centres``) and the exact distances
        ``d`` (m, B, B) from their cells' centres (cell size ``sx`` × ``sy``) to the nearest facility."""
        n = len(self.fac_xy)
        off = np.arange(B) + 0.5 - B / 2
        ox, oy = sx * off, sy * off  # offsets of a block's columns (x) and rows (y) from its centre
        hx, hy = 0.5 * abs(sx) * (B - 1), 0.5 * abs(sy) * (B - 1)  # cell centres lie within ±hx, ±hy
        h = math.hypot(hx, hy)  # farthest cell centre from the block centre
        todo = np.arange(len(centres))
        for k in (self.k, self.retry_k):
            k = min(k, n)
            dk, ik = self.tree.query(centres[todo], k=k, workers=self.workers)
            dk, ik = dk.reshape(len(todo), k), ik.reshape(len(todo), k)
            lim = dk[:, 0] + 2 * h + 1e-6
            exact = (dk[:, -1] > lim) | (k == n)
            sel = np.flatnonzero(exact)
            cand, nu = self._useful(centres[todo[sel]], dk[sel], ik[sel], lim[sel], hx, hy)
            order = np.argsort(nu, kind="stable")  # blocks grouped by how many candidates they need
            bounds = np.searchsorted(nu[order], np.arange(1, k + 2))
            for u in range(1, k + 1):
                grp = order[bounds[u - 1]:bounds[u]]
                step = max(1, (1 << 18) // (u * B * B))  # ~2 MB of float64 per step
                for s in range(0, len(grp), step):
                    gi = grp[s:s + step]
                    yield todo[sel[gi]], self._lattice(centres[todo[sel[gi]]], ik[sel[gi]][cand[gi]].reshape(-1, u), ox, oy)
            todo = todo[~exact]
            if len(todo) == 0:
                return
        m = len(todo)  # rare: crowded candidates even at retry_k — one query per cell
        px = np.broadcast_to(centres[todo, 0, None, None] + ox[None, None, :], (m, B, B))
        py = np.broadcast_to(centres[todo, 1, None, None] + oy[None, :, None], (m, B, B))
        d, _ = self.tree.query(np.column_stack((px.ravel(), py.ravel())), k=1, workers=self.workers)
        yield todo, d.reshape(m, B, B)

    def _useful(self, centres: np.ndarray, dk: np.ndarray, ik: np.ndarray, lim: np.ndarray, hx: float,
                hy: float) -> tuple[np.ndarray, np.ndarray]:
        """Which of the sorted candidates ``ik`` (m, k) of blocks centred at ``centres`` can be nearest
        to one of their cells: ``(mask (m, k), count (m,))``. Dropped: a candidate farther from the
        centre than the nearest + the block's diameter (``lim``), or one whose bisector with the
        nearest leaves the whole block on the nearest's side (checked at the block's corners, with a
        margin far above rounding, so the minimum over the kept ones is bit for bit the same)."""
        rel = self.fac_xy[ik] - centres[:, None, :]  # (m, k, 2) candidates seen from the block centre
        r2 = rel[:, :, 0] ** 2 + rel[:, :, 1] ** 2
        v = np.abs(rel - rel[:, :1])
        # |p - f1|² ≤ |p - fj|²  ⟺  2 p·(fj - f1) ≤ |fj|² - |f1|²; its largest left side over the block's corners:
        reach = 2 * (hx * v[:, :, 0] + hy * v[:, :, 1])
        keep = (dk <= lim[:, None]) & ~(reach + 1e-6 * (r2 + r2[:, :1]) + 1e-6 < r2 - r2[:, :1])
        keep[:, 0] = True
        return keep, np.count_nonzero(keep, axis=1)

    def _lattice(self, centres: np.ndarray, cand: np.ndarray, ox: np.ndarray, oy: np.ndarray) -> np.ndarray:
        """Distances ``(m, B, B)`` from the cells of ``m`` blocks to the nearest of their candidates
        ``cand`` (m, u) — separably: squared x and y offsets per candidate, one sum, one minimum."""
        rel = self.fac_xy[cand] - centres[:, None, :]  # (m, u, 2) candidates seen from the block centre
        ax = ox - rel[:, :, 0, None]  # (m, u, B)
        ax *= ax
        ay = oy - rel[:, :, 1, None]
        ay *= ay
        d2 = ay[:, :, :, None] + ax[:, :, None, :]  # (m, u, B, B)
        d = d2[:, 0] if cand.shape[1] == 1 else d2.min(axis=1)
        return np.sqrt(d, out=d)


def euclidean_cost(fac_xy: np.ndarray, detour: float = 1.0, workers: int = -1) -> EuclideanCost:
    """Cost function: straight-line distance × ``detour`` to the nearest facility (inf if none);
    ``workers``: KD-tree query threads (1 when the caller runs blocks on its own threads)."""
    return EuclideanCost(fac_xy, detour, workers=workers)


def nearest_distance(cells: CellSet, fac_xy: np.ndarray, detour: float = 1.0,
                     chunk_cells: int = CHUNK_CELLS) -> np.ndarray:
    """Straight-line distance × detour from each cell of ``cells`` to the nearest facility."""
    cost = euclidean_cost(fac_xy, detour)
    out = np.empty(len(cells.pop))
    for s in range(0, len(out), chunk_cells):
        cancel.check()
        out[s:s + chunk_cells] = cost(cells.xy[s:s + chunk_cells])
    return out


# ---------------------------------------------------------------------------------------
# per-unit statistics
# ---------------------------------------------------------------------------------------

def _weighted_quantiles(unit: np.ndarray, cost: np.ndarray, pop: np.ndarray, n_units: int,
                        qs: tuple[float, ...]) -> list[np.ndarray]:
    """Lower weighted quantiles of ``cost`` per unit (NaN for units without people)."""
    out = [np.full(n_units, np.nan) for _ in qs]
    keep = pop > 0
    unit, cost, pop = unit[keep], cost[keep], pop[keep]
    if len(unit) == 0:
        return out
    order = np.lexsort((cost, unit))
    u, c, w = unit[order], cost[order], pop[order]
    cum = np.cumsum(w)
    tot = np.bincount(u, weights=w, minlength=n_units)
    before = np.concatenate(([0.0], np.cumsum(tot)))[u]
    within = cum - before
    for k, q in enumerate(qs):
        target = q * tot[u] * (1 - 1e-12)
        ok = within >= target
        uu, first = np.unique(u[ok], return_index=True)
        vals = c[ok][first]
        out[k][uu] = np.where(np.isfinite(vals), vals, np.nan)
    return out


def _hist_bin(cost: np.ndarray, as_float: bool = False) -> np.ndarray:
    """Histogram bin of each cost: ``floor(log1p(cost / _HIST_SCALE) / log(_HIST_BASE))`` in
    float32, clipped to ``[0, _HIST_BINS - 1]``; negative → 0, NaN/inf → the last bin. intp, or
    with ``as_float`` the same whole numbers as float32.

    float32 ``log1p`` has no SIMD loop in numpy (4× slower than ``log``): the bin is taken from
    ``log(1 + c)``, whose error (< 4e-4 bin) is far below ``_HIST_SURE``, and only costs whose
    value lies within ``_HIST_SURE`` of a bin edge (≈ 1 %) are binned again with ``log1p`` —
    the same bins as ``log1p`` everywhere (tested against it next to every edge).
    """
    with np.errstate(invalid="ignore", over="ignore"):
        c = np.asarray(cost).astype(np.float32)  # float32: half the work, bins are 2 % wide
        np.maximum(c, 0, out=c)
        c *= np.float32(1 / _HIST_SCALE)
        y = c + np.float32(1)
        np.log(y, out=y)
        y *= np.float32(1 / math.log(_HIST_BASE))
        b = np.floor(y)
        y -= b  # position inside the bin (float32 modf is 30× slower)
        y -= np.float32(0.5)
        np.abs(y, out=y)  # distance from the middle of the bin
        unsure = np.flatnonzero(~(y < np.float32(0.5 - _HIST_SURE)))  # near an edge, NaN, inf
        if len(unsure):
            z = np.log1p(c[unsure])
            z *= np.float32(1 / math.log(_HIST_BASE))
            np.floor(z, out=z)
            z[~np.isfinite(z)] = _HIST_BINS - 1
            b[unsure] = z
    np.clip(b, 0, _HIST_BINS - 1, out=b)
    return b if as_float else b.astype(np.intp)


def _hist_quantiles(hist: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
    """Quantiles from per-unit histograms ``(n_units, _HIST_BINS)`` (bin middles; last bin = unreachable)."""
    tot = hist.sum(axis=1)
    cum = np.cumsum(hist, axis=1)
    mids = _HIST_SCALE * (_HIST_BASE ** (np.arange(_HIST_BINS) + 0.5) - 1)
    mids[-1] = np.nan
    out = []
    for q in qs:
        idx = np.argmax(cum >= (q * tot * (1 - 1e-12))[:, None], axis=1)
        v = mids[idx]
        v[tot <= 0] = np.nan
        out.append(v)
    return out


def _frame(unit_ids, unit_names, pop, cov, q50, q90) -> pd.DataFrame:
    cov = np.minimum(cov, pop)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(pop > 0, cov / np.where(pop > 0, pop, 1), np.nan)
    return pd.DataFrame({
        "unit_id": unit_ids, "unit_name": unit_names, "population": pop, "covered_population": cov,
        "covered_share": np.clip(share, 0.0, 1.0), "beyond_population": np.maximum(pop - cov, 0.0),
        "median_distance_m": q50, "p90_distance_m": q90,
    })


def cost_quantiles(cells: CellSet, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit population-weighted median and 90th percentile of ``cost`` (independent of
    any radius: an interactive page computes them once per facility set)."""
    q50, q90 = _weighted_quantiles(cells.unit, cost, cells.pop, cells.n_units, (0.5, 0.9))
    return q50, q90


def coverage_from_costs(cells: CellSet, cost: np.ndarray, threshold: float,
                        quantiles: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """Per-unit table from precomputed per-cell costs (``cost`` aligned with ``cells``);
    pass ``quantiles`` from :func:`cost_quantiles` to skip the sort on a rerun."""
    n = cells.n_units
    pop = np.bincount(cells.unit, weights=cells.pop, minlength=n)
    covered = np.bincount(cells.unit, weights=np.where(cost <= threshold, cells.pop, 0.0), minlength=n)
    q50, q90 = quantiles if quantiles is not None else cost_quantiles(cells, cost)
    return _frame(cells.unit_ids, cells.unit_names, pop, covered, q50, q90)


def _unit_sums(ul: np.ndarray, w: np.ndarray, cost: np.ndarray, threshold: float, n_units: int,
               present: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-unit partial sums of one block of cells in a single ``bincount``.

    ``ul`` unit label per cell (``0`` = no unit, ``i + 1`` = unit ``i``), ``w`` people (float64,
    0 where nobody), ``cost`` per cell; ``present`` sorted labels including every label of ``ul``
    (a superset is fine: its extra units get zeros). Returns ``(units, people, covered, hist)``: the units
    present (m,), their people and covered people (m,) and cost histograms ``(m, _HIST_BINS)``.
    Keys are numbered over the units present only, so a block of a 10,000-unit layer sums
    into a few hundred units' bins, not 7 M; people = uncovered + covered, so a fully
    covered unit has exactly its people covered.
    """
    nb = _HIST_BINS
    m = len(present)
    lut = np.zeros(n_units + 1, dtype=np.intp)
    lut[present] = np.arange(0, m * nb, nb)
    key = lut[ul]  # local unit × bins ...
    np.add(key, _hist_bin(cost, as_float=True), out=key, casting="unsafe")  # ... + bin (whole numbers < 2**24)
    np.add(key, m * nb, out=key, where=cost <= threshold)  # ... + covered × (units × bins)
    sums = np.bincount(key, weights=w, minlength=2 * m * nb).reshape(2, m, nb)
    if present[0] == 0:  # cells outside every unit
        present, sums = present[1:], sums[:, 1:]
    covered = sums[1].sum(axis=1)
    return present - 1, sums[0].sum(axis=1) + covered, covered, sums[0] + sums[1]


def coverage_with_cost(cost_fn: CostFn, units: gpd.GeoDataFrame, grid: PopulationGrid, threshold: float,
                       unit_id: str, unit_name: str, chunk_cells: int = CHUNK_CELLS,
                       progress: Callable[[float], None] | None = None,
                       exact: bool | None = None) -> pd.DataFrame:
    """Streaming per-unit coverage with any per-cell cost function (bounded memory).

    Row blocks of ``chunk_cells / WORKERS`` cells run on ``WORKERS`` threads, each summing
    its own per-unit partials (population, covered, distance histogram or exact parts);
    the unit labels come from the cached :func:`unit_labels`. Dense blocks with a lattice
    cost (``cost_fn.raster``) are summed as whole arrays (no cell gather).
    """
    _check_units(units, unit_id, unit_name)
    u = to_grid_crs(units, grid.crs, "units")
    n = len(u)
    if exact is None:
        exact = grid.values.size <= EXACT_LIMIT
    geoms = u.geometry.to_numpy()
    lkey = _labels_key(grid, geoms)
    labels = unit_labels(grid, geoms, chunk_cells, key=lkey)
    raster = getattr(cost_fn, "raster", None)
    thr = float(threshold)
    nb = _HIST_BINS

    def work(rows: tuple[int, int]):
        r0, r1 = rows
        lab = labels[r0:r1]
        vals = grid.values[r0:r1]
        with np.errstate(invalid="ignore"):
            mask = (lab > 0) & (vals > 0)
        count = int(np.count_nonzero(mask))
        if count == 0:
            return None
        if raster is not None and count >= 0.3 * mask.size:
            cost = raster(grid, r0, r1).ravel()
            ul = lab.ravel()
            if not exact:
                return (*_unit_sums(ul, np.fmax(vals.ravel(), 0, dtype=np.float64), cost, thr, n,
                                    _present_labels(lkey, labels, r0, r1)), r1)
            w = np.where(mask, vals, 0).astype(np.float64).ravel()
            pop = np.bincount(ul, weights=w, minlength=n + 1)[1:]
            cov = np.bincount(ul, weights=np.where(cost <= thr, w, 0.0), minlength=n + 1)[1:]
            m = mask.ravel()
            return slice(None), pop, cov, (ul[m].astype(np.int64) - 1, cost[m], w[m]), r1
        b = _block_cells(grid, labels, r0, r1)
        cost = np.asarray(cost_fn(b.xy), dtype=np.float64)
        if not exact:
            return (*_unit_sums(b.unit + 1, b.pop, cost, thr, n, _present_labels(lkey, labels, r0, r1)), r1)
        pop = np.bincount(b.unit, weights=b.pop, minlength=n)
        cov = np.bincount(b.unit, weights=np.where(cost <= thr, b.pop, 0.0), minlength=n)
        return slice(None), pop, cov, (b.unit, cost, b.pop), r1

    pop, cov = np.zeros(n), np.zeros(n)
    hist = None if exact else np.zeros((n, nb))
    parts = []
    nrows = grid.shape[0]
    block_size = getattr(cost_fn, "block_size", None)
    blocks = _row_blocks(grid, max(1, chunk_cells // WORKERS), block_size(grid) if block_size is not None else 1)
    pool = ThreadPoolExecutor(WORKERS) if WORKERS > 1 and len(blocks) > 1 else None
    try:
        results = pool.map(work, blocks) if pool is not None else map(work, blocks)
        for res in results:
            cancel.check()  # stops the remaining blocks (cancel_futures below) when the session is gone
            if res is None:
                continue
            at, p, c, extra, r1 = res
            pop[at] += p
            cov[at] += c
            if exact:
                parts.append(extra)
            else:
                hist[at] += extra
            if progress is not None:
                progress(min(1.0, r1 / nrows))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if exact:
        if parts:
            uu, cc, pp = (np.concatenate(x) for x in zip(*parts))
            q50, q90 = _weighted_quantiles(uu, cc, pp, n, (0.5, 0.9))
        else:
            q50, q90 = np.full(n, np.nan), np.full(n, np.nan)
    else:
        q50, q90 = _hist_quantiles(hist, (0.5, 0.9))
    return _frame(units[unit_id].to_numpy(), units[unit_name].to_numpy(), pop, cov, q50, q90)


def coverage_by_unit(facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame, grid: PopulationGrid,
                     radius_m: float, unit_id: str, unit_name: str, detour: float = 1.0,
                     chunk_cells: int = CHUNK_CELLS, progress: Callable[[float], None] | None = None,
                     exact: bool | None = None) -> pd.DataFrame:
    """People within ``radius_m`` (straight line × ``detour``) of a facility, per unit.

    One row per unit (order of ``units``) with ``COLUMNS``. A cell belongs to the unit
    containing its centre and is covered when distance × detour ≤ radius. Shares are NaN
    for units without people.
    """
    _check_radius(radius_m, detour)
    # the row blocks already run on WORKERS threads
    cost = euclidean_cost(facility_xy(facilities, grid.crs), float(detour), workers=1 if WORKERS > 1 else -1)
    return coverage_with_cost(cost, units, grid, float(radius_m), unit_id, unit_name, chunk_cells,
                              progress, exact)


def totals(df: pd.DataFrame) -> dict[str, float]:
    """Totals over all units: population, covered, beyond, share."""
    pop = float(df["population"].sum())
    cov = float(df["covered_population"].sum())
    return {"population": pop, "covered_population": cov, "beyond_population": max(pop - cov, 0.0),
            "covered_share": cov / pop if pop > 0 else float("nan")}


def attach_geometry(df: pd.DataFrame, units: gpd.GeoDataFrame, crs: str = STORE_CRS) -> gpd.GeoDataFrame:
    """The per-unit table with the units' geometry (rows aligned by position), in ``crs``."""
    geom = units.geometry.reset_index(drop=True)
    out = gpd.GeoDataFrame(df.reset_index(drop=True), geometry=geom.values, crs=units.crs)
    return out.to_crs(crs) if out.crs is not None and not _same_crs(out.crs, crs) else out


# ---------------------------------------------------------------------------------------
# rasters and polygons
# ---------------------------------------------------------------------------------------

def distance_raster(facilities: gpd.GeoDataFrame, grid: PopulationGrid, detour: float = 1.0,
                    chunk_cells: int = CHUNK_CELLS) -> np.ndarray:
    """Distance (m, float32, straight line × detour) from every cell centre to the nearest facility."""
    cost = euclidean_cost(facility_xy(facilities, grid.crs), float(detour))
    nrows, ncols = grid.shape
    out = np.empty((nrows, ncols), dtype=np.float32)
    rows_per = max(1, chunk_cells // max(1, ncols))
    for r0 in range(0, nrows, rows_per):
        r1 = min(nrows, r0 + rows_per)
        out[r0:r1] = cost.raster(grid, r0, r1)
    return out


def distance_grid(facilities: gpd.GeoDataFrame, grid: PopulationGrid, detour: float = 1.0,
                  chunk_cells: int = CHUNK_CELLS) -> PopulationGrid:
    """The distance-to-nearest-facility surface as a raster object (``values`` in metres,
    float32, same transform/CRS as ``grid``) — e.g. for ``geo.export.export_raster``."""
    return PopulationGrid(values=distance_raster(facilities, grid, detour, chunk_cells), transform=grid.transform,
                          crs=grid.crs, label_key="coverage.distance_label")


def write_distance_geotiff(facilities: gpd.GeoDataFrame, grid: PopulationGrid, path,
                           detour: float = 1.0, chunk_cells: int = CHUNK_CELLS):
    """Write the distance-to-nearest-facility raster (metres, float32) as a GeoTIFF."""
    d = distance_raster(facilities, grid, detour, chunk_cells)
    d[~np.isfinite(d)] = -1.0
    return write_grid_geotiff(grid, path, values=d, nodata=-1.0)


def cost_raster(cost_fn: CostFn, units: gpd.GeoDataFrame, grid: PopulationGrid, chunk_cells: int = CHUNK_CELLS,
                nodata: float = -1.0) -> np.ndarray:
    """A full-grid float32 raster of ``cost_fn`` at the populated cells inside ``units`` and
    ``nodata`` elsewhere (and where unreachable), computed block by block — e.g. network
    travel time for a GeoTIFF without materialising every cell."""
    u = to_grid_crs(units, grid.crs, "units")
    out = np.full(grid.shape, nodata, dtype=np.float32)
    for block in iter_cells(grid, u.geometry.to_numpy(), chunk_cells):
        c = np.asarray(cost_fn(block.xy), dtype=np.float64)
        out[block.rows, block.cols] = np.where(np.isfinite(c), c, nodata).astype(np.float32)
    return out


def cells_raster(cells: CellSet, values: np.ndarray, nodata: float = -1.0) -> np.ndarray:
    """A full-grid float32 raster holding ``values`` (aligned with ``cells``) at their cells and
    ``nodata`` elsewhere (e.g. network travel time of populated cells, for a GeoTIFF)."""
    out = np.full(cells.grid_shape, nodata, dtype=np.float32)
    v = np.where(np.isfinite(values), values, nodata).astype(np.float32)
    out[cells.rows, cells.cols] = v
    return out


def covered_mask(cells: CellSet, cost: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean grid: populated unit cells that are covered."""
    m = np.zeros(cells.grid_shape, dtype=bool)
    ok = cost <= threshold
    m[cells.rows[ok], cells.cols[ok]] = True
    return m


def mask_polygons(mask: np.ndarray, transform: Affine, crs: str, out_crs: str = STORE_CRS) -> gpd.GeoDataFrame:
    """One (multi)polygon outlining the True cells of ``mask`` (exact cell squares)."""
    from rasterio.features import shapes

    polys = [shapely.geometry.shape(g) for g, v in shapes(mask.astype(np.uint8), mask=mask, transform=transform)
             if v == 1]
    geom = shapely.union_all(np.array(polys, dtype=object)) if polys else shapely.Polygon()
    return gpd.GeoDataFrame({"covered": [True]}, geometry=[geom], crs=crs).to_crs(out_crs)


def covered_area(facilities: gpd.GeoDataFrame, radius_m: float, detour: float = 1.0,
                 crs: str = METRIC_CRS, clip: gpd.GeoDataFrame | None = None,
                 out_crs: str = STORE_CRS, resolution: int = 16) -> gpd.GeoDataFrame:
    """Area within ``radius_m / detour`` of any facility: vectorised buffers + one union,
    optionally clipped to the union of ``clip`` polygons. One row, in ``out_crs``."""
    _check_radius(radius_m, detour)
    xy = facility_xy(facilities, crs)
    if len(xy) == 0:
        geom = shapely.Polygon()
    else:
        geom = shapely.union_all(shapely.buffer(shapely.points(xy), float(radius_m) / float(detour),
                                                quad_segs=max(2, resolution // 4)))
        if clip is not None and len(clip):
            geom = shapely.intersection(geom, shapely.union_all(to_grid_crs(clip, crs, "units").geometry.to_numpy()))
    return gpd.GeoDataFrame({"radius_m": [float(radius_m)], "detour": [float(detour)]}, geometry=[geom],
                            crs=crs).to_crs(out_crs)


def hotspots(cells: CellSet, cost: np.ndarray, threshold: float, block: int = 10, top: int = 20,
             min_people: float = 1.0, out_crs: str = STORE_CRS) -> gpd.GeoDataFrame:
    """Underserved hotspots: squares of ``block``×``block`` cells (1 km at 100 m) with the most
    people beyond reach, largest first, labelled with the unit holding most of them."""
    beyond = cost > threshold
    br = cells.rows[beyond] // block
    bc = cells.cols[beyond] // block
    nbc = cells.grid_shape[1] // block + 1
    key = br * nbc + bc
    empty = gpd.GeoDataFrame({"people_beyond": [], "unit_id": [], "unit_name": []}, geometry=[], crs=out_crs)
    if len(key) == 0:
        return empty
    uniq, inv = np.unique(key, return_inverse=True)
    people = np.bincount(inv, weights=cells.pop[beyond])
    order = np.argsort(-people, kind="stable")
    order = order[people[order] >= min_people][:top]
    if len(order) == 0:
        return empty
    # dominant unit per selected square
    u = cells.unit[beyond]
    sel = np.isin(inv, order)
    pairs = pd.DataFrame({"sq": inv[sel], "unit": u[sel], "p": cells.pop[beyond][sel]})
    dom = pairs.groupby(["sq", "unit"])["p"].sum().reset_index().sort_values("p", ascending=False)
    dom = dom.drop_duplicates("sq").set_index("sq")["unit"]
    t = cells.transform
    rows0 = (uniq[order] // nbc) * block
    cols0 = (uniq[order] % nbc) * block
    x0, y0 = t.c + t.a * cols0, t.f + t.e * rows0
    x1, y1 = x0 + t.a * block, y0 + t.e * block
    geoms = shapely.box(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1))
    units = dom.reindex(order).to_numpy()
    gdf = gpd.GeoDataFrame({"people_beyond": people[order], "unit_id": cells.unit_ids[units],
                            "unit_name": cells.unit_names[units]}, geometry=geoms, crs=cells.crs)
    return gdf.to_crs(out_crs)


# ---------------------------------------------------------------------------------------
# capacity-aware accessibility (2SFCA)
# ---------------------------------------------------------------------------------------

def capacities(facilities: gpd.GeoDataFrame, capacity_col: str | None) -> np.ndarray:
    """Facility capacity (``capacity_col``; missing/invalid values → 1), aligned with
    :func:`facility_xy`. A named column the layer does not have is refused (``AtlasError``)."""
    g = facilities.geometry.to_numpy()
    keep = ~(shapely.is_missing(g) | shapely.is_empty(g))
    if capacity_col and capacity_col not in facilities.columns:
        raise AtlasError("coverage_errors.no_capacity_column", column=capacity_col,
                         columns=", ".join(str(c) for c in facilities.columns if c != facilities.geometry.name))
    if capacity_col:
        cap = pd.to_numeric(facilities[capacity_col], errors="coerce").to_numpy(dtype=np.float64)
        cap = np.where(np.isfinite(cap) & (cap >= 0), cap, 1.0)
    else:
        cap = np.ones(len(facilities))
    return cap[keep]


def two_step_fca(facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame, grid: PopulationGrid, radius_m: float,
                 unit_id: str, unit_name: str, capacity_col: str | None = None, detour: float = 1.0,
                 per: float = 1000.0, chunk_cells: int = CHUNK_CELLS) -> pd.DataFrame:
    """Two-step floating catchment accessibility (straight line × detour ≤ radius).

    Step 1: each facility's ratio R_j = capacity_j / people within reach of j. Step 2: a
    cell's access A_k = Σ R_j over facilities within reach. Per unit: population-weighted
    mean access × ``per`` (e.g. beds per 1,000 people), column ``access_ratio``; also
    ``capacity_in_reach`` (Σ R_j·P_k, the capacity share the unit's people draw on).
    """
    _check_radius(radius_m, detour)
    _check_units(units, unit_id, unit_name)
    xy = facility_xy(facilities, grid.crs)
    cap = capacities(facilities, capacity_col)
    if len(cap) != len(xy):  # non-finite coordinates dropped: keep alignment simple
        cap = np.ones(len(xy))
    u = to_grid_crs(units, grid.crs, "units")
    geoms = u.geometry.to_numpy()
    r = float(radius_m) / float(detour)
    n = len(u)
    demand = np.zeros(len(xy))
    fac_tree = cKDTree(xy) if len(xy) else None
    if fac_tree is not None:  # pass 1: people within reach of each facility
        for b in iter_cells(grid, geoms, chunk_cells):
            pairs = fac_tree.sparse_distance_matrix(cKDTree(b.xy), r, output_type="ndarray")
            if len(pairs):
                demand += np.bincount(pairs["i"], weights=b.pop[pairs["j"]], minlength=len(xy))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, cap / np.where(demand > 0, demand, 1), 0.0)
    pop = np.zeros(n)
    weighted = np.zeros(n)
    for b in iter_cells(grid, geoms, chunk_cells):  # pass 2: access per cell, summed per unit
        pop += np.bincount(b.unit, weights=b.pop, minlength=n)
        if fac_tree is None:
            continue
        pairs = fac_tree.sparse_distance_matrix(cKDTree(b.xy), r, output_type="ndarray")
        if len(pairs):
            acc = np.bincount(pairs["j"], weights=ratio[pairs["i"]], minlength=len(b.xy))
            weighted += np.bincount(b.unit, weights=acc * b.pop, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        access = np.where(pop > 0, weighted / np.where(pop > 0, pop, 1) * per, np.nan)
    return pd.DataFrame({"unit_id": units[unit_id].to_numpy(), "unit_name": units[unit_name].to_numpy(),
                         "population": pop, "capacity_in_reach": weighted, "access_ratio": access})


# ---------------------------------------------------------------------------------------
# what-if
# ---------------------------------------------------------------------------------------

def scenario_facilities(facilities: gpd.GeoDataFrame, added_lonlat: list[tuple[float, float]] | None = None,
                        closed: list | None = None, added: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Facilities after closing those whose index is in ``closed`` and adding points
    (``added_lonlat`` as (lon, lat) pairs in EPSG:4326, or an ``added`` layer).
    Added rows carry ``proposed = True``."""
    base = facilities.drop(index=[i for i in (closed or []) if i in facilities.index])
    base = base.assign(proposed=False)
    extra = []
    if added_lonlat:
        pts = gpd.GeoDataFrame({"proposed": [True] * len(added_lonlat)},
                               geometry=shapely.points(np.asarray(added_lonlat, dtype=float)), crs=STORE_CRS)
        extra.append(pts.to_crs(base.crs) if base.crs is not None else pts)
    if added is not None and len(added):
        a = to_grid_crs(added, base.crs or STORE_CRS, "proposed facilities")[[added.geometry.name]]
        a = a.rename_geometry(base.geometry.name) if a.geometry.name != base.geometry.name else a
        extra.append(a.assign(proposed=True))
    if not extra:
        return base
    return gpd.GeoDataFrame(pd.concat([base] + extra, ignore_index=True), geometry=base.geometry.name,
                            crs=base.crs)


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Before/after per unit: covered population and share, and the change."""
    out = before[["unit_id", "unit_name", "population"]].copy()
    out["covered_before"] = before["covered_population"].to_numpy()
    out["covered_after"] = after["covered_population"].to_numpy()
    out["change"] = out["covered_after"] - out["covered_before"]
    out["share_before"] = before["covered_share"].to_numpy()
    out["share_after"] = after["covered_share"].to_numpy()
    return out


def what_if(facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame, grid: PopulationGrid, radius_m: float,
            unit_id: str, unit_name: str, added_lonlat=None, closed=None, added=None,
            detour: float = 1.0) -> pd.DataFrame:
    """Coverage before and after a scenario (added/closed facilities), per unit."""
    before = coverage_by_unit(facilities, units, grid, radius_m, unit_id, unit_name, detour)
    fac2 = scenario_facilities(facilities, added_lonlat, closed, added)
    after = coverage_by_unit(fac2, units, grid, radius_m, unit_id, unit_name, detour)
    return compare(before, after)


# ---------------------------------------------------------------------------------------
# planner sentences
# ---------------------------------------------------------------------------------------

def fmt_distance(metres: float, lang: str) -> str:
    """"2 km" / "1,5 km" / "2,25 km" / "800 m" in ``lang`` (never rounds a radius the user typed
    to a different one: 2,250 m reads "2,25 km", not "2,2 km")."""
    if metres >= 1000:
        km = round(metres / 1000, 2)
        decimals = next(d for d in (0, 1, 2) if abs(km - round(km, d)) < 1e-9)
        return t("coverage.km", lang, value=fmt_number(km, lang, decimals))
    return t("coverage.m", lang, value=fmt_number(round(metres), lang, 0))


def _round_people(x: float) -> float:
    """Round for a sentence: the one rule of ``geo.numbers.round_people``."""
    from geo.numbers import round_people

    return round_people(x)


def coverage_sentences(df: pd.DataFrame, lang: str, facility_label: str, radius_m: float | None = None,
                       minutes: float | None = None, top: int | None = 10, min_people: float = 1.0,
                       lower_bound: bool = False) -> list[str]:
    """Sentences a planner can read, most people beyond reach first, e.g.
    "Phổ Yên: 18.400 người ở xa trạm y tế hơn 2 km". ``facility_label`` is already in ``lang``.
    With ``lower_bound`` (incomplete facility data) the sentence says the distance is to the
    facilities *known* to the atlas, which is all the figure can claim."""
    d = df[df["beyond_population"] >= min_people].sort_values("beyond_population", ascending=False)
    if top is not None:
        d = d.head(top)
    if minutes is not None:
        reach = t("coverage.minutes", lang, value=fmt_number(minutes, lang))
    else:
        reach = fmt_distance(float(radius_m or 0), lang)
    out = []
    for row in d.itertuples(index=False):
        out.append(t("coverage.sentence_known" if lower_bound else "coverage.sentence", lang,
                     unit=str(row.unit_name),
                     people=fmt_number(_round_people(float(row.beyond_population)), lang),
                     facility=facility_label, reach=reach,
                     share=fmt_percent(1 - row.covered_share if pd.notna(row.covered_share) else None, lang)))
    return out


def total_sentence(df: pd.DataFrame, lang: str, facility_label: str, radius_m: float | None = None,
                   minutes: float | None = None, lower_bound: bool = False) -> str:
    """One sentence on the totals ("at least …" when ``lower_bound``: incomplete facility data)."""
    tot = totals(df)
    reach = (t("coverage.minutes", lang, value=fmt_number(minutes, lang)) if minutes is not None
             else fmt_distance(float(radius_m or 0), lang))
    key = "coverage.total_sentence_at_least" if lower_bound else "coverage.total_sentence"
    return t(key, lang, covered=fmt_number(_round_people(tot["covered_population"]), lang),
             population=fmt_number(_round_people(tot["population"]), lang),
             share=fmt_percent(tot["covered_share"], lang), facility=facility_label, reach=reach)


# ---------------------------------------------------------------------------------------
# reading user files and naming sources
# ---------------------------------------------------------------------------------------

def read_vector_file(path, display_name: str | None = None) -> gpd.GeoDataFrame:
    """Read a user's vector file through the one reading path, ``geo.io.read_any``
    (encodings, CRS repair, geometry repair, safe zips, reader limits): EPSG:4326."""
    from pathlib import Path

    from geo.io import read_any

    p = Path(path)
    if not p.exists():
        raise AtlasError("coverage_errors.file_missing", path=str(path))
    gdf, _report = read_any(p, display_name=display_name)
    return gdf


def facility_label(category: str | None, lang: str) -> str:
    """"a health facility" / "cơ sở y tế" for an infrastructure category (generic otherwise)."""
    key = f"coverage.facility_{category}" if category else "coverage.facility_generic"
    text = t(key, lang)
    return text if text != key else t("coverage.facility_generic", lang)

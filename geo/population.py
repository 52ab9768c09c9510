"""Population surfaces: a grid of people per cell in a metric CRS.

Two sources:

* :func:`census_grid` — modelled from census figures of unit polygons (communes, 2025
  wards), uniform density within each polygon, rasterised at ``cell_m`` (100 m) in
  EPSG:9213. A cell belongs to the polygon containing its centre; each polygon's people
  are spread evenly over its cells, so the grid total equals the sum of the unit figures.
* :func:`read_population_raster` — a user GeoTIFF (e.g. WorldPop) in any CRS. A raster
  already in a projected CRS in metres is used as is; a geographic one is reprojected
  into EPSG:9213 with sum resampling and rescaled so the total is kept.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS

from geo.errors import AtlasError
from geo.settings import METRIC_CRS

LABEL_CENSUS_COMMUNE = "coverage.pop_label_census_commune"
LABEL_CENSUS_WARD = "coverage.pop_label_census_ward"
LABEL_RASTER = "coverage.pop_label_raster"
MAX_GRID_CELLS = 300_000_000  # ~3 GB while building; beyond that a cell size is surely a typo


@contextmanager
def rasterising() -> Iterator[None]:
    """Silence rasterio's ``NotGeoreferencedWarning`` — and only it — while the atlas rasterises
    unit polygons onto its own numpy grid: the grid's transform is passed explicitly, the
    array itself is an in-memory dataset without a georeference on purpose, and rasterio
    (1.4, from worker threads) may still warn about that mid-output. Wrap the whole
    rasterising section once (worker threads included), not each call: ``catch_warnings``
    is process-wide state."""
    from rasterio.errors import NotGeoreferencedWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)
        yield


@dataclass
class PopulationGrid:
    """People per cell. ``values`` rows run north→south (GeoTIFF order); 0/NaN = nobody."""

    values: np.ndarray
    transform: Affine
    crs: str
    label_key: str = LABEL_CENSUS_COMMUNE

    @property
    def shape(self) -> tuple[int, int]:
        """Raster shape (rows, columns)."""
        return self.values.shape  # type: ignore[return-value]

    @property
    def cell_size(self) -> float:
        """Cell width in CRS units (metres)."""
        return abs(self.transform.a)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the grid."""
        nrows, ncols = self.shape
        x0, y0 = self.transform @ (0, 0)
        x1, y1 = self.transform @ (ncols, nrows)
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    def total(self) -> float:
        """Total people on the grid (NaN counts as 0)."""
        return float(np.nansum(self.values, dtype=np.float64))

    def cell_centres(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``(n, 2)`` centre coordinates of the cells at ``rows``/``cols``."""
        t = self.transform
        c = cols.astype(np.float64) + 0.5
        r = rows.astype(np.float64) + 0.5
        return np.column_stack((t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f))


def _metric_crs_of(crs) -> bool:
    c = CRS.from_user_input(crs)
    if not c.is_projected:
        return False
    units = {ax.unit_name.lower() for ax in c.axis_info}
    return bool(units) and all(u in ("metre", "meter", "m") for u in units)


def census_grid(units: gpd.GeoDataFrame, pop_col: str, cell_m: float = 100.0,
                label_key: str = LABEL_CENSUS_COMMUNE) -> PopulationGrid:
    """Grid (``cell_m`` metres, EPSG:9213) with each unit's ``pop_col`` spread evenly over
    the cells whose centre lies in it. Units without a figure (NaN) contribute nobody.

    A unit too small to contain any cell centre puts its people into the cell under its
    representative point, so the grid total always equals the sum of the unit figures.
    """
    from rasterio.features import rasterize

    if pop_col not in units.columns:
        raise AtlasError("coverage_errors.no_pop_column", column=pop_col)
    if not cell_m or cell_m <= 0 or not math.isfinite(cell_m):
        raise AtlasError("coverage_errors.bad_cell_size", value=cell_m)
    if units.crs is None:
        raise AtlasError("coverage_errors.no_crs", what="units")
    m = units.to_crs(METRIC_CRS) if not CRS.from_user_input(units.crs).equals(CRS(METRIC_CRS)) else units
    pop = pd.to_numeric(m[pop_col], errors="coerce").to_numpy(dtype=np.float64)
    geoms = m.geometry.to_numpy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & np.isfinite(pop) & (pop > 0)
    if not ok.any():
        raise AtlasError("coverage_errors.no_population", column=pop_col)
    idx = np.flatnonzero(ok)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms[idx])
    minx = math.floor(minx / cell_m) * cell_m
    miny = math.floor(miny / cell_m) * cell_m
    maxx = math.ceil(maxx / cell_m) * cell_m
    maxy = math.ceil(maxy / cell_m) * cell_m
    ncols = max(1, int(round((maxx - minx) / cell_m)))
    nrows = max(1, int(round((maxy - miny) / cell_m)))
    if nrows * ncols > MAX_GRID_CELLS:
        raise AtlasError("coverage_errors.grid_too_large", cells=nrows * ncols, cell_m=str(cell_m))
    transform = Affine(cell_m, 0.0, minx, 0.0, -cell_m, maxy)
    with rasterising():
        labels = rasterize(((g, int(i) + 1) for i, g in zip(idx, geoms[idx])), out_shape=(nrows, ncols),
                           transform=transform, fill=0, dtype="int32")
    n_units = len(geoms) + 1
    counts = np.bincount(labels.ravel(), minlength=n_units).astype(np.float64)
    per_cell = np.zeros(n_units, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_cell[1:] = np.where(counts[1:] > 0, np.nan_to_num(pop) / counts[1:], 0.0)
    per_cell[0] = 0.0
    values = per_cell[labels]
    # units that own no cell centre: drop their people into the cell under them
    lost = idx[counts[idx + 1] == 0]
    if len(lost):
        pts = shapely.point_on_surface(geoms[lost])
        xs, ys = shapely.get_x(pts), shapely.get_y(pts)
        cols = np.clip(((xs - minx) // cell_m).astype(int), 0, ncols - 1)
        rows = np.clip(((maxy - ys) // cell_m).astype(int), 0, nrows - 1)
        np.add.at(values, (rows, cols), pop[lost])
    return PopulationGrid(values=values, transform=transform, crs=METRIC_CRS, label_key=label_key)


def read_population_raster(path: str | Path, band: int = 1) -> PopulationGrid:
    """Read a population GeoTIFF (people per pixel) in any CRS into a metric grid.

    Nodata and negative values become 0. Projected rasters in metres keep their CRS and
    pixels (no resampling); geographic rasters are reprojected to EPSG:9213 with sum
    resampling at about their native resolution, rescaled to keep the total.
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    p = Path(path)
    if not p.exists():
        raise AtlasError("coverage_errors.file_missing", path=str(path))
    try:
        src = rasterio.open(p)
    except (RasterioIOError, Exception):  # unreadable is unreadable to a user
        raise AtlasError("coverage_errors.raster_unreadable", path=str(path)) from None
    with src:
        from geo.io import check_raster_size
        check_raster_size(src, p.name)  # declared size × dtype checked before the band is read
        if src.crs is None:
            raise AtlasError("coverage_errors.raster_no_crs", path=str(path))
        if src.transform.b != 0 or src.transform.d != 0:
            raise AtlasError("coverage_errors.raster_rotated", path=str(path))
        data = src.read(band, masked=True).astype(np.float64)
        values = np.where(np.ma.getmaskarray(data), 0.0, np.ma.getdata(data))
        values = np.where(np.isfinite(values) & (values > 0), values, 0.0)
        crs_wkt = src.crs.to_wkt()
        if _metric_crs_of(crs_wkt):
            transform = src.transform
            if transform.e > 0:  # south-up raster: flip to north-up
                values = values[::-1]
                transform = Affine(transform.a, 0, transform.c, 0, -transform.e,
                                   transform.f + transform.e * src.height)
            epsg = src.crs.to_epsg()
            return PopulationGrid(values=values, transform=transform,
                                  crs=f"EPSG:{epsg}" if epsg else crs_wkt, label_key=LABEL_RASTER)
        # geographic (or non-metre) raster: reproject into the metric CRS
        left, bottom, right, top = src.bounds
        # about the native pixel size, in metres (GDAL's estimate works for degrees, feet, ...)
        est, _, _ = calculate_default_transform(src.crs, METRIC_CRS, src.width, src.height,
                                                left, bottom, right, top)
        res = max(1.0, float(round(abs(est.a))))
        dst_transform, width, height = calculate_default_transform(
            src.crs, METRIC_CRS, src.width, src.height, left, bottom, right, top, resolution=res)
        if width * height > MAX_GRID_CELLS:
            raise AtlasError("coverage_errors.grid_too_large", cells=width * height, cell_m=str(res))
        out = np.zeros((height, width), dtype=np.float64)
        reproject(values, out, src_transform=src.transform, src_crs=src.crs, dst_transform=dst_transform,
                  dst_crs=METRIC_CRS, resampling=Resampling.sum, src_nodata=None, dst_nodata=0.0)
        total_in, total_out = float(values.sum()), float(out.sum())
        if total_out > 0:
            out *= total_in / total_out
        return PopulationGrid(values=out, transform=dst_transform, crs=METRIC_CRS, label_key=LABEL_RASTER)


def write_grid_geotiff(grid: PopulationGrid, path: str | Path, values: np.ndarray | None = None,
                       nodata: float | None = None) -> Path:
    """Write ``values`` (default: the population) on ``grid``'s geometry as a GeoTIFF."""
    import rasterio

    arr = grid.values if values is None else values
    p = Path(path)
    try:
        with rasterio.open(p, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                           dtype=str(arr.dtype), crs=grid.crs, transform=grid.transform, nodata=nodata,
                           compress="deflate", tiled=arr.shape[0] >= 256 and arr.shape[1] >= 256) as dst:
            dst.write(arr, 1)
    except Exception as exc:
        raise AtlasError("errors.unwritable", path=str(p), reason=type(exc).__name__) from None
    return p

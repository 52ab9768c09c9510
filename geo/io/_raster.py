"""GeoTIFF checks (CRS, size, band total read in blocks)."""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import CRS

from geo import cancel
from geo.crs import resolve_crs
from geo.errors import AtlasError
from geo.io._common import _prepare, _unreadable
from geo.io._limits import check_raster_size, read_seconds, windows
from geo.io._report import ImportReport
from geo.safezip import Limits
from geo.settings import STORE_CRS


# --------------------------------------------------------------------------- rasters
@dataclass
class RasterImport:
    """A checked raster: where it is and what it holds (values stay on disk)."""

    path: Path
    crs: CRS
    width: int
    height: int
    count: int
    dtype: str
    nodata: float | None
    bounds_lonlat: tuple[float, float, float, float]
    total: float | None


def read_raster(path: str | Path, crs: Any = None, limits: Limits | None = None,
                display_name: str | None = None) -> tuple[RasterImport, ImportReport]:
    """Check a GeoTIFF (CRS honoured, guessed or overridden; band 1 summed in blocks)."""
    path, limits, override = _prepare(path, "auto", crs, limits, display_name)
    fname = display_name or path.name
    report = ImportReport(file=fname, format="geotiff")
    import rasterio
    from rasterio.errors import RasterioError
    from rasterio.warp import transform_bounds
    try:
        with warnings.catch_warnings(), rasterio.Env(GDAL_CACHEMAX=64):
            warnings.simplefilter("ignore")
            with rasterio.open(path) as ds:
                if ds.driver != "GTiff":
                    raise AtlasError("import_errors.unknown_format", file=fname)
                check_raster_size(ds, fname)  # declared size × dtype, before any pixel is read
                declared = CRS.from_user_input(ds.crs.to_wkt()) if ds.crs else None
                b = ds.bounds
                decision = resolve_crs(declared, (b.left, b.bottom, b.right, b.top), override=override, file=fname)
                total = 0.0
                nodata = ds.nodata
                deadline = time.monotonic() + read_seconds()
                for window in windows(ds.width, ds.height):  # our windows, not the file's (one huge strip)
                    cancel.check()
                    if time.monotonic() > deadline:
                        raise AtlasError("import_errors.read_slow", file=fname, seconds=int(read_seconds()))
                    arr = ds.read(1, window=window, masked=True).astype("float64")
                    vals = arr.compressed() if np.ma.isMaskedArray(arr) else arr.ravel()
                    vals = vals[np.isfinite(vals)]
                    total += float(vals.sum())
                lonlat = transform_bounds(decision.crs.to_wkt(), STORE_CRS, b.left, b.bottom, b.right, b.top)
                info = RasterImport(path=path, crs=decision.crs, width=ds.width, height=ds.height, count=ds.count,
                                    dtype=str(ds.dtypes[0]), nodata=nodata, bounds_lonlat=tuple(lonlat), total=total)
    except AtlasError:
        raise
    except (RasterioError, OSError, ValueError, MemoryError):
        raise _unreadable(fname, "GeoTIFF") from None
    report.crs, report.crs_basis, report.crs_params = decision.label, decision.basis, decision.params
    report.raster = {"width": info.width, "height": info.height, "count": info.count, "dtype": info.dtype,
                     "nodata": info.nodata, "total": info.total, "bounds": list(info.bounds_lonlat)}
    return info, report

"""Helpers every reader shares: format sniffing, magic-byte checks, GDAL reads, sidecar heads."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.crs import parse_crs
from geo.encoding import ENCODINGS
from geo.errors import AtlasError
from geo.safezip import Limits

log = logging.getLogger(__name__)


VECTOR_EXT = {".zip": "zip", ".shp": "shapefile", ".gpkg": "geopackage", ".geojson": "geojson",
              ".json": "geojson", ".kml": "kml", ".kmz": "kmz", ".csv": "csv", ".txt": "csv",
              ".tsv": "csv", ".xlsx": "xlsx", ".tab": "mapinfo", ".mif": "mapinfo", ".dxf": "dxf",
              ".gpx": "gpx"}
RASTER_EXT = {".tif": "geotiff", ".tiff": "geotiff"}
KINDS = ("points", "lines", "polygons")
_DIM_KIND = {0: "points", 1: "lines", 2: "polygons"}
_RESERVED = {"fid", "ogc_fid", "geometry", "geom"}


# --------------------------------------------------------------------------- helpers
def _unreadable(fname: str, fmt: str) -> AtlasError:
    return AtlasError("import_errors.unreadable", file=fname, format=fmt)


def sniff_format(path: Path) -> str:
    """The format of ``path`` from its extension, else its first bytes."""
    ext = path.suffix.lower()
    if ext in VECTOR_EXT:
        return VECTOR_EXT[ext]
    if ext in RASTER_EXT:
        return RASTER_EXT[ext]
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head.startswith(b"PK"):
        return "zip"
    if head.startswith(b"SQLite format 3\x00"):
        return "geopackage"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "geotiff"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "geojson"
    if text.startswith(b"<"):
        return "kml"
    raise AtlasError("import_errors.unknown_format", file=path.name)


def is_raster(path: str | Path) -> bool:
    """True when ``path`` is a GeoTIFF (by extension or magic bytes)."""
    try:
        return sniff_format(Path(path)) == "geotiff"
    except (AtlasError, OSError):
        return False



# --------------------------------------------------------------------------- readers
def _check_magic(path: Path, magic: bytes, fname: str, fmt_label: str) -> None:
    """Refuse a file whose first bytes are not those of its format before GDAL sees it.

    GDAL picks its driver from the content, not the name: an upload named ``x.gpkg`` or
    ``x.shp`` holding a VRT (``<OGRVRTDataSource>``) would make GDAL read any local file
    it names (``/etc/passwd`` as CSV) into the layer."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(magic))
    except OSError:
        raise _unreadable(fname, fmt_label) from None
    if head != magic:
        raise _unreadable(fname, fmt_label)


_SQLITE_MAGIC = b"SQLite format 3\x00"
_SHP_MAGIC = b"\x00\x00\x27\x0a"  # file code 9994 (big-endian) of .shp and .shx


def _gpkg_layers(path: Path, fname: str) -> list[str]:
    _check_magic(path, _SQLITE_MAGIC, fname, "GeoPackage")
    from geo.io._limits import check_geopackage
    check_geopackage(path, fname, Limits.from_env().max_rows)  # views and row counts, under a time limit
    from geo.io import _isolate, _isolate_child
    return _isolate.call(_isolate_child.layer_names, str(path), fname=fname, fmt_label="GeoPackage",
                         nbytes=_isolate.data_bytes(path))


def _lists_as_json(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """List/object properties (GeoJSON arrays, GDAL StringList/IntegerList fields) kept as
    JSON text: ``["y tế", "trạm"]`` — a column of Python lists cannot be stored or compared."""
    import json

    import numpy as np
    geom = gdf.geometry.name
    for col in gdf.columns:
        if col == geom or not pd.api.types.is_object_dtype(gdf[col]):
            continue
        vals = gdf[col]
        nested = vals.map(lambda v: isinstance(v, (list, tuple, dict, np.ndarray)))
        if nested.any():
            gdf[col] = vals.where(~nested, vals[nested].map(
                lambda v: json.dumps(v.tolist() if isinstance(v, np.ndarray) else v, ensure_ascii=False, default=str)))
    return gdf


def _read_ogr(path: Path, fname: str, fmt_label: str, **kw: Any) -> gpd.GeoDataFrame:
    """``pyogrio.read_dataframe`` of a user's file in a child process under the reader's
    wall-clock and memory limits (:mod:`geo.io._isolate`), stopped at the row cap."""
    from geo.io import _isolate, _isolate_child
    try:
        cap = Limits.from_env().max_rows
        gdf = _isolate.call(_isolate_child.read_frame, str(path), {"max_features": cap + 1, **kw}, fname=fname,
                            fmt_label=fmt_label, nbytes=_isolate.data_bytes(path))
        if len(gdf) > cap:  # the reader stops at the cap: a billion-row layer is never read whole
            raise AtlasError("import_errors.too_many_rows", file=fname, cap=cap)
        return _lists_as_json(gdf)
    except AtlasError:
        raise
    except Exception:  # GDAL errors of every kind mean "cannot read"
        log.debug("GDAL could not read %s", path, exc_info=True)
        raise _unreadable(fname, fmt_label) from None


_CPG = {"utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8", "1258": "cp1258", "cp1258": "cp1258",
        "windows-1258": "cp1258", "ansi 1258": "cp1258", "1252": "cp1252", "cp1252": "cp1252",
        "ansi 1252": "cp1252", "windows-1252": "cp1252", "iso-8859-1": "latin-1", "8859-1": "latin-1",
        "iso88591": "latin-1", "latin1": "latin-1", "latin-1": "latin-1", "88591": "latin-1"}


def _head_text(path: Path, limit: int) -> str:
    """The first ``limit`` bytes of a small sidecar (.prj/.cpg) as Latin-1 text: a
    hostile archive's giant .prj is never read whole."""
    with open(path, "rb") as fh:
        return fh.read(limit).decode("latin-1")

def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def refuse_unless_file(path: Path, name: str, shown: str | None = None) -> None:
    """Refuse ``path`` unless it is a regular file, saying what it really is: missing, a
    folder, or something else (a device such as /dev/null, a pipe, a socket)."""
    if path.is_file():
        return
    shown = shown or str(path)
    if path.is_dir():
        raise AtlasError("import_errors.is_folder", file=shown)
    if path.exists():
        raise AtlasError("import_errors.not_regular", file=shown)
    raise AtlasError("import_errors.not_found", file=name)


def _prepare(path: str | Path, encoding: str, crs, limits: Limits | None,
             display_name: str | None) -> tuple[Path, Limits, Any]:
    path = Path(path)
    name = display_name or path.name
    refuse_unless_file(path, name, display_name)
    if encoding not in ENCODINGS:
        raise AtlasError("import_errors.bad_encoding", file=name, encoding=str(encoding)[:30],
                         choices="|".join(ENCODINGS))
    limits = limits or Limits.from_env()
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise AtlasError("import_errors.too_big", file=name, size_mb=round(size / 1048576, 1),
                         cap_mb=round(limits.max_file_bytes / 1048576, 1))
    override = parse_crs(crs, name) if crs not in (None, "") else None
    return path, limits, override

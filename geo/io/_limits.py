"""Limits the reader enforces itself before GDAL or rasterio touch a user's file.

A GeoPackage is SQLite: a layer may be a VIEW, and a view can be a recursive query that
never ends or a ``zeroblob(1e9)`` that fills memory — GDAL would run it. So the file is
opened first with Python's ``sqlite3`` (read-only URI, a progress handler that stops any
statement after ``ATLAS_READ_SECONDS``), and only real feature tables or plain views
(``SELECT`` columns ``FROM`` one table, no function calls, no ``WITH``/``UNION``/subquery)
are accepted; every layer's row count is checked under the same time limit.

A raster is checked by its declared size × data type before any pixel is read
(``ATLAS_MAX_RASTER_MB``, default 512 MB uncompressed; ``ATLAS_MAX_RASTER_CELLS``), and
read in windows of at most :data:`WINDOW_CELLS` cells whatever the file's own block
layout (a sparse 14000 × 14000 GeoTIFF stored as one strip is never read in one go).

Own code, because neither GDAL nor rasterio offer a time limit on SQL views or a memory
limit on a read; the checks are cheap (milliseconds) and run on every reading path.
"""
from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

from geo import cancel
from geo.errors import AtlasError
from geo.settings import max_raster_bytes, max_raster_cells, read_seconds

WINDOW_CELLS = 1 << 22  # ≤ 4 M cells per read window (32 MB as float64)
_PLAIN_VIEW = re.compile(
    r"^\s*CREATE\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:\"[^\"]+\"|\[[^\]]+\]|`[^`]+`|[\w.]+)\s+AS\s+SELECT\s+"
    r"(?P<cols>.+?)\s+FROM\s+(?P<table>\"[^\"]+\"|\[[^\]]+\]|`[^`]+`|\w+)"
    r"(?:\s+(?:AS\s+)?\w+)?(?:\s+WHERE\s+(?P<where>.+?))?\s*;?\s*$", re.I | re.S)
_NOT_PLAIN = re.compile(r"\b(WITH|RECURSIVE|UNION|INTERSECT|EXCEPT|JOIN|SELECT\b.*\bSELECT)\b|\w\s*\(|\(", re.I | re.S)



def _unquote(name: str) -> str:
    return name[1:-1] if name[:1] in "\"[`" else name


def plain_view(sql: str, tables: set[str]) -> bool:
    """True when ``sql`` (a ``CREATE VIEW``) selects columns of ONE real table, nothing else."""
    m = _PLAIN_VIEW.match(sql or "")
    if not m or _unquote(m.group("table")) not in tables:
        return False
    rest = m.group("cols") + " " + (m.group("where") or "")
    return not _NOT_PLAIN.search(rest)


def check_geopackage(path: Path, fname: str, max_rows: int) -> None:
    """Refuse a GeoPackage whose layers are not real feature tables or plain views, or
    that holds more than ``max_rows`` features in a layer, before GDAL opens it.

    Raises ``AtlasError`` (``import_errors.gpkg_view_refused``, ``gpkg_slow``,
    ``too_many_rows`` or ``unreadable``)."""
    budget = read_seconds()
    uri = f"file:{Path(path).resolve().as_posix()}?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=1)
    except sqlite3.Error:
        raise AtlasError("import_errors.unreadable", file=fname, format="GeoPackage") from None
    deadline = [time.monotonic() + budget]
    con.set_progress_handler(lambda: 1 if time.monotonic() > deadline[0] or cancel.stopped() else 0, 10_000)
    try:
        con.execute("PRAGMA query_only = 1")
        con.execute("PRAGMA trusted_schema = 0")
        master = {name: (kind, sql) for kind, name, sql in
                  con.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view')")}
        tables = {n for n, (k, _) in master.items() if k == "table"}
        try:
            layers = [r[0] for r in con.execute(
                "SELECT table_name FROM gpkg_contents WHERE data_type IN ('features', 'attributes')")]
        except sqlite3.DatabaseError:
            layers = []
        for layer in layers:
            kind, sql = master.get(layer, (None, None))
            if kind == "view" and not plain_view(sql, tables):
                raise AtlasError("import_errors.gpkg_view_refused", file=fname, layer=str(layer)[:60])
            if kind is None:
                continue
            deadline[0] = time.monotonic() + budget
            q = '"' + str(layer).replace('"', '""') + '"'
            n = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {q} LIMIT ?)", (max_rows + 1,)).fetchone()[0]
            if n > max_rows:
                raise AtlasError("import_errors.too_many_rows", file=fname, cap=max_rows)
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc).lower():
            cancel.check()  # stopped because the session ended, not because the file is slow
            raise AtlasError("import_errors.gpkg_slow", file=fname, seconds=int(budget)) from None
        raise AtlasError("import_errors.unreadable", file=fname, format="GeoPackage") from None
    except sqlite3.Error:
        raise AtlasError("import_errors.unreadable", file=fname, format="GeoPackage") from None
    finally:
        con.close()



def check_raster_size(ds, fname: str) -> None:
    """Refuse an open rasterio dataset whose declared size × data type is over the caps."""
    import numpy as np
    cells = int(ds.width) * int(ds.height)
    nbytes = cells * int(ds.count) * max(int(np.dtype(d).itemsize) for d in ds.dtypes)
    cap_cells = max_raster_cells()
    if cells > cap_cells:
        raise AtlasError("import_errors.raster_too_big", file=fname, cells=cells, cap=cap_cells)
    cap = max_raster_bytes()
    if nbytes > cap:
        raise AtlasError("import_errors.raster_too_many_bytes", file=fname, size_mb=round(nbytes / 1048576),
                         cap_mb=round(cap / 1048576))


def windows(width: int, height: int):
    """Row bands of at most :data:`WINDOW_CELLS` cells covering a ``width`` × ``height`` raster."""
    from rasterio.windows import Window
    rows = max(1, WINDOW_CELLS // max(1, width))
    for r in range(0, height, rows):
        yield Window(0, r, width, min(rows, height - r))


def check_raster_file(path: Path, fname: str) -> None:
    """Open ``path`` with rasterio only to check its declared size (no pixel is read)."""
    import rasterio
    from rasterio.errors import RasterioError
    try:
        with rasterio.open(path) as ds:
            check_raster_size(ds, fname)
    except AtlasError:
        raise
    except (RasterioError, OSError, ValueError):
        raise AtlasError("import_errors.unreadable", file=fname, format="GeoTIFF") from None

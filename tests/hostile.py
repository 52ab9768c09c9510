"""Hostile inputs for the reader limits (issue 14 item 1), built from code, small on disk."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely


def _base_gpkg(p: Path) -> Path:
    gdf = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=shapely.points([[105.8, 21.5], [105.9, 21.6]]), crs=4326)
    pyogrio.write_dataframe(gdf, p, layer="pts", driver="GPKG")
    return p


def _register_view(p: Path, name: str, sql: str, drop_table: bool = True) -> Path:
    con = sqlite3.connect(p)
    con.execute(sql)
    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?, 'features', ?, 4326)",
                (name, name))
    con.execute("INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) "
                "VALUES (?, 'geom', 'POINT', 4326, 0, 0)", (name,))
    if drop_table:  # the view is the file's only layer: GDAL would open it straight away
        con.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = 'pts'")
        con.execute("DELETE FROM gpkg_contents WHERE table_name = 'pts'")
    con.commit()
    con.close()
    return p


def make_gpkg_recursive_view(d: Path) -> Path:
    """A layer that is a never-ending recursive SQL view (hangs a reader without a time limit)."""
    p = _base_gpkg(d / "recursive_view.gpkg")
    return _register_view(p, "loop", "CREATE VIEW loop AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                                     "FROM c) SELECT x AS fid, NULL AS geom, 'x' AS name FROM c")


def make_gpkg_zeroblob_view(d: Path) -> Path:
    """A layer whose every value is a 1 GB zero blob (1.3 GB peak for a naive reader)."""
    p = _base_gpkg(d / "zeroblob_view.gpkg")
    return _register_view(p, "blob", "CREATE VIEW blob AS SELECT fid, geom, zeroblob(1000000000) AS name FROM pts")


def make_gpkg_plain_view(d: Path) -> Path:
    """A plain view (columns of one table): read like a table."""
    p = _base_gpkg(d / "plain_view.gpkg")
    return _register_view(p, "pts_view", "CREATE VIEW pts_view AS SELECT fid, geom, name FROM pts WHERE fid > 0")


def make_sparse_geotiff(d: Path, size: int = 14000, dtype: str = "float32") -> Path:
    """A tiny sparse GeoTIFF declaring ``size`` × ``size`` cells (no block written)."""
    import rasterio
    from rasterio.transform import from_origin
    p = d / f"sparse_{size}.tif"
    with rasterio.open(p, "w", driver="GTiff", width=size, height=size, count=1, dtype=dtype, crs="EPSG:4326",
                       transform=from_origin(105.5, 22.0, 1e-5, 1e-5), tiled=True, blockxsize=512, blockysize=512,
                       compress="deflate", sparse_ok=True, nodata=0):
        pass
    return p


def make_csv_many_rows(d: Path, rows: int) -> Path:
    p = d / "many_rows.csv"
    lon = 105.8 + np.arange(rows) * 1e-6
    p.write_text("name,lat,lon\n" + "\n".join(f"p{i},21.5,{x:.6f}" for i, x in enumerate(lon)), encoding="utf-8")
    return p


def make_dxf_block_bomb(d: Path, depth: int = 8, fan: int = 10) -> Path:
    """A DXF of a few KB whose blocks insert each other ``fan`` times over ``depth`` levels:
    GDAL's DXF driver expands it into ``fan ** depth`` lines (10⁸: minutes of one core)."""
    codes = ["0", "SECTION", "2", "HEADER", "0", "ENDSEC", "0", "SECTION", "2", "BLOCKS",
             "0", "BLOCK", "8", "0", "2", "B0", "70", "0", "10", "0", "20", "0", "30", "0", "3", "B0",
             "0", "LINE", "8", "0", "10", "0", "20", "0", "30", "0", "11", "1", "21", "1", "31", "0",
             "0", "ENDBLK", "8", "0"]
    for k in range(1, depth + 1):
        codes += ["0", "BLOCK", "8", "0", "2", f"B{k}", "70", "0", "10", "0", "20", "0", "30", "0", "3", f"B{k}"]
        for i in range(fan):
            codes += ["0", "INSERT", "8", "0", "2", f"B{k - 1}", "10", str(i), "20", str(i), "30", "0"]
        codes += ["0", "ENDBLK", "8", "0"]
    codes += ["0", "ENDSEC", "0", "SECTION", "2", "ENTITIES", "0", "INSERT", "8", "0", "2", f"B{depth}",
              "10", "0", "20", "0", "30", "0", "0", "ENDSEC", "0", "EOF"]
    p = d / f"block_bomb_{fan}^{depth}.dxf"
    p.write_text("\n".join(codes) + "\n", encoding="ascii")
    return p


HOSTILE = {"gpkg_recursive_view": make_gpkg_recursive_view, "gpkg_zeroblob_view": make_gpkg_zeroblob_view,
           "geotiff_sparse_14000": make_sparse_geotiff, "dxf_block_bomb": make_dxf_block_bomb}

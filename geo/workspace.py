"""User layers in the workspace GeoPackage (``geo.paths.workspace_path()``).

The same file holds the indicator store (tables ``ind_*``, written by ``geo.store``), so it
is never replaced wholesale. A layer is saved like this:

1. everything is validated first (name, CRS, features);
2. GDAL writes the layer into a *private temporary* GeoPackage;
3. one SQLite transaction on the workspace (``geo.wsdb.transaction``, the scratch file
   attached) creates the GeoPackage
   core tables if missing, copies the layer table and its ``gpkg_contents`` /
   ``gpkg_geometry_columns`` rows, and records it in our own table ``ws_layers``.

If anything fails the transaction is rolled back, so a failed save leaves the workspace
byte-for-byte unchanged (and a workspace that did not exist is not created). Layer tables
get generated names (``ul_<hex>``); the display name lives in ``ws_layers`` so any text
(Vietnamese, quotes, even markup) is a valid name and renaming never touches the data.

Saving, renaming and deleting need an editor signed in to this workspace
(``geo.auth.authenticate``); each is an audit-log row in the same transaction. Reading needs
nothing. Connections, the WAL journal, crash recovery and "busy, try again" come from
``geo.wsdb``.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import unicodedata
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geo import wsdb
from geo.auth import Editor, require_editor
from geo.errors import AtlasError
from geo.settings import STORE_CRS, workspace_path

META_TABLE = "ws_layers"
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_USER_VERSION = 10400
_CORE = ("gpkg_spatial_ref_sys", "gpkg_contents", "gpkg_geometry_columns")
_KIND = {0: "points", 1: "lines", 2: "polygons"}
_META_SQL = (f"CREATE TABLE IF NOT EXISTS {META_TABLE} (name TEXT PRIMARY KEY, table_name TEXT UNIQUE NOT NULL, "
             "kind TEXT NOT NULL, features INTEGER, source TEXT, saved_at TEXT, meta TEXT)")


def _path() -> Path:
    return Path(workspace_path())


def _clean_name(name: Any) -> str:
    text = unicodedata.normalize("NFC", str(name if name is not None else "")).strip()
    if not text or len(text) > 80 or any(not ch.isprintable() for ch in text):
        raise AtlasError("workspace_errors.bad_name", name=text[:80])
    return text


def _has_table(con: sqlite3.Connection, name: str, schema: str = "main") -> bool:
    row = con.execute(f"SELECT 1 FROM {schema}.sqlite_master WHERE type='table' AND name=?", (name,)).fetchone()
    return row is not None


def _row_dict(row: tuple) -> dict[str, Any]:
    name, table, kind, features, source, saved_at, meta = row
    try:
        meta_d = json.loads(meta) if meta else {}
    except ValueError:
        meta_d = {}
    return {"name": name, "kind": kind, "features": features, "source": source, "saved_at": saved_at,
            "table": table, "meta": meta_d}


def list_layers() -> list[dict[str, Any]]:
    """Saved layers, oldest first: dicts with name, kind, features, source, saved_at, table, meta."""
    with wsdb.read_connection(_path()) as con:
        if con is None or not _has_table(con, META_TABLE):
            return []
        try:
            rows = con.execute(f"SELECT name, table_name, kind, features, source, saved_at, meta FROM {META_TABLE} "
                               "ORDER BY saved_at, name").fetchall()
        except sqlite3.Error as exc:
            raise wsdb._error(exc) from None
    return [_row_dict(tuple(r)) for r in rows]


def _lookup(name: str) -> dict[str, Any]:
    for layer in list_layers():
        if layer["name"] == name:
            return layer
    raise AtlasError("workspace_errors.no_such_layer", name=str(name)[:80])


def layer_info(name: str) -> dict[str, Any]:
    """The ``list_layers()`` entry of ``name`` (``AtlasError`` if there is none)."""
    return _lookup(name)


def read_layer(name: str) -> gpd.GeoDataFrame:
    """A saved vector layer as a GeoDataFrame in EPSG:4326 (geometry column ``geometry``)."""
    import pyogrio
    info = _lookup(name)
    if info["kind"] == "raster":
        raise AtlasError("workspace_errors.is_raster", name=name)
    gdf = pyogrio.read_dataframe(_path(), layer=info["table"])
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    if gdf.crs is None or not gdf.crs.equals(CRS.from_epsg(4326)):
        gdf = gdf.set_crs(STORE_CRS, allow_override=True)
    return gdf


def raster_path(name: str) -> Path:
    """The file of a saved raster layer."""
    info = _lookup(name)
    if info["kind"] != "raster":
        raise AtlasError("workspace_errors.no_such_layer", name=name)
    return _path().parent / "rasters" / f"{info['table']}.tif"


def _kind(gdf: gpd.GeoDataFrame) -> str:
    dims = np.unique(shapely.get_dimensions(np.asarray(gdf.geometry.values)))
    dims = dims[dims >= 0]
    return _KIND[int(dims[0])] if len(dims) == 1 else "mixed"


def _validate(name: Any, gdf: gpd.GeoDataFrame) -> str:
    name = _clean_name(name)
    if gdf is None or len(gdf) == 0 or not isinstance(gdf, gpd.GeoDataFrame):
        raise AtlasError("workspace_errors.empty_layer", name=name)
    if gdf.crs is None or not gdf.crs.equals(CRS.from_epsg(4326)):
        raise AtlasError("workspace_errors.not_normalised", name=name)
    geoms = np.asarray(gdf.geometry.values)
    if (gdf.geometry.isna().to_numpy() | shapely.is_empty(geoms)).all():
        raise AtlasError("workspace_errors.empty_layer", name=name)
    if _kind(gdf) == "mixed":
        raise AtlasError("workspace_errors.not_normalised", name=name)
    return name


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _commit_rows(path: Path, name: str, table: str, kind: str, features: int, source: str, meta: dict,
                 overwrite: bool, src_gpkg: Path | None, editor: Editor) -> dict[str, Any]:
    """The one transaction (``geo.wsdb.transaction``) that adds a layer and copies its table
    from ``src_gpkg``; a file it created is removed again when it fails."""
    existed = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        wsdb.connect(path, create=True).close()   # cannot be opened: "unavailable", not a failed save
    except AtlasError:
        _cleanup_new(None, path, existed)
        raise
    old_table = None
    try:
        with wsdb.transaction(path, attach={"src": src_gpkg} if src_gpkg is not None else None) as con:
            if _has_table(con, META_TABLE):
                row = con.execute(f"SELECT table_name, kind FROM {META_TABLE} WHERE name=?", (name,)).fetchone()
                if row is not None:
                    if not overwrite:
                        raise AtlasError("workspace_errors.name_exists", name=name)
                    old_table = row
                    _drop_layer_rows(con, name, row[0])
            con.execute(_META_SQL)
            if src_gpkg is not None:
                for core in _CORE:
                    if not _has_table(con, core):
                        sql = con.execute("SELECT sql FROM src.sqlite_master WHERE type='table' AND name=?",
                                          (core,)).fetchone()[0]
                        con.execute(sql)
                con.execute("INSERT OR IGNORE INTO main.gpkg_spatial_ref_sys SELECT * FROM src.gpkg_spatial_ref_sys")
                sql = con.execute("SELECT sql FROM src.sqlite_master WHERE type='table' AND name=?",
                                  (table,)).fetchone()[0]
                con.execute(sql)
                con.execute(f'INSERT INTO main."{table}" SELECT * FROM src."{table}"')
                con.execute("INSERT INTO main.gpkg_contents SELECT * FROM src.gpkg_contents WHERE table_name=?",
                            (table,))
                con.execute("INSERT INTO main.gpkg_geometry_columns SELECT * FROM src.gpkg_geometry_columns "
                            "WHERE table_name=?", (table,))
                if con.execute("PRAGMA main.application_id").fetchone()[0] == 0:
                    con.execute(f"PRAGMA main.application_id = {GPKG_APPLICATION_ID}")
                    con.execute(f"PRAGMA main.user_version = {GPKG_USER_VERSION}")
            saved_at = _now()
            con.execute(f"INSERT INTO {META_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (name, table, kind, features, source, saved_at,
                         json.dumps(meta, ensure_ascii=False, default=str)))
            wsdb.audit(con, editor.username, "layer_saved", name,
                       {"table": table, "kind": kind, "features": features, "replaced": old_table is not None},
                       os_user=editor.os_user)
    except AtlasError as err:   # SQLite/OS failures arrive here as one-sentence errors (geo.wsdb)
        _cleanup_new(None, path, existed)
        if err.key == "workspace_errors.unavailable":
            raise AtlasError("workspace_errors.write_failed", name=name, reason=err.params.get("reason", "")) from None
        raise
    except TypeError as exc:
        _cleanup_new(None, path, existed)
        raise AtlasError("workspace_errors.write_failed", name=name, reason=type(exc).__name__) from None
    if old_table is not None and old_table[1] == "raster":
        (path.parent / "rasters" / f"{old_table[0]}.tif").unlink(missing_ok=True)
    return {"name": name, "kind": kind, "features": features, "source": source, "saved_at": saved_at,
            "table": table, "meta": meta}



def _cleanup_new(con: sqlite3.Connection | None, path: Path, existed: bool) -> None:
    if con is not None:
        con.close()
    if not existed:
        for p in (path, Path(str(path) + "-journal"), Path(str(path) + "-wal"), Path(str(path) + "-shm")):
            p.unlink(missing_ok=True)


def _drop_layer_rows(con: sqlite3.Connection, name: str, table: str) -> None:
    con.execute(f'DROP TABLE IF EXISTS main."{table}"')
    for meta in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions", "gpkg_ogr_contents"):
        if _has_table(con, meta):
            con.execute(f"DELETE FROM {meta} WHERE lower(table_name)=lower(?)", (table,))
    con.execute(f"DELETE FROM {META_TABLE} WHERE name=?", (name,))


def save_layer(name: str, gdf: gpd.GeoDataFrame, meta: dict[str, Any] | None = None,
               overwrite: bool = False, *, editor: Editor | None = None) -> dict[str, Any]:
    """Save a normalised layer (EPSG:4326, one geometry kind) under ``name``.

    ``meta`` is stored as JSON (e.g. ``{"source": "wards.zip", "report": report.to_dict()}``).
    ``editor``: signed in to this workspace (``store_errors.not_editor`` otherwise).
    Returns the new ``list_layers()`` entry. Raises ``AtlasError`` (workspace unchanged).
    """
    import pyogrio
    editor = require_editor(editor, _path())
    meta = dict(meta or {})
    name = _validate(name, gdf)
    path = _path()
    if not overwrite and any(layer["name"] == name for layer in list_layers()):
        raise AtlasError("workspace_errors.name_exists", name=name)
    table = "ul_" + uuid.uuid4().hex[:16]
    kind = _kind(gdf)
    tmpdir = Path(tempfile.mkdtemp(prefix="atlas_ws_"))
    try:
        src = tmpdir / "layer.gpkg"
        out = gdf.copy()
        if out.geometry.name != "geometry":
            out = out.rename_geometry("geometry")
        try:
            pyogrio.write_dataframe(out, src, layer=table, driver="GPKG", encoding="utf-8",
                                    layer_options={"SPATIAL_INDEX": "NO", "GEOMETRY_NAME": "geom"})
        except Exception as exc:  # nothing touched the workspace yet
            raise AtlasError("workspace_errors.write_failed", name=name, reason=type(exc).__name__) from None
        return _commit_rows(path, name, table, kind, int(len(gdf)), str(meta.get("source", "")), meta,
                            overwrite, src, editor)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def save_raster(name: str, raster_file: str | Path, meta: dict[str, Any] | None = None,
                overwrite: bool = False, *, editor: Editor | None = None) -> dict[str, Any]:
    """Keep a checked GeoTIFF beside the workspace (``rasters/``) under ``name`` (editor only)."""
    editor = require_editor(editor, _path())
    meta = dict(meta or {})
    name = _clean_name(name)
    path = _path()
    if not overwrite and any(layer["name"] == name for layer in list_layers()):
        raise AtlasError("workspace_errors.name_exists", name=name)
    table = "ur_" + uuid.uuid4().hex[:16]
    folder = path.parent / "rasters"
    target = folder / f"{table}.tif"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{table}.tmp"
        shutil.copyfile(raster_file, tmp)
        tmp.replace(target)
    except OSError as exc:
        raise AtlasError("workspace_errors.write_failed", name=name, reason=type(exc).__name__) from None
    try:
        return _commit_rows(path, name, table, "raster", 0, str(meta.get("source", "")), meta, overwrite, None,
                            editor)
    except AtlasError:
        target.unlink(missing_ok=True)
        raise


def rename_layer(old: str, new: str, *, editor: Editor | None = None) -> None:
    """Give a saved layer a new display name (the data is not touched; editor only)."""
    path = _path()
    editor = require_editor(editor, path)
    new = _clean_name(new)
    if not path.is_file():
        raise AtlasError("workspace_errors.no_such_layer", name=str(old)[:80])
    with wsdb.transaction(path, create=False) as con:
        if not _has_table(con, META_TABLE) or con.execute(
                f"SELECT 1 FROM {META_TABLE} WHERE name=?", (old,)).fetchone() is None:
            raise AtlasError("workspace_errors.no_such_layer", name=str(old)[:80])
        if new != old and con.execute(f"SELECT 1 FROM {META_TABLE} WHERE name=?", (new,)).fetchone():
            raise AtlasError("workspace_errors.name_exists", name=new)
        con.execute(f"UPDATE {META_TABLE} SET name=? WHERE name=?", (new, old))
        wsdb.audit(con, editor.username, "layer_renamed", new, {"old": old}, os_user=editor.os_user)


def delete_layer(name: str, *, editor: Editor | None = None) -> None:
    """Remove a saved layer (its table, GeoPackage metadata rows and raster file; editor only)."""
    path = _path()
    editor = require_editor(editor, path)
    if not path.is_file():
        raise AtlasError("workspace_errors.no_such_layer", name=str(name)[:80])
    with wsdb.transaction(path, create=False) as con:
        row = (con.execute(f"SELECT table_name, kind FROM {META_TABLE} WHERE name=?", (name,)).fetchone()
               if _has_table(con, META_TABLE) else None)
        if row is None:
            raise AtlasError("workspace_errors.no_such_layer", name=str(name)[:80])
        _drop_layer_rows(con, name, row[0])
        wsdb.audit(con, editor.username, "layer_deleted", name, {"table": row[0]}, os_user=editor.os_user)
    if row[1] == "raster":
        (path.parent / "rasters" / f"{row[0]}.tif").unlink(missing_ok=True)

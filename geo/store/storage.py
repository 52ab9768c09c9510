"""The indicator store's storage: its tables in the workspace file, reading, and THE write.

Every table is prefixed ``ind_`` (the file is the workspace GeoPackage shared with GDAL
layers and ``geo.auth``) and append-only: triggers refuse UPDATE and DELETE. A brand-new
file is made a GeoPackage first, so GDAL can add layers to it.

Every write to the store — values, snapshots, imports, targets, framework versions, register
declarations, and the audit rows of refused attempts — goes through :meth:`StoreBase.edit`:
the editor's proof checked, the schema present, one ``BEGIN IMMEDIATE`` transaction
(:func:`geo.wsdb.transaction`: busy / disk full / damaged become one-sentence errors), one
time stamp, and audit rows written inside the same transaction — all of it is committed, or
none (a crash mid-write leaves the store as it was).
"""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from geo import wsdb
from geo.auth import Editor, require_editor
from geo.indicators import Framework, load_framework
from geo.settings import workspace_path
from geo.units import PlanningUnit, all_units

GPKG_APPLICATION_ID = wsdb.GPKG_APPLICATION_ID  # "GPKG"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ind_values (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id TEXT NOT NULL, unit_id TEXT NOT NULL, period INTEGER NOT NULL,
    version INTEGER NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL, source TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '', evidence_url TEXT NOT NULL DEFAULT '',
    method TEXT NOT NULL, entered_by TEXT NOT NULL, entered_at TEXT NOT NULL,
    UNIQUE (indicator_id, unit_id, period, version));
CREATE TABLE IF NOT EXISTS ind_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id TEXT NOT NULL, year INTEGER NOT NULL, version INTEGER NOT NULL,
    op TEXT NOT NULL, value REAL NOT NULL, source TEXT NOT NULL,
    entered_by TEXT NOT NULL, entered_at TEXT NOT NULL,
    UNIQUE (indicator_id, year, version));
CREATE TABLE IF NOT EXISTS ind_unit_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id TEXT NOT NULL, unit_id TEXT NOT NULL, year INTEGER NOT NULL, version INTEGER NOT NULL,
    op TEXT NOT NULL, value REAL NOT NULL, source TEXT NOT NULL, breakdown INTEGER NOT NULL DEFAULT 0,
    entered_by TEXT NOT NULL, entered_at TEXT NOT NULL,
    UNIQUE (indicator_id, unit_id, year, version));
CREATE TABLE IF NOT EXISTS ind_frameworks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version INTEGER NOT NULL UNIQUE, file_name TEXT NOT NULL, indicators TEXT NOT NULL,
    loaded_by TEXT NOT NULL, loaded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ind_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
    detail TEXT NOT NULL);
"""

APPEND_ONLY_TABLES = ("ind_values", "ind_targets", "ind_unit_targets", "ind_frameworks", "ind_audit")
_TRIGGERS = {f"{table}_no_{op.lower()}": (
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table}\n"
    f"    BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;")
    for table in APPEND_ONLY_TABLES for op in ("UPDATE", "DELETE")}
_SCHEMA += "\n".join(_TRIGGERS.values()) + "\n"
_SCHEMA_OBJECTS = APPEND_ONLY_TABLES + tuple(_TRIGGERS)  # present in a ready store

# a minimal, valid GeoPackage so GDAL (user layers, issue #5) can add layers to the same file
_GPKG_SCHEMA = """
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
    srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
    organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
    ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
    ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
    ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE IF NOT EXISTS gpkg_contents (
    table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
    description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
    CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
    table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
    srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
    CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
    CONSTRAINT uk_gc_table_name UNIQUE (table_name),
    CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
    CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
"""


def split_sql(script: str) -> list[str]:
    """Split a schema script into statements (triggers contain ';' inside BEGIN ... END)."""
    out, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        joined = "\n".join(buf).strip()
        if joined.endswith(";") and (("BEGIN" not in joined) or joined.endswith("END;")):
            out.append(joined)
            buf = []
    return out


def gpkg_core_sql() -> list[str]:
    """Statements creating the GeoPackage core tables (for a brand-new workspace file)."""
    return split_sql(_GPKG_SCHEMA)


@dataclass(frozen=True)
class Edit:
    """One write in progress: its transaction's connection, the signed-in editor and the
    write's UTC time stamp (ISO 8601, seconds). Made only by :meth:`StoreBase.edit`."""

    conn: sqlite3.Connection
    editor: Editor
    at: str

    def audit(self, action: str, subject: str, detail: dict[str, Any]) -> None:
        """Append one audit row inside this write's transaction, stamped with the write's time
        (a command-line editor's OS account goes into the detail)."""
        wsdb.audit(self.conn, self.editor.username, action, subject, detail, os_user=self.editor.os_user,
                   at=self.at)


class StoreBase:
    """The indicator store in the workspace file (``path`` or ``workspace_path()``): the
    connection for reading, the one write transaction, the audit log."""

    def __init__(self, path: str | Path | None = None, framework: Framework | None = None,
                 units: tuple[PlanningUnit, ...] | None = None) -> None:
        self.path = Path(path) if path else workspace_path()
        self.framework = framework or load_framework()
        self._units = units
        self._ready = False

    @property
    def units(self) -> tuple[PlanningUnit, ...]:
        """The official planning units (read once, on first use)."""
        if self._units is None:
            self._units = all_units()
        return self._units

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading (a crash's journal is rolled back first, see
        ``geo.wsdb.read_connection``); a workspace that does not exist yet reads as empty
        (nothing is created just by looking)."""
        if self.path.is_file():
            self._ensure_schema()
        with wsdb.read_connection(self.path) as conn:
            if conn is None:
                conn = sqlite3.connect(":memory:")
                conn.row_factory = sqlite3.Row
                for stmt in split_sql(_SCHEMA):
                    conn.execute(stmt)
            try:
                yield conn
            except sqlite3.Error as exc:
                raise wsdb._error(exc) from None

    @contextlib.contextmanager
    def edit(self, editor: Editor) -> Iterator[Edit]:
        """THE write of the store: the editor checked (``geo.auth.require_editor``), the schema
        present, then one IMMEDIATE transaction (``geo.wsdb.transaction``) yielding an
        :class:`Edit`; committed when the block ends, rolled back entirely on any exception.

        Raises
        ------
        AtlasError
            ``store_errors.not_editor``; ``workspace_errors.busy`` / ``disk_full`` /
            ``damaged`` / ``unavailable`` from the workspace file.
        """
        editor = require_editor(editor, self.path)
        self._ensure_schema()
        with wsdb.transaction(self.path) as conn:
            yield Edit(conn, editor, wsdb.now())

    def _schema_present(self) -> bool:
        """True when the file already holds every table and trigger (no write lock needed)."""
        if not (self.path.exists() and self.path.stat().st_size > 0):
            return False
        with wsdb.read_connection(self.path) as conn:
            marks = ", ".join("?" * len(_SCHEMA_OBJECTS))
            have = conn.execute(f"SELECT count(*) FROM sqlite_master WHERE name IN ({marks})",
                                _SCHEMA_OBJECTS).fetchone()[0]
        return have == len(_SCHEMA_OBJECTS)

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        if not self._schema_present():
            with wsdb.transaction(self.path) as conn:
                wsdb.make_geopackage(conn, gpkg_core_sql())   # a brand-new file: make it a GeoPackage
                for stmt in split_sql(_SCHEMA):
                    conn.execute(stmt)
        self._ready = True

    def audit_log(self, limit: int | None = None) -> pd.DataFrame:
        """The audit log, newest first (columns ``id``, ``at``, ``actor``, ``action``,
        ``subject``, ``detail`` as JSON text)."""
        with self.read() as conn:
            q = "SELECT id, at, actor, action, subject, detail FROM ind_audit ORDER BY id DESC"
            if limit:
                q += f" LIMIT {int(limit)}"
            return pd.read_sql_query(q, conn)

"""The workspace file as a database: connections, the one write-transaction helper, recovery.

The workspace (``geo.paths.workspace_path()``) is one GeoPackage/SQLite file shared by user
layers (``geo.workspace``), the indicator store (``geo.store``), the editors list and sign-in
lockouts (``geo.auth``) and the append-only audit log (``ind_audit``). Every module reaches
it through here, so they all agree on:

- **WAL journal** (set when a writer first opens the file): readers keep reading while one
  writer writes, and a writer killed mid-transaction leaves a WAL that the next connection
  rolls back to the last commit (SQLite's own recovery; no data of a committed write is lost).
- **One write transaction helper** (``transaction``): ``BEGIN IMMEDIATE`` … ``COMMIT`` on a
  fresh connection, rolled back on any exception. A lock held past the busy timeout becomes
  ``AtlasError("workspace_errors.busy")`` ("busy, try again"); a full disk becomes
  ``workspace_errors.disk_full``; a damaged file ``workspace_errors.damaged`` — one sentence
  each, never a path or an SQLite message.
- **Reading never creates and always recovers** (``read_connection``): a file left by a
  crash (hot journal or WAL) is opened read-write so SQLite can roll the interrupted write
  back, then checked (``PRAGMA quick_check``) once per process and file.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from geo import settings
from geo.errors import AtlasError

BUSY_TIMEOUT_S = settings.BUSY_TIMEOUT_S
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"

AUDIT_SQL = ("CREATE TABLE IF NOT EXISTS ind_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
             "actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL)")

_checked: set[tuple[str, float]] = set()
_checked_lock = threading.Lock()


def now() -> str:
    """UTC time stamp (ISO 8601, seconds) for audit rows."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _error(exc: BaseException) -> AtlasError:
    """The one-sentence refusal for an SQLite/OS failure (no path, no SQLite text)."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return AtlasError("workspace_errors.busy")
    if "full" in text or getattr(exc, "errno", None) == 28:
        return AtlasError("workspace_errors.disk_full")
    if isinstance(exc, sqlite3.DatabaseError) and ("malformed" in text or "not a database" in text
                                                    or "corrupt" in text):
        return AtlasError("workspace_errors.damaged")
    return AtlasError("workspace_errors.unavailable", reason=type(exc).__name__)


def connect(path: Path, create: bool = False) -> sqlite3.Connection:
    """A read-write connection (autocommit; ``BEGIN`` explicitly), busy timeout set, rows as
    ``sqlite3.Row``. Without ``create`` a missing file is not created (``AtlasError``)."""
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        else:
            con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_S,
                                  isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    except (OSError, sqlite3.Error) as exc:
        raise _error(exc) from None
    con.row_factory = sqlite3.Row
    return con


def _crash_left(path: Path) -> bool:
    """Whether an interrupted write left a journal or WAL beside the file."""
    return any(Path(f"{path}{s}").exists() and Path(f"{path}{s}").stat().st_size > 0 for s in ("-journal", "-wal"))


def _check_once(con: sqlite3.Connection, path: Path, after_crash: bool) -> None:
    """``PRAGMA quick_check`` once per file version (and after every crash)."""
    key = (str(path.resolve()), path.stat().st_mtime)
    with _checked_lock:
        if key in _checked and not after_crash:
            return
    row = con.execute("PRAGMA quick_check").fetchone()
    if row is None or row[0] != "ok":
        raise AtlasError("workspace_errors.damaged")
    with _checked_lock:
        _checked.add(key)


@contextlib.contextmanager
def read_connection(path: Path) -> Iterator[sqlite3.Connection | None]:
    """A connection for reading the workspace, or ``None`` when there is no file yet (nothing
    is created by looking). A crash's journal/WAL is rolled back first (read-write open);
    a read-only file system falls back to a read-only connection."""
    if not path.is_file():
        yield None
        return
    crashed = _crash_left(path)
    try:
        con = connect(path)
    except AtlasError:
        try:
            con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
            con.row_factory = sqlite3.Row
        except sqlite3.Error as exc:
            raise _error(exc) from None
    try:
        try:
            if crashed:
                con.execute("BEGIN IMMEDIATE")   # takes the lock: SQLite rolls back a hot journal/WAL
                con.execute("ROLLBACK")
            _check_once(con, path, crashed)
            yield con
        except sqlite3.DatabaseError as exc:
            raise _error(exc) from None
    finally:
        con.close()


def _use_wal(con: sqlite3.Connection) -> None:
    """Switch the file to WAL (persistent; a no-op when it already is)."""
    mode = con.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        con.execute("PRAGMA journal_mode = WAL")


@contextlib.contextmanager
def transaction(path: Path, create: bool = True, attach: dict[str, Path] | None = None
                ) -> Iterator[sqlite3.Connection]:
    """THE write transaction of the workspace: ``BEGIN IMMEDIATE`` … ``COMMIT`` on a fresh
    connection; rolled back on any exception (which is re-raised). SQLite/OS failures become
    one-sentence ``AtlasError``s (busy, disk full, damaged, unavailable). ``attach``: other
    database files to read from inside it, by schema name (attached before ``BEGIN``, as
    SQLite requires; e.g. a layer GDAL wrote to a scratch GeoPackage)."""
    con = connect(path, create=create)
    try:
        try:
            _use_wal(con)
            for schema, db in (attach or {}).items():
                con.execute(f"ATTACH DATABASE ? AS {schema}", (str(db),))
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _error(exc) from None
        try:
            yield con
            con.execute("COMMIT")
        except BaseException as exc:
            rollback(con)
            if isinstance(exc, (sqlite3.Error, OSError)):
                raise _error(exc) from None
            raise
    finally:
        con.close()


def rollback(con: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open (SQLite may have rolled back already)."""
    try:
        if con.in_transaction:
            con.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def make_geopackage(con: sqlite3.Connection, core_sql: list[str]) -> None:
    """Inside a transaction on a brand-new (empty) file: mark it a GeoPackage and create the
    core tables (``core_sql``) so GDAL can add layers to it."""
    app_id = con.execute("PRAGMA application_id").fetchone()[0]
    has_tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if not has_tables and app_id == 0:
        con.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
        con.execute("PRAGMA user_version = 10300")
        for stmt in core_sql:
            con.execute(stmt)


def audit(con: sqlite3.Connection, actor: str, action: str, subject: str, detail: dict[str, Any] | None = None,
          os_user: str = "", at: str | None = None) -> None:
    """Append one row to the audit log (inside the caller's transaction). ``os_user``: the
    operating-system account of a command-line write, recorded in the detail; ``at``: the
    write's time stamp (default: now)."""
    con.execute(AUDIT_SQL)
    detail = dict(detail or {})
    if os_user:
        detail["os_user"] = os_user
    con.execute("INSERT INTO ind_audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
                (at or now(), actor, action, subject, json.dumps(detail, ensure_ascii=False, default=str)))

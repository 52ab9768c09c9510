"""Every setting of the atlas in one place: its paths, its CRS constants and every ``ATLAS_*``
environment variable it reads (nothing else in the code reads one; tests/test_settings.py
checks that).

Environment variables (read when used, so a test or an operator can change them; the three
marked * are read once, when their module is first imported):

==============================  ============================================  ===========
variable                        what                                          default
==============================  ============================================  ===========
``ATLAS_WORKSPACE``             the workspace GeoPackage (user layers,        workspace/atlas.gpkg
                                indicator values, editors, audit log)
``ATLAS_DATA_DIR`` *            the shipped layer files                       data/shapefiles
``ATLAS_SOURCES_DIR`` *         the shared source data (build scripts, audit) ../shared/data
``ATLAS_BCRYPT_ROUNDS``         bcrypt cost of editor passwords (4–16)        12
``ATLAS_EDITOR_PASSWORD``       CLI: the signing-in editor's password         a prompt
``ATLAS_NEW_EDITOR_PASSWORD``   CLI: the new editor's password (add-editor)   a prompt
``ATLAS_DEBUG``                 CLI: show the traceback of unexpected errors  off
``ATLAS_BUSY_TIMEOUT_S`` *      wait for a locked workspace, seconds          15
``ATLAS_MAX_UPLOAD_MB``         largest file accepted for import              200
``ATLAS_MAX_UNZIPPED_MB``       largest total unzipped size of an archive     1024
``ATLAS_MAX_ZIP_RATIO``         largest compression ratio of an archive       200
``ATLAS_MAX_ZIP_MEMBERS``       most files in an archive                      2000
``ATLAS_MAX_ROWS``              most rows/features read from one file         2 000 000
``ATLAS_READ_SECONDS``          time budget of one read step on a user file   10
``ATLAS_READ_SECONDS_PER_MB``   … plus this per MB of the file (GDAL reads)   1.0
``ATLAS_READ_MEMORY_MB``        memory a GDAL read's child may add            2048
``ATLAS_READ_ISOLATION``        0/false/no: GDAL reads in-process (debugging) on
``ATLAS_MAX_RASTER_MB``         largest declared (uncompressed) raster        512
``ATLAS_MAX_RASTER_CELLS``      most cells in one raster                      200 000 000
``ATLAS_STAGING_MAX_AGE_S``     uploads staged longer than this are swept     21600 (6 h)
``ATLAS_STAGING_MAX_TOTAL_MB``  staged uploads are swept beyond this total    2048
``ATLAS_OFFLINE``               1/true/yes/on: no basemap tiles, no probe     off
``ATLAS_COVERAGE_CACHE_MB``     memory of the coverage service's caches       512
==============================  ============================================  ===========

A value that is not a number falls back to the default (never a crash at start-up).
"""
from __future__ import annotations

import os
from pathlib import Path

# ---- paths ------------------------------------------------------------------------------
REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ATLAS_DATA_DIR", REPO_ROOT / "data" / "shapefiles"))
STATIC_DIR = REPO_ROOT / "static"
CATALOG_FILE = REPO_ROOT / "layers" / "catalog.toml"
SHARED_SOURCES = Path(os.environ.get("ATLAS_SOURCES_DIR", REPO_ROOT.parent / "shared" / "data"))

# ---- coordinate reference systems -------------------------------------------------------
# metric CRS used for every distance/area computation: VN-2000 / TM-3 106°30′
METRIC_CRS = "EPSG:9213"
# what is stored and served: WGS84 longitude/latitude
STORE_CRS = "EPSG:4326"

# ---- environment ------------------------------------------------------------------------
EDITOR_PASSWORD_ENV = "ATLAS_EDITOR_PASSWORD"
NEW_EDITOR_PASSWORD_ENV = "ATLAS_NEW_EDITOR_PASSWORD"
_MB = 1024 * 1024


def _number(name: str, default: float) -> float:
    """``$name`` as a number; ``default`` when unset, empty or not a number."""
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return float(default)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def workspace_path() -> Path:
    """The workspace file (GeoPackage/SQLite) holding user layers and indicator values."""
    return Path(os.environ.get("ATLAS_WORKSPACE", REPO_ROOT / "workspace" / "atlas.gpkg"))


def bcrypt_rounds(default: int = 12) -> int:
    """The bcrypt cost of editor passwords: ``$ATLAS_BCRYPT_ROUNDS`` within 4–16 (tests use 4)."""
    return max(4, min(16, int(_number("ATLAS_BCRYPT_ROUNDS", default))))


def editor_password(new: bool = False) -> str | None:
    """The CLI's editor password from ``$ATLAS_EDITOR_PASSWORD`` (``new``:
    ``$ATLAS_NEW_EDITOR_PASSWORD``); None when unset (the CLI then prompts)."""
    return os.environ.get(NEW_EDITOR_PASSWORD_ENV if new else EDITOR_PASSWORD_ENV)


def debug() -> bool:
    """Whether ``$ATLAS_DEBUG`` asks the CLI to show tracebacks of unexpected errors."""
    return bool(os.environ.get("ATLAS_DEBUG"))


def offline() -> bool:
    """True when ``ATLAS_OFFLINE`` is set to 1/true/yes/on."""
    return _flag("ATLAS_OFFLINE")


def read_seconds() -> float:
    """Wall-time budget of one read step on a user's file (``ATLAS_READ_SECONDS``, 10 s)."""
    return _number("ATLAS_READ_SECONDS", 10)


def coverage_cache_bytes() -> int:
    """Memory budget of the coverage service's array caches (``ATLAS_COVERAGE_CACHE_MB``, 512 MB)."""
    return int(_number("ATLAS_COVERAGE_CACHE_MB", 512) * _MB)


def read_seconds_per_mb() -> float:
    """Extra wall time per MB of a user's file for a GDAL read (``ATLAS_READ_SECONDS_PER_MB``, 1 s)."""
    return _number("ATLAS_READ_SECONDS_PER_MB", 1.0)


def read_memory_bytes() -> int:
    """Address space a GDAL read may add to its child process (``ATLAS_READ_MEMORY_MB``, 2048 MB)."""
    return int(_number("ATLAS_READ_MEMORY_MB", 2048) * _MB)


def read_isolation() -> bool:
    """False only when ``ATLAS_READ_ISOLATION`` is 0/false/no (GDAL reads then run in-process)."""
    return os.environ.get("ATLAS_READ_ISOLATION", "1").strip().lower() not in ("0", "false", "no")


def max_raster_bytes() -> int:
    """Declared (uncompressed) raster size accepted (``ATLAS_MAX_RASTER_MB``, 512 MB)."""
    return int(_number("ATLAS_MAX_RASTER_MB", 512) * _MB)


def max_raster_cells() -> int:
    """Cells accepted in one raster (``ATLAS_MAX_RASTER_CELLS``, 200 M)."""
    return int(_number("ATLAS_MAX_RASTER_CELLS", 200_000_000))


def import_limits() -> dict[str, float]:
    """The import caps of :class:`geo.safezip.Limits` from the environment, as its keyword
    arguments: bytes for sizes, a ratio, counts."""
    return {
        "max_file_bytes": int(_number("ATLAS_MAX_UPLOAD_MB", 200) * _MB),
        "max_unzipped_bytes": int(_number("ATLAS_MAX_UNZIPPED_MB", 1024) * _MB),
        "max_ratio": _number("ATLAS_MAX_ZIP_RATIO", 200),
        "max_members": int(_number("ATLAS_MAX_ZIP_MEMBERS", 2000)),
        "max_rows": int(_number("ATLAS_MAX_ROWS", 2_000_000)),
    }


# read once, at import: the modules using them take them as module constants
BUSY_TIMEOUT_S = _number("ATLAS_BUSY_TIMEOUT_S", 15)
STAGING_MAX_AGE_S = _number("ATLAS_STAGING_MAX_AGE_S", 6 * 3600)
STAGING_MAX_TOTAL_BYTES = int(_number("ATLAS_STAGING_MAX_TOTAL_MB", 2048) * _MB)

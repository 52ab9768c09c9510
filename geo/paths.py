"""Where the project keeps its files; every path can be overridden by environment."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ATLAS_DATA_DIR", REPO_ROOT / "data" / "shapefiles"))
STATIC_DIR = REPO_ROOT / "static"
CATALOG_FILE = REPO_ROOT / "layers" / "catalog.toml"
SHARED_SOURCES = Path(os.environ.get("ATLAS_SOURCES_DIR", REPO_ROOT.parent / "shared" / "data"))

# metric CRS used for every distance/area computation: VN-2000 / TM-3 106°30′
METRIC_CRS = "EPSG:9213"
STORE_CRS = "EPSG:4326"


def workspace_path() -> Path:
    """The workspace file (GeoPackage/SQLite) holding user layers and indicator values."""
    return Path(os.environ.get("ATLAS_WORKSPACE", REPO_ROOT / "workspace" / "atlas.gpkg"))


def check_writable(path: str | Path, create_parents: bool = False) -> None:
    """Refuse, before any work is done, an output path that cannot be written.

    A missing folder is refused (or created with ``create_parents``); a folder given as the
    file, or a path the OS will not open for writing, is refused. Nothing is left behind.
    """
    from geo.errors import AtlasError

    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise AtlasError("errors.is_folder", path=str(path))
    try:
        if not parent.is_dir():
            if not create_parents:
                raise AtlasError("errors.no_folder", path=str(path), folder=str(parent))
            parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        with open(path, "ab"):
            pass
        if not existed:
            path.unlink()
    except OSError as exc:
        raise AtlasError("errors.unwritable", path=str(path), reason=exc.strerror or str(exc)) from None

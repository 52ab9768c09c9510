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

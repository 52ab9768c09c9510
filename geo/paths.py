"""Output paths: refuse one that cannot be written before any work is done.

Where the project keeps its files (and every other setting) is :mod:`geo.settings`; the names
below are re-exported for code written before it existed — import them from geo.settings.
"""
from __future__ import annotations

from pathlib import Path

from geo.errors import AtlasError, os_reason
from geo.settings import (  # noqa: F401 — re-exported for older imports
    CATALOG_FILE,
    DATA_DIR,
    METRIC_CRS,
    REPO_ROOT,
    SHARED_SOURCES,
    STATIC_DIR,
    STORE_CRS,
    workspace_path,
)


def check_writable(path: str | Path, create_parents: bool = False) -> None:
    """Refuse, before any work is done, an output path that cannot be written.

    A missing folder is refused (or created with ``create_parents``); a folder given as the
    file, or a path the OS will not open for writing, is refused. Nothing is left behind.

    Raises
    ------
    AtlasError
        ``errors.is_folder``, ``errors.no_folder``, ``errors.parent_not_folder`` or ``errors.unwritable``.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise AtlasError("errors.is_folder", path=str(path))
    try:
        if parent.exists() and not parent.is_dir():
            raise AtlasError("errors.parent_not_folder", path=str(path), folder=str(parent))
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
        raise AtlasError("errors.unwritable", path=str(path), reason=os_reason(exc)) from None

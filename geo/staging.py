"""Uploads staged under the temp folder: one private folder per browser session, removed when
the session ends, swept after a bounded time, and capped in total size.

The web page keeps the ``StagingFolder`` object in the session: when Streamlit drops the
session, the object is garbage-collected and ``tempfile.TemporaryDirectory``'s finalizer
deletes the folder. A server killed before that leaves folders behind, so every new upload
first runs ``sweep``: folders older than ``max_age_s`` go, then the oldest until the total is
under ``max_total_bytes`` (the current session's folder is never touched).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from geo import settings

PREFIX = "atlas_upload_"
MAX_AGE_S = settings.STAGING_MAX_AGE_S
MAX_TOTAL_BYTES = settings.STAGING_MAX_TOTAL_BYTES


class StagingFolder(tempfile.TemporaryDirectory):
    """A private temp folder (``path``) deleted when this object is garbage-collected."""

    def __init__(self) -> None:
        super().__init__(prefix=PREFIX, ignore_cleanup_errors=True)
        self.path = Path(self.name)


def _size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for f in files:
            try:
                total += (Path(root) / f).stat().st_size
            except OSError:
                pass
    return total


def sweep(keep: Path | None = None, max_age_s: float = MAX_AGE_S, max_total_bytes: int = MAX_TOTAL_BYTES,
          root: Path | None = None) -> list[Path]:
    """Remove stale staging folders under ``root`` (the system temp folder); returns those
    removed. ``keep``: a folder in use that is never removed."""
    root = Path(root or tempfile.gettempdir())
    now = time.time()
    found = []
    for d in root.glob(PREFIX + "*"):
        if not d.is_dir() or (keep is not None and d.resolve() == Path(keep).resolve()):
            continue
        try:
            found.append((d.stat().st_mtime, d))
        except OSError:
            continue
    removed = []
    found.sort()
    for mtime, d in found:
        if now - mtime > max_age_s:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    rest = [(m, d) for m, d in found if d not in removed]
    total = sum(_size(d) for _, d in rest) + (_size(Path(keep)) if keep else 0)
    for _, d in rest:              # oldest first
        if total <= max_total_bytes:
            break
        total -= _size(d)
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d)
    return removed

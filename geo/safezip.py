"""Zip archives from strangers: every member is checked before anything is extracted.

Refused: corrupt archives, absolute paths, ``..``, drive letters, symbolic links,
encrypted members, too many members, a total uncompressed size or a compression ratio
over the caps, per member and for the whole archive (zip bombs, also when split into
many small members, are refused from the central directory, in milliseconds).
Extraction goes only into a private temporary folder, streams with a byte budget and
never trusts the declared sizes.
"""
from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from geo import settings
from geo.errors import AtlasError

_CHUNK = 1 << 16
_TOTAL_RATIO_FLOOR = 16 * 1024 * 1024  # whole-archive ratio checked above this size


@dataclass(frozen=True)
class Limits:
    """Size caps for imports (bytes). Defaults come from the environment:
    ``ATLAS_MAX_UPLOAD_MB`` (200), ``ATLAS_MAX_UNZIPPED_MB`` (1024),
    ``ATLAS_MAX_ZIP_RATIO`` (200), ``ATLAS_MAX_ZIP_MEMBERS`` (2000)."""

    max_file_bytes: int = 200 * 1024 * 1024
    max_unzipped_bytes: int = 1024 * 1024 * 1024
    max_ratio: float = 200.0
    max_members: int = 2000
    max_text_chars: int = 10_000
    max_rows: int = 2_000_000

    @classmethod
    def from_env(cls) -> Limits:
        """Limits honouring the ``ATLAS_MAX_*`` environment variables."""
        return cls(**settings.import_limits())


def check_size(path: Path, limits: Limits, name: str | None = None) -> None:
    """Refuse a file bigger than ``limits.max_file_bytes``."""
    size = Path(path).stat().st_size
    if size > limits.max_file_bytes:
        raise AtlasError("import_errors.too_big", file=name or Path(path).name,
                         size_mb=round(size / 1048576, 1), cap_mb=round(limits.max_file_bytes / 1048576, 1))


def _bad_name(name: str) -> bool:
    if not name or "\x00" in name:
        return True
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return True
    return any(part == ".." for part in PurePosixPath(norm).parts)


def check_zip(path: Path, limits: Limits | None = None, name: str | None = None) -> list[zipfile.ZipInfo]:
    """The archive's file members after every check; raises ``AtlasError`` on a refusal.

    ``name`` is the file name shown in messages (an upload's original name)."""
    limits = limits or Limits.from_env()
    path = Path(path)
    fname = name or path.name
    check_size(path, limits, fname)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError):
        raise AtlasError("import_errors.zip_corrupt", file=fname) from None
    if len(infos) > limits.max_members:
        raise AtlasError("import_errors.zip_members", file=fname, count=len(infos), cap=limits.max_members)
    total = 0
    files = []
    seen: set[str] = set()
    for info in infos:
        if _bad_name(info.filename):
            raise AtlasError("import_errors.zip_slip", file=fname, member=info.filename[:120])
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise AtlasError("import_errors.zip_link", file=fname, member=info.filename[:120])
        if info.flag_bits & 0x1:
            raise AtlasError("import_errors.zip_encrypted", file=fname, member=info.filename[:120])
        if info.is_dir():
            continue
        key = info.filename.replace("\\", "/").lower()
        if key in seen:
            raise AtlasError("import_errors.zip_slip", file=fname, member=info.filename[:120])
        seen.add(key)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise AtlasError("import_errors.zip_corrupt", file=fname)
        total += info.file_size
        if total > limits.max_unzipped_bytes:
            raise AtlasError("import_errors.zip_too_big", file=fname,
                             cap_mb=round(limits.max_unzipped_bytes / 1048576, 1))
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > limits.max_ratio:
            raise AtlasError("import_errors.zip_bomb", file=fname, member=info.filename[:120], ratio=int(ratio))
        files.append(info)
    # many small members that each stay under the per-member check (a zip bomb split
    # into 1 MB pieces) are caught by the ratio of the whole archive
    archive = max(path.stat().st_size, 1)
    if total > _TOTAL_RATIO_FLOOR and total / archive > limits.max_ratio:
        raise AtlasError("import_errors.zip_bomb_total", file=fname, ratio=int(total / archive),
                         size_mb=round(total / 1048576, 1))
    return files


def safe_extract(path: Path, dest: Path | None = None, limits: Limits | None = None,
                 name: str | None = None) -> Path:
    """Check ``path`` then extract it into ``dest`` (a new private temp folder by default).

    Each member is streamed with a byte budget equal to its declared size, so a lying
    header cannot make it write more; a bad CRC refuses the archive.
    """
    limits = limits or Limits.from_env()
    infos = check_zip(path, limits, name)
    if dest is None:
        dest = Path(tempfile.mkdtemp(prefix="atlas_zip_"))
    else:
        dest = Path(dest)
        dest.mkdir(mode=0o700, parents=False, exist_ok=False)
    os.chmod(dest, 0o700)
    root = dest.resolve()
    budget = limits.max_unzipped_bytes
    fname = name or Path(path).name
    try:
        with zipfile.ZipFile(path) as zf:
            for info in infos:
                target = (root / info.filename.replace("\\", "/")).resolve()
                if root not in target.parents:
                    raise AtlasError("import_errors.zip_slip", file=fname, member=info.filename[:120])
                target.parent.mkdir(parents=True, exist_ok=True)
                left = info.file_size
                with zf.open(info) as src, open(target, "xb") as out:
                    while True:
                        chunk = src.read(_CHUNK)
                        if not chunk:
                            break
                        left -= len(chunk)
                        budget -= len(chunk)
                        if left < 0 or budget < 0:
                            raise AtlasError("import_errors.zip_too_big", file=fname,
                                             cap_mb=round(limits.max_unzipped_bytes / 1048576, 1))
                        out.write(chunk)
    except AtlasError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
        raise AtlasError("import_errors.zip_corrupt", file=fname) from None
    return dest

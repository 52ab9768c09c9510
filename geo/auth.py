"""Editor sign-in: usernames and bcrypt password hashes in a TOML secrets file.

The file is ``$ATLAS_EDITORS_FILE`` or ``workspace/editors.toml`` (git-ignored)::

    [editors.lan]
    name = "Nguyễn Thị Lan"
    password_hash = "$2b$12$..."

Only hashes are stored. Add an editor with ``python -m geo indicators add-editor USER``.
Tests point ``ATLAS_EDITORS_FILE`` at a temporary file, set ``ATLAS_BCRYPT_ROUNDS=4`` (the
fastest bcrypt cost) and use ``configure_test_editor``.
"""
from __future__ import annotations

import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import bcrypt

from geo.errors import AtlasError
from geo.paths import REPO_ROOT

DEFAULT_ROUNDS = 12
_USERNAME = re.compile(r"^[a-z0-9_.-]{2,32}$")


@dataclass(frozen=True)
class Editor:
    """A signed-in editor. Only ``authenticate`` makes one for real users."""

    username: str
    name: str


def editors_path() -> Path:
    """The editors (secrets) file."""
    return Path(os.environ.get("ATLAS_EDITORS_FILE", REPO_ROOT / "workspace" / "editors.toml"))


def bcrypt_rounds() -> int:
    """The bcrypt cost: ``$ATLAS_BCRYPT_ROUNDS`` (tests use 4, the minimum) or 12."""
    try:
        return max(4, min(16, int(os.environ.get("ATLAS_BCRYPT_ROUNDS", DEFAULT_ROUNDS))))
    except ValueError:
        return DEFAULT_ROUNDS


def hash_password(password: str, rounds: int | None = None) -> str:
    """A bcrypt hash of ``password`` (bcrypt uses at most 72 bytes)."""
    salt = bcrypt.gensalt(rounds=rounds or bcrypt_rounds())
    return bcrypt.hashpw(password.encode("utf-8")[:72], salt).decode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches ``hashed``; a malformed hash never matches."""
    try:
        return bcrypt.checkpw(password.encode("utf-8")[:72], hashed.encode("ascii"))
    except (ValueError, TypeError):
        return False


def load_editors(path: str | Path | None = None) -> dict[str, dict[str, str]]:
    """``{username: {"name": ..., "password_hash": ...}}``; empty when there is no file."""
    p = Path(path) if path else editors_path()
    if not p.exists():
        return {}
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        raise AtlasError("editor_auth.bad_file", path=str(p)) from None
    return {u: dict(v) for u, v in data.get("editors", {}).items() if isinstance(v, dict)}


def authenticate(username: str, password: str, path: str | Path | None = None) -> Editor:
    """The ``Editor`` for correct credentials; ``AtlasError("editor_auth.bad_credentials")``
    otherwise (same message whether the user or the password is wrong)."""
    editors = load_editors(path)
    entry = editors.get((username or "").strip().lower())
    # check a dummy hash for unknown users so timing does not reveal which names exist
    hashed = entry.get("password_hash", "") if entry else _dummy_hash(bcrypt_rounds())
    ok = verify_password(password or "", hashed)
    if not entry or not ok:
        raise AtlasError("editor_auth.bad_credentials")
    return Editor(username=username.strip().lower(), name=entry.get("name") or username)


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def add_editor(username: str, password: str, name: str = "", path: str | Path | None = None,
               rounds: int | None = None) -> Path:
    """Add or replace an editor in the secrets file (written atomically; only the hash is kept)."""
    user = (username or "").strip().lower()
    if not _USERNAME.match(user):
        raise AtlasError("editor_auth.bad_username", username=username)
    if len(password or "") < 8:
        raise AtlasError("editor_auth.weak_password")
    p = Path(path) if path else editors_path()
    editors = load_editors(p)
    editors[user] = {"name": name or editors.get(user, {}).get("name", user),
                     "password_hash": hash_password(password, rounds)}
    lines = ["# Atlas editors: bcrypt hashes only. Do not commit this file.", ""]
    for u in sorted(editors):
        lines += [f"[editors.{_toml_str(u)}]", f"name = {_toml_str(editors[u].get('name', u))}",
                  f"password_hash = {_toml_str(editors[u].get('password_hash', ''))}", ""]
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".editors-", suffix=".toml")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
        os.chmod(tmp, 0o600)
        os.replace(tmp, p)
    except OSError as exc:
        raise AtlasError("errors.unwritable", path=str(p), reason=exc.strerror or str(exc)) from None
    return p


def configure_test_editor(tmp_dir: str | Path, username: str = "tester", password: str = "test-password-1",
                          name: str = "Test Editor") -> tuple[Path, Editor]:
    """Test-only: write an editors file in ``tmp_dir`` (cheapest bcrypt cost) and return its
    path and the signed-in ``Editor``. Point ``ATLAS_EDITORS_FILE`` at the path
    (``monkeypatch.setenv``) for code that reads the default file."""
    path = Path(tmp_dir) / "editors.toml"
    add_editor(username, password, name, path=path, rounds=4)
    return path, authenticate(username, password, path)


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> str:
    return hash_password("not-a-password", rounds)

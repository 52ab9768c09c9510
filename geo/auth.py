"""Editors of a workspace: who may write, signing in, and the server-side sign-in lockout.

The editors list belongs to the workspace: table ``ws_editors`` in the workspace file
(``geo.paths.workspace_path()``), bcrypt hashes only. The **first** editor of a workspace is
added without credentials (``python -m geo indicators add-editor NAME`` on the server, which
creates the table); every later editor needs the credentials of an existing editor of the
same workspace (``add-editor NAME --by EXISTING``). No file or environment variable can mint
an editor.

``authenticate`` returns an ``Editor`` carrying a proof (an HMAC with a per-process secret
over workspace and username): ``require_editor`` — called by every write in ``geo.store`` and
``geo.workspace`` — accepts only such a proof for *that* workspace, so an ``Editor(...)``
built by hand, or one signed in to another workspace, cannot write.

Lockout (server side, per account and per client address, in table ``ws_sign_in``): after
``MAX_FAILURES`` wrong passwords within ``LOCK_SECONDS`` the key is locked for
``LOCK_SECONDS``; every failure and every refusal while locked is an audit-log row.

Passwords: new hashes are bcrypt over base64(SHA-256(password)) (prefix ``sha256$``), so no
part of a long password is ignored (bcrypt alone reads only 72 bytes: 36 × "đ"); hashes
made before (plain bcrypt) still verify.

Tests set ``ATLAS_BCRYPT_ROUNDS=4`` (the fastest cost) and use ``configure_test_editor``.
"""
from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import bcrypt

from geo import settings, wsdb
from geo.errors import AtlasError
from geo.settings import workspace_path

DEFAULT_ROUNDS = 12
MAX_FAILURES = 5
LOCK_SECONDS = 60
MAX_PASSWORD = 256   # characters; any length up to this counts in full (pre-hash)
PREHASH = "sha256$"
_USERNAME = re.compile(r"^[a-z0-9_.-]{2,32}$")
_SECRET = secrets.token_bytes(32)   # proofs are valid in this process only
EDITORS_SQL = ("CREATE TABLE IF NOT EXISTS ws_editors (username TEXT PRIMARY KEY, name TEXT NOT NULL, "
               "password_hash TEXT NOT NULL, added_by TEXT NOT NULL, added_at TEXT NOT NULL)")
SIGN_IN_SQL = ("CREATE TABLE IF NOT EXISTS ws_sign_in (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, "
               "first_at REAL NOT NULL, locked_until REAL NOT NULL)")


@dataclass(frozen=True)
class Editor:
    """A signed-in editor. Only ``authenticate`` (or the test helper) makes one that can write:
    ``proof`` binds it to one workspace; ``os_user`` is the OS account of a command-line session
    (recorded in the audit log)."""

    username: str
    name: str
    workspace: str = field(default="", compare=False, repr=False)
    proof: str = field(default="", compare=False, repr=False)
    os_user: str = field(default="", compare=False)


def _ws(workspace: str | Path | None) -> Path:
    return Path(workspace) if workspace else Path(workspace_path())


def _proof(workspace: Path, username: str) -> str:
    msg = f"{workspace.resolve()}|{username}".encode()
    return hmac.new(_SECRET, msg, hashlib.sha256).hexdigest()


def require_editor(editor: Any, workspace: str | Path | None = None) -> Editor:
    """``editor`` if it was signed in (``authenticate``) to ``workspace``; otherwise
    ``AtlasError("store_errors.not_editor")``. Every library write calls this first."""
    ws = _ws(workspace)
    if not isinstance(editor, Editor) or not editor.proof or not editor.workspace \
            or Path(editor.workspace).resolve() != ws.resolve() \
            or not hmac.compare_digest(editor.proof, _proof(ws, editor.username)):
        raise AtlasError("store_errors.not_editor")
    return editor


def bcrypt_rounds() -> int:
    """The bcrypt cost: ``$ATLAS_BCRYPT_ROUNDS`` (tests use 4, the minimum) or 12."""
    return settings.bcrypt_rounds(DEFAULT_ROUNDS)


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password(password: str, rounds: int | None = None) -> str:
    """``sha256$`` + bcrypt(base64(SHA-256(password))): every byte of the password counts."""
    salt = bcrypt.gensalt(rounds=rounds or bcrypt_rounds())
    return PREHASH + bcrypt.hashpw(_prehash(password), salt).decode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches ``hashed`` (new pre-hashed form or an older plain bcrypt
    hash); a malformed hash never matches."""
    try:
        if hashed.startswith(PREHASH):
            return bcrypt.checkpw(_prehash(password), hashed[len(PREHASH):].encode("ascii"))
        return bcrypt.checkpw(password.encode("utf-8")[:72], hashed.encode("ascii"))
    except (ValueError, TypeError):
        return False


def _clean_user(username: Any) -> str:
    return str(username or "").strip().lower()


def list_editors(workspace: str | Path | None = None) -> dict[str, dict[str, str]]:
    """``{username: {"name", "password_hash", "added_by", "added_at"}}`` of a workspace (empty
    when it has none yet)."""
    with wsdb.read_connection(_ws(workspace)) as con:
        if con is None or con.execute("SELECT 1 FROM sqlite_master WHERE name='ws_editors'").fetchone() is None:
            return {}
        rows = con.execute("SELECT username, name, password_hash, added_by, added_at FROM ws_editors").fetchall()
    return {r["username"]: {k: r[k] for k in ("name", "password_hash", "added_by", "added_at")} for r in rows}


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no account name available
        return "?"


# ---------------------------------------------------------------- lockout

def _lock_keys(username: str, client: str) -> list[str]:
    keys = [f"user:{username[:64]}"]
    if client:
        keys.append(f"addr:{client[:64]}")
    return keys


def _locked_for(con: Any, keys: list[str], now: float) -> int:
    con.execute(SIGN_IN_SQL)
    marks = ",".join("?" * len(keys))
    row = con.execute(f"SELECT max(locked_until) FROM ws_sign_in WHERE key IN ({marks})", keys).fetchone()
    return max(0, int(round((row[0] or 0) - now)))


def _record_failure(con: Any, keys: list[str], now: float) -> None:
    for key in keys:
        row = con.execute("SELECT failures, first_at FROM ws_sign_in WHERE key=?", (key,)).fetchone()
        failures, first = (row[0], row[1]) if row and now - row[1] < LOCK_SECONDS else (0, now)
        failures += 1
        locked = now + LOCK_SECONDS if failures >= MAX_FAILURES else 0.0
        con.execute("INSERT OR REPLACE INTO ws_sign_in VALUES (?, ?, ?, ?)",
                    (key, 0 if locked else failures, first, locked))


def authenticate(username: str, password: str, workspace: str | Path | None = None, client: str = "",
                 cli: bool = False) -> Editor:
    """Sign in to a workspace: the ``Editor`` for correct credentials.

    Refusals (one sentence each): ``editor_auth.bad_credentials`` (same message whether the
    user or the password is wrong, same bcrypt work either way), ``editor_auth.locked``
    (too many failures for this account or this client address — checked before the password,
    so a locked key cannot be probed), ``editor_auth.no_editors`` (the workspace has none).
    ``client``: the client address (web) — a lockout key of its own. ``cli``: record the OS
    user on the editor (audit rows of command-line writes name it)."""
    ws = _ws(workspace)
    user = _clean_user(username)
    keys = _lock_keys(user, client)
    editors = list_editors(ws)
    if not editors:
        raise AtlasError("editor_auth.no_editors")
    now = time.time()
    with wsdb.transaction(ws, create=False) as con:
        wait = _locked_for(con, keys, now)
        if wait:
            wsdb.audit(con, user[:64] or "-", "sign_in_locked", client or "-", {"seconds": wait},
                       os_user=_os_user() if cli else "")
    if wait:
        raise AtlasError("editor_auth.locked", seconds=wait)
    entry = editors.get(user)
    # check a dummy hash for unknown users so timing does not reveal which names exist
    ok = verify_password(password or "", entry["password_hash"] if entry else _dummy_hash(bcrypt_rounds()))
    if not entry or not ok:
        with wsdb.transaction(ws, create=False) as con:
            _locked_for(con, keys, now)   # (creates the table if needed)
            _record_failure(con, keys, now)
            wsdb.audit(con, user[:64] or "-", "sign_in_failed", client or "-", {}, os_user=_os_user() if cli else "")
        raise AtlasError("editor_auth.bad_credentials")
    with wsdb.transaction(ws, create=False) as con:
        con.execute(SIGN_IN_SQL)
        con.execute(f"DELETE FROM ws_sign_in WHERE key IN ({','.join('?' * len(keys))})", keys)
    return Editor(username=user, name=entry.get("name") or user, workspace=str(ws.resolve()),
                  proof=_proof(ws, user), os_user=_os_user() if cli else "")


def add_editor(username: str, password: str, name: str = "", by: Editor | None = None,
               workspace: str | Path | None = None, rounds: int | None = None) -> Path:
    """Add (or reset the password of) an editor of a workspace; returns the workspace path.

    The first editor of a workspace needs no ``by`` (it creates the list); later additions
    need ``by``: an editor signed in to the same workspace. Refuses bad usernames, passwords
    shorter than 8 characters, and anyone else (``editor_auth.need_editor``)."""
    from geo import store as _store  # the workspace's GeoPackage core tables

    ws = _ws(workspace)
    user = _clean_user(username)
    if not _USERNAME.match(user):
        raise AtlasError("editor_auth.bad_username", username=str(username)[:40])
    if len(password or "") < 8:
        raise AtlasError("editor_auth.weak_password")
    if len(password) > MAX_PASSWORD:
        raise AtlasError("editor_auth.too_long")
    hashed = hash_password(password, rounds)
    with wsdb.transaction(ws) as con:
        wsdb.make_geopackage(con, _store.gpkg_core_sql())
        con.execute(EDITORS_SQL)
        count = con.execute("SELECT count(*) FROM ws_editors").fetchone()[0]
        if count:
            if by is None:
                raise AtlasError("editor_auth.need_editor")
            require_editor(by, ws)
            if con.execute("SELECT 1 FROM ws_editors WHERE username=?", (by.username,)).fetchone() is None:
                raise AtlasError("editor_auth.need_editor")
        actor = by.username if by is not None else "-"
        old = con.execute("SELECT name FROM ws_editors WHERE username=?", (user,)).fetchone()
        con.execute("INSERT OR REPLACE INTO ws_editors VALUES (?, ?, ?, ?, ?)",
                    (user, name or (old[0] if old else user), hashed, actor, wsdb.now()))
        wsdb.audit(con, actor, "editor_added" if count else "first_editor_added", user, {"name": name},
                   os_user=_os_user())
    return ws


def configure_test_editor(tmp_dir: str | Path | None = None, username: str = "tester",
                          password: str = "test-password-1", name: str = "Test Editor",
                          workspace: str | Path | None = None) -> tuple[Path, Editor]:
    """Test-only: make ``username`` an editor of the workspace (``workspace`` or
    ``$ATLAS_WORKSPACE``; cheapest bcrypt cost; written directly, without the "existing
    editor" rule) and return (workspace path, signed-in ``Editor``). ``tmp_dir`` is unused
    (kept for older callers)."""
    from geo import store as _store

    ws = _ws(workspace)
    with wsdb.transaction(ws) as con:
        wsdb.make_geopackage(con, _store.gpkg_core_sql())
        con.execute(EDITORS_SQL)
        con.execute("INSERT OR REPLACE INTO ws_editors VALUES (?, ?, ?, ?, ?)",
                    (_clean_user(username), name, hash_password(password, 4), "test", wsdb.now()))
    return ws, authenticate(username, password, ws)


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> str:
    return hash_password("not-a-password", rounds)

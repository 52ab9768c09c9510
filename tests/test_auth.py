"""Editors of a workspace: hashes in the workspace, bootstrap rule, proofs, server-side lockout."""
from __future__ import annotations

import sqlite3
import subprocess

import bcrypt
import pytest

from geo.auth import (
    LOCK_SECONDS,
    MAX_FAILURES,
    Editor,
    add_editor,
    authenticate,
    configure_test_editor,
    hash_password,
    list_editors,
    require_editor,
    verify_password,
)
from geo.errors import AtlasError
from geo.settings import REPO_ROOT

pytestmark = pytest.mark.usefixtures("workspace_file", "fast_bcrypt")


def _audit(tmp_path):
    con = sqlite3.connect(tmp_path / "ws.gpkg")
    rows = con.execute("SELECT actor, action, subject, detail FROM ind_audit ORDER BY id").fetchall()
    con.close()
    return rows


def test_hash_is_salted_prehashed_bcrypt_and_verifies():
    h = hash_password("correct horse", rounds=4)
    assert h.startswith("sha256$$2b$04$") and "correct horse" not in h
    assert verify_password("correct horse", h)
    assert not verify_password("wrong horse", h)
    assert not verify_password("x", "not-a-hash")
    assert hash_password("same-password", rounds=4) != hash_password("same-password", rounds=4)


def test_long_passwords_count_in_full_and_old_hashes_still_verify():
    a, b = "đ" * 36, "đ" * 36 + "x"          # 72 bytes, then one more: plain bcrypt sees them as equal
    assert len(a.encode()) == 72
    assert not verify_password(b, hash_password(a, rounds=4))
    old = bcrypt.hashpw(b"legacy-password", bcrypt.gensalt(4)).decode()   # a hash made before
    assert verify_password("legacy-password", old) and not verify_password("legacy-passwordX", old)


def test_first_editor_bootstraps_later_ones_need_an_editor(tmp_path):
    ws = add_editor("Lan", "s3cret-password", "Nguyễn Thị Lan")
    assert ws == tmp_path / "ws.gpkg"
    entry = list_editors()["lan"]
    assert entry["name"] == "Nguyễn Thị Lan" and "s3cret-password" not in entry["password_hash"]
    for by in (None, Editor("lan", "Lan")):           # nobody, or an editor made by hand
        with pytest.raises(AtlasError) as exc:
            add_editor("mallory", "mallory-password", by=by)
        assert exc.value.key in ("editor_auth.need_editor", "store_errors.not_editor")
    _, elsewhere = configure_test_editor(username="eve", password="eve-password", workspace=tmp_path / "other.gpkg")
    with pytest.raises(AtlasError):
        add_editor("mallory", "mallory-password", by=elsewhere)   # an editor of another workspace
    assert set(list_editors()) == {"lan"}
    lan = authenticate("lan", "s3cret-password")
    add_editor("minh", "minh-password", "Minh", by=lan)
    assert set(list_editors()) == {"lan", "minh"}
    actions = [(a, act, s) for a, act, s, _ in _audit(tmp_path)]
    assert actions == [("-", "first_editor_added", "lan"), ("lan", "editor_added", "minh")]


def test_authenticate_ok_refusals_and_proof(tmp_path):
    add_editor("lan", "s3cret-password", "Lan")
    ed = authenticate(" LAN ", "s3cret-password")
    assert ed == Editor("lan", "Lan") and require_editor(ed) is ed
    with pytest.raises(AtlasError):
        require_editor(Editor("lan", "Lan", workspace=ed.workspace, proof="0" * 64))
    for user, pw in (("lan", "wrong-password"), ("nobody", "s3cret-password"), ("", "")):
        with pytest.raises(AtlasError) as exc:
            authenticate(user, pw, client="10.0.0.9")
        assert exc.value.key == "editor_auth.bad_credentials"
    failed = [(a, s) for a, act, s, _ in _audit(tmp_path) if act == "sign_in_failed"]
    assert failed == [("lan", "10.0.0.9"), ("nobody", "10.0.0.9"), ("-", "10.0.0.9")]


def test_no_editors_yet_is_a_clear_refusal():
    with pytest.raises(AtlasError) as exc:
        authenticate("lan", "whatever-pass")
    assert exc.value.key == "editor_auth.no_editors"


def test_lockout_lives_on_the_server_per_account_and_per_address(tmp_path):
    add_editor("lan", "s3cret-password", "Lan")
    add_editor("minh", "minh-password", "Minh", by=authenticate("lan", "s3cret-password"))
    for _ in range(MAX_FAILURES):
        with pytest.raises(AtlasError):
            authenticate("lan", "guess-password", client="10.0.0.1")
    for client in ("10.0.0.1", "10.0.0.2"):      # the account is locked from any address …
        with pytest.raises(AtlasError) as exc:
            authenticate("lan", "s3cret-password", client=client)
        assert exc.value.key == "editor_auth.locked" and 0 < exc.value.params["seconds"] <= LOCK_SECONDS
    with pytest.raises(AtlasError) as exc:        # … and the address for any account
        authenticate("minh", "minh-password", client="10.0.0.1")
    assert exc.value.key == "editor_auth.locked"
    assert authenticate("minh", "minh-password", client="10.0.0.3").username == "minh"
    actions = [act for _, act, _, _ in _audit(tmp_path)]
    assert actions.count("sign_in_failed") == MAX_FAILURES and actions.count("sign_in_locked") == 3


@pytest.mark.parametrize("user, pw, key", [
    ("a", "long-enough-pw", "editor_auth.bad_username"),
    ("bad name!", "long-enough-pw", "editor_auth.bad_username"),
    ("lan", "short", "editor_auth.weak_password"),
    ("lan", "x" * 300, "editor_auth.too_long"),
])
def test_add_editor_refusals(tmp_path, user, pw, key):
    with pytest.raises(AtlasError) as exc:
        add_editor(user, pw)
    assert exc.value.key == key
    assert not (tmp_path / "ws.gpkg").exists()


def test_no_editors_file_is_tracked_by_git():
    out = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.split()
    assert not [f for f in out if f.endswith(("editors.toml", "secrets.toml"))]

"""Editor sign-in: hashed passwords in a secrets file, refusals, the test-only helper."""
from __future__ import annotations

import subprocess

import pytest

from geo.auth import (Editor, add_editor, authenticate, configure_test_editor, editors_path, hash_password,
                      load_editors, verify_password)
from geo.errors import AtlasError
from geo.paths import REPO_ROOT


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch):
    monkeypatch.setenv("ATLAS_BCRYPT_ROUNDS", "4")


def test_hash_is_bcrypt_and_verifies():
    h = hash_password("correct horse", rounds=4)
    assert h.startswith("$2b$04$") and "correct horse" not in h
    assert verify_password("correct horse", h)
    assert not verify_password("wrong horse", h)
    assert not verify_password("x", "not-a-hash")
    assert hash_password("same-password", rounds=4) != hash_password("same-password", rounds=4)   # salted


def test_add_editor_stores_only_the_hash(tmp_path):
    path = add_editor("Lan", "s3cret-password", "Nguyễn Thị Lan", path=tmp_path / "e.toml", rounds=4)
    text = path.read_text(encoding="utf-8")
    assert "s3cret-password" not in text and "$2b$04$" in text
    entry = load_editors(path)["lan"]
    assert entry["name"] == "Nguyễn Thị Lan"
    assert path.stat().st_mode & 0o077 == 0   # readable by the owner only


def test_authenticate_ok_and_refusals(tmp_path):
    path = tmp_path / "e.toml"
    add_editor("lan", "s3cret-password", "Lan", path=path, rounds=4)
    ed = authenticate(" LAN ", "s3cret-password", path)
    assert ed == Editor("lan", "Lan")
    for user, pw in (("lan", "wrong-password"), ("nobody", "s3cret-password"), ("", ""), ("lan", "")):
        with pytest.raises(AtlasError) as exc:
            authenticate(user, pw, path)
        assert exc.value.key == "editor_auth.bad_credentials"
        assert "Wrong username or password" in exc.value.message("en")


def test_replacing_an_editor_changes_the_password(tmp_path):
    path = tmp_path / "e.toml"
    add_editor("lan", "first-password", "Lan", path=path, rounds=4)
    add_editor("minh", "minh-password", "Minh", path=path, rounds=4)
    add_editor("lan", "second-password", path=path, rounds=4)
    assert set(load_editors(path)) == {"lan", "minh"}
    assert authenticate("lan", "second-password", path).name == "Lan"
    with pytest.raises(AtlasError):
        authenticate("lan", "first-password", path)


@pytest.mark.parametrize("user, pw, key", [
    ("a", "long-enough-pw", "editor_auth.bad_username"),
    ("bad name!", "long-enough-pw", "editor_auth.bad_username"),
    ("lan", "short", "editor_auth.weak_password"),
])
def test_add_editor_refusals(tmp_path, user, pw, key):
    with pytest.raises(AtlasError) as exc:
        add_editor(user, pw, path=tmp_path / "e.toml", rounds=4)
    assert exc.value.key == key
    assert not (tmp_path / "e.toml").exists()


def test_missing_and_damaged_files(tmp_path):
    assert load_editors(tmp_path / "none.toml") == {}
    with pytest.raises(AtlasError):
        authenticate("lan", "whatever-pass", tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[editors.lan\nname=", encoding="utf-8")
    with pytest.raises(AtlasError) as exc:
        load_editors(bad)
    assert exc.value.key == "editor_auth.bad_file"


def test_env_var_selects_the_file_and_test_helper(tmp_path, monkeypatch):
    path, ed = configure_test_editor(tmp_path, "tester", "test-password-1", "T")
    monkeypatch.setenv("ATLAS_EDITORS_FILE", str(path))
    assert editors_path() == path
    assert authenticate("tester", "test-password-1") == ed


def test_no_editors_file_is_tracked_by_git():
    out = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.split()
    assert not [f for f in out if f.endswith(("editors.toml", "secrets.toml"))]
    ignored = subprocess.run(["git", "check-ignore", "workspace/editors.toml"], cwd=REPO_ROOT,
                             capture_output=True, text=True)
    assert ignored.returncode == 0   # the default location is git-ignored

"""Fixtures shared by the whole test suite (browser tests add theirs in tests/e2e/conftest.py).

Use them instead of repeating the set-up in a test file:

- ``workspace_file``: a fresh workspace for the test — ``ATLAS_WORKSPACE`` points at
  ``tmp_path/ws.gpkg`` (not created yet); returns that path. A module whose every test needs
  it writes ``pytestmark = pytest.mark.usefixtures("workspace_file")``.
- ``fast_bcrypt``: ``ATLAS_BCRYPT_ROUNDS=4`` so password hashing costs milliseconds.
- ``editor``: a signed-in editor of that workspace (which exists from then on).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from geo.auth import Editor, configure_test_editor


@pytest.fixture()
def workspace_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ws.gpkg"
    monkeypatch.setenv("ATLAS_WORKSPACE", str(path))
    return path


@pytest.fixture()
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_BCRYPT_ROUNDS", "4")


@pytest.fixture()
def editor(workspace_file: Path) -> Editor:
    return configure_test_editor()[1]

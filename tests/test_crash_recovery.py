"""Crash recovery and races on a real workspace file (issue 14 item 5 and "also fix"):
writers killed with SIGKILL at random points leave a workspace every page opens, intact, with
history and audit log matching row for row; N processes saving the same value at once — by
the form or by importing a file — produce exactly one winner."""
from __future__ import annotations

import sqlite3

import pytest

from tests import crashkit as K


@pytest.fixture()
def ws(workspace_file, fast_bcrypt):
    K.prepare(workspace_file)
    return workspace_file


@pytest.mark.parametrize("kind, loops", [("values", 4), ("layers", 3)])
def test_writer_killed_at_random_points_loses_nothing(ws, kind, loops):
    tried, lost, problems = K.kill_loop(ws, kind, loops)
    assert (tried, lost) == (loops, 0), problems
    con = sqlite3.connect(ws)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"   # readers never wait for the writer
    con.close()
    from geo import workspace
    from geo.indicators import load_framework
    from geo.store import Store

    written = len(Store(ws, framework=load_framework(), units=()).history("smart_cities")) if kind == "values" \
        else len(workspace.list_layers())
    assert written > 0   # the writers did write before they were killed


def test_damaged_workspace_says_what_happened_on_the_pages(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from geo.settings import REPO_ROOT

    bad = tmp_path / "atlas.gpkg"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)     # a header, then garbage (a torn write)
    monkeypatch.setenv("ATLAS_WORKSPACE", str(bad))
    for page in ("data.py", "readiness.py"):
        at = AppTest.from_file(str(REPO_ROOT / "pages" / page), default_timeout=180)
        at.session_state["lang"] = "en"
        at.session_state["ind_section"] = "entry"
        at.run()
        assert not at.exception, (page, at.exception)
        shown = " ".join(e.value for e in at.error)
        assert "administrator" in shown and str(tmp_path) not in shown, (page, shown)


@pytest.mark.parametrize("kind", ["form", "import"])
def test_concurrent_saves_of_one_value_have_exactly_one_winner(ws, kind):
    outcomes = K.race(ws, kind, 4)
    assert outcomes.count("saved") == 1, outcomes
    expected = "store_errors.conflict" if kind == "form" else "store_errors.import_rejected"
    assert outcomes.count(expected) == 3, outcomes

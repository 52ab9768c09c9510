"""Maps shared by sessions (issue 13 §4): the default map is built at server start-up, and a
new session of the map page then draws that very map without building one."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import pages.map_cache as map_cache

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "map_explorer.py")


@pytest.fixture(autouse=True)
def _workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_WORKSPACE", str(tmp_path / "ws.gpkg"))


def test_new_session_draws_the_map_built_at_start_up(monkeypatch):
    map_cache.warm_default_map()
    view = map_cache.default_map_view()
    warmed, _ = map_cache.cached_map(map_cache.view_key(view, {}), view, {})
    assert getattr(warmed, "_atlas_rendered", None) is not None  # rendered for the component too
    built = []
    monkeypatch.setattr(map_cache, "build_map", lambda *a, **k: built.append(a) or pytest.fail("map built again"))
    drawn = []
    monkeypatch.setattr("pages.map_component.prepare_map", lambda m: drawn.append(m) or m._atlas_rendered)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["lang"] = "vi"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not built and drawn and drawn[0] is warmed

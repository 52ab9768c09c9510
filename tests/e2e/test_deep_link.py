"""A shared link to a page, opened first on a freshly started server, goes through app.py."""
from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import start_app, stop_app


def test_first_request_deep_link_gets_app_navigation_and_language(tmp_path: Path, offline_page) -> None:
    proc, url = start_app(tmp_path / "atlas.gpkg")
    try:
        page = offline_page
        page.goto(url + "/data?lang=en", wait_until="domcontentloaded")
        nav = page.locator('[data-testid="stSidebarNav"]')
        # the app's own navigation, in English (not Streamlit's list of files in pages/)
        nav.get_by_text("Smart-city readiness", exact=True).wait_for(timeout=60000)
        assert nav.get_by_text("map component").count() == 0
        page.get_by_text("Language", exact=True).first.wait_for(timeout=30000)  # app.py's language switch
        assert "/data" in page.url
    finally:
        stop_app(proc)

"""With the basemap off, no page of the atlas asks anything of the internet.

Every page is opened in a browser whose requests beyond localhost are aborted and
recorded (``offline_page``); the page must render (title, no exception) and, for pages
with a map, draw it — and the record of outside requests must stay empty.
"""
from __future__ import annotations

import pytest

PAGES = ["/", "/coverage", "/readiness", "/data", "/export", "/export?present=1&view=1"]
MAP_PAGES = {"/", "/coverage", "/readiness", "/export?present=1&view=1"}


@pytest.mark.parametrize("path", PAGES)
def test_page_makes_no_outside_request_with_basemap_none(app_url: str, offline_page, path: str) -> None:
    page = offline_page
    sep = "&" if "?" in path else "?"
    page.goto(f"{app_url}{path}{sep}lang=vi&basemap=none", wait_until="domcontentloaded")
    page.locator("h1").first.wait_for(timeout=90000)
    if path == "/readiness":  # its map is one section of the page
        page.get_by_text("Bản đồ chỉ số", exact=True).first.click()
    if path in MAP_PAGES:
        page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=120000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120000)
    page.wait_for_timeout(2500)  # tiles, fonts and icons would be asked for by now
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.blocked_requests == [], page.blocked_requests


@pytest.mark.parametrize("path", ["/coverage", "/readiness"])
def test_coverage_and_readiness_maps_follow_the_app_basemap(app_url: str, offline_page, path: str) -> None:
    """The same pages with OpenStreetMap chosen do ask for its tiles (recorded, aborted)."""
    page = offline_page
    page.goto(f"{app_url}{path}?lang=vi&basemap=osm", wait_until="domcontentloaded")
    page.locator("h1").first.wait_for(timeout=90000)
    if path == "/readiness":
        page.get_by_text("Bản đồ chỉ số", exact=True).first.click()
    page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=120000)
    page.wait_for_timeout(4000)
    assert any("tile.openstreetmap.org" in u for u in page.blocked_requests), page.blocked_requests

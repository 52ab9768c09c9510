"""The real app in chromium with no network: Leaflet draws the province and the three cities."""
from __future__ import annotations

from tests.e2e.conftest import map_frame


def test_map_draws_offline_with_three_cities(app_url: str, offline_page) -> None:  # noqa: ANN001
    page = offline_page
    page.goto(app_url + "/?lang=vi", wait_until="domcontentloaded")
    frame = map_frame(page)
    labels = frame.locator(".atlas-label").all_inner_texts()
    text = " ".join(labels)
    for city in ("Thái Nguyên", "Sông Công", "Phổ Yên"):
        assert city in text, f"{city} not labelled on the map: {labels}"
    # Leaflet itself came from our server, and the map has drawn vector paths
    assert frame.locator(".leaflet-overlay-pane path, .leaflet-overlay-pane canvas").count() > 0
    assert not [u for u in page.blocked_requests if "leaflet" in u or "jquery" in u or "bootstrap" in u]


def test_basemap_off_makes_no_outside_request(app_url: str, offline_page) -> None:  # noqa: ANN001
    page = offline_page
    page.goto(app_url + "/?lang=en", wait_until="domcontentloaded")
    map_frame(page)
    page.get_by_text("Basemap").first.wait_for()
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    box.click()
    page.get_by_role("option", name="None (offline)").click()
    page.wait_for_timeout(1500)
    frame = map_frame(page)
    page.blocked_requests.clear()
    page.wait_for_timeout(2000)
    assert frame.locator(".leaflet-tile").count() == 0
    assert frame.locator(".atlas-label").count() == 3
    assert page.blocked_requests == []

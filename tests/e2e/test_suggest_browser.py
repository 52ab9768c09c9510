"""Where to build next in the real app (chromium, network cut to localhost): a planner asks
for 2 new health sites in one city, sees the suggestion map drawn offline (basemap none)
with the unit outline and the numbered sites, and sends the sites into the what-if."""
from __future__ import annotations


def test_suggest_map_offline_and_send_to_whatif(app_url: str, offline_page) -> None:
    page = offline_page
    page.goto(f"{app_url}/coverage?lang=en&basemap=none", wait_until="domcontentloaded")
    page.locator("h1").first.wait_for(timeout=90000)
    page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=180000)
    form = page.locator('[data-testid="stForm"]').filter(has_text="Suggest sites")
    form.wait_for(timeout=120000)
    scope = form.locator('[data-testid="stSelectbox"]').filter(has_text="Scope")
    scope.locator("input").click()
    page.keyboard.type("Sông Công")
    option = page.get_by_role("option", name="Thành phố Sông Công").first
    option.wait_for(timeout=90000)
    option.click()
    budget = form.get_by_role("spinbutton", name="New sites")
    budget.fill("2")
    budget.press("Tab")
    form.get_by_role("button", name="Suggest sites").click()
    send = page.get_by_role("button", name="Send these sites to the what-if scenario")
    send.wait_for(timeout=240000)
    # the per-unit sentences name the city
    page.get_by_text("Thành phố Sông Công:", exact=False).first.wait_for(timeout=60000)
    # the suggestion map: a second map, drawn with no tile layer and no outside request
    frames = page.locator('iframe[title="streamlit_folium.st_folium"]')
    frames.nth(1).wait_for(timeout=120000)
    sug = page.frame_locator('iframe[title="streamlit_folium.st_folium"] >> nth=1')
    sug.locator(".leaflet-marker-icon").first.wait_for(timeout=120000)
    assert sug.locator(".leaflet-marker-icon").count() == 2  # the two numbered sites (existing stations are circles)
    assert sug.locator(".leaflet-tile").count() == 0
    send.click()
    page.get_by_text("Added 2 sites to the what-if scenario.").wait_for(timeout=240000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=240000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_text("2 proposed, 0 closed").first.wait_for(timeout=120000)  # the what-if now holds them
    assert page.blocked_requests == [], page.blocked_requests

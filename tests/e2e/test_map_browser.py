"""The real app in chromium with no network: Leaflet draws the province and the three cities."""
from __future__ import annotations

import tempfile
from pathlib import Path

from tests.e2e.conftest import map_frame


def test_map_draws_offline_with_three_cities(app_url: str, offline_page) -> None:
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
    # Leaflet's own control texts (hover titles, what a screen reader says) in the UI language
    from geo.i18n import t

    titles = frame.locator(".leaflet-control [title]").evaluate_all("els => els.map(e => e.title)")
    for key in ("zoom_in", "zoom_out", "layers", "leaflet"):
        assert t(f"map.control_{key}", "vi") in titles, titles
    assert not {"Zoom in", "Zoom out", "Layers", "A JavaScript library for interactive maps"} & set(titles)
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "atlas_map_vi.png"))
    # switch to English: the page title and the map's layer names follow
    page.get_by_text("English").first.click()
    page.get_by_role("heading", name="Thái Nguyên province and its three smart cities").wait_for(timeout=30000)
    frame = map_frame(page)
    frame.locator(".leaflet-control-layers", has_text="Districts/cities (pre-2025)").wait_for(timeout=30000)
    assert frame.locator(".leaflet-control-layers").count() == 1  # the Vietnamese map was replaced


def test_basemap_off_makes_no_outside_request(app_url: str, offline_page) -> None:
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
    # infrastructure clusters/markers still draw without tiles (MarkerCluster needs maxZoom)
    assert frame.locator(".marker-cluster, .awesome-marker").count() > 0
    assert page.blocked_requests == []


def test_click_song_cong_shows_its_figures(app_url: str, offline_page) -> None:
    import shapely

    from geo.catalog import load_layer

    districts = load_layer("districts")
    geom = districts.loc[districts["level2_id"] == "165"].geometry.iloc[0]
    pt = shapely.point_on_surface(geom)
    page = offline_page
    page.goto(app_url + "/?lang=vi", wait_until="domcontentloaded")
    frame = map_frame(page)
    iframe = page.locator('iframe[title="streamlit_folium.st_folium"]')
    page.frames[1].wait_for_function("() => window.map && window.map._loaded")
    # hide markers/labels so the click lands on the map, then click Sông Công's interior point
    x, y = page.frames[1].evaluate(
        "([lat, lng]) => { document.querySelectorAll('.leaflet-marker-pane, .leaflet-shadow-pane')"
        ".forEach(e => e.style.display = 'none'); const p = window.map.latLngToContainerPoint([lat, lng]);"
        " return [p.x, p.y]; }", [pt.y, pt.x])
    box = iframe.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    # the side panel: name, census 2019 population in the Vietnamese number format
    page.get_by_role("heading", name="Thành phố Sông Công").wait_for(timeout=30000)
    page.get_by_text("69.382", exact=True).first.wait_for(timeout=30000)
    # the URL is written when the run ends (after the side panel has streamed in)
    page.wait_for_function("() => /unit=districts(%3A|:)165/.test(location.search)", timeout=30000)
    assert frame.locator(".leaflet-overlay-pane").count() == 1


def test_zoom_to_a_city_moves_the_map_without_rebuilding_it(app_url: str, offline_page) -> None:
    page = offline_page
    page.goto(app_url + "/?lang=vi", wait_until="domcontentloaded")
    map_frame(page)
    frame = page.frames[1]
    frame.wait_for_function("() => window.map && window.map._loaded")
    drawn = frame.evaluate("() => [window.__atlas_map_id, window.map.getZoom()]")
    page.get_by_text("TP Sông Công", exact=True).first.click()
    frame.wait_for_function("z => window.map.getZoom() > z", arg=drawn[1], timeout=30000)
    lat, lng = frame.evaluate("() => [window.map.getCenter().lat, window.map.getCenter().lng]")
    assert 21.40 < lat < 21.55 and 105.75 < lng < 105.92  # Sông Công
    assert frame.evaluate("() => window.__atlas_map_id") == drawn[0]  # same map, only moved
    # changing layers rebuilds the map but keeps the place the user is looking at
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    box.click()
    # offline the app starts without a basemap: choosing one rebuilds the map (its tile
    # requests are aborted and recorded by the offline page)
    page.get_by_role("option", name="OpenStreetMap").click()
    frame.wait_for_function("v => window.__atlas_map_id !== v", arg=drawn[0], timeout=30000)
    lat2, lng2 = frame.evaluate("() => [window.map.getCenter().lat, window.map.getCenter().lng]")
    assert abs(lat2 - lat) < 0.01 and abs(lng2 - lng) < 0.01


# in the page: when the sidebar's layer choice first appears, was the map already painted?
_ORDER = """
if (window === window.top) {
  const watch = new MutationObserver(() => {
    if (!document.querySelector('[data-testid="stSidebar"] [data-testid="stMultiSelect"]')) return;
    const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
    let drawn = false;
    try { drawn = !!f.contentDocument.querySelector(".leaflet-overlay-pane path, .leaflet-overlay-pane canvas"); }
    catch (e) {}
    window.__controlsAfterMap = drawn;
    watch.disconnect();
  });
  watch.observe(document, {childList: true, subtree: true});
}
"""


def test_first_view_paints_the_map_then_draws_the_controls(app_url: str, offline_page) -> None:
    """A new browser's first view (pages.common.map_first_view): the map's first frame is
    painted before any control is drawn, and the controls, the sidebar's switches and the side
    panel then come without any action; no loading indicator is left."""
    page = offline_page
    page.add_init_script(_ORDER)
    page.goto(app_url + "/?lang=vi", wait_until="domcontentloaded")
    map_frame(page)
    page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first.wait_for(timeout=30000)
    assert page.evaluate("window.__controlsAfterMap") is True
    page.get_by_text("English").first.wait_for(timeout=30000)    # app.py's language switch
    page.get_by_role("heading", name="Thông tin đơn vị").wait_for(timeout=30000)
    assert page.locator("#atlas-loading").count() == 0

"""A saved layer whose names are HTML shows them as text on the Data page and runs nothing."""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.auth import configure_test_editor
from tests.e2e.conftest import map_frame

XSS = '<img src=x onerror="window.__xss=1">'
XSS_FIELD = '<b onmouseover="window.__xss=2">field</b>'
LAYER = 'Lớp <img src=x onerror="window.__xss=3"> ![t](http://evil.example/t.png) **đậm**'


@pytest.fixture()
def hostile_layer(e2e_workspace, monkeypatch):
    monkeypatch.setenv("ATLAS_WORKSPACE", str(e2e_workspace))
    from geo import workspace

    gdf = gpd.GeoDataFrame({"name": [XSS, "an toàn"], XSS_FIELD: ["<script>window.__xss=4</script>", "x"]},
                           geometry=[shapely.Point(105.8442, 21.5942), shapely.Point(105.85, 21.60)], crs=4326)
    workspace.save_layer(LAYER, gdf, {"source": XSS + ".geojson"}, editor=configure_test_editor()[1])
    yield LAYER
    workspace.delete_layer(LAYER, editor=configure_test_editor()[1])


def _folium_frame(page):
    for frame in page.frames:
        if "streamlit_folium" in (frame.url or "") or frame.name == "streamlit_folium.st_folium":
            return frame
    for frame in page.frames:
        if frame != page.main_frame and frame.evaluate("typeof L !== 'undefined'"):
            return frame
    raise AssertionError("map frame not found")


def test_hostile_names_show_literally_and_run_nothing(app_url, offline_page, hostile_layer):
    page = offline_page
    page.goto(app_url + "/?lang=en", wait_until="domcontentloaded")
    page.locator('[data-testid="stSidebarNav"] a', has_text="My data").first.click(timeout=60000)
    page.get_by_text("Saved layers").first.wait_for(timeout=60000)
    # the saved-layers table shows the names as text
    table = page.locator('[data-testid="stTable"]').first
    table.wait_for(timeout=60000)
    text = table.inner_text().replace("\u2060", "")   # invisible joiners split bare URLs
    assert LAYER in text and XSS + ".geojson" in text
    assert table.locator("img, strong, b").count() == 0
    # the preview map: layer control and tooltips carry the text, escaped
    frame_loc = map_frame(page)
    frame = _folium_frame(page)
    assert frame_loc.locator("[onerror], [onmouseover]").count() == 0
    assert page.locator("[onerror], [onmouseover]").count() == 0
    assert LAYER in frame_loc.locator(".leaflet-control-layers").first.text_content()
    # markers may be drawn on a canvas: find the first one's pixel through Leaflet, hover it
    page.locator('iframe[title="streamlit_folium.st_folium"]').first.scroll_into_view_if_needed()
    xy = frame.evaluate("""() => {
        const m = Object.values(window).find(v => v instanceof L.Map);
        const p = m.latLngToContainerPoint([21.5942, 105.8442]);
        const r = m.getContainer().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }""")
    box = page.locator('iframe[title="streamlit_folium.st_folium"]').first.bounding_box()
    page.mouse.move(box["x"] + xy[0] + 1, box["y"] + xy[1] + 1)
    page.mouse.move(box["x"] + xy[0], box["y"] + xy[1])
    tooltip = frame_loc.locator(".leaflet-tooltip").first
    tooltip.wait_for(timeout=10000)
    tip = tooltip.inner_text()
    assert XSS in tip and XSS_FIELD in tip
    assert frame_loc.locator(".leaflet-tooltip img, .leaflet-tooltip b, .leaflet-tooltip script").count() == 0
    page.wait_for_timeout(500)
    assert not [u for u in page.blocked_requests if "evil.example" in u]
    assert page.evaluate("window.__xss") is None
    assert frame.evaluate("window.__xss") is None

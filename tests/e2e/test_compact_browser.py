"""Compact (national-size) layers in Debian's chromium, standalone HTML opened from disk, no network.

The page is built through the product path (``layers.render.add_gdf_layer`` → ``layers.compact``)
and exported with ``standalone_html``; the browser decodes the payload itself (layers/compact.js).
"""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.compact import BIG_FEATURES, QUANT
from layers.render import add_gdf_layer, finish_map, new_map, standalone_html

XSS = "<img src=x onerror=window.__xss=1>"
BRACES = "{{ 7*7 }} {% if 1 %}x{% endif %}"  # Jinja syntax: must neither run on the server nor vanish
MAP = "Object.keys(window).map(k => window[k]).find(v => v && v._atlasCompactLayers)"


def _layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    nx, ny = 62, 50  # 3,100 squares of 0.01° (> BIG_FEATURES): the compact path
    x0, y0 = np.meshgrid(105.5 + 0.01 * np.arange(nx), 21.3 + 0.01 * np.arange(ny))
    squares = shapely.box(x0.ravel(), y0.ravel(), x0.ravel() + 0.009, y0.ravel() + 0.009)
    squares = shapely.segmentize(squares, 0.001)  # wobbly edges: real detail beyond the first frame
    squares = shapely.transform(squares, lambda c: c + 0.00006 * np.sin(c[:, ::-1] * 7000))
    squares[0] = shapely.box(105.5, 21.3, 105.509, 21.309).difference(shapely.box(105.503, 21.303, 105.506, 21.306))
    names = [f"Ô {i}" for i in range(len(squares))]
    names[1], names[2] = XSS, BRACES
    polys = gpd.GeoDataFrame({"name": names, "code": np.arange(len(squares))}, geometry=squares, crs=4326)
    rng = np.random.default_rng(3)
    xy = np.column_stack((rng.uniform(105.6, 106.1, BIG_FEATURES + 100), rng.uniform(21.32, 21.78, BIG_FEATURES + 100)))
    xy[0] = (105.5545, 21.3045)  # inside square 5 (row 0, column 5); the others lie east of 105.6°
    pts = gpd.GeoDataFrame({"name": ["<b>trạm</b> & co"] + [f"P{i}" for i in range(len(xy) - 1)]},
                           geometry=shapely.points(xy), crs=4326)
    return polys, pts


@pytest.fixture(scope="module")
def compact_page(browser, tmp_path_factory):
    polys, pts = _layers()
    m = new_map("vi", "none", bounds=[[21.29, 105.49], [21.81, 106.13]])
    below = gpd.GeoDataFrame({"name": ["below"]}, geometry=[shapely.box(105.49, 21.29, 105.6, 21.32)], crs=4326)
    add_gdf_layer(m, below, "vi", "below", tooltip_fields=["name"])  # a plain GeoJSON layer under the squares
    add_gdf_layer(m, polys, "vi", "squares", tooltip_fields=["name", "code"])
    add_gdf_layer(m, pts, "vi", "points", tooltip_fields=["name"], kind="point")
    path = tmp_path_factory.mktemp("compact") / "map.html"
    path.write_text(standalone_html(finish_map(m, "vi")), encoding="utf-8")
    ctx = browser.new_context(viewport={"width": 1200, "height": 800})
    outside: list[str] = []
    ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
              else (outside.append(route.request.url), route.abort()))
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function(f"() => {{ const m = {MAP}; return m && m._atlasCompactLayers.length === 2 && "
                           "!m._animatingZoom; }")
    yield page, polys, pts
    assert not errors and not outside
    ctx.close()


def _screen(page, lat: float, lon: float) -> tuple[float, float]:
    p = page.evaluate(f"([a, b]) => {{ const m = {MAP}; const p = m.latLngToContainerPoint([a, b]); "
                      "return [p.x, p.y]; }", [lat, lon])
    return p[0], p[1]


def _hover(page, lat: float, lon: float) -> str:
    page.mouse.move(*_screen(page, lat, lon))
    page.wait_for_timeout(100)
    tip = page.locator(".leaflet-tooltip:visible")
    tip.first.wait_for(timeout=5000)
    return tip.first.inner_text()


def test_browser_decodes_the_geometry_within_the_quantisation(compact_page) -> None:
    page, polys, _ = compact_page
    got = page.evaluate(f"""() => {{
        const l = {MAP}._atlasCompactLayers[0], lv = window.atlasCompact.decode(l.d.detail, l.d.n, l.d.k);
        return {{xy: Array.from(lv.xy), rs: Array.from(lv.rs), fr: Array.from(lv.fr), zd: l.d.zd}};
    }}""")
    xy = np.array(got["xy"]).reshape(-1, 2)
    lon = xy[:, 0] / 256 * 360 - 180
    lat = np.degrees(np.arctan(np.sinh(math.pi * (1 - 2 * xy[:, 1] / 256))))
    want_geoms = shapely.orient_polygons(polys.geometry.to_numpy(), exterior_cw=False)
    rings = shapely.get_rings(shapely.get_parts(want_geoms))
    want = shapely.get_coordinates(rings)
    assert len(want) == len(lon)
    assert np.abs(lon - want[:, 0]).max() <= QUANT / 2 + 1e-9
    assert np.abs(lat - want[:, 1]).max() <= QUANT / 2 + 1e-9
    assert np.diff(got["rs"]).tolist() == shapely.get_num_coordinates(rings).tolist()
    assert got["fr"][:3] == [0, 2, 3]  # the first square has a hole: two rings
    assert got["zd"] >= 10  # the first frame uses the simplified level


def test_hover_shows_the_escaped_tooltip_of_the_feature_under_the_pointer(compact_page) -> None:
    page, _, _ = compact_page
    text = _hover(page, 21.3045, 105.5145)  # square 1 (row 0, column 1): the hostile name
    assert XSS in text and "1" in text
    page.wait_for_timeout(300)  # the plain layer below keeps its tooltip hidden: one visible tooltip
    assert len([t for t in page.locator(".leaflet-tooltip").all() if t.is_visible()]) == 1
    assert page.locator(".leaflet-tooltip img").count() == 0
    assert page.evaluate("() => window.__xss") is None
    assert _hover(page, 21.3045, 105.5245).startswith("name\t" + BRACES)  # square 2: shown as typed
    text = _hover(page, 21.3045, 105.5545)  # a point over square 5: the topmost layer wins
    assert "<b>trạm</b> & co" in text and page.locator(".leaflet-tooltip b").count() == 0
    page.mouse.move(*_screen(page, 21.3045, 105.5045))  # the hole of square 0: nothing from square 0
    page.wait_for_timeout(300)
    visible = [t.inner_text() for t in page.locator(".leaflet-tooltip").all() if t.is_visible()]
    assert not any("Ô 0" in t for t in visible) and any("below" in t for t in visible)


def test_click_reports_the_feature_and_zoomed_in_detail_still_hits(compact_page) -> None:
    page, _, _ = compact_page
    page.evaluate(f"""() => {{ const m = {MAP}; window.__clicks = [];
        m._atlasCompactLayers[0].on("click", e => window.__clicks.push([e.index, e.sourceTarget.getTooltip().getContent()]));
        m.setView([21.3345, 105.5745], 15, {{animate: false}}); }}""")
    page.wait_for_timeout(300)
    x, y = _screen(page, 21.3345, 105.5745)  # row 3, column 7 → square 3 * 62 + 7
    page.mouse.click(x, y)
    clicks = page.evaluate("() => window.__clicks")
    assert [c[0] for c in clicks] == [3 * 62 + 7] and "Ô 193" in clicks[0][1]
    assert "Ô 193" in _hover(page, 21.3345, 105.5745)
    # pixels are drawn where the square is, and removing the layer (layer control) removes its canvas
    alpha = page.evaluate(f"""([x, y]) => {{ const l = {MAP}._atlasCompactLayers[0], c = l._canvas,
        r = c.getBoundingClientRect(); return c.getContext("2d").getImageData(x - r.left, y - r.top, 1, 1).data[3]; }}""",
                          [x, y])
    assert alpha > 0
    page.evaluate(f"() => {{ const m = {MAP}; m.removeLayer(m._atlasCompactLayers[0]); }}")
    assert page.locator(".atlas-compact").count() == 1


def test_a_national_size_layer_in_the_app_draws_and_shows_tooltips(app_url: str, offline_page, e2e_workspace,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Through streamlit-folium (the map script is eval'd in the component's iframe): a planner's
    3,100-point layer ticked under "My layers" is drawn by the compact canvas layer; hovering a
    point shows its escaped tooltip; nothing is fetched from outside."""
    from geo import workspace
    from geo.auth import configure_test_editor
    from tests.e2e.conftest import map_frame

    monkeypatch.setenv("ATLAS_WORKSPACE", str(e2e_workspace))
    _, pts = _layers()
    name = "Trạm <toàn quốc>"
    workspace.save_layer(name, pts, editor=configure_test_editor()[1], overwrite=True)
    try:
        page = offline_page
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{app_url}/?lang=en", wait_until="domcontentloaded")
        page.locator('[data-testid="stSidebarNav"] a', has_text="Map explorer").first.click(timeout=60000)
        map_frame(page)
        box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]', has_text="My layers").locator("input")
        box.click()
        box.press_sequentially("toàn quốc")
        page.get_by_role("option", name=name, exact=True).click()
        page.keyboard.press("Escape")
        frame = next(f for f in page.frames if "streamlit_folium" in f.url)
        # the planner's point layer (the default map's communes are a compact layer too)
        frame.wait_for_function("() => window.map && window.map._atlasCompactLayers && "
                                "window.map._atlasCompactLayers.some(l => l._map === window.map && l._bounds "
                                "&& l.d.k === 'point')", timeout=120000)
        # the hostile point (index 0) in the page's coordinates → hover it in the iframe
        x, y = frame.evaluate("""() => { const m = window.map, p = m.latLngToContainerPoint([21.3045, 105.5545]),
            r = m.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }""")
        box_ = page.locator('iframe[title="streamlit_folium.st_folium"]').bounding_box()
        page.mouse.move(box_["x"] + x, box_["y"] + y)
        inside = page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
        tip = inside.locator(".leaflet-tooltip", has_text="trạm")
        tip.first.wait_for(timeout=10000)
        assert "<b>trạm</b> & co" in tip.first.inner_text()
        assert tip.first.locator("b").count() == 0
        # the commune below the point does not show its tooltip at the same time: one visible tooltip
        page.wait_for_timeout(300)
        assert len([t for t in inside.locator(".leaflet-tooltip").all() if t.is_visible()]) == 1
        assert not errors and not page.blocked_requests
    finally:
        workspace.delete_layer(name, editor=configure_test_editor()[1])

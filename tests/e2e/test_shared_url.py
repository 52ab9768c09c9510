"""A shared URL restores the view (real app, chromium, network limited to localhost).

Opening ``/export?present=1&view=1&lang=en`` must land in presentation mode on the second
saved view (TP Sông Công) with the map drawn and the controls hidden; the keyboard steps
to the next view and the address follows, so that address can be shared in turn.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.e2e.conftest import map_frame


def _params(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def _warm(page, app_url: str) -> None:
    """Open the app's root once: Streamlit treats a fresh server whose first request is a
    deep link as a v1 ``pages/`` app until the main script has called ``st.navigation``."""
    page.goto(app_url + "/", wait_until="domcontentloaded")
    page.locator('[data-testid="stSidebarNav"]').first.wait_for(timeout=60000)


def test_shared_presentation_url_restores_view_and_keys_step(app_url: str, offline_page) -> None:
    page = offline_page
    _warm(page, app_url)
    page.goto(app_url + "/export?present=1&view=1&lang=en", wait_until="domcontentloaded")
    heading = page.locator("h1").filter(has_text="Sông Công")
    heading.first.wait_for(timeout=60000)
    frame = map_frame(page)
    assert frame.locator(".leaflet-overlay-pane path, .leaflet-overlay-pane canvas").count() > 0
    # presentation mode: sidebar and header hidden, English labels from the URL
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    page.get_by_role("button", name="Next ▶").wait_for(timeout=15000)
    assert "view=1" in page.url and "present=1" in page.url
    # the address now carries the whole view: layers, basemap, extent, unit (in the map
    # page's form, so the same link opens the unit there too)
    params = _params(page.url)
    assert params["basemap"] == "none" and params["unit"] == "districts:165", page.url
    assert "districts" in params["layers"].split(",") and len(params["bbox"].split(",")) == 4

    # keyboard: → goes to the next saved view (Phổ Yên) and the URL follows
    page.locator("h1").first.click()
    page.keyboard.press("ArrowRight")
    page.locator("h1").filter(has_text="Phổ Yên").first.wait_for(timeout=30000)
    page.wait_for_function("() => window.location.search.includes('view=2')", timeout=15000)
    assert _params(page.url)["unit"] == "districts:172"
    # no map tile or script left the machine (no basemap in these views); the page icon
    # (Streamlit fetches material-symbol favicons from fonts.gstatic.com) is the app shell's
    assert [u for u in page.blocked_requests if "fonts.gstatic.com" not in u] == []


def test_shared_url_opens_same_view_in_a_fresh_session(app_url: str, offline_page) -> None:
    """The address copied from one session reproduces the view in another."""
    page = offline_page
    _warm(page, app_url)
    page.goto(app_url + "/export?present=1&view=3&lang=vi", wait_until="domcontentloaded")
    page.locator("h1").filter(has_text="Tỉnh Thái Nguyên").first.wait_for(timeout=60000)
    shared = page.url
    other = page.context.new_page()
    other.goto(shared, wait_until="domcontentloaded")
    other.locator("h1").filter(has_text="Tỉnh Thái Nguyên").first.wait_for(timeout=60000)
    other.get_by_role("button", name="Sau ▶").wait_for(timeout=15000)  # Vietnamese from lang=vi
    other.close()


def test_standalone_html_draws_offline(offline_page, tmp_path) -> None:
    """The exported standalone map (Export page → HTML) draws with the network cut."""
    from layers.render import standalone_html
    from layers.views import MapView, build_map

    m = build_map(MapView(layers=["districts", "infrastructure"], basemap="none", lang="vi"))
    m.options.setdefault("max_zoom", 19)  # as pages/export.py does for tile-less maps
    html = standalone_html(m)
    page = offline_page
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(html, wait_until="load")
    page.locator(".leaflet-overlay-pane path, .leaflet-overlay-pane canvas").first.wait_for(timeout=30000)
    page.locator(".marker-cluster, .awesome-marker").first.wait_for(timeout=30000)
    assert errors == []
    assert [u for u in page.blocked_requests if "fonts.gstatic.com" not in u] == []


def test_export_page_acts_on_the_map_page_view(app_url: str, offline_page) -> None:
    """Map page → sidebar → Export: the print/HTML "current view" is the map just left
    (Streamlit drops the query parameters on the page switch) and the unit is preselected."""
    page = offline_page
    _warm(page, app_url)
    page.goto(app_url + "/?layers=districts,infrastructure&basemap=none&bbox=105.74,21.43,105.93,21.56"
              "&unit=districts:165&indicator=districts:density_2019", wait_until="domcontentloaded")
    map_frame(page)
    page.locator('[data-testid="stSidebarNav"] a[href$="/export"]').first.click()
    page.get_by_role("tab", name="In bản đồ").click()
    title = page.get_by_label("Tiêu đề").first
    title.wait_for(timeout=30000)
    assert title.input_value() == "Bản đồ Thành phố Sông Công"  # the map's unit is preselected
    page.get_by_text("Khung nhìn hiện tại", exact=False).first.click()
    caption = page.get_by_text("Mật độ 2019", exact=False).first
    caption.wait_for(timeout=30000)
    text = caption.inner_text()
    assert "Huyện/thành phố (trước 2025)" in text and "Hạ tầng và dịch vụ" in text
    assert "Xã/phường (ranh giới 2009" not in text  # not the default layer set

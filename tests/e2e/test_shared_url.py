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
    # the page ends early (pages.common.end_page): app.py still clears its loading indicator
    page.wait_for_function("() => !document.querySelector('#atlas-loading')", timeout=15000)
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


# ---- every URL the app produces reproduces the sender's view in a fresh browser ------------

# What a planner sees, read from the DOM: the value of every keyed widget (radio choice,
# select/multiselect text, slider value, checkbox, text), the headings, the unit panel and the
# Leaflet map's centre and zoom (the map object of the streamlit-folium frame).
_VIEW_STATE = """() => {
  const out = {};
  for (const el of document.querySelectorAll('[class*="st-key-"]')) {
    const key = [...el.classList].find(c => c.startsWith("st-key-")).slice(7);
    const radio = el.querySelector("input[type=radio]:checked"), slider = el.querySelector("[role=slider]");
    const select = el.querySelector("[data-baseweb=select]"), box = el.querySelector("input[type=checkbox]");
    const text = el.querySelector("input[type=text], input[type=password], textarea");
    const multi = el.querySelector('[data-testid="stMultiSelect"]');
    if (multi) out[key] = [...multi.querySelectorAll("[data-tag]")].map(x => x.innerText.trim()).join(" | ");
    else if (radio) out[key] = radio.closest("label").innerText.trim();
    else if (slider) out[key] = slider.getAttribute("aria-valuenow");
    else if (select) out[key] = select.innerText.trim();
    else if (box) out[key] = box.checked;
    else if (text) out[key] = text.value;
  }
  out["@headings"] = [...document.querySelectorAll("[data-testid=stMain] h1, [data-testid=stMain] h3")]
    .map(h => h.innerText.trim());
  return out;
}"""
_MAP_VIEW = """() => {
  const maps = Object.values(window).filter(v => v && window.L && v instanceof window.L.Map);
  if (!maps.length) return null;
  const c = maps[0].getCenter();   // to ~100 m: the link's extent has 5 decimals
  let layers = 0;
  maps[0].eachLayer(() => { layers += 1; });
  return {lat: +c.lat.toFixed(3), lng: +c.lng.toFixed(3), zoom: maps[0].getZoom(), layers};
}"""


def _settle(page) -> None:
    """Until Streamlit has finished its runs: no running indicator, nothing stale, and the
    same address and widgets for 2 s (elements arrive one by one after a page opens)."""
    last, steady = None, 0
    for _ in range(240):
        busy = page.locator('[data-stale="true"]').count() or page.locator('[data-testid="stStatusWidget"]').count()
        now = (page.url, repr(page.evaluate(_VIEW_STATE)))
        steady = steady + 1 if not busy and now == last else 0
        if steady >= 8:
            return
        last = now
        page.wait_for_timeout(250)


def _seen(page, with_map: bool) -> dict:
    _settle(page)
    state = page.evaluate(_VIEW_STATE)
    if with_map:
        map_frame(page)
        frame = page.frame(name=page.locator('iframe[title="streamlit_folium.st_folium"]').first.get_attribute("name")) \
            if page.locator('iframe[title="streamlit_folium.st_folium"]').first.get_attribute("name") else None
        frame = frame or next(f for f in page.frames if f != page.main_frame and f.evaluate("() => !!window.L"))
        page.wait_for_timeout(500)
        state["@map"] = frame.evaluate(_MAP_VIEW)
    return state


def _reopen(browser, url: str, with_map: bool) -> tuple[dict, str]:
    """``url`` opened in a new browser context (no cookie, no session, network cut as the sender's)."""
    from tests.e2e.conftest import _local_only

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
    context.route("**/*", _local_only)
    try:
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        # the app is up: its page list, or (presentation mode hides the sidebar) the slide's heading
        page.locator('[data-testid="stSidebarNav"]:visible, h1:visible').first.wait_for(timeout=60000)
        return _seen(page, with_map), page.url
    finally:
        context.close()


def _same_view(sender: dict, receiver: dict, url: str) -> None:
    # the sign-in box is the sender's own session (a shared link never signs anyone in)
    mine = {k: v for k, v in sender.items() if not k.startswith(("editor_", "ind_sign"))}
    theirs = {k: v for k, v in receiver.items() if not k.startswith(("editor_", "ind_sign"))}
    assert theirs == mine, (url, {k: (mine.get(k), theirs.get(k)) for k in set(mine) | set(theirs)
                                  if mine.get(k) != theirs.get(k)})


def _pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the selectbox labelled ``label``."""
    page.get_by_label(label, exact=True).first.click()
    page.get_by_role("option", name=option, exact=True).first.click()
    _settle(page)


def test_every_url_the_app_produces_reopens_the_same_view(app_url: str, offline_page, browser) -> None:
    """Map page (default; then choropleth with a class scheme, classes, facility categories,
    zoomed to a city, in English), every page with the language and basemap, and each saved
    presentation view: the address the app wrote, opened in a fresh browser, shows the same
    widgets, headings, selected unit and map centre/zoom — and the address stays the same."""
    from geo.i18n import t
    from geo.units import resolve

    page = offline_page
    _warm(page, app_url)
    produced: list[tuple[str, bool, dict]] = []

    # 1. the map page as it opens, then driven through its controls
    page.goto(app_url + "/?lang=vi", wait_until="domcontentloaded")
    map_frame(page)
    produced.append((page.url, True, _seen(page, True)))
    side = page.locator('[data-testid="stSidebar"]')
    side.get_by_text(t("map.mode_choropleth", "vi"), exact=True).click()
    _settle(page)
    _pick(page, t("map.scheme", "vi"), t("map.scheme_natural_breaks", "vi"))
    slider = side.get_by_role("slider").first
    slider.focus()
    slider.press("ArrowLeft")                     # 5 → 4 classes
    _settle(page)
    song_cong = resolve("districts:165").short_label("vi")   # the zoom choice's label (geo.units)
    page.locator("[data-testid=stMain]").get_by_text(song_cong, exact=True).click()
    _settle(page)
    side.get_by_text("English", exact=True).click()  # the language switch rewrites every label
    _settle(page)
    map_frame(page)
    params = _params(page.url)
    assert {params.get("scheme"), params.get("classes"), params.get("lang")} == {"natural_breaks", "4", "en"}, page.url
    assert params.get("unit") == "districts:165" and "indicator" in params and "categories" in params, page.url
    produced.append((page.url, True, _seen(page, True)))

    # 2. every other page, in English, with the app's basemap in the address
    for link in ("/coverage", "/readiness", "/data", "/export"):
        page.locator(f'[data-testid="stSidebarNav"] a[href$="{link}"]').first.click()
        page.locator("h1").first.wait_for(timeout=60000)
        _settle(page)
        assert _params(page.url).get("lang") == "en", page.url
        produced.append((page.url, False, _seen(page, False)))

    # 3. each saved presentation view (the export page writes the whole view into the address)
    page.goto(app_url + "/export?present=1&view=0&lang=vi", wait_until="domcontentloaded")
    for n in range(4):
        page.get_by_role("button", name=t("present.next", "vi")).wait_for(timeout=60000)
        map_frame(page)
        produced.append((page.url, True, _seen(page, True)))
        if n < 3:
            page.get_by_role("button", name=t("present.next", "vi")).click()
            page.wait_for_function(f"() => window.location.search.includes('view={n + 1}')", timeout=30000)

    assert len({u for u, _, _ in produced}) == len(produced)   # each a different address
    for url, with_map, sender in produced:
        receiver, landed = _reopen(browser, url, with_map)
        assert _params(landed) == _params(url), (url, landed)
        _same_view(sender, receiver, url)

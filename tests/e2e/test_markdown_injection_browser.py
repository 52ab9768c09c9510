"""Nothing a user or a file controls renders as Markdown or HTML (issue 14 item 3), checked in
the browser's DOM: a Markdown image, a link, ``<img onerror>``, ``$math$`` and bare URLs fed
through saved layer names and sources (My data), the URL ``indicator`` (Export), an editor's
name and target source and the cells of an import-rejection table (Readiness)."""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.auth import configure_test_editor
from tests.e2e.conftest import start_app, stop_app

EVIL = "evil.example"
HOSTILE = (f'![pic](http://{EVIL}/i.png) [link](http://{EVIL}/l) <img src=x onerror="window.__xss=1"> '
           f'$x^2$ https://{EVIL}/bare www.{EVIL}')


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    ws = tmp_path_factory.mktemp("md_ws") / "atlas.gpkg"
    mp = pytest.MonkeyPatch()
    mp.setenv("ATLAS_WORKSPACE", str(ws))
    from geo import workspace

    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(105.84, 21.59)], crs=4326)
    workspace.save_layer(HOSTILE[:80], gdf, {"source": f"https://{EVIL}/src.geojson www.{EVIL}"},
                         editor=configure_test_editor()[1])
    from geo.store import Store

    _, md = configure_test_editor(username="mdtester", password="md-password-1", name=HOSTILE)
    Store().record_target(md, "online_services_level4", 2030, ">=", 95, HOSTILE)   # an editor's target source
    proc, url = start_app(ws)
    yield url
    stop_app(proc)
    mp.undo()


def _assert_inert(page, base: str) -> None:
    outside = page.evaluate("""base => [...document.querySelectorAll('img')].map(i => i.src)
        .filter(s => s && !s.startsWith(base) && !s.startsWith('data:') && !s.startsWith('blob:'))""", base)
    assert outside == []
    assert page.locator(f'a[href*="{EVIL}"]').count() == 0
    assert page.locator(".katex, [onerror]").count() == 0
    assert page.evaluate("window.__xss") is None
    assert not [u for u in page.blocked_requests if EVIL in u]


def test_saved_layer_name_and_bare_urls_show_literally(hostile_app, offline_page):
    page = offline_page
    page.goto(hostile_app + "/data?lang=en", wait_until="domcontentloaded")
    table = page.locator('[data-testid="stTable"]').first
    table.wait_for(timeout=90000)
    text = table.inner_text().replace("\u2060", "")   # invisible joiners split bare URLs
    assert HOSTILE[:80] in text and f"https://{EVIL}/src.geojson www.{EVIL}" in text
    _assert_inert(page, hostile_app)


def test_url_indicator_on_the_print_page_is_not_markup(hostile_app, offline_page):
    page = offline_page
    page.goto(hostile_app + f"/export?lang=en&indicator=districts:![i](http://{EVIL}/i.png)&layers=districts"
              f"&unit=[l](http://{EVIL})", wait_until="domcontentloaded")
    page.get_by_text("Ignored invalid parameters in the address").first.wait_for(timeout=90000)
    _assert_inert(page, hostile_app)


def test_editor_name_target_source_and_import_rejection_cells_are_not_markup(hostile_app, offline_page,
                                                                             tmp_path):
    page = offline_page
    page.goto(hostile_app + "/readiness?lang=en", wait_until="domcontentloaded")
    side = page.locator('[data-testid="stSidebar"]')
    side.get_by_label("Username").fill("mdtester")
    side.get_by_label("Password", exact=True).fill("md-password-1")
    side.get_by_role("button", name="Sign in").click()
    side.get_by_text("Signed in as").first.wait_for(timeout=90000)
    assert HOSTILE in side.inner_text().replace("\u2060", "")           # the editor's name, literally
    page.get_by_text("Data entry").first.click()
    caption = page.get_by_text("Target in force for this year").first
    caption.wait_for(timeout=90000)
    assert HOSTILE in caption.inner_text().replace("\u2060", "")        # the target's source, literally
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator_id,unit_id,period,value,unit,source,evidence_url\n"
                   f'smart_cities,{HOSTILE.replace(",", " ")},2024,{HOSTILE.replace(",", " ")},cities,x,'
                   f"[l](http://{EVIL}/u)\n", encoding="utf-8")
    values_uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="Filled-in file (CSV or XLSX)")
    values_uploader.locator("input[type=file]").set_input_files(str(bad))  # not the framework file's uploader
    page.get_by_role("button", name="Check and import").click()
    table = page.locator('[data-testid="stTable"]').first
    table.wait_for(timeout=90000)
    assert "[l](http://" in table.inner_text().replace("\u2060", "")    # the rejected cell, literally
    _assert_inert(page, hostile_app)

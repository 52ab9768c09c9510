"""The Export & present page through Streamlit's AppTest (no browser)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pyogrio
import pytest
from streamlit.testing.v1 import AppTest

from geo.auth import configure_test_editor
from geo.i18n import t

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "export.py")


pytestmark = pytest.mark.usefixtures("workspace_file")


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_shows_five_tabs_in_vietnamese():
    at = _page()
    assert [t.label for t in at.tabs] == ["Tải dữ liệu", "In bản đồ", "Bộ trình chiếu", "Bản đồ HTML", "Trình chiếu"]
    assert at.title[0].value == "Xuất bản & trình chiếu"


def test_download_shapefile_in_vn2000(tmp_path):
    at = _page()
    at.selectbox(key="export_layer").select("districts").run()
    at.selectbox(key="export_format").select("shp").run()
    at.radio(key="export_crs").set_value("9213").run()
    at.button(key="export_prepare").click().run()
    assert not at.exception and not at.error
    name, data, mime = at.session_state["export_file"]
    assert name.endswith(".zip") and mime == "application/zip"
    (tmp_path / name).write_bytes(data)
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert "CREDITS.txt" in zf.namelist()
    shp = [n for n in zf.namelist() if n.endswith(".shp")][0]
    back = pyogrio.read_dataframe(f"/vsizip/{tmp_path / name}/{shp}")
    assert back.crs.to_epsg() == 9213 and "Thành phố Phổ Yên" in set(back["name"])
    assert [b.key for b in at.get("download_button")] == ["export_file_download", "register_template"]


def test_geojson_ignores_vn2000_choice_and_derived_warning():
    at = _page()
    at.selectbox(key="export_layer").select("wards_2025").run()
    assert not any("DẪN XUẤT" in w.value for w in at.warning)  # official polygons since #9
    at.selectbox(key="export_layer").select("districts").run()
    assert any("DẪN XUẤT" in w.value for w in at.warning)
    at.selectbox(key="export_format").select("geojson").run()
    assert at.radio(key="export_crs").disabled
    at.button(key="export_prepare").click().run()
    name, data, _ = at.session_state["export_file"]
    assert name.endswith(".geojson") and b'"credits"' in data


def test_print_map_png_preview():
    at = _page()
    at.selectbox(key="print_unit").select("165").run()
    at.button(key="print_render").click().run()
    assert not at.exception
    name, data, mime = at.session_state["print_file"]
    assert mime == "image/png" and data[:8] == b"\x89PNG\r\n\x1a\n" and "song_cong" in name


def test_presentation_steps_through_views_and_writes_url():
    at = _page()
    at.button(key="present_start").click().run()
    assert at.session_state["present_on"] is True
    assert {b.key for b in at.button} >= {"present_prev", "present_next", "present_stop"}
    first = at.query_params.get("unit")
    assert first in ("districts:164", ["districts:164"])  # the map page's unit code: the link opens there too
    at.button(key="present_next").click().run()
    assert at.session_state["present_index"] == 1
    assert at.query_params.get("present") in ("1", ["1"]) and at.query_params.get("unit") != first
    at.button(key="present_stop").click().run()
    assert at.session_state["present_on"] is False
    assert "present" not in at.query_params and "unit" not in at.query_params and "layers" not in at.query_params


def test_english_labels():
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.session_state["lang"] = "en"
    at.run()
    assert at.title[0].value == "Export & present"
    assert at.button(key="deck_build").label == "Build the deck"


def test_url_state_round_trip_and_rejects_junk():
    from pages.url_codec import decode_state, encode_state

    state = {"layers": ["communes", "infrastructure"], "basemap": "none", "bounds": [[21.5, 105.8], [21.6, 105.9]],
             "unit": "165", "indicator": "districts:population_2019", "lang": "en", "zoom": 12}
    back = decode_state(encode_state(state))
    assert back["layers"] == state["layers"] and back["bounds"] == state["bounds"]
    assert {k: back[k] for k in ("basemap", "unit", "indicator", "lang", "zoom")} == \
        {k: state[k] for k in ("basemap", "unit", "indicator", "lang", "zoom")}
    junk = decode_state({"layers": "communes,<script>x</script>", "bbox": "1,2,3", "lang": "fr", "zoom": "99",
                         "basemap": "evil", "center": "91,200", "view": "-1"})
    assert junk == {"layers": ["communes"], "zoom": 22}   # an out-of-range zoom is clamped
    # how the choropleth and the facilities are drawn travel too (issue 12: the class scheme and classes)
    style = {"scheme": "natural_breaks", "classes": 4, "categories": ["health", "education"]}
    assert {k: v for k, v in decode_state(encode_state(style)).items()} == style
    assert decode_state(encode_state({"categories": []})) == {"categories": []}   # none shown is a state
    assert decode_state({"scheme": "jenks<x>", "classes": "12", "categories": "health,nope"}) == \
        {"classes": 7, "categories": ["health"]}   # unknown scheme dropped, classes clamped to 3–7


def test_write_state_only_touches_given_keys():
    at = AppTest.from_string(
        "import streamlit as st\n"
        "from pages.urlstate import read_state, write_state\n"
        "write_state(layers=['districts'], bounds=[[21.4, 105.7], [21.6, 105.9]], unit=None)\n"
        "st.session_state['seen'] = read_state()\n")
    at.query_params["unit"] = "165"
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception
    assert at.query_params["layers"] in ("districts", ["districts"])
    assert "unit" not in at.query_params and at.query_params["lang"] in ("en", ["en"])


def test_standalone_html_download():
    at = _page()
    at.button(key="html_build").click().run()
    assert not at.exception
    prepared = at.session_state["html_file"]
    if prepared is None:  # layers.render not available: the page said so
        assert at.warning
        return
    name, data, mime = prepared
    html = data.decode("utf-8")
    assert name.endswith(".html") and mime == "text/html"
    assert "L.map(" in html and "maxZoom" in html
    assert not __import__("re").search(r'<script[^>]+src="https?://', html)  # everything inlined


def test_print_current_view_from_url():
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.query_params["layers"] = "districts,infrastructure"
    at.query_params["bbox"] = "105.74,21.43,105.93,21.56"
    at.run()
    at.radio(key="print_source").set_value("view").run()
    at.radio(key="print_fmt").set_value("pdf").run()
    at.button(key="print_render").click().run()
    assert not at.exception
    name, data, mime = at.session_state["print_file"]
    assert mime == "application/pdf" and data.startswith(b"%PDF") and name.endswith("_A4.pdf")


def test_download_computed_coverage_as_geopackage():
    at = _page()
    from geo.catalog import get_catalog

    service = get_catalog().categories["health"].title("vi").lower()  # "trạm y tế, bệnh viện"
    want = t("export.coverage_layer", "vi", service=service, radius=2000)
    assert any(want in o for o in at.selectbox(key="export_layer").options)
    at.selectbox(key="export_layer").select("coverage:health:2000").run()
    at.selectbox(key="export_format").select("gpkg").run()
    at.button(key="export_prepare").click().run()
    assert not at.exception and not at.error
    name, data, mime = at.session_state["export_file"]
    assert name.endswith(".gpkg") and data[:16] == b"SQLite format 3\x00"


def test_download_workspace_layer():
    workspace = pytest.importorskip("geo.workspace")
    import geopandas as gpd
    from shapely.geometry import Point

    gdf = gpd.GeoDataFrame({"name": ["Trạm y tế Phường Mỏ Chè"]}, geometry=[Point(105.85, 21.47)], crs=4326)
    workspace.save_layer("Điểm của tôi", gdf, meta={"source": "khao_sat.csv"}, editor=configure_test_editor()[1])
    at = _page()
    at.selectbox(key="export_layer").select("workspace:Điểm của tôi").run()
    at.selectbox(key="export_format").select("kml").run()
    at.button(key="export_prepare").click().run()
    assert not at.exception and not at.error
    name, data, _ = at.session_state["export_file"]
    assert name.endswith(".kml") and "Trạm y tế Phường Mỏ Chè" in data.decode("utf-8")
    assert "khao_sat.csv" in data.decode("utf-8")


def test_presentation_link_restores_the_view_it_carries():
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.query_params.update({"present": "1", "view": "2", "layers": "districts,roads_national",
                            "bbox": "105.8,21.4,105.95,21.5", "basemap": "none"})
    at.run()
    assert not at.exception
    assert at.session_state["present_on"] is True and at.session_state["present_index"] == 2
    view = at.session_state["present_views"][2]
    assert view["layers"] == ["districts", "roads_national"]
    assert view["bounds"] == [[21.4, 105.8], [21.5, 105.95]]
    assert at.query_params["layers"] in ("districts,roads_national", ["districts,roads_national"])


def test_unit_codes_between_map_page_and_export_page():
    from pages.url_codec import unit_key, unit_param

    assert unit_key("districts:165") == "165" and unit_key("165") == "165" and unit_key("province") == "province"
    assert unit_key("wards_2025:05809") is None and unit_key("") is None
    assert unit_param("165") == "districts:165" and unit_param("province") == "province"
    assert unit_key(unit_param("172")) == "172"


def test_current_view_survives_page_switch():
    """Streamlit drops the query parameters on a page switch: the view the map page wrote
    last is still "the current view" for the Export page."""
    at = AppTest.from_string(
        "import streamlit as st\n"
        "from pages.urlstate import current_view, write_state\n"
        "if st.session_state.get('phase', 0) == 0:\n"
        "    write_state(layers=['districts', 'infrastructure'], basemap='none',\n"
        "                bounds=[[21.43, 105.74], [21.56, 105.93]], unit='districts:165',\n"
        "                indicator='districts:density_2019')\n"
        "    write_state(remember=False, present=True, view=3, layers=['communes'])\n"
        "else:\n"
        "    st.session_state['seen'] = current_view()\n")
    at.run()
    assert not at.exception
    at.session_state["phase"] = 1
    for key in list(at.query_params):
        del at.query_params[key]
    at.run()
    seen = at.session_state["seen"]
    assert seen["layers"] == ["districts", "infrastructure"]  # not the presentation's write
    assert seen["bbox"] == [105.74, 21.43, 105.93, 21.56] and seen["unit"] == "districts:165"
    assert seen["indicator"] == "districts:density_2019" and seen["basemap"] == "none"
    # a link that carries a view wins over the session's memory
    at.query_params["layers"] = "roads_national"
    at.run()
    assert at.session_state["seen"]["layers"] == ["roads_national"] and "unit" not in at.session_state["seen"]


def test_map_page_view_preselects_print_and_deck_unit_and_prints_its_choropleth():
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.query_params.update({"layers": "districts,infrastructure", "bbox": "105.74,21.43,105.93,21.56",
                            "unit": "districts:165", "indicator": "districts:density_2019"})
    at.run()
    assert not at.exception
    assert at.selectbox(key="print_unit").value == "165" and at.selectbox(key="deck_unit").value == "165"
    at.radio(key="print_source").set_value("view").run()
    caption = " ".join(c.value for c in at.caption)
    assert "Huyện/thành phố (trước 2025)" in caption and "Mật độ 2019" in caption  # titles, not ids
    at.button(key="print_render").click().run()
    assert not at.exception and not at.error
    name, data, mime = at.session_state["print_file"]
    assert mime == "image/png" and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_register_template_is_offered_for_download():
    at = _page()
    buttons = {b.key: b for b in at.get("download_button")}
    assert "register_template" in buttons and buttons["register_template"].label == t("register.template_download", "vi")


def test_deck_takes_the_coverage_pages_suggestion():
    """A suggestion made on the coverage page (session state) is offered to the deck and
    lands as its own slide after the coverage slide."""
    from pptx import Presentation

    from geo import coverage as cov
    from geo import suggest as sg
    from geo.catalog import load_layer
    from geo.population import census_grid

    units = load_layer("districts")
    city = units[units["name"] == "Thành phố Sông Công"]
    grid = census_grid(load_layer("communes"), "population_2019", 100.0)
    cells = cov.prepare_cells(grid, city, "level2_id", "name")
    cand = sg.grid_candidates(city, grid.crs, 1000.0, grid=grid)
    s = sg.suggest(sg.build_problem(cells, cov.nearest_distance(cells, cov.facility_xy(units.iloc[0:0], grid.crs)),
                                    sg.Reach(2000.0), cand), 2, method="greedy")
    s.category = "health"
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["sug_result"] = (("health",), s)
    at.run()
    box = at.checkbox(key="deck_suggestion")
    assert box.label == t("present.deck_suggestion", "vi", n=2) and box.value
    at.selectbox(key="deck_unit").set_value("165")
    at.button(key="deck_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    name, data, _ = at.session_state["deck_file"]
    titles = [sl.shapes.title.text for sl in Presentation(io.BytesIO(data)).slides]
    assert titles[3:5] == [t("report.coverage_title", "vi"), "Nên xây cơ sở y tế mới ở đâu"]
    # the default territory: the city as today's 2025 units
    assert titles[1] == t("report.map_title_today", "vi", city="Thành phố Sông Công")


def test_deck_offers_a_city_as_todays_units_or_as_before_2025():
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.run()
    radio = at.radio(key="deck_territory")
    assert radio.value == "2025"   # what a planner expects today: the 2025 units formed from the city's communes
    assert list(radio.options) == [t("report.territory_2025", "vi"), t("report.territory_2020", "vi")]
    at.selectbox(key="deck_unit").set_value("province").run()
    assert not [r for r in at.radio if r.key == "deck_territory"]   # the province deck has one territory

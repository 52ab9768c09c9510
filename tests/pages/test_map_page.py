"""AppTest for the entry point and the map explorer page."""
from __future__ import annotations

from html import unescape
from pathlib import Path

import shapely
from streamlit.testing.v1 import AppTest

from geo.catalog import load_layer

ROOT = Path(__file__).resolve().parents[2]


def _page(lang: str = "vi") -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "map_explorer.py"), default_timeout=120)
    at.session_state["lang"] = lang
    return at


def test_app_entry_runs_in_vietnamese_with_navigation() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "Bản đồ tỉnh Thái Nguyên và ba đô thị thông minh"
    assert at.radio(key="_lang_choice").value == "vi"


def test_app_wide_basemap_is_none_when_offline_is_configured(monkeypatch) -> None:
    monkeypatch.setenv("ATLAS_OFFLINE", "1")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.selectbox(key="_basemap_choice_vi").value == "none"
    assert at.session_state["basemap"] == "none"
    # a shared link's basemap wins over the default
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["basemap"] = "osm"
    at.run()
    assert at.selectbox(key="_basemap_choice_vi").value == "osm"


def test_map_page_widgets_and_language_switch() -> None:
    at = _page("vi").run()
    assert not at.exception
    assert "districts" in at.multiselect(key="layers_vi").value
    assert at.radio(key="zoom_to_vi").options[0] == "Toàn tỉnh"
    at.session_state["lang"] = "en"
    at.run()
    assert at.title[0].value == "Thái Nguyên province and its three smart cities"
    assert at.radio(key="zoom_to_en").options[0] == "Whole province"


def test_zoom_to_song_cong_shows_its_figures() -> None:
    at = _page("vi").run()
    at.radio(key="zoom_to_vi").set_value("tp_song_cong").run()
    assert not at.exception
    assert any("Thành phố Sông Công" in m.value for m in at.markdown)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Dân số (2019)"] == "69.382"


def test_click_on_map_selects_the_unit_under_the_click() -> None:
    at = _page("vi").run()
    districts = load_layer("districts")
    geom = districts.loc[districts["level2_id"] == "172"].geometry.iloc[0]
    pt = shapely.point_on_surface(geom)
    at.session_state["explorer_map"] = {"last_clicked": {"lat": pt.y, "lng": pt.x}}
    at.run()
    assert not at.exception
    assert any("Thành phố Phổ Yên" in m.value for m in at.markdown)


def test_search_without_diacritics_and_choropleth() -> None:
    at = _page("vi").run()
    at.text_input(key="unit_search_vi").set_value("pho yen").run()
    options = at.selectbox(key="search_pick_vi").options
    assert any("Phổ Yên" in o for o in options)
    at.radio(key="units_mode_vi").set_value("choropleth").run()
    assert not at.exception
    assert at.selectbox(key="choro_column_vi").value == "population_2019"
    at.selectbox(key="scheme_vi").set_value("natural_breaks").run()
    assert not at.exception


def test_missing_and_corrupt_files_leave_the_rest_working(tmp_path: Path, monkeypatch) -> None:
    import geo.catalog as cat

    for f in ("districts_pre2025.geojson", "province_pre2025.geojson", "wards_2025.geojson"):
        (tmp_path / f).write_bytes((ROOT / "data" / "shapefiles" / f).read_bytes())
    (tmp_path / "communes_pre2025.geojson").write_text('{"type": "FeatureCollection", "features": [')
    monkeypatch.setattr(cat, "DATA_DIR", tmp_path)
    at = _page("vi").run()
    assert not at.exception
    warnings = unescape(" ".join(w.value for w in at.warning))   # shown literally
    assert "communes_pre2025.geojson" in warnings and "bị hỏng" in warnings
    assert "infrastructure.geojson" in warnings and "Thiếu tệp" in warnings
    assert len(at.warning) == len({w.value for w in at.warning})  # each problem said once
    at.radio(key="zoom_to_vi").set_value("pho_yen").run()
    assert not at.exception
    assert any("Thành phố Phổ Yên" in m.value for m in at.markdown)


def test_page_state_lives_in_the_url_and_a_link_restores_it() -> None:
    at = _page("vi")
    at.query_params.update({"layers": "districts,wards_2025", "basemap": "none", "unit": "districts:165",
                            "indicator": "wards_2025:density_2025"})
    at.run()
    assert not at.exception
    assert at.multiselect(key="layers_vi").value == ["districts", "wards_2025"]
    assert at.session_state["basemap"] == "none"
    assert at.selectbox(key="choro_column_vi").value == "density_2025"
    assert any("Thành phố Sông Công" in m.value for m in at.markdown)  # the linked unit is selected
    at.radio(key="zoom_to_vi").set_value("pho_yen").run()
    assert at.query_params["unit"] in ("districts:172", ["districts:172"])
    assert at.query_params["bbox"] and at.query_params["layers"] in ("districts,wards_2025", ["districts,wards_2025"])


def test_saved_vector_layers_are_offered_and_drawn_rasters_are_not(tmp_path: Path, workspace_file: Path, editor) -> None:
    import geopandas as gpd
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin
    from shapely.geometry import Point

    from geo import workspace

    pts = gpd.GeoDataFrame({"tên": ["Trạm <b>A</b>"]}, geometry=[Point(105.84, 21.59)], crs=4326)
    workspace.save_layer("Trạm y tế mới", pts, editor=editor)
    tif = tmp_path / "pop.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_origin(105.8, 21.6, 0.01, 0.01)) as dst:
        dst.write(np.ones((1, 2, 2), dtype="float32"))
    workspace.save_raster("Dân số raster", tif, editor=editor)
    at = _page("vi").run()
    options = at.multiselect(key="my_layers_vi").options
    assert options == ["Trạm y tế mới"]
    at.multiselect(key="my_layers_vi").set_value(["Trạm y tế mới"]).run()
    assert not at.exception


def _map_args(at: AppTest) -> dict:
    """The arguments the page gave the map component (centre, zoom, ...)."""
    import json

    def walk(node):
        for child in getattr(node, "children", {}).values():
            yield child
            yield from walk(child)

    for el in walk(at._tree):
        if type(el).__name__ == "UnknownElement" and el.type == "component_instance" \
                and "explorer_map" in el.proto.id:
            return json.loads(el.proto.json_args)
    raise AssertionError("no map component on the page")


def test_link_center_and_zoom_place_the_map_and_stay_in_the_url() -> None:
    at = _page("vi")
    at.query_params.update({"center": "21.49,105.83", "zoom": "13", "basemap": "none"})
    at.run()
    assert not at.exception and not at.warning
    args = _map_args(at)
    assert args["center"] == [21.49, 105.83] and args["zoom"] == 13
    assert at.query_params["center"] in ("21.49,105.83", ["21.49,105.83"])
    assert at.query_params["zoom"] in ("13", ["13"])
    # choosing a city replaces the link's view by the city's extent
    at.radio(key="zoom_to_vi").set_value("tp_song_cong").run()
    assert _map_args(at)["center"] != [21.49, 105.83]
    assert "center" not in at.query_params and at.query_params["bbox"]
    # without a link the map shows the province
    plain_page = _page("vi").run()
    assert _map_args(plain_page)["center"] != [21.49, 105.83]


def test_link_with_only_unknown_layers_uses_the_default_layers() -> None:
    default = _page("vi").run().multiselect(key="layers_vi").value
    at = _page("vi")
    at.query_params["layers"] = "../../etc/passwd,foo"
    at.run()
    assert not at.exception
    assert at.multiselect(key="layers_vi").value == default and default
    assert at.query_params["layers"] in (",".join(default), [",".join(default)])
    assert any("layers" in w.value and "mặc định" in w.value for w in at.warning)


def test_link_with_some_unknown_layers_keeps_the_known_ones_and_names_the_others() -> None:
    at = _page("en")
    at.query_params["layers"] = "districts,foo,wards_2025"
    at.run()
    assert not at.exception
    assert at.multiselect(key="layers_en").value == ["districts", "wards_2025"]
    assert at.query_params["layers"] in ("districts,wards_2025", ["districts,wards_2025"])
    warnings = " ".join(w.value for w in at.warning)
    assert "foo" in warnings and "districts" not in warnings


def test_search_without_match_says_so() -> None:
    at = _page("vi").run()
    at.text_input(key="unit_search_vi").set_value("zzzz").run()
    assert not at.exception
    assert any("zzzz" in i.value and "Không tìm thấy" in i.value for i in at.info)


def test_zoom_choices_name_the_three_cities_as_the_unit_registry_does() -> None:
    from geo.units import programme_cities

    cities = programme_cities()
    at = _page("vi").run()
    options = at.radio(key="zoom_to_vi").options
    assert options == ["Toàn tỉnh", *[u.short_label("vi") for u in cities]]
    assert all(o.startswith("TP ") for o in options[1:]) and "TP Phổ Yên" in options   # a city since 2022
    at.session_state["lang"] = "en"
    at.run()
    options = at.radio(key="zoom_to_en").options
    assert options[1:] == [u.label("en") for u in cities] and all(o.endswith(" City") for o in options[1:])


LINKS = [  # what the page's shared links can carry (pages/url_codec.py)
    {},
    {"layers": "districts,infrastructure", "categories": "health,post", "basemap": "none"},
    {"layers": "communes", "indicator": "communes:density_2019", "scheme": "quantiles", "classes": "6"},
    {"layers": "wards_2025,province_pre2025", "indicator": "wards_2025:population_2019_carried"},
    {"bbox": "105.74,21.43,105.93,21.56", "unit": "districts:165", "categories": ""},
    {"center": "21.49,105.83", "zoom": "12", "lang": "en"},
]


def test_first_run_sends_the_map_its_widgets_then_make(caplog) -> None:
    """A session's first run sends the map before the widgets, from the values they start
    with: for every kind of link the widgets then make that same view (no second drawing),
    and the map is the one a later run (widgets first) shows."""
    import logging

    caplog.set_level(logging.WARNING, logger="atlas")
    for link in LINKS:
        at = _page("vi")
        at.query_params.update(link)
        at.run()
        assert not at.exception, (link, at.exception)
        assert not [r for r in caplog.records if "map sent before" in r.getMessage()], link
        first = _map_args(at)
        at.run()   # a later run: widgets first, the map from their values
        again = _map_args(at)
        assert (first["script"], first["center"], first["zoom"]) == (again["script"], again["center"], again["zoom"]), link


def test_a_widget_that_starts_elsewhere_gets_its_map_drawn_again(caplog) -> None:
    """The safety net: a widget whose first value is not the link's/default (its value set
    before the page ran) makes the page draw again with the widgets' view."""
    import logging

    caplog.set_level(logging.WARNING, logger="atlas")
    default = _map_args(_page("vi").run())
    at = _page("vi")
    at.session_state["layers_vi"] = ["districts"]
    at.run()
    assert not at.exception
    assert [r for r in caplog.records if "map sent before" in r.getMessage()]
    assert at.multiselect(key="layers_vi").value == ["districts"]
    assert _map_args(at)["script"] != default["script"]


def _elements(at: AppTest):
    def walk(node):
        for child in getattr(node, "children", {}).values():
            yield child
            yield from walk(child)
    return list(walk(at._tree))


def _widgets(at: AppTest) -> list[str]:
    return [w.key for kind in (at.radio, at.multiselect, at.selectbox, at.text_input) for w in kind]


def test_a_browsers_first_view_is_the_map_alone_then_the_rest(monkeypatch) -> None:
    """A browser session's first run of app.py on the map page sends the title, the map and the
    row above it (zoom, search; no other widget), clears the loading indicator and marks the
    session loaded; the
    map's script asks for the rest once painted; that rerun draws the sidebar switches and the
    controls, and its map is the same one (same view, same place)."""
    from pages import common
    from pages.map_component import DRAWN

    monkeypatch.setattr(common, "browser_session", lambda: True)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "Bản đồ tỉnh Thái Nguyên và ba đô thị thông minh"
    assert _widgets(at) == ["zoom_to_vi", "unit_search_vi"]
    assert not [e for e in _elements(at) if "atlas-loading" in str(getattr(e, "proto", ""))]
    assert at.session_state[common.LOADED_KEY] is True
    first = _map_args(at)
    assert f"setComponentValue({{{DRAWN}: true}})" in first["script"]

    at.session_state["explorer_map"] = {DRAWN: True}   # what the map's frame sends once painted
    at.run()
    assert not at.exception
    assert {"_lang_choice", "_basemap_choice_vi", "layers_vi", "zoom_to_vi"} <= set(_widgets(at))
    again = _map_args(at)
    assert DRAWN not in again["script"] and again["script"] in first["script"]
    assert (first["center"], first["zoom"]) == (again["center"], again["zoom"])


def test_without_a_browser_the_first_run_draws_everything() -> None:
    """No browser behind the session (nothing could report the map drawn): one run draws all."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert {"_lang_choice", "layers_vi"} <= set(_widgets(at))
    assert "setComponentValue" not in _map_args(at)["script"]


def test_every_link_first_viewed_alone_then_drawn_makes_the_same_map(monkeypatch) -> None:
    """For every kind of shared link, the map sent alone is the map the widgets then make."""
    from pages import common
    from pages.map_component import DRAWN

    monkeypatch.setattr(common, "browser_session", lambda: True)
    for link in LINKS:
        at = _page("vi")
        at.query_params.update(link)
        at.run()
        assert not at.exception, (link, at.exception)
        assert _widgets(at) == ["zoom_to_vi", "unit_search_vi"], link
        first = _map_args(at)
        at.session_state["explorer_map"] = {DRAWN: True}
        at.run()
        assert not at.exception, (link, at.exception)
        again = _map_args(at)
        assert again["script"] in first["script"] and DRAWN in first["script"], link
        assert (first["center"], first["zoom"]) == (again["center"], again["zoom"]), link

"""Data page through AppTest: import report, refusals, save, rename, delete."""
from __future__ import annotations

from html import unescape
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo import workspace as ws
from geo.auth import configure_test_editor
from geo.i18n import t
from tests import corpus as C

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "data.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _at_repo_root(workspace_file, monkeypatch):
    monkeypatch.chdir(ROOT)


def page(lang="en", pending=None, signed_in=True) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["lang"] = lang
    if signed_in:   # saving, renaming and deleting are editor actions
        at.session_state["ind_editor"] = configure_test_editor()[1]
    if pending is not None:
        at.session_state["data_pending"] = pending
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _upload(maker, tmp_path):
    p = maker(tmp_path)
    return (p.name, p.read_bytes())


def test_empty_workspace(tmp_path):
    at = page()
    assert at.title[0].value == "My data"
    assert [i.value for i in at.info] == ["No layers saved yet."]


def test_report_then_save_rename_delete(tmp_path):
    at = page(pending=_upload(C.make_shp_tcvn3, tmp_path))
    report = at.text[0].value
    assert "Column 'ten': converted from TCVN3 (ABC) to Unicode" in report
    assert "recognised as VN-2000 (EPSG:9213)" in report
    assert list(at.dataframe[0].value["ten"]) == C.UNICODE_NAMES
    at.text_input(key="data_save_name").set_value("Phường (TCVN3)")
    at.button(key="data_save").click().run()
    assert not at.exception
    assert [x["name"] for x in ws.list_layers()] == ["Phường (TCVN3)"]
    assert unescape(at.success[0].value) == "Saved layer 'Phường (TCVN3)' (3 features)."
    cells = list(at.table[0].value["Name"])   # escaped for Markdown and HTML, shown literally
    assert [unescape(c) for c in cells] == ["Phường (TCVN3)"]
    at.text_input(key="data_new_name").set_value("Wards")
    at.button(key="data_rename").click().run()
    assert [x["name"] for x in ws.list_layers()] == ["Wards"]
    at.checkbox(key="data_confirm_delete").check().run()
    at.button(key="data_delete").click().run()
    assert ws.list_layers() == []
    assert [i.value for i in at.info] == ["No layers saved yet."]


def test_refusal_is_one_sentence_and_workspace_untouched(tmp_path):
    at = page(lang="vi", pending=_upload(C.make_zip_bomb, tmp_path), signed_in=False)
    assert len(at.error) == 1
    assert "bom zip" in at.error[0].value and "'bomb.zip'" in unescape(at.error[0].value)
    assert not (tmp_path / "ws.gpkg").exists()


def test_multilayer_offers_a_choice(tmp_path):
    at = page(pending=_upload(C.make_gpkg_multilayer, tmp_path))
    assert "several layers" in at.error[0].value
    assert at.selectbox(key="data_layer").options == ["automatic", "diem", "vung"]
    assert at.selectbox(key="data_layer").index == 0
    at.session_state["data_layer"] = "vung"
    at.run()
    assert not at.error and "Layer: vung (of 2)" in at.text[0].value


def test_mixed_kml_kind_choice(tmp_path):
    at = page(pending=_upload(C.make_kml_mixed, tmp_path))
    assert "mixes geometry kinds" in at.error[0].value
    at.session_state["data_kind"] = "points"
    at.run()
    assert not at.error and "Kept points; left out: polygons (1)" in at.text[0].value


def test_warnings_and_markdown_escaped(tmp_path):
    at = page(pending=_upload(C.make_csv_swapped, tmp_path))
    assert "switched back" in at.warning[0].value
    at = page(pending=("[x](http://evil.example)*.geojson", b""))
    shown = unescape(at.error[0].value).replace("\u2060", "")   # literal text; bare URLs split invisibly
    assert shown.startswith("The file '[x](http:") and "](" not in at.error[0].value
    at = page(pending=("ranh gioi.csv", b"lat,lon\n21.5,105.8\n"))
    at.text_input(key="data_crs").set_value("banana").run()
    assert "given for 'ranh gioi.csv'" in unescape(at.error[0].value)


def test_raster_saved(tmp_path):
    at = page(pending=_upload(C.make_geotiff, tmp_path))
    assert "Sum of band 1: 77" in at.text[0].value
    at.button(key="data_save").click().run()
    assert [(x["name"], x["kind"]) for x in ws.list_layers()] == [("pop", "raster")]


def _all_values(at):
    out = []
    for kind in ("markdown", "text", "code", "json", "caption"):
        out += [str(getattr(e, "value", "")).strip("`") for e in getattr(at, kind)]
    return out


def test_choice_refusal_opens_the_options_and_nothing_stray_is_printed(tmp_path):
    at = page(lang="vi", pending=_upload(C.make_kml_mixed, tmp_path))
    assert "(điểm: 2, đường: 0, vùng: 1)" in unescape(at.error[0].value) and "Tuỳ chọn đọc" in at.error[0].value
    assert at.expander[0].proto.expanded  # the kind choice is in view, not hidden
    assert at.selectbox(key="data_kind").options == ["tự động", "điểm", "đường", "vùng"]
    assert at.selectbox(key="data_kind").index == 0  # shows "tự động", not an empty "Choose an option"
    assert at.selectbox(key="data_encoding").options == ["tự nhận", "UTF-8 (Unicode)", "TCVN3 (ABC)",
                                                         "VNI-Windows", "Windows-1258"]
    # a second upload in the same session replaces the staged file: no Streamlit "magic"
    # output of a bare expression ("None") appears
    at.session_state["data_pending"] = _upload(C.make_csv_vn_bom, tmp_path)
    at.run()
    assert not at.exception and "Format: CSV" not in at.text[0].value and "Định dạng: CSV" in at.text[0].value
    assert not at.expander[0].proto.expanded and "None" not in _all_values(at)


def test_warnings_shown_once(tmp_path):
    at = page(pending=_upload(C.make_csv_swapped, tmp_path))
    report = at.text[0].value
    assert "Format: CSV" in report and "switched back" not in report
    assert len([w for w in at.warning if "switched back" in w.value]) == 1


def test_upload_cap_is_configurable(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_MAX_UPLOAD_MB", "5")
    at = page()
    uploader = next(e for e in at.main.children.values() if type(e).__name__ == "FileUploader")
    assert uploader.proto.max_upload_size_mb == 5  # the browser refuses bigger files before sending them
    # and the server refuses them too (e.g. a script or test handing over bytes directly)
    at = page(pending=("big.csv", b"lat,lon\n" + b"21.5,105.8\n" * 600_000))
    assert unescape(at.error[0].value).startswith("The file 'big.csv' is too large (6.30 MB, limit 5 MB)")


def test_viewer_can_check_a_file_but_not_save_rename_or_delete(tmp_path):
    editor = configure_test_editor()[1]
    ws.save_layer("kept", ws_points(tmp_path), editor=editor)
    at = page(pending=_upload(C.make_csv_vn_bom, tmp_path), signed_in=False)
    assert at.text[0].value   # the report is shown
    keys = {b.key for b in at.button}
    assert not keys & {"data_save", "data_rename", "data_delete"}
    assert any(t("data.sign_in_to_save", "en") == i.value for i in at.info)
    # a session state forged to hold a hand-made Editor cannot write either
    from geo.auth import Editor
    forged = page(pending=_upload(C.make_csv_vn_bom, tmp_path), signed_in=False)
    forged.session_state["ind_editor"] = Editor("tester", "Test Editor")
    forged.run()
    forged.button(key="data_save").click().run()
    assert [x["name"] for x in ws.list_layers()] == ["kept"]
    assert any(t("store_errors.not_editor", "en") in unescape(e.value) for e in forged.error)


def ws_points(tmp_path):
    from geo.io import read_any
    return read_any(C.make_csv_vn_bom(tmp_path))[0]


def test_header_row_choice_for_a_sheet_with_title_rows(tmp_path):
    """A table under a title row: the page finds the header by itself and says where; the
    header-row choice reads the sheet from the row the user names."""
    body = "\n".join(f"{n},{y},{x}" for n, (x, y, _) in zip(C.UNICODE_NAMES, C.PLACES))
    text = f"DANH SÁCH CƠ SỞ Y TẾ,,\nTên,Vĩ độ,Kinh độ\n{body}\n"
    at = page(pending=("bang.csv", text.encode("utf-8")))
    assert not at.error and list(at.dataframe[0].value["Tên"]) == C.UNICODE_NAMES
    assert "Table header found at row 2" in " ".join(unescape(w.value) for w in at.warning)
    at.number_input(key="data_header_row").set_value(1).run()
    assert not at.exception and "No coordinate columns" in unescape(at.error[0].value)
    at.number_input(key="data_header_row").set_value(2).run()
    assert not at.error and list(at.dataframe[0].value["Tên"]) == C.UNICODE_NAMES


def test_an_editor_declares_a_saved_point_layer_the_authoritative_source(tmp_path, monkeypatch):
    import geopandas as gpd
    from shapely.geometry import Point

    from geo.register import authoritative_source

    editor = configure_test_editor()[1]
    ws.save_layer("Trạm y tế (Sở Y tế)", gpd.GeoDataFrame({"name": ["TYT A"]}, geometry=[Point(105.84, 21.59)],
                                                          crs=4326), editor=editor)
    viewer = page(signed_in=False)
    assert "Sign in as an editor" in " ".join(i.value for i in viewer.info)  # nobody signed in: no declaring
    at = page()
    at.selectbox(key="reg_category").select("health").run()
    at.selectbox(key="reg_layer").select("Trạm y tế (Sở Y tế)").run()
    at.button(key="reg_declare").click().run()
    assert not at.exception
    decl = authoritative_source("health")
    assert decl is not None and decl.layer == "Trạm y tế (Sở Y tế)" and decl.declared_by == editor.username
    assert "Trạm y tế (Sở Y tế)" in list(at.table[-1].value.iloc[:, 1]) or \
        any("Trạm y tế" in str(v) for tb in at.table for v in tb.value.to_numpy().ravel())

"""Text folding, HTML escaping and the string catalog."""
from __future__ import annotations

import re
from pathlib import Path


from geo.i18n import LANGS, catalog, fmt_number, fmt_percent, t
from geo.text import escape, fold, join_key, strip_unit_type


def test_fold_ignores_diacritics_case_and_spaces() -> None:
    assert fold("  Phổ   YÊN ") == "pho yen"
    assert fold("Đồng Hỷ") == "dong hy"
    assert join_key("TháiNguyên") == join_key("Thành phố Thái Nguyên") == "thainguyen"
    assert strip_unit_type("Thị xã Sông Công") == "song cong"
    assert join_key("Hoà Bình") == join_key("Hòa Bình")


def test_escape_neutralises_markup() -> None:
    assert escape('<img src=x onerror="alert(1)">') == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    assert escape(None) == ""


def test_vietnamese_number_format() -> None:
    assert fmt_number(1286751, "vi") == "1.286.751"
    assert fmt_number(1286751, "en") == "1,286,751"
    assert fmt_number(12.5, "vi") == "12,5"
    assert fmt_percent(0.125, "vi") == "12,5%"
    assert fmt_number(float("nan"), "vi") == t("common.no_data", "vi") == "không có dữ liệu"


def test_every_catalog_string_has_both_languages_and_valid_placeholders() -> None:
    for key, texts in catalog().items():
        for lang in LANGS:
            assert texts.get(lang), f"{key} lacks {lang}"
        assert set(re.findall(r"{(\w+)}", texts["vi"])) == set(re.findall(r"{(\w+)}", texts["en"])), key


def test_translation_with_params_formats_numbers() -> None:
    assert t("map.search_none", "en", q="xyz") == "No unit matches 'xyz'."
    assert "1.234" in t("map.search_none", "vi", q=1234)
    assert t("no.such.key", "vi") == "no.such.key"


def test_no_streamlit_import_in_geo() -> None:
    root = Path(__file__).resolve().parents[1] / "geo"
    offenders = [p.name for p in root.rglob("*.py") if re.search(r"^\s*(import|from)\s+streamlit", p.read_text(), re.M)]
    assert offenders == []

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


def test_escape_leaves_no_template_syntax_nor_template_literal_end() -> None:
    # Jinja ({{ {% {#), a JS template literal's end (`) and a stray backslash escape are entities;
    # the browser shows the text unchanged
    import html

    text = "{{ 7*7 }} {% x %} {# c #} `+alert(1)+` \\u{zz} ${x}"
    out = escape(text)
    assert not set(out) & set("{}`\\<>\"'")
    assert html.unescape(out) == text


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


def test_spreadsheet_safe_neutralises_formulas_only_in_text() -> None:
    import pandas as pd

    from geo.text import spreadsheet_safe

    df = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "+1", "Phổ Yên", "@SUM(A1)", None],
                       "n": [-1, 2, 3, 4, 5]})
    out = spreadsheet_safe(df)
    assert out["name"].tolist()[:4] == ["'=HYPERLINK(\"http://x\")", "'+1", "Phổ Yên", "'@SUM(A1)"]
    assert out["n"].tolist() == [-1, 2, 3, 4, 5] and df["name"].iloc[0].startswith("=")  # input untouched


def test_csv_export_cannot_carry_a_formula(tmp_path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from geo.export import export_vector, user_credits

    gdf = gpd.GeoDataFrame({"name": ["=cmd|' /C calc'!A0"]}, geometry=[Point(105.8, 21.6)], crs=4326)
    export_vector(gdf, "csv", tmp_path / "x.csv", credits=user_credits("test"))
    text = next(tmp_path.rglob("*.csv")).read_text(encoding="utf-8-sig")
    assert "'=cmd" in text and ",=cmd" not in text and "\n=cmd" not in text


def test_years_are_never_written_with_thousands_separators():
    """A year placeholder (year, period, first/last of a range) is a year, not a quantity:
    "từ 2015 đến 2100", never "2.015"/"2,015" — whatever type the caller passed."""
    from geo.errors import AtlasError
    from geo.i18n import t

    for lang in ("vi", "en"):
        msg = AtlasError("store_errors.unknown_period", period=1999, first=2015, last=2100).message(lang)
        assert "2015" in msg and "2100" in msg and "1999" in msg
        assert "2.015" not in msg and "2,015" not in msg and "2.100" not in msg and "2,100" not in msg
        assert "2030" in t("readiness.gap_met", lang, unit="A", indicator="B", year=2030.0)
        # quantities still are numbers: 3.000 / 3,000
        assert t("readiness.snapshot_saved", lang, n=3000, year=2026).count("2026") == 1
    assert "3.000" in t("readiness.snapshot_saved", "vi", n=3000, year=2026)

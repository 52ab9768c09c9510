"""The council deck: PPTX opened with python-pptx, PDF pages counted, sections degrade to
"no data" when an engine is missing."""
from __future__ import annotations

import re
import sys

import pytest
from pptx import Presentation

from geo import report
from geo.errors import AtlasError
from geo.printmap import unit_layers


@pytest.fixture(autouse=True)
def _workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_WORKSPACE", str(tmp_path / "ws.gpkg"))


@pytest.fixture(scope="module")
def deck_vi():
    return report.build_deck("TP Sông Công", "vi")


EXPECTED_VI = ["Thành phố Sông Công: hạ tầng", "Thành phố Sông Công và các xã/phường", "Hạ tầng và dịch vụ",
               "Độ bao phủ dịch vụ", "Mức sẵn sàng so với mục tiêu 2025 và 2030", "Nguồn dữ liệu"]


def test_pptx_titles_and_slide_count(tmp_path, deck_vi):
    out = report.to_pptx(deck_vi, tmp_path / "deck.pptx")
    prs = Presentation(out)
    titles = [s.shapes.title.text for s in prs.slides]
    assert len(titles) == 6
    for got, want in zip(titles, EXPECTED_VI):
        assert got.startswith(want)
    # the map slide has a picture; coverage and scorecard have tables with one row per item
    map_slide, infra, coverage, score = list(prs.slides)[1:5]
    assert any(sh.shape_type == 13 for sh in map_slide.shapes)  # PICTURE
    cov_tables = [sh.table for sh in coverage.shapes if sh.has_table]
    assert cov_tables and len(cov_tables[0].rows) == len(report.SERVICES) + 1
    assert cov_tables[0].cell(1, 0).text == "Y tế"
    shares = [cov_tables[0].cell(i, 4).text for i in range(1, len(cov_tables[0].rows))]
    assert all(re.fullmatch(r"\d{1,3},\d%", s) for s in shares), shares
    score_tables = [sh.table for sh in score.shapes if sh.has_table]
    assert score_tables and score_tables[0].cell(0, 2).text == "Mục tiêu 2025"
    assert prs.slide_width > prs.slide_height


def test_coverage_matches_scorecard(deck_vi):
    """One number per fact: the coverage slide and the scorecard agree on health access."""
    cov = deck_vi.slides[3].table
    score = deck_vi.slides[4].table
    health_share = cov.rows[0][4]
    health_row = [r for r in score.rows if "y tế" in r[0]]
    assert health_row and health_share.replace("%", "").strip() in health_row[0][1].replace(" %", "")


def test_pdf_has_one_page_per_slide(tmp_path, deck_vi):
    out = report.to_pdf(deck_vi, tmp_path / "deck.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages == len(deck_vi.slides) == 6
    assert b"DejaVuSans" in data


def test_english_deck_for_the_province(tmp_path):
    out = report.build_report("Tỉnh Thái Nguyên", "pptx", tmp_path / "prov", lang="en")
    assert out.suffix == ".pptx"
    titles = [s.shapes.title.text for s in Presentation(out).slides]
    assert titles[0].startswith("Thái Nguyên province: infrastructure")
    assert titles[-1].startswith("Data sources")


def test_missing_engine_gives_a_no_data_slide(monkeypatch):
    ul = unit_layers("Phổ Yên")
    monkeypatch.setitem(sys.modules, "geo.coverage", None)  # import now fails
    slide = report._coverage_slide(ul, "vi")
    assert slide.table is None and "Chưa có dữ liệu" in slide.bullets[0]
    monkeypatch.setitem(sys.modules, "geo.indicators", None)
    slide = report._scorecard_slide(ul, "en")
    assert "No data" in slide.bullets[0]


def test_unknown_unit_and_format(tmp_path):
    with pytest.raises(AtlasError) as err:
        report.build_report("Hà Giang", "pptx", tmp_path / "x.pptx")
    assert "TP" in err.value.message("vi") or "Thành phố" in err.value.message("vi")
    with pytest.raises(AtlasError):
        report.build_report("TP Sông Công", "docx", tmp_path / "x.docx")

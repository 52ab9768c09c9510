"""The council deck: PPTX opened with python-pptx, PDF pages counted, sections degrade to
"no data" when an engine is missing."""
from __future__ import annotations

import re

import pytest
from pptx import Presentation

from geo import report
from geo.catalog import get_catalog
from geo.errors import AtlasError
from geo.printmap import unit_layers

pytestmark = pytest.mark.usefixtures("workspace_file")


@pytest.fixture(scope="module")
def deck_vi():
    return report.build_deck("TP Sông Công", "vi")


EXPECTED_VI = ["Thành phố Sông Công (theo 3 xã/phường 2025): hạ tầng",   # default: the city as today's units
               "Thành phố Sông Công hôm nay: các xã/phường từ 1/7/2025", "Hạ tầng và dịch vụ",
               "Độ bao phủ dịch vụ", "Mức sẵn sàng so với mục tiêu 2025 và 2030", "Nguồn dữ liệu",
               "Văn bản, nguồn chỉ tiêu"]


def test_pptx_titles_and_slide_count(tmp_path, deck_vi):
    out = report.to_pptx(deck_vi, tmp_path / "deck.pptx")
    prs = Presentation(out)
    titles = [s.shapes.title.text for s in prs.slides]
    assert len(titles) == len(EXPECTED_VI)
    for got, want in zip(titles, EXPECTED_VI):
        assert got.startswith(want)
    # the map slide has a picture; coverage and scorecard have tables with one row per item
    map_slide, infra, coverage, score = list(prs.slides)[1:5]
    assert any(sh.shape_type == 13 for sh in map_slide.shapes)  # PICTURE
    cov_tables = [sh.table for sh in coverage.shapes if sh.has_table]
    assert cov_tables and len(cov_tables[0].rows) == len(report.SERVICES) + 1
    assert cov_tables[0].cell(1, 0).text == get_catalog().categories["health"].title("vi")  # catalog title
    shares = [cov_tables[0].cell(i, 4).text for i in range(1, len(cov_tables[0].rows))]
    # a share on incomplete facility data is a lower bound; a unit without any is "no facility data" (issue 9 §3)
    assert all(re.fullmatch(r"(ít nhất )?\d{1,3},\d%|không có dữ liệu cơ sở", s) for s in shares), shares
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
    assert pages == len(deck_vi.slides) == len(EXPECTED_VI)
    assert b"DejaVuSans" in data


def test_english_deck_for_the_province(tmp_path):
    out = report.build_report("Tỉnh Thái Nguyên", "pptx", tmp_path / "prov", lang="en")
    assert out.suffix == ".pptx"
    titles = [s.shapes.title.text for s in Presentation(out).slides]
    assert titles[0].startswith("Thái Nguyên province: infrastructure")
    assert titles[-2].startswith("Data sources") and titles[-1].startswith("Documents")


def test_missing_engine_gives_a_no_data_slide(monkeypatch):
    ul = unit_layers("Phổ Yên")

    def refuse(*_a, **_k):
        raise AtlasError("coverage_errors.no_overlap")   # a question the coverage service cannot answer

    monkeypatch.setattr(report, "coverage_table", refuse)
    slide = report._coverage_slide(ul, "vi")
    assert slide.table is None and "Chưa có dữ liệu" in slide.bullets[0]
    monkeypatch.setattr(report, "scorecard", refuse)   # a scorecard that cannot be built: the same "no data" slide
    slide = report._scorecard_slide(ul, "en")
    assert "No data" in slide.bullets[0]


def test_unknown_unit_and_format(tmp_path):
    with pytest.raises(AtlasError) as err:
        report.build_report("Hà Giang", "pptx", tmp_path / "x.pptx")
    assert "TP" in err.value.message("vi") or "Thành phố" in err.value.message("vi")
    with pytest.raises(AtlasError):
        report.build_report("TP Sông Công", "docx", tmp_path / "x.docx")


def _inside_slide(prs, shape) -> bool:
    return (shape.left >= 0 and shape.top >= 0 and shape.width > 0 and shape.height > 0
            and shape.left + shape.width <= prs.slide_width and shape.top + shape.height <= prs.slide_height)


def test_pptx_every_shape_has_a_box_on_the_slide(tmp_path, deck_vi):
    """The title slide's title and subtitle have real, separate boxes (python-pptx writes
    top = height = 0 when only left/width are set: the title then covers the subtitle)."""
    prs = Presentation(report.to_pptx(deck_vi, tmp_path / "deck.pptx"))
    for slide in prs.slides:
        for shape in slide.shapes:
            assert _inside_slide(prs, shape), (shape.name, shape.left, shape.top, shape.width, shape.height)
    first = prs.slides[0]
    title, sub = first.shapes.title, first.placeholders[1]
    assert title.top + title.height <= sub.top  # stacked, not overlapping
    from geo.i18n import fmt_number
    from geo.units import district_group

    # the official 2025 population of the units TP Sông Công is shown as (the default), formatted vi
    assert fmt_number(district_group("165").population, "vi") in sub.text_frame.text


def test_pdf_table_keeps_numbers_and_units_whole():
    table = report.Table(["Dịch vụ", "Bán kính", "Dân số (lưới)", "Được phục vụ", "Tỷ lệ", "Khoảng cách trung vị"],
                         [["Hành chính công", "3.000\u00a0m", "1.286.751", "871.834", "67,8%", "1,7\u00a0km"]] * 5)
    from matplotlib.figure import Figure

    # beside a chart, as on the coverage slide: the narrowest the table gets
    slide = report.Slide(title="Độ bao phủ dịch vụ", table=table, figure=lambda size: Figure(figsize=size))
    fig = report._pdf_page(slide, 4, 6, "vi")
    tables = [tab for ax in fig.axes for tab in ax.tables]
    assert len(tables) == 1
    texts = [cell.get_text().get_text() for cell in tables[0].get_celld().values()]
    assert any("1.286.751" in s for s in texts)
    assert not any(re.search(r"\d\n[\d.,]", s) for s in texts), texts  # no number split over lines
    assert not any(re.search(r"\d\n(m|km)\b", s) for s in texts)  # the unit stays with its number


def test_key_message_sits_below_the_chart_and_table_in_both_formats(tmp_path):
    """The caption (one key message) has its own band: no axes of the PDF page and no picture
    or table of the PPTX slide reaches into it (it used to be drawn over both)."""
    from matplotlib.figure import Figure

    table = report.Table(["a", "b", "c", "d", "e", "f"], [["Cơ quan hành chính nhà nước", "1", "2", "3", "4", "5"]] * 6)
    caption = "Thành phố Sông Công: ít nhất 51.300 người sống xa cơ sở y tế đã biết hơn 2 km. " * 3
    slide = report.Slide(title="Độ bao phủ dịch vụ", table=table, figure=lambda size: Figure(figsize=size),
                         caption=caption)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = report._pdf_page(slide, 4, 6, "vi")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    cap = next(x for x in fig.texts if x.get_text().startswith("Thành phố Sông Công"))
    cap_top = cap.get_window_extent(renderer).y1
    for ax in fig.axes:
        assert ax.get_window_extent(renderer).y0 >= cap_top - 1, ax
    prs = Presentation(report.to_pptx(report.Deck(unit_name="x", lang="vi", slides=[slide], credits=report.Credits("t", "s", "l")), tmp_path / "d.pptx"))
    shapes = list(prs.slides[0].shapes)
    box = next(sh for sh in shapes if sh.has_text_frame and sh.text_frame.text.startswith("Thành phố Sông Công"))
    for sh in shapes:
        if sh.shape_type in (13, 19):  # picture, table
            assert sh.top + sh.height <= box.top, sh.name


def test_province_coverage_has_median_distances_consistent_with_shares():
    df = report.coverage_table(unit_layers("province"), "en")
    assert df["median_distance_m"].notna().all()
    # the population-weighted median is beyond the radius exactly when under half are covered
    for r in df.itertuples():
        assert (r.covered_share < 0.5) == (r.median_distance_m > r.radius_m), r


def test_city_scorecard_says_where_the_targets_are(tmp_path):
    from geo.auth import configure_test_editor
    from geo.i18n import t
    from geo.indicators import load_framework
    from geo.store import Store

    sc = report._scorecard_slide(unit_layers("TP Sông Công"), "vi")
    # no document sets a target of the city yet: the key message says so instead of a column of "no target"
    assert sc.table is not None and sc.caption.startswith("Thành phố Sông Công: chưa văn bản nào đặt mục tiêu")
    prov = report._scorecard_slide(unit_layers("province"), "vi")
    assert "toàn tỉnh" not in " ".join(" ".join(r) for r in prov.table.rows)
    assert any(r[2] != "—" for r in prov.table.rows)  # the province rows carry the 2025 targets
    _, lan = configure_test_editor(None, "lan", "lan-password-1", "Lan")
    store = Store(framework=load_framework())
    store.record_target(lan, "admin_access", 2030, ">=", 99, "Kế hoạch tỉnh")                  # province-wide
    store.record_unit_target(lan, "health_access", "districts:165", 2030, ">=", 99, "Kế hoạch TP")  # the city's own
    sc = report._scorecard_slide(unit_layers("TP Sông Công"), "vi")
    rows = {r[0]: r for r in sc.table.rows}
    names = load_framework().indicators
    health, admin = rows[names["health_access"].name("vi")], rows[names["admin_access"].name("vi")]
    assert health[3] == "≥ 99%" and health[4] == "chậm" and health[5].startswith("+")
    assert admin[3] == t("readiness.target_province_mark", "vi", target="≥ 99%") and admin[4] == "chậm"
    assert "toàn tỉnh" in sc.note
    # the key message is the gap of the first indicator behind, with the facility-data caveat
    assert sc.caption.startswith("Thành phố Sông Công: cần thêm") and t("report.scorecard_caveat", "vi") in sc.caption


def test_title_slide_figures_are_the_district_layer_figures():
    from geo.catalog import load_layer
    from geo.i18n import fmt_number

    d = load_layer("districts")
    for unit, rows in (("TP Sông Công", d[d["level2_id"].astype(str) == "165"]), ("province", d)):
        line = report._title_slide(unit_layers(unit), "vi").bullets[0]
        assert fmt_number(rows["population_2019"].sum(), "vi") in line
        assert fmt_number(rows["area_km2"].sum(), "vi", 1) in line


def test_coverage_slide_has_one_computed_key_message_with_the_caveat() -> None:
    from geo.i18n import fmt_number
    from geo.numbers import round_people
    from geo.printmap import unit_layers
    from geo.report import _coverage_slide, coverage_table

    ul = unit_layers("165", "vi")
    df = coverage_table(ul, "vi")
    health = df[df["category"] == "health"].iloc[0]
    beyond = round_people(float(health["population"]) - float(health["covered_population"]))
    slide = _coverage_slide(ul, "vi")
    assert slide.caption.startswith("Thành phố Sông Công: ít nhất ")
    assert fmt_number(beyond, "vi") in slide.caption
    en = _coverage_slide(unit_layers("165", "en"), "en").caption
    assert "at least" in en and fmt_number(beyond, "en") in en


def test_every_content_slide_has_one_computed_key_message(deck_vi):
    content = [s for s in deck_vi.slides if s.kind != "title"]
    assert all(s.caption for s in content), [s.title for s in content if not s.caption]
    group = __import__("geo.units", fromlist=["programme_city_group"]).programme_city_group("districts:165")
    assert f" {len(group.members)} xã/phường mới" in deck_vi.slides[1].caption
    assert str(len(deck_vi.slides[-2].bullets)) in deck_vi.slides[-2].caption


def test_sources_slides_speak_the_deck_language():
    from geo.catalog import get_catalog

    vi = report.build_deck("TP Sông Công", "vi")
    layers = get_catalog().layers
    text = " ".join(vi.slides[-2].bullets + vi.slides[-1].bullets)
    for lid in ("districts", "communes", "wards_2025", "infrastructure"):
        assert layers[lid].source_text("vi") in text and layers[lid].source not in text
    for english in ("attributes:", "geometry:", "population:", "upstream", "contributors"):
        assert english not in text
    en = report.build_deck("TP Sông Công", "en")
    text_en = " ".join(en.slides[-2].bullets + en.slides[-1].bullets)
    assert layers["infrastructure"].source in text_en and "Nghị quyết số" not in text_en


@pytest.fixture(scope="module")
def deck_2020():
    return report.build_deck("TP Sông Công", "vi", territory="2020")


def _expected_coverage(territory: str) -> dict[str, tuple[float, float]]:
    """Category → (people, covered people) asked of the coverage service directly: the
    pre-2025 city's row, or the sum over the 2025 units of its group."""
    from geo.catalog import service_reach
    from geo.service import ask
    from geo.units import district_group

    out = {}
    ids = {i.partition(":")[2] for i in district_group("165").unit_ids}
    for cat in report.SERVICES:
        if territory == "2020":
            r = ask(category=cat, units="districts", radius_m=service_reach(cat)[0], population="communes").row("165")
            out[cat] = (float(r["population"]), float(r["covered_population"]))
        else:
            tab = ask(category=cat, units="wards_2025", radius_m=service_reach(cat)[0], population="wards_2025").table
            mine = tab[tab["unit_id"].astype(str).isin(ids)]
            out[cat] = (float(mine["population"].sum()), float(mine["covered_population"].sum()))
    return out


@pytest.mark.parametrize("territory", ["2025", "2020"])
def test_city_deck_numbers_agree_with_each_other_and_the_coverage_service(territory, deck_vi, deck_2020):
    """One definition per number across a city deck: the map's subtitle and key message count
    the same 2025 units (``geo.units.units_2025_of``, majority of area) and 2009 communes and
    name the same partly-inside ones; the title's people are the coverage slide's, the
    infrastructure slide's per-10 000 base and the coverage service's own answer; the coverage
    key message is the table's row; the scorecard repeats the coverage share."""
    from geo.i18n import fmt_number, fmt_percent
    from geo.numbers import round_people
    from geo.units import units_2025_of, units_by_id

    deck = deck_vi if territory == "2025" else deck_2020
    title, map_s, infra, cov, score = deck.slides[:5]
    which = units_2025_of("165")
    ul = unit_layers("165", "vi", territory)
    n_wards, n_communes = len(which.members), len(ul.communes)
    assert n_wards == len(ul.counted_wards) == 3 and n_communes == 11
    for text in (map_s.subtitle, map_s.caption):
        assert f"{n_wards} xã/phường" in text and f"{n_communes} xã/phường" in text, text
        counts = [int(x) for x in re.findall(r"(?<![\d.])(\d+) xã/phường", text)]
        assert {n_wards, n_communes} <= set(counts) <= {n_wards, n_communes, len(which.partial)}, text
    if territory == "2020":   # Tân Cương: 48 % in Sông Công, counted in TP Thái Nguyên — named, not counted
        names = [units_by_id(("ward",))[f"wards_2025:{c}"].name for c in which.partial]
        assert names == ["Xã Tân Cương"]
        assert all(nm in map_s.subtitle and nm in map_s.caption for nm in names)
    # people: title = coverage rows = coverage service = per-10 000 base of the infrastructure table
    expected = _expected_coverage(territory)
    pop = expected["health"][0]
    assert f": {fmt_number(pop, 'vi')};" in title.bullets[0]
    for row, cat in zip(cov.table.rows, report.SERVICES):
        people, covered = expected[cat]
        assert row[2] == fmt_number(people, "vi", 0) == fmt_number(pop, "vi", 0)
        assert row[3] in (fmt_number(covered, "vi", 0), f"ít nhất {fmt_number(covered, 'vi', 0)}",
                          t_no_facility()), (cat, row)
        if row[4] != t_no_facility():
            assert row[4].endswith(fmt_percent(covered / people, "vi")), (cat, row)
    for row in infra.table.rows:
        n = int(row[1].replace(".", ""))
        assert row[2] == fmt_number(n / pop * 10000, "vi", 1), row
    people, covered = expected["health"]
    assert f"ít nhất {fmt_number(round_people(people - covered), 'vi')} người" in cov.caption
    health = [r for r in score.table.rows if "y tế" in r[0]]
    assert health and health[0][1].startswith(cov.table.rows[0][4])
    if territory == "2025":   # the aggregation method is on the slides
        assert "cộng gộp" in cov.note.lower() and "cộng gộp" in score.note.lower()
        assert "hình thành từ" in title.bullets[1] and "hình thành từ" in map_s.caption


def t_no_facility() -> str:
    from geo.i18n import t

    return t("coverage.no_facility_data", "vi")

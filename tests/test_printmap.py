"""Print maps: exact paper size at 300 dpi, every element present, Vietnamese text renderable."""
from __future__ import annotations

import re
import warnings

import geopandas as gpd
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from geo.errors import AtlasError
from geo.printmap import PAPERS_MM, PRINT_DPI, render_map, save_figure, unit_layers, unit_map_figure, unit_map_layers
from geo.units import DECK_LEVELS, resolve


def resolve_unit(text):
    """The deck/print-map resolution (the registry's ``resolve`` on the province and districts)."""
    return resolve(text, DECK_LEVELS)


pytestmark = pytest.mark.usefixtures("workspace_file")


@pytest.fixture(scope="module")
def song_cong_fig():
    return unit_map_figure("TP Sông Công", lang="vi", paper="A4")


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and callable(a.get_text))
            if t.get_text()]


def test_a4_png_is_300_dpi_landscape(tmp_path, song_cong_fig):
    from PIL import Image

    out = save_figure(song_cong_fig, tmp_path / "map.png")
    with Image.open(out) as im:
        w, h = im.size
        dpi = im.info.get("dpi", (0, 0))[0]
    exp_w = round(PAPERS_MM["A4"][0] / 25.4 * PRINT_DPI)
    exp_h = round(PAPERS_MM["A4"][1] / 25.4 * PRINT_DPI)
    assert abs(w - exp_w) <= 1 and abs(h - exp_h) <= 1 and w > h
    assert round(dpi) == PRINT_DPI


def test_map_has_title_legend_scale_north_credits_crs(song_cong_fig):
    texts = "\n".join(_texts(song_cong_fig))
    assert "Bản đồ Thành phố Sông Công" in texts
    assert "Chú giải" in texts  # legend title
    assert re.search(r"Tỷ lệ xấp xỉ 1:[\d.]+", texts)
    assert "km" in texts  # scale bar unit
    assert "\nB\n" in f"\n{texts}\n"  # north arrow (Bắc)
    assert "EPSG:9213" in texts and "Thời điểm dữ liệu" in texts
    assert "ODbL" in texts and "OpenStreetMap" in texts  # credits from the catalog
    assert "dẫn xuất" in texts.lower()  # derived layers say so


def test_vietnamese_glyphs_exist_in_the_font_used(song_cong_fig):
    text_artists = [t for t in song_cong_fig.findobj(lambda a: hasattr(a, "get_fontproperties")
                                                     and hasattr(a, "get_text")) if t.get_text()]
    assert text_artists
    checked = 0
    for art in text_artists:
        path = font_manager.findfont(art.get_fontproperties(), fallback_to_default=False)
        assert "DejaVu" in path
        font = FT2Font(path)
        for ch in set(art.get_text()) - set(" \n"):
            assert font.get_char_index(ord(ch)) != 0, (ch, art.get_text())
            checked += 1
    assert checked > 50
    assert any(c in "".join(t.get_text() for t in text_artists) for c in "ơưđộẫ")


def test_draws_without_glyph_warnings_a3_pdf(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = unit_map_figure("Phổ Yên", lang="en", paper="A3", with_infrastructure=False)
        out = save_figure(fig, tmp_path / "map.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") >= 1
    # A3 landscape media box in points
    box = re.search(rb"/MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", data)
    assert box and float(box.group(1)) == pytest.approx(420 / 25.4 * 72, abs=1)
    assert b"DejaVuSans" in data  # the font is embedded


def test_unit_resolution_is_accent_and_case_insensitive():
    assert resolve_unit("tp song cong").key == "165"
    assert resolve_unit("THÀNH PHỐ SÔNG CÔNG").key == "165"
    assert resolve_unit("Phổ Yên").key == "172"
    assert resolve_unit("TP. Thái Nguyên").key == "164"
    assert resolve_unit("Tỉnh Thái Nguyên").key == "province"
    with pytest.raises(AtlasError) as err:
        resolve_unit("Hà Nội")
    assert err.value.key == "report.unknown_unit"


def test_unit_layers_are_inside_the_unit():
    ul = unit_layers("TP Sông Công")
    assert 5 <= len(ul.communes) <= 20
    # spatial, not by 2009 district name: Xã Lương Sơn moved from TP Thái Nguyên in 2015
    assert ul.communes.representative_point().within(ul.unit.geometry).all()
    assert (ul.communes["district_vn"] == "Thị xã Sông Công").sum() >= len(ul.communes) - 2
    assert len(ul.wards) >= 1 and len(ul.infrastructure) > 0
    assert ul.infrastructure.within(ul.unit.geometry).all()


def test_render_refuses_bad_paper_and_empty():
    ul = unit_layers("TP Sông Công")
    with pytest.raises(AtlasError):
        render_map(unit_map_layers(ul), title="x", paper="Letter")
    with pytest.raises(AtlasError):
        render_map([], title="x")


def test_view_print_uses_catalog_styles_extent_and_choropleth(tmp_path):
    from geo.printmap import view_map_figure

    extent = (105.74, 21.43, 105.93, 21.56)  # around TP Sông Công
    fig = view_map_figure(["districts", "wards_2025", "infrastructure"], title="Khung nhìn thử", lang="vi",
                          extent=extent, choropleth=("districts", "density_2019"))
    texts = "\n".join(_texts(fig))
    assert "Khung nhìn thử" in texts and "Mật độ 2019" in texts and "dẫn xuất" in texts.lower()  # districts are derived
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    assert 15_000 < x1 - x0 < 40_000  # metres: the extent, not the whole province
    out = save_figure(fig, tmp_path / "view.pdf")
    assert out.stat().st_size > 10_000


def test_boundary_drawn_without_dissolve_slivers_but_counts_use_the_layer():
    from shapely.geometry import Polygon

    from geo.printmap import SLIVER_M2

    ul = unit_layers("TP Thái Nguyên")
    drawn = ul.boundary.to_crs(9213).geometry.iloc[0]
    parts = list(getattr(drawn, "geoms", [drawn]))
    assert all(Polygon(r).area >= SLIVER_M2 for p in parts for r in p.interiors)
    # same outline: only holes went away
    raw = gpd.GeoSeries([ul.unit.geometry], crs=4326).to_crs(9213).iloc[0]
    assert raw.area <= drawn.area < raw.area * 1.02
    # facilities are those the layer's polygon holds (as on the map page)
    assert ul.infrastructure.within(ul.unit.geometry).all()


def test_data_date_leaves_out_unknown_vintages():
    from geo.export import Credits
    from geo.printmap import data_date_of

    cs = [Credits("a", "s", "l", vintage="2019 structure; population 1-4-2019"),
          Credits("b", "s", "l", vintage="unknown (file committed 2025-12)"),
          Credits("c", "s", "l", vintage="2026-08-10 (POIs)")]
    assert data_date_of(cs) == "2019 structure; 2026-08-10"


def test_view_choropleth_legend_matches_the_web_map_classes():
    """Printed classes are the web map's (layers.render.classify on the whole layer), even
    when the extent shows only part of the layer."""
    from geo.catalog import load_layer
    from geo.printmap import view_map_figure
    from layers.render import classify

    classes, _ = classify(load_layer("districts")["density_2019"], "quantiles", 5, "YlOrRd", "vi")
    fig = view_map_figure(["districts"], title="x", lang="vi", extent=(105.74, 21.43, 105.93, 21.56),
                          choropleth=("districts", "density_2019"))
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    for label in classes.labels:
        assert any(label in entry for entry in legend), (label, legend)


def test_a_city_as_its_2025_units_or_as_before_2025():
    """Both territories of a city count 2025 units by the one rule (``geo.units.units_2025_of``);
    "2025" cuts every layer to the units formed from the city's communes."""
    import shapely

    from geo.units import district_group, units_2025_of

    today = unit_layers("TP Thái Nguyên", "vi", "2025")
    group = district_group("164")
    codes = "wards_2025:" + today.wards["gso_code"].astype(str).str.zfill(5)
    assert today.today and set(codes) == set(group.unit_ids) and today.partial_wards.empty
    assert today.former is not None and today.territory == "2025"
    union = shapely.union_all(today.wards.geometry.to_numpy())
    assert today.infrastructure.within(union.buffer(1e-9)).all() and len(today.infrastructure) > 0
    assert today.boundary.to_crs(9213).area.iloc[0] == pytest.approx(gpd.GeoSeries([union], crs=4326)
                                                                     .to_crs(9213).area.iloc[0], rel=0.02)
    before = unit_layers("Phổ Yên", "vi", "2020")
    which = units_2025_of("172")
    got = before.wards["gso_code"].astype(str).str.zfill(5)
    assert set(got[before.wards["counted"]]) == set(which.members)
    assert set(got[~before.wards["counted"]]) == set(which.partial) and which.partial   # Đại Phúc, 31 % inside
    assert unit_layers("province", "vi", "2025").territory == "2020"   # the province has one extent
    with pytest.raises(AtlasError) as err:
        unit_layers("Phổ Yên", "vi", "2030")
    assert err.value.key == "report.bad_territory"

"""``python -m geo export`` and ``python -m geo report`` through the real dispatcher."""
from __future__ import annotations

import zipfile

import pyogrio
import pytest

from geo.cli import main

pytestmark = pytest.mark.usefixtures("workspace_file")


def test_export_catalog_layer_to_vn2000_gpkg(tmp_path, capsys):
    out = tmp_path / "districts.gpkg"
    assert main(["export", "districts", "--format", "gpkg", "--crs", "9213", "--out", str(out)]) == 0
    back = pyogrio.read_dataframe(out)
    assert back.crs.to_epsg() == 9213 and len(back) == 9
    assert "Thành phố Sông Công" in set(back["name"])
    printed = capsys.readouterr().out
    assert str(out) in printed and "credits.txt" in printed


def test_export_shapefile_zip_prints_renamed_fields(tmp_path, capsys):
    out = tmp_path / "communes.zip"
    assert main(["export", "communes", "--format", "shp", "--out", str(out)]) == 0
    assert "population_2019 →" in capsys.readouterr().out
    assert "CREDITS.txt" in zipfile.ZipFile(out).namelist()


def test_export_file_path_to_latlon_csv(tmp_path):
    src = tmp_path / "in.geojson"
    assert main(["export", "wards_2025_points", "--format", "geojson", "--out", str(src)]) == 0
    out = tmp_path / "pts.csv"
    assert main(["export", str(src), "--format", "csv", "--csv-geometry", "latlon", "--out", str(out)]) == 0
    head = out.read_text(encoding="utf-8-sig").splitlines()[0]
    assert head.endswith("lon,lat")


@pytest.mark.parametrize("argv,needle", [
    (["export", "no_such_layer", "--format", "gpkg", "--out", "x.gpkg"], "no_such_layer"),
    (["export", "communes", "--format", "geojson", "--crs", "9213", "--out", "x.geojson"], "WGS 84"),
    (["export", "communes", "--format", "tif", "--out", "x.tif"], "GeoTIFF"),
    (["export", "communes", "--format", "gpkg", "--crs", "nonsense", "--out", "x.gpkg"], "nonsense"),
    (["report", "--unit", "Hà Nội", "--format", "pptx", "--out", "x.pptx"], "Hà Nội"),
])
def test_user_errors_exit_2_with_one_line(tmp_path, capsys, monkeypatch, argv, needle):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and needle in err and "\n" not in err
    assert not list(tmp_path.glob("x.*"))


def test_bad_format_choice_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["export", "communes", "--format", "dxf", "--out", "x.dxf"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_messages_in_vietnamese(tmp_path, capsys):
    assert main(["--lang", "vi", "export", "khong_co", "--format", "gpkg", "--out", str(tmp_path / "x.gpkg")]) == 2
    assert "Không tìm thấy" in capsys.readouterr().err


def test_report_pdf(tmp_path, capsys):
    out = tmp_path / "deck.pdf"
    assert main(["report", "--unit", "TP Sông Công", "--format", "pdf", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert str(out) in capsys.readouterr().out


def test_report_shows_a_city_as_before_2025_on_request(tmp_path, capsys):
    """``--territory 2020``: the pre-2025 city (default 2025: today's units formed from its communes)."""
    from pptx import Presentation

    from geo.i18n import t

    out = tmp_path / "deck.pptx"
    assert main(["report", "--unit", "TP Sông Công", "--format", "pptx", "--territory", "2020", "--out", str(out)]) == 0
    titles = [s.shapes.title.text for s in Presentation(out).slides]
    assert titles[1] == t("report.map_title", "vi", name="Thành phố Sông Công")
    with pytest.raises(SystemExit):
        main(["report", "--unit", "TP Sông Công", "--format", "pptx", "--territory", "2030", "--out", str(out)])
    assert "--territory" in capsys.readouterr().err


def test_population_grid_geotiff_keeps_total_when_reprojected(tmp_path):
    import numpy as np
    import rasterio

    native, wgs = tmp_path / "pop.tif", tmp_path / "pop4326.tif"
    assert main(["export", "population_grid", "--format", "tif", "--out", str(native)]) == 0
    assert main(["export", str(native), "--format", "tif", "--crs", "4326", "--out", str(tmp_path / "x.tif")]) == 0
    assert main(["export", "population_grid", "--format", "tif", "--crs", "4326", "--out", str(wgs)]) == 0
    with rasterio.open(native) as a, rasterio.open(wgs) as b:
        assert a.crs.to_epsg() == 9213 and b.crs.to_epsg() == 4326
        total_a, total_b = np.nansum(a.read(1)), np.nansum(b.read(1))
        assert b.tags()["modelled"] == "yes"
    assert total_a > 1_000_000
    assert abs(total_b - total_a) / total_a < 0.005  # sum resampling keeps the people
    assert "MODELLED" in (tmp_path / "pop4326.tif.credits.txt").read_text(encoding="utf-8")


def test_computed_coverage_layer_exports_with_modelled_credits(tmp_path):
    out = tmp_path / "cov.zip"
    assert main(["export", "coverage:health:3000", "--format", "shp", "--crs", "9213", "--out", str(out)]) == 0
    zf = zipfile.ZipFile(out)
    credits = zf.read("CREDITS.txt").decode("utf-8")
    assert "3,000 m" in credits and "MODELLED" in credits and "ODbL" in credits
    assert "thanglequoc" in credits and "DERIVED" not in credits  # official 2025 polygons since #9
    back = pyogrio.read_dataframe(f"/vsizip/{out}/cov.shp")
    assert back.crs.to_epsg() == 9213 and len(back) > 50
    share_col = [c for c in back.columns if c.startswith("covered_sh")][0]
    assert back[share_col].dropna().between(0, 1).all()


@pytest.mark.parametrize("name,needle", [("coverage:spa", "spa"), ("coverage:health:-5", "-5")])
def test_computed_layer_errors(tmp_path, capsys, name, needle):
    assert main(["export", name, "--format", "gpkg", "--out", str(tmp_path / "x.gpkg")]) == 2
    assert needle in capsys.readouterr().err


def test_print_unit_map_and_view(tmp_path):
    from PIL import Image

    pdf = tmp_path / "sc.pdf"
    assert main(["print", "--unit", "tp song cong", "--paper", "A3", "--out", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    png = tmp_path / "view.png"
    assert main(["print", "--layers", "districts,roads_national", "--bbox", "105.74,21.43,105.93,21.56",
                 "--title", "Sông Công", "--out", str(png)]) == 0
    with Image.open(png) as im:
        assert im.size[0] > 3000


@pytest.mark.parametrize("argv", [["print", "--out", "x.png"],
                                  ["print", "--layers", "districts", "--bbox", "1,2", "--out", "x.png"],
                                  ["print", "--layers", "no_such", "--out", "x.png"]])
def test_print_user_errors(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_covered_cells_raster(tmp_path):
    import numpy as np
    import rasterio

    out = tmp_path / "covered.tif"
    assert main(["export", "covered:education:1000", "--format", "tif", "--out", str(out)]) == 0
    with rasterio.open(out) as ds:
        values = set(np.unique(ds.read(1)).tolist())
        assert ds.nodata == 255 and ds.crs.to_epsg() == 9213
        assert values <= {0, 1, 255} and {0, 1} <= values
        assert ds.tags()["modelled"] == "yes"


@pytest.mark.parametrize("out,extra", [("p.bmp", []), ("p.jpg", []), ("p.png", ["--format", "pdf"])])
def test_print_refuses_an_unsupported_extension_before_writing(tmp_path, capsys, out, extra):
    assert main(["--lang", "vi", "print", "--unit", "165", "--out", str(tmp_path / out)] + extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and out in err[0] and ".pdf" in err[0]
    assert list(tmp_path.iterdir()) == []

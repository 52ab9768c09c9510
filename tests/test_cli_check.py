"""``python -m geo check``: exit 0 with the report, exit 2 with one ``error:`` line."""
from __future__ import annotations

import subprocess
import sys

import pyogrio
import pytest

from geo.auth import configure_test_editor
from geo.cli import main
from geo.settings import REPO_ROOT
from tests import corpus as C

pytestmark = pytest.mark.usefixtures("workspace_file")


def test_report_and_out(tmp_path, capsys):
    out = tmp_path / "out.gpkg"
    rc = main(["check", str(C.make_shp_tcvn3(tmp_path)), "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "Column 'ten': converted from TCVN3 (ABC) to Unicode" in text
    assert "recognised as VN-2000 (EPSG:9213)" in text
    assert f"Wrote {out} (3 features, EPSG:4326, UTF-8)" in text
    gdf = pyogrio.read_dataframe(out)
    assert gdf.crs.to_epsg() == 4326 and list(gdf["ten"]) == C.UNICODE_NAMES


def test_vietnamese_output(tmp_path, capsys):
    assert main(["--lang", "vi", "check", str(C.make_csv_swapped(tmp_path))]) == 0
    text = capsys.readouterr().out
    assert "Định dạng: CSV" in text and "đã đổi lại" in text


@pytest.mark.parametrize("maker, needle", [
    (C.make_zip_bomb, "zip bomb"),
    (C.make_zip_bomb_many, "would unpack to 100 MB"),
    (C.make_zip_slip, "unsafe path"),
    (C.make_kml_xxe, "XML DTD/entity"),
    (C.make_gpkg_multilayer, "several layers (diem, vung)"),
    (C.make_geojson_truncated, "not valid JSON"),
])
def test_refusals_exit_2_with_one_line(tmp_path, capsys, maker, needle):
    rc = main(["check", str(maker(tmp_path))])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and needle in err


def test_options(tmp_path, capsys):
    gpkg = C.make_gpkg_multilayer(tmp_path)
    assert main(["check", str(gpkg), "--layer", "vung"]) == 0
    assert "Layer: vung (of 2)" in capsys.readouterr().out
    assert main(["check", str(C.make_csv_surveyor_xy(tmp_path)), "--crs", "9213"]) == 0
    assert "EPSG:9213 VN-2000 / TM-3 106-30 — set by the user" in capsys.readouterr().out
    # the other kinds left out are named, and the read is not a plain success (exit 1)
    assert main(["check", str(C.make_kml_mixed(tmp_path)), "--kind", "polygons"]) == 1
    assert "Kept polygons; left out: points (2)" in capsys.readouterr().out
    assert main(["check", str(C.make_shp_vni(tmp_path)), "--encoding", "vni"]) == 0
    assert "Text encoding: set by the user" in capsys.readouterr().out
    assert main(["check", str(C.make_geotiff(tmp_path))]) == 0
    assert "Sum of band 1: 77" in capsys.readouterr().out
    assert main(["check", str(gpkg), "--layer", "vung", "--out", str(tmp_path / "x.shp")]) == 2
    assert "must end in .gpkg" in capsys.readouterr().err


def test_bad_encoding_choice_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", "x.csv", "--encoding", "koi8"])
    assert exc.value.code == 2 and capsys.readouterr().err.startswith("error: ")


def test_real_process(tmp_path):
    p = subprocess.run([sys.executable, "-m", "geo", "check", str(C.make_zip_corrupt(tmp_path))],
                       cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stderr.startswith("error: The archive 'corrupt.zip' is damaged")
    assert "Traceback" not in p.stderr


def test_out_replaces_existing_file_and_refuses_raster(tmp_path, capsys):
    out = tmp_path / "o.gpkg"
    out.write_bytes(b"old")
    assert main(["check", str(C.make_csv_vn_bom(tmp_path)), "--out", str(out)]) == 0
    assert len(pyogrio.read_dataframe(out)) == 3
    assert not list(tmp_path.glob(".*partial*"))
    assert main(["check", str(C.make_geotiff(tmp_path)), "--out", str(out)]) == 2
    assert "is a raster" in capsys.readouterr().err


def test_crs_override_for_latlon_columns_holding_metres(tmp_path, capsys):
    out = tmp_path / "m.gpkg"
    assert main(["check", str(C.make_csv_latlon_metres(tmp_path)), "--crs", "EPSG:9213", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "EPSG:9213 VN-2000 / TM-3 106-30 — set by the user" in text and "hold metres" not in text
    gdf = pyogrio.read_dataframe(out)
    assert gdf.crs.to_epsg() == 4326
    assert abs(gdf.geometry.x.iloc[0] - C.PLACES[0][0]) < 1e-6 and abs(gdf.geometry.y.iloc[0] - C.PLACES[0][1]) < 1e-6
    # without the override the file is still read, with the guess and a warning printed
    assert main(["check", str(C.make_csv_latlon_metres(tmp_path))]) == 0
    assert "named longitude/latitude but hold metres" in capsys.readouterr().out


def test_out_never_overwrites_the_input_or_the_workspace(tmp_path, capsys):
    gpkg = C.make_gpkg_multilayer(tmp_path)
    before = gpkg.read_bytes()
    assert main(["check", str(gpkg), "--layer", "vung", "--out", str(gpkg)]) == 2
    assert "is the file being read" in capsys.readouterr().err and gpkg.read_bytes() == before
    ws = tmp_path / "ws.gpkg"  # the workspace of the autouse fixture
    from geo import workspace
    from geo.io import read_any
    workspace.save_layer("a", read_any(C.make_csv_vn_bom(tmp_path))[0], editor=configure_test_editor()[1])
    ws_before = ws.read_bytes()
    assert main(["check", str(gpkg), "--layer", "vung", "--out", str(ws)]) == 2
    assert "is the app's workspace" in capsys.readouterr().err and ws.read_bytes() == ws_before
    assert [x["name"] for x in workspace.list_layers()] == ["a"]


def test_cli_language_follows_the_system_locale(tmp_path) -> None:
    """LANG=vi_VN.UTF-8 → Vietnamese messages; LC_ALL wins over LANG; --lang wins over both."""
    import os
    import subprocess
    import sys

    from geo.cli import system_lang

    assert system_lang({"LANG": "vi_VN.UTF-8"}) == "vi"
    assert system_lang({"LANG": "vi_VN.UTF-8", "LC_ALL": "en_US.UTF-8"}) == "en"
    assert system_lang({}) == "en"
    missing = tmp_path / "none.geojson"
    base = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES")}
    vi = subprocess.run([sys.executable, "-m", "geo", "check", str(missing)], capture_output=True, text=True,
                        env={**base, "LANG": "vi_VN.UTF-8"})
    en = subprocess.run([sys.executable, "-m", "geo", "--lang", "en", "check", str(missing)], capture_output=True,
                        text=True, env={**base, "LANG": "vi_VN.UTF-8"})
    assert vi.returncode == en.returncode == 2
    assert vi.stderr.startswith("error: ") and en.stderr.startswith("error: ")
    assert vi.stderr != en.stderr  # the same refusal, in the locale's language


@pytest.mark.parametrize("what, needle", [("folder", "is a folder, not a file"),
                                          ("device", "is not a regular file")])
def test_a_folder_or_a_device_is_named_for_what_it_is(tmp_path, capsys, what, needle):
    path = tmp_path if what == "folder" else "/dev/null"
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and f"'{path}'" in err[0] and "not found" not in err[0]


def test_unwritable_out_is_one_sentence_naming_the_users_path(tmp_path, capsys, monkeypatch):
    src = str(C.make_csv_swapped(tmp_path))
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    for out, needle in ((a_file / "x.gpkg", "is a file, not a folder"),
                        (tmp_path / "missing" / "x.gpkg", "does not exist")):
        assert main(["check", src, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"'{out}'" in err[0] and needle in err[0]
        assert "partial" not in err[0] and "unexpected" not in err[0].lower()
    # a failure while writing (disk full, …) names the user's path, never the temp file
    from geo import io
    from geo.errors import AtlasError

    def boom(gdf, path, layer=None):
        raise AtlasError("errors.unwritable", path=str(path), reason="No space left on device")
    monkeypatch.setattr(io, "write_normalised", boom)
    out = tmp_path / "x.gpkg"
    assert main(["check", src, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: Cannot write '{out}' (No space left on device); choose a folder you can write to."
    assert not list(tmp_path.glob(".*partial*"))


MIXED_KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Hỗn hợp</name>
<Placemark><name>Nhà văn hoá + cổng</name><MultiGeometry>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>105.84,21.59 105.85,21.59 105.85,21.60 105.84,21.59</coordinates></LinearRing></outerBoundaryIs></Polygon>
  <Point><coordinates>105.845,21.585</coordinates></Point></MultiGeometry></Placemark>
<Placemark><name>Đường nội bộ</name><LineString><coordinates>105.80,21.50 105.81,21.51</coordinates></LineString></Placemark>
<Placemark><name>Trạm Y tế</name><Point><coordinates>105.82,21.52</coordinates></Point></Placemark>
<Placemark><name>Trường</name><Polygon><outerBoundaryIs><LinearRing><coordinates>105.70,21.40 105.71,21.40 105.71,21.41 105.70,21.40</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
</Document></kml>
"""


def test_mixed_kml_read_by_kind_names_what_is_left_out_and_counts_parts(tmp_path, capsys):
    src = tmp_path / "mixed.kml"
    src.write_text(MIXED_KML, encoding="utf-8")
    out = tmp_path / "polys.gpkg"
    assert main(["check", str(src), "--kind", "polygons", "--out", str(out)]) == 1
    cap = capsys.readouterr()
    text = cap.out
    # 4 placemarks, one split in two: 5 parts, 2 polygons kept, 3 parts left out (named)
    assert "Features: 2 (read 4, 5 after splitting mixed-kind features)" in text
    lost = "NOT ALL IMPORTED: 3 of the 5 features were not imported — row/feature number 1 (Nhà văn hoá + cổng), " \
           "2 (Đường nội bộ), 3 (Trạm Y tế)"
    assert lost in text and lost in cap.err
    assert "split into one feature per kind: 1." in text and "1 features" not in text
    assert f"Wrote {out} INCOMPLETE: 2 of 5 features (3 not imported, see above)" in text
    assert list(pyogrio.read_dataframe(out)["name"]) == ["Nhà văn hoá + cổng", "Trường"]
    assert main(["--lang", "vi", "check", str(src), "--kind", "polygons"]) == 1
    assert "thành 5 sau khi tách" in capsys.readouterr().out

"""Issue 10 fault kinds, each with cases of its own built from code (the handed files are
in test_import_cases.py), plus the reader limits of issue 14 item 1."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.cli import main
from geo.errors import AtlasError
from geo.io import read_any, read_raster
from tests import hostile as H

NAMES = ["Trạm Y tế xã Phúc Xuân", "Trường THCS Chu Văn An", "Nhà văn hoá xóm Đồng Kiệm"]
LONLAT = [(105.74811, 21.63102), (105.82907, 21.57814), (105.65012, 21.62995)]
TCVN3 = {"Trạm Y tế xã Phúc Xuân": "Tr¹m Y tÕ x· Phóc Xu©n", "Trường THCS Chu Văn An": "Tr\xadêng THCS Chu V¨n An",
         "Nhà văn hoá xóm Đồng Kiệm": "Nhµ v¨n ho¸ xãm §ång KiÖm"}


pytestmark = pytest.mark.usefixtures("workspace_file")


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"ten": NAMES, "ma": ["0101", "0102", "0203"]},
                            geometry=shapely.points(LONLAT), crs=4326)


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def _shp_bytes(tmp: Path, gdf: gpd.GeoDataFrame, encoding: str = "latin1") -> dict[str, bytes]:
    d = tmp / "shp_src"
    d.mkdir(exist_ok=True)
    pyogrio.write_dataframe(gdf, d / "layer.shp", encoding=encoding)
    return {p.name: p.read_bytes() for p in d.iterdir() if p.suffix in (".shp", ".shx", ".dbf", ".prj")}


# --- 1. a declared encoding is not proof ----------------------------------------------
@pytest.mark.parametrize("cpg", ["UTF-8", "65001"])
def test_cpg_utf8_over_tcvn3_bytes_is_detected(tmp_path, cpg):
    gdf = _points().assign(ten=[TCVN3[n] for n in NAMES])
    files = _shp_bytes(tmp_path, gdf) | {"layer.cpg": cpg.encode()}
    out, rep = read_any(_zip(tmp_path / "t.zip", files))
    assert list(out["ten"]) == NAMES
    assert any(k == "cpg_wrong" for k, _ in rep.warnings) and rep.encodings == {"ten": "tcvn3"}


def _with_ldid(files: dict[str, bytes], ldid: int) -> dict[str, bytes]:
    """The shapefile's .dbf with language byte ``ldid`` (GDAL writes 0) and no .cpg."""
    dbf = bytearray(files["layer.dbf"])
    dbf[29] = ldid
    return {k: v for k, v in files.items() if not k.endswith(".cpg")} | {"layer.dbf": bytes(dbf)}


def test_dbf_language_byte_declares_the_code_page(tmp_path):
    """LDID 0xC8 = Windows-1250, no .cpg: Central European text read right, said so."""
    names = ["Łódź", "Žižkov", "Kraków"]
    gdf = _points().assign(ten=names)
    files = _with_ldid(_shp_bytes(tmp_path, gdf, encoding="cp1250"), 0xC8)
    out, rep = read_any(_zip(tmp_path / "cz.zip", files))
    assert list(out["ten"]) == names and rep.encoding_basis == "ldid"
    assert "from the .dbf language byte (LDID)" in "\n".join(rep.lines("en"))
    files = _with_ldid(files, 0)  # without the declaration the same bytes (ź = 0x9F, a Latin-1
    # control) are no text the atlas reads: refused naming the column, never written garbled
    with pytest.raises(AtlasError) as exc:
        read_any(_zip(tmp_path / "cz0.zip", files))
    assert exc.value.key == "import_errors.encoding_unknown" and "'ten'" in exc.value.message("en")


@pytest.mark.parametrize("ldid", [0x03, 0x7A, 0x7B, 0xC9])  # Windows-1252, GBK, Shift-JIS, Windows-1251
def test_dbf_language_byte_is_not_trusted_over_vietnamese_bytes(tmp_path, ldid):
    """A language byte naming a code page the text is not in (decodes or not): the content
    decides (TCVN3 here), the report says the declaration was wrong, never U+FFFD."""
    gdf = _points().assign(ten=[TCVN3[n] for n in NAMES])
    files = _with_ldid(_shp_bytes(tmp_path, gdf), ldid)
    out, rep = read_any(_zip(tmp_path / "t.zip", files))
    assert list(out["ten"]) == NAMES and rep.encodings == {"ten": "tcvn3"}
    assert any(k == "ldid_wrong" for k, _ in rep.warnings) and rep.encoding_basis == "detected"
    assert "\ufffd" not in "".join(out["ten"])


@pytest.mark.parametrize("ldid", [0x00, 0x57])  # none, "ANSI": no code page named
def test_dbf_language_byte_without_a_code_page_leaves_detection(tmp_path, ldid):
    gdf = _points().assign(ten=[TCVN3[n] for n in NAMES])
    files = _with_ldid(_shp_bytes(tmp_path, gdf), ldid)
    out, rep = read_any(_zip(tmp_path / "w.zip", files))
    assert list(out["ten"]) == NAMES and rep.encodings == {"ten": "tcvn3"}
    assert not any(k == "ldid_wrong" for k, _ in rep.warnings) and rep.encoding_basis == "auto"


def test_mapinfo_charset_utf8_over_tcvn3_is_detected_and_never_fffd(tmp_path):
    gdf = _points().to_crs(9213)
    d = tmp_path / "mi"
    d.mkdir()
    pyogrio.write_dataframe(gdf.assign(ten=[TCVN3[n] for n in NAMES]), d / "x.tab",
                            driver="MapInfo File", encoding="latin1")
    tab = (d / "x.tab").read_bytes().replace(b"Neutral", b"UTF-8").replace(b"WindowsLatin1", b"UTF-8")
    (d / "x.tab").write_bytes(tab)
    files = {p.name: p.read_bytes() for p in d.iterdir()}
    out, rep = read_any(_zip(tmp_path / "mi.zip", files))
    assert list(out["ten"]) == NAMES and "\ufffd" not in "".join(out["ten"])


def test_unknown_bytes_behind_a_wrong_cpg_are_refused_naming_the_column(tmp_path):
    gdf = _points().assign(ten=["\x81\x8d\x8f\x90\x9d gibberish", "\x81\x81", "\x8d\x8f"])
    files = _shp_bytes(tmp_path, gdf) | {"layer.cpg": b"UTF-8"}
    with pytest.raises(AtlasError) as exc:
        read_any(_zip(tmp_path / "bad.zip", files))
    assert exc.value.key == "import_errors.encoding_unknown" and "'ten'" in exc.value.message("en")


# --- 2. one decision per file, headers first --------------------------------------------
def test_short_column_converted_with_its_file_and_headers_repaired_first(tmp_path):
    p = tmp_path / "tcvn3.csv"
    rows = [f"{TCVN3[n]},Y tÕ,{y},{x}" for n, (x, y) in zip(NAMES, LONLAT)]
    p.write_bytes(("Tªn c¬ së,Lo¹i,VÜ ®é,Kinh ®é\n" + "\n".join(rows)).encode("latin1"))
    gdf, rep = read_any(p)
    assert list(gdf["Tên cơ sở"]) == NAMES and set(gdf["Loại"]) == {"Y tế"}
    assert np.allclose(gdf.geometry.x, [x for x, _ in LONLAT])


# --- 3. repair never deletes a feature with geometry ------------------------------------
def _ring(x0, y0, w, h, ccw=True):
    r = [[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]]
    return (r if ccw else r[::-1])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.floats(0.0005, 0.002), st.floats(0.0005, 0.002), st.booleans()), min_size=1, max_size=4))
def test_property_ring_orientation_and_closing_vertex_change_no_area(tmp_path_factory, polys):
    """Any valid polygon layer: every ring reversed and its closing vertex dropped → same areas."""
    feats, want = [], []
    for i, (w, h, hole) in enumerate(polys):
        x0, y0 = 105.8 + i * 0.01, 21.5
        shell = _ring(x0, y0, w, h)
        holes = [_ring(x0 + w / 4, y0 + h / 4, w / 2, h / 2, ccw=False)] if hole else []
        want.append(shapely.Polygon(shell, holes))
        rings = [r[::-1] for r in [shell] + holes]  # reversed, not closed
        feats.append({"type": "Feature", "properties": {"ten": f"p{i}"},
                      "geometry": {"type": "Polygon", "coordinates": rings}})
    p = tmp_path_factory.mktemp("prop") / "rings.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    gdf, rep = read_any(p)
    assert len(gdf) == len(want)
    assert np.allclose(shapely.area(np.asarray(gdf.geometry.values)), shapely.area(np.array(want)), rtol=1e-9)


def test_shell_inside_hole_roles_swapped_keeps_the_pond(tmp_path):
    shell, pond = _ring(105.8, 21.5, 0.002, 0.002), _ring(105.8005, 21.5005, 0.001, 0.001)
    # the exporter wrote the pond as the polygon and the parcel as its "hole"
    bad = shapely.Polygon(pond, [shell])
    p = tmp_path / "swap.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ten": "thửa 1"}, "geometry": shapely.geometry.mapping(bad)}]}))
    gdf, rep = read_any(p)
    assert len(gdf) == 1 and rep.repaired == 1
    assert gdf.geometry.iloc[0].area == pytest.approx(shapely.Polygon(shell, [pond]).area)


def test_lossy_check_names_the_rows_and_is_not_plain_success(tmp_path, capsys):
    p = tmp_path / "lossy.csv"
    p.write_text("ten,lat,lon\nA,21.5,105.8\nTrạm B,,\nC,21.6,105.9\n", encoding="utf-8")
    out = tmp_path / "o.gpkg"
    assert main(["check", str(p), "--out", str(out)]) == 1  # read with losses: never exit 0
    cap = capsys.readouterr()
    assert "3 (Trạm B)" in cap.out and "3 (Trạm B)" in cap.err and "INCOMPLETE: 2 of 3" in cap.out
    assert len(pyogrio.read_dataframe(out)) == 2
    p.write_text("ten,lat,lon\nA,21.5,105.8\nTrạm B,21.55,105.85\nC,21.6,105.9\n", encoding="utf-8")
    assert main(["check", str(p)]) == 0  # the same file made whole: plain success
    assert "warning" not in capsys.readouterr().err


def test_lossy_check_counts_every_lost_row_beyond_those_named(tmp_path, capsys):
    """More lost rows than the report names one by one: the count is still the true one."""
    rows = [f"P{i},{'' if i % 2 else 21.5},105.8" for i in range(600)]
    p = tmp_path / "many_lost.csv"
    p.write_text("ten,lat,lon\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert main(["check", str(p)]) == 1
    err = capsys.readouterr().err
    assert "300 of the 600" in err and "(+290)" in err


# --- 4. KML as people make it -------------------------------------------------------------
def test_kml_gx_track_is_a_line_and_mixed_multigeometry_is_split_and_said(tmp_path):
    kml = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"><Document>
<Placemark><name>Đường đi</name><gx:Track><when>2026-01-01T00:00:00Z</when><when>2026-01-01T00:01:00Z</when>
<gx:coord>105.80 21.50 0</gx:coord><gx:coord>105.81 21.51 0</gx:coord></gx:Track></Placemark>
<Placemark><name>Hai tuyến</name><gx:MultiTrack><gx:Track><gx:coord>105.82 21.50 0</gx:coord><gx:coord>105.83 21.51 0</gx:coord></gx:Track>
<gx:Track><gx:coord>105.84 21.50 0</gx:coord><gx:coord>105.85 21.51 0</gx:coord></gx:Track></gx:MultiTrack></Placemark>
</Document></kml>"""
    p = tmp_path / "track.kml"
    p.write_text(kml, encoding="utf-8")
    gdf, rep = read_any(p)
    assert len(gdf) == 2 and rep.kinds == {"lines": 2}
    assert gdf.geometry.iloc[1].geom_type == "MultiLineString"
    mixed = kml.replace("<gx:Track><when>2026-01-01T00:00:00Z</when><when>2026-01-01T00:01:00Z</when>\n"
                        "<gx:coord>105.80 21.50 0</gx:coord><gx:coord>105.81 21.51 0</gx:coord></gx:Track>",
                        "<MultiGeometry><Point><coordinates>105.8,21.5</coordinates></Point><LineString>"
                        "<coordinates>105.8,21.5 105.81,21.51</coordinates></LineString></MultiGeometry>")
    p.write_text(mixed, encoding="utf-8")
    gdf, rep = read_any(p, kind="lines")
    assert ("collection_split", {"count": 1}) in rep.warnings


# --- 5. coordinates as people write them ----------------------------------------------------
@pytest.mark.parametrize("lat, lon", [("N21 37.861", "E105 44.887"), ("21 37.861N", "105 44.887E"),
                                      ("21°37,8612' B", "105°44,8866' Đ"), ("B21 37 51.66", "Đ105 44 53.2")])
def test_degrees_minutes_with_hemisphere_letters(tmp_path, lat, lon):
    p = tmp_path / "ddm.csv"
    p.write_text(f'ten;vĩ độ;kinh độ\nA;{lat};{lon}\n', encoding="utf-8")
    gdf, _ = read_any(p)
    assert abs(gdf.geometry.x.iloc[0] - LONLAT[0][0]) < 5e-5 and abs(gdf.geometry.y.iloc[0] - LONLAT[0][1]) < 5e-5


def test_geojson_written_lat_lon_is_swapped_and_said(tmp_path):
    feats = [{"type": "Feature", "properties": {"ten": n}, "geometry": {"type": "Point", "coordinates": [y, x]}}
             for n, (x, y) in zip(NAMES, LONLAT)]
    p = tmp_path / "latlon.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    gdf, rep = read_any(p)
    assert np.allclose(gdf.geometry.x, [x for x, _ in LONLAT]) and rep.swapped
    assert any(k == "swapped_order" for k, _ in rep.warnings)


def test_shapefile_without_prj_in_lat_lon_order_is_swapped_not_blamed_on_the_prj(tmp_path):
    gdf = gpd.GeoDataFrame({"ten": NAMES}, geometry=shapely.points([(y, x) for x, y in LONLAT]))
    files = _shp_bytes(tmp_path, gdf, "utf-8")  # no CRS: no .prj written
    assert "layer.prj" not in files
    out, rep = read_any(_zip(tmp_path / "swap.zip", files | {"layer.cpg": b"UTF-8"}))
    assert np.allclose(out.geometry.x, [x for x, _ in LONLAT]) and rep.swapped


def test_unknown_crs_message_gives_the_coordinate_ranges(tmp_path):
    p = tmp_path / "far.csv"
    p.write_text("ten,x,y\nA,5000000,9000000\nB,5000100,9000100\n", encoding="utf-8")
    with pytest.raises(AtlasError) as exc:
        read_any(p)
    msg = exc.value.message("en")
    assert exc.value.key == "import_errors.crs_unknown" and "x 5e+06–5.0001e+06" in msg and ".prj" not in msg


# --- 6. spreadsheets as provinces make them --------------------------------------------------
def test_csv_with_title_rows_and_header_row_option(tmp_path, capsys):
    p = tmp_path / "title.csv"
    body = "\n".join(f"{n},{y},{x}" for n, (x, y) in zip(NAMES, LONLAT))
    p.write_text(f"DANH SÁCH CƠ SỞ,,\n,,\nTên,Vĩ độ,Kinh độ\n{body}\n,,\nNgười lập,,\n", encoding="utf-8")
    gdf, rep = read_any(p)
    assert list(gdf["Tên"]) == NAMES and rep.dropped_rows == []
    assert main(["check", str(p), "--header-row", "3"]) == 0
    assert "row 3" in capsys.readouterr().out


# --- 7. formats departments use ---------------------------------------------------------------
def test_dxf_layers_and_closed_polylines(tmp_path):
    pts = gpd.GeoSeries(shapely.points(LONLAT), crs=4326).to_crs(9213)
    x, y = pts.x.iloc[0], pts.y.iloc[0]
    sq = [(x, y), (x + 50, y), (x + 50, y + 40), (x, y + 40)]
    dxf = ["0", "SECTION", "2", "ENTITIES", "0", "LWPOLYLINE", "8", "THUA_DAT", "90", "4", "70", "1"]
    for a, b in sq:
        dxf += ["10", f"{a:.3f}", "20", f"{b:.3f}"]
    dxf += ["0", "ENDSEC", "0", "EOF"]
    p = tmp_path / "ban_ve.dxf"
    p.write_text("\n".join(dxf) + "\n")
    gdf, rep = read_any(p)
    assert rep.format == "dxf" and list(gdf["layer"]) == ["THUA_DAT"] and rep.kinds == {"polygons": 1}
    assert gdf.to_crs(9213).area.iloc[0] == pytest.approx(2000, rel=1e-3)


def test_gpx_waypoints(tmp_path):
    wpts = "".join(f'<wpt lat="{y}" lon="{x}"><name>{n}</name></wpt>' for n, (x, y) in zip(NAMES, LONLAT))
    p = tmp_path / "gps.gpx"
    p.write_text(f'<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
                 f'{wpts}</gpx>', encoding="utf-8")
    gdf, rep = read_any(p)
    assert list(gdf["name"]) == NAMES and rep.layer == "waypoints"


def test_zip_with_side_files_picks_the_data_file(tmp_path):
    files = _shp_bytes(tmp_path, _points(), "utf-8") | {"layer.cpg": b"UTF-8", "CREDITS.txt": b"from the atlas",
                                                       "README.md": b"# read me", "style.qml": b"<qgis/>"}
    gdf, _ = read_any(_zip(tmp_path / "side.zip", files))
    assert list(gdf["ten"]) == NAMES
    gj = _points().to_json().encode()
    gdf, _ = read_any(_zip(tmp_path / "gj.zip", {"diem.geojson": gj, "CREDITS.txt": b"x", "diem.csvt": b"String"}))
    assert len(gdf) == 3


def test_true_causes_for_incomplete_archives(tmp_path):
    files = _shp_bytes(tmp_path, _points())
    del files["layer.shp"]
    with pytest.raises(AtlasError) as exc:
        read_any(_zip(tmp_path / "noshp.zip", files))
    msg = exc.value.message("en")
    assert exc.value.key == "import_errors.shp_no_shp" and "'layer.dbf' but not 'layer.shp'" in msg


# --- 8. the atlas reads what it writes -----------------------------------------------------
@pytest.mark.parametrize("fmt, kw", [("geojson", {}), ("gpkg", {}), ("shp", {}), ("kml", {}), ("csv", {}),
                                     ("csv", {"csv_geometry": "latlon"}), ("tab", {}), ("tab", {"crs": 9213})])
def test_round_trip_of_every_vector_export(tmp_path, fmt, kw):
    from geo.export import export_vector, user_credits
    src = _points()
    res = export_vector(src, fmt, tmp_path / f"out_{fmt}", credits=user_credits("t", "en"), **kw)
    back, rep = read_any(res.path)
    assert len(back) == 3 and back.crs.to_epsg() == 4326
    name_col = "ten" if "ten" in back.columns else "Name"
    assert list(back[name_col]) == NAMES
    assert list(back["ma"]) == ["0101", "0102", "0203"]  # codes as written: text, leading zeros kept, no padding
    d = shapely.distance(np.asarray(back.to_crs(9213).geometry.values), np.asarray(src.to_crs(9213).geometry.values))
    assert d.max() < 0.5


def test_round_trip_geotiff(tmp_path):
    from rasterio.transform import from_origin

    from geo.export import RasterData, export_raster, user_credits
    arr = np.arange(12, dtype="float32").reshape(3, 4)
    rd = RasterData(arr, from_origin(105.8, 21.6, 0.01, 0.01), "EPSG:4326", None, "pop")
    res = export_raster(rd, tmp_path / "pop.tif", credits=user_credits("pop", "en"))
    info, rep = read_raster(res.path)
    assert info.total == pytest.approx(arr.sum()) and (info.width, info.height) == (4, 3)


# --- 10. output paths written as given ---------------------------------------------------
def test_out_path_with_dots_written_exactly(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "src.geojson"
    src.write_text(_points().to_json(), encoding="utf-8")
    for _ in range(2):
        assert main(["export", str(src), "--format", "geojson", "--out", "co_so_y_te_30.11.2026.geojson"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "co_so_y_te_30.11.2026.geojson").is_file() and "already existed and was replaced" in out
    assert main(["export", str(src), "--format", "gpkg", "--out", "bao_cao_30.11.2026"]) == 0
    assert (tmp_path / "bao_cao_30.11.2026.gpkg").is_file()


# --- issue 14: list/object properties, reader limits ----------------------------------------
def test_geojson_list_and_object_properties_kept_as_json_text(tmp_path):
    feats = [{"type": "Feature", "properties": {"ten": "A", "tags": ["y tế", "trạm"], "info": {"beds": 5}},
              "geometry": {"type": "Point", "coordinates": [105.8, 21.5]}}]
    p = tmp_path / "lists.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    gdf, _ = read_any(p)
    assert json.loads(gdf["tags"].iloc[0]) == ["y tế", "trạm"] and json.loads(gdf["info"].iloc[0]) == {"beds": 5}


@pytest.mark.parametrize("maker, key", [(H.make_gpkg_recursive_view, "gpkg_view_refused"),
                                        (H.make_gpkg_zeroblob_view, "gpkg_view_refused"),
                                        (H.make_sparse_geotiff, "raster_too_many_bytes")])
def test_hostile_files_refused_in_one_sentence(tmp_path, capsys, maker, key):
    from geo.i18n import t
    path = maker(tmp_path)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and path.name in err
    assert t(f"import_errors.{key}", "en").split("{")[0][:12] in err


def test_plain_view_is_read_and_sqlite_time_limit_stops_a_slow_table(tmp_path, monkeypatch):
    gdf, _ = read_any(H.make_gpkg_plain_view(tmp_path))
    assert list(gdf["name"]) == ["a", "b"]
    from geo.io._limits import plain_view
    tables = {"pts"}
    assert plain_view("CREATE VIEW v AS SELECT fid, geom FROM pts", tables)
    assert not plain_view("CREATE VIEW v AS SELECT fid, zeroblob(10) AS g FROM pts", tables)
    assert not plain_view("CREATE VIEW v AS SELECT * FROM pts JOIN pts", tables)
    assert not plain_view("CREATE VIEW v AS SELECT * FROM other", tables)


def test_row_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_MAX_ROWS", "100")
    csv = H.make_csv_many_rows(tmp_path, 500)
    gdf = gpd.read_file(csv)
    gdf = gpd.GeoDataFrame(gdf[["name"]], geometry=gpd.points_from_xy(gdf["lon"].astype(float),
                                                                      gdf["lat"].astype(float)), crs=4326)
    gj = tmp_path / "many.geojson"
    gdf.to_file(gj)
    for path in (csv, gj, H.make_gpkg_plain_view(tmp_path)):
        if path.suffix == ".gpkg":
            monkeypatch.setenv("ATLAS_MAX_ROWS", "1")
        with pytest.raises(AtlasError) as exc:
            read_any(path)
        assert exc.value.key == "import_errors.too_many_rows"


# --- 9. one reading path --------------------------------------------------------------------
def test_map_and_coverage_read_user_files_through_read_any(tmp_path, capsys):
    case = Path(__file__).parent / "data" / "import_cases" / "04-tcvn3-cpg-says-utf8.zip"
    out = tmp_path / "m.html"
    assert main(["map", str(case), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Trạm Y tế xã Phúc Xuân" in html and "\ufffd" not in html
    from geo.coverage import read_vector_file
    assert "Trạm Y tế xã Phúc Xuân" in list(read_vector_file(case)["ten"])


def test_no_bare_read_file_on_user_paths():
    """geo/ and pages/ read users' files only through geo.io (catalog/workspace reads are ours)."""
    import re
    root = Path(__file__).resolve().parents[1]
    allowed = {"geo/catalog.py", "geo/workspace.py", "geo/store.py", "geo/audit.py"}  # audit: shipped data
    offenders = []
    for f in list((root / "geo").rglob("*.py")) + list((root / "pages").glob("*.py")):
        rel = str(f.relative_to(root))
        if rel.startswith("geo/io/") or rel in allowed:
            continue
        if re.search(r"gpd\.read_file\(|pyogrio\.read_dataframe\(", f.read_text(encoding="utf-8")):
            offenders.append(rel)
    assert offenders == []


def test_xlsx_in_tcvn3_font_has_its_headers_repaired_before_coordinates_are_looked_for(tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Tªn c¬ së", "VÜ ®é", "Kinh ®é"])
    for n, (x, y) in zip(NAMES, LONLAT):
        ws.append([TCVN3[n], y, x])
    p = tmp_path / "vntime.xlsx"
    wb.save(p)
    gdf, rep = read_any(p)
    assert list(gdf["Tên cơ sở"]) == NAMES and np.allclose(gdf.geometry.y, [y for _, y in LONLAT])


def test_coverage_facilities_file_goes_through_the_reader(tmp_path, capsys):
    """`geo coverage --facilities FILE` reads the TCVN3-behind-a-UTF-8-.cpg case like `geo check`."""
    case = Path(__file__).parent / "data" / "import_cases" / "04-tcvn3-cpg-says-utf8.zip"
    from geo.cli.coverage import load_source
    gdf, _ = load_source(str(case))
    assert "Trạm Y tế xã Phúc Xuân" in list(gdf["ten"])
    bad = H.make_gpkg_recursive_view(tmp_path)
    assert main(["coverage", "--facilities", str(bad), "--units", "districts", "--radius-m", "1000",
                 "--out", str(tmp_path / "c.csv")]) == 2
    assert "complex SQL view" in capsys.readouterr().err


def test_kml_read_by_libkml_after_the_xml_safety_pass():
    """GDAL's LIBKML reads the Placemarks (MultiGeometry = one multi-part feature); our
    defusedxml pass runs first and stays the fallback."""
    from geo.io._kml import _read_libkml
    case = Path(__file__).parent / "data" / "import_cases" / "08-earth-multigeometry-polygons.kml"
    lib = _read_libkml(case, set())
    assert lib is not None and list(lib.geom_type) == ["MultiPolygon", "MultiPolygon"]

"""geo.io against the generated corpus: every case has one exact expected outcome."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer

from geo.errors import AtlasError
from geo.io import list_layers_in, read_any, read_raster
from geo.safezip import Limits
from tests import corpus as C

OK, ERR = "ok", "error"
# case → (outcome, report fields or error key)
EXPECT: dict[str, tuple[str, object]] = {
    "csv_arcgis_point_xy": (OK, {"features": 3, "crs": "EPSG:9213 VN-2000 / TM-3 106-30", "crs_basis": "crs_guess_metric",
                                 "surveyor_xy": False, "swapped": False, "warnings": []}),
    "csv_headers_with_units": (OK, {"features": 3, "dropped_bad_coords": 0, "crs_basis": "crs_guess_degrees",
                                    "warnings": [("assumed_wgs84", {})]}),
    "csv_latlon_metres": (OK, {"features": 3, "crs": "EPSG:9213 VN-2000 / TM-3 106-30", "crs_basis": "crs_guess_metric",
                               "warnings": [("latlon_metres", {"x": "lon", "y": "lat"})]}),
    "csv_stray_row": (OK, {"features": 4, "crs": "EPSG:9213 VN-2000 / TM-3 106-30", "surveyor_xy": True,
                           "warnings": [("surveyor_xy", {"x": "X", "y": "Y"}),
                                        ("some_outside_vietnam", {"count": 1, "features": 4})]}),
    "csv_huge_value": (OK, {"features": 2, "truncated_values": 1, "crs_basis": "crs_guess_degrees"}),
    "csv_no_coords": (ERR, "import_errors.no_coord_columns"),
    "csv_out_of_range": (OK, {"features": 3, "dropped_out_of_range": 1, "out_of_range_rows": [5],
                              "dropped_bad_coords": 2}),
    "csv_surveyor_xy": (OK, {"features": 3, "surveyor_xy": True, "crs": "EPSG:9213 VN-2000 / TM-3 106-30",
                             "crs_basis": "crs_guess_metric"}),
    "csv_swapped": (OK, {"features": 3, "swapped": True}),
    "csv_tcvn3": (OK, {"features": 3, "encodings": {"ten": "tcvn3"}}),
    "csv_vn_bom": (OK, {"features": 3, "encodings": {}, "encoding_basis": "bom", "swapped": False}),
    "geojson_bowtie": (OK, {"features": 2, "repaired": 1, "kinds": {"polygons": 2}, "crs_basis": "crs_spec",
                            "warnings": []}),
    "geojson_empty": (ERR, "import_errors.empty_file"),
    "geojson_metric_nocrs": (OK, {"features": 3, "crs": "EPSG:9213 VN-2000 / TM-3 106-30",
                                  "crs_basis": "crs_guess_metric"}),
    "geojson_old_crs": (OK, {"features": 3, "crs": "EPSG:9213 VN-2000 / TM-3 106-30", "crs_basis": "crs_declared"}),
    "geojson_tcvn3_mojibake": (OK, {"features": 3, "encodings": {"name": "tcvn3"}}),
    "geojson_truncated": (ERR, "import_errors.json_invalid"),
    "geojson_xss": (OK, {"features": 3, "encodings": {}}),
    "geojson_z": (OK, {"features": 3, "has_z": True}),
    "geotiff": (OK, {"crs": "EPSG:9213 VN-2000 / TM-3 106-30", "crs_basis": "crs_declared"}),
    "gpkg_multilayer": (ERR, "import_errors.choose_layer"),
    "gpkg_vrt_local_file": (ERR, "import_errors.unreadable"),
    "shp_vrt_local_file": (ERR, "import_errors.unreadable"),
    "gpkg_nan": (OK, {"features": 2, "features_in": 5, "dropped_empty": 1, "dropped_nonfinite": 2}),
    "json_not_geojson": (ERR, "import_errors.json_not_geojson"),
    "kml_billion_laughs": (ERR, "import_errors.xml_unsafe"),
    "kml_mixed": (ERR, "import_errors.mixed_geometry"),
    "kml_xxe": (ERR, "import_errors.xml_unsafe"),
    "kmz": (OK, {"features": 2, "crs_basis": "crs_spec", "kinds": {"points": 2}}),
    "shp_local_prj": (OK, {"features": 3, "crs": "EPSG:9213 VN-2000 / TM-3 106-30", "crs_basis": "crs_local_tm3",
                           "encoding_basis": "cpg", "encodings": {}}),
    "shp_missing_dbf": (ERR, "import_errors.shp_missing_part"),
    "shp_missing_shx": (ERR, "import_errors.shp_missing_part"),
    "shp_tcvn3": (OK, {"features": 3, "encodings": {"ten": "tcvn3"}, "encoding_basis": "auto"}),
    "shp_utf8_nocpg": (OK, {"features": 3, "encodings": {"ten": "utf-8"}}),
    "shp_vn2000_noprj": (OK, {"features": 3, "crs_basis": "crs_guess_metric", "kinds": {"polygons": 3}}),
    "shp_vn2000_prj": (OK, {"features": 3, "crs_basis": "crs_declared", "encodings": {}}),
    "shp_vni": (OK, {"features": 3, "encodings": {"ten": "vni"}}),
    "shp_wgs84_prj_metres": (OK, {"features": 3, "crs_basis": "crs_declared_mismatch",
                                  "crs": "EPSG:9213 VN-2000 / TM-3 106-30"}),
    "xlsx_xxe": (ERR, "import_errors.xml_unsafe"),
    "shp_alone": (ERR, "import_errors.shp_missing_part"),
    "xlsx_vn": (OK, {"features": 3, "layer": "Cơ sở y tế", "layers": ["Cơ sở y tế", "Ghi chú"]}),
    "zip_absolute": (ERR, "import_errors.zip_slip"),
    "zip_bomb": (ERR, "import_errors.zip_bomb"),
    "zip_bomb_many": (ERR, "import_errors.zip_bomb_total"),
    "zip_corrupt": (ERR, "import_errors.zip_corrupt"),
    "zip_lying_header": (ERR, "import_errors.json_invalid"),
    "zip_slip": (ERR, "import_errors.zip_slip"),
    "zip_symlink": (ERR, "import_errors.zip_link"),
}

_TO_WGS = Transformer.from_crs(9213, 4326, always_xy=True)


def test_corpus_is_large_and_fully_specified():
    assert len(C.CORPUS) >= 25
    assert set(C.CORPUS) == set(EXPECT)


def _read(name: str, tmp_path: Path, **kw):
    path = C.CORPUS[name](tmp_path)
    if name == "geotiff":
        return read_raster(path, **kw)
    return read_any(path, **kw)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_corpus_case(name, tmp_path):
    outcome, detail = EXPECT[name]
    if outcome == ERR:
        path = C.CORPUS[name](tmp_path)
        with pytest.raises(AtlasError) as exc:
            read_any(path)
        assert exc.value.key == detail
        for lang in ("vi", "en"):
            msg = exc.value.message(lang)
            assert msg != detail and "{" not in msg and "\n" not in msg
            assert f"'{path.name}'" in msg
        return
    data, report = _read(name, tmp_path)
    for field, value in detail.items():
        assert getattr(report, field) == value, field
    if name != "geotiff":
        assert data.crs.equals(CRS.from_epsg(4326))
        assert shapely.is_valid(np.asarray(data.geometry.values)).all()
        assert len(data) == report.features
    lines = report.lines("vi")
    assert lines[0] == f"Tệp: {report.file}" and all("{" not in ln for ln in lines)


def _assert_places(gdf, tol=1e-6):
    centers = shapely.centroid(np.asarray(gdf.geometry.values))
    exp = np.array([p[:2] for p in C.PLACES])
    got = shapely.get_coordinates(centers)
    assert np.abs(got - exp).max() < tol


@pytest.mark.parametrize("name", ["shp_vn2000_prj", "shp_vn2000_noprj", "shp_local_prj", "shp_tcvn3", "shp_vni",
                                  "shp_utf8_nocpg", "shp_wgs84_prj_metres"])
def test_shapefiles_land_on_the_places_with_unicode_names(name, tmp_path):
    gdf, _ = _read(name, tmp_path)
    assert list(gdf["ten"]) == C.UNICODE_NAMES
    _assert_places(gdf, tol=1e-6)


def test_local_prj_is_not_read_as_wgs84(tmp_path):
    """Reading the local TM-3 .prj literally (WGS84 datum) would put the data ~200 m off."""
    gdf, _ = _read("shp_local_prj", tmp_path)
    literal = Transformer.from_crs(CRS.from_wkt(C.LOCAL_TM3_PRJ), 4326, always_xy=True)
    e, n = C.vn2000_xy()[0]
    lon_lit, lat_lit = literal.transform(e, n)
    lon, lat = shapely.get_coordinates(shapely.centroid(gdf.geometry.values[0]))[0]
    off_m = np.hypot((lon - lon_lit) * 103_600, (lat - lat_lit) * 110_700)
    assert 150 < off_m < 300
    assert abs(lon - C.PLACES[0][0]) < 1e-6 and abs(lat - C.PLACES[0][1]) < 1e-6


def test_override_wins_over_prj_and_guess(tmp_path):
    gdf, report = _read("shp_vn2000_prj", tmp_path, crs="EPSG:3405")
    assert report.crs == "EPSG:3405 VN-2000 / UTM zone 48N" and report.crs_basis == "crs_override"
    xy = C.vn2000_xy()
    lon, _ = Transformer.from_crs(3405, 4326, always_xy=True).transform(*xy[0])
    assert abs(shapely.centroid(gdf.geometry.values[0]).x - lon) < 1e-6


def test_bad_override_refused(tmp_path):
    with pytest.raises(AtlasError) as exc:
        _read("csv_vn_bom", tmp_path, crs="EPSG:99999999")
    assert exc.value.key == "import_errors.bad_crs"


def test_tables_land_on_the_places(tmp_path):
    for name in ("csv_vn_bom", "csv_swapped", "csv_tcvn3", "xlsx_vn", "csv_surveyor_xy", "geojson_old_crs",
                 "geojson_metric_nocrs", "csv_headers_with_units", "csv_latlon_metres", "csv_arcgis_point_xy"):
        (tmp_path / name).mkdir()
        gdf, _ = _read(name, tmp_path / name)
        _assert_places(gdf, tol=1e-6)


def test_vietnamese_csv_headers_values_and_numbers(tmp_path):
    gdf, _ = _read("csv_vn_bom", tmp_path)
    assert list(gdf.columns) == ["Tên", "Vĩ độ", "Kinh độ", "Số học sinh", "geometry"]
    assert list(gdf["Tên"]) == C.UNICODE_NAMES
    assert list(gdf["Số học sinh"]) == [0, 100, 200]


def test_swapped_and_surveyor_warnings(tmp_path):
    _, rep = _read("csv_swapped", tmp_path)
    assert rep.warnings[0] == ("swapped_latlon", {"x": "lon", "y": "lat"})
    _, rep = _read("csv_surveyor_xy", tmp_path)
    assert rep.warnings == [("surveyor_xy", {"x": "X", "y": "Y"})]


def test_huge_value_is_truncated(tmp_path):
    gdf, _ = _read("csv_huge_value", tmp_path)
    assert len(gdf["note"].iloc[0]) == Limits().max_text_chars + 1
    assert gdf["note"].iloc[1] == "short"


def test_bowtie_repaired_into_two_triangles(tmp_path):
    gdf, _ = _read("geojson_bowtie", tmp_path)
    bow = gdf.loc[gdf["name"] == "bow", "geometry"].iloc[0]
    assert bow.geom_type == "MultiPolygon" and len(bow.geoms) == 2
    assert bow.area == pytest.approx(0.01 * 0.01 / 2, rel=1e-9)


def test_xss_text_kept_verbatim_as_data(tmp_path):
    gdf, _ = _read("geojson_xss", tmp_path)
    assert list(gdf["name"]) == [C.XSS, "a & b", "<script>x</script>"]
    assert C.XSS in gdf.columns


def test_z_kept(tmp_path):
    gdf, _ = _read("geojson_z", tmp_path)
    assert list(gdf.geometry.z) == [50.0, 51.0, 52.0]


def test_lone_shp_names_the_missing_part(tmp_path):
    with pytest.raises(AtlasError) as exc:
        read_any(C.make_shp_alone(tmp_path))
    assert exc.value.message("en").startswith("The file 'ranh_gioi.shp' has 'ranh_gioi.shp' but no 'ranh_gioi.shx'")


def test_xxe_never_reads_the_secret(tmp_path):
    with pytest.raises(AtlasError) as exc:
        _read("kml_xxe", tmp_path)
    assert C.SECRET not in exc.value.message("en") and C.SECRET not in exc.value.message("vi")


def test_mixed_kml_split_by_kind(tmp_path):
    path = C.make_kml_mixed(tmp_path)
    pts, rep = read_any(path, kind="points")
    assert rep.left_out == {"polygons": 1} and rep.kind == "points" and len(pts) == 2
    assert list(pts["name"]) == ["Trường A", "Trường B"]
    assert list(pts["folder"]) == ["Trường học", "Trường học"]
    assert pts["cap"].iloc[0] == "THCS"
    polys, rep = read_any(path, kind="polygons")
    assert len(polys) == 1 and rep.left_out == {"points": 2}
    with pytest.raises(AtlasError) as exc:
        read_any(path, kind="lines")
    assert exc.value.key == "import_errors.kind_absent"


def test_geopackage_layers_listed_and_chosen(tmp_path):
    path = C.make_gpkg_multilayer(tmp_path)
    assert list_layers_in(path) == ["diem", "vung"]
    gdf, rep = read_any(path, layer="vung")
    assert rep.layer == "vung" and rep.kinds == {"polygons": 3}
    _assert_places(gdf)
    with pytest.raises(AtlasError) as exc:
        read_any(path, layer="nope")
    assert exc.value.key == "import_errors.layer_not_found" and "diem, vung" in exc.value.message("en")


def test_raster_sum_skips_nodata(tmp_path):
    info, rep = _read("geotiff", tmp_path)
    assert info.total == float(sum(range(2, 13)))
    assert (info.width, info.height, info.count) == (4, 3, 1)
    assert rep.raster["total"] == 77.0


def test_zip_bomb_refused_fast(tmp_path):
    path = C.make_zip_bomb(tmp_path)
    start = time.perf_counter()
    with pytest.raises(AtlasError):
        read_any(path)
    assert time.perf_counter() - start < 1.0


def test_zip_slip_writes_nothing_outside(tmp_path):
    for maker in (C.make_zip_slip, C.make_zip_absolute):
        with pytest.raises(AtlasError):
            read_any(maker(tmp_path))
    assert not list(tmp_path.parent.rglob("evil_*.txt"))


def test_size_cap(tmp_path):
    path = C.make_csv_huge_value(tmp_path)
    with pytest.raises(AtlasError) as exc:
        read_any(path, limits=Limits(max_file_bytes=1000))
    assert exc.value.key == "import_errors.too_big"


def test_forced_encoding(tmp_path):
    gdf, rep = _read("shp_vni", tmp_path, encoding="vni")
    assert list(gdf["ten"]) == C.UNICODE_NAMES and rep.encoding_basis == "override"
    with pytest.raises(AtlasError) as exc:
        read_any(C.make_csv_vn_bom(tmp_path), encoding="koi8")
    assert exc.value.key == "import_errors.bad_encoding"


def test_display_name_used_in_messages(tmp_path):
    with pytest.raises(AtlasError) as exc:
        read_any(C.make_geojson_empty(tmp_path), display_name="ranh_gioi.geojson")
    assert "ranh_gioi.geojson" in exc.value.message("vi")


# --- more shapes of input -------------------------------------------------------------
def test_plain_shapefile_path_with_sidecars(tmp_path):
    import zipfile
    z = C.make_shp_tcvn3(tmp_path)
    folder = tmp_path / "plain"
    with zipfile.ZipFile(z) as zf:
        zf.extractall(folder)
    before = sorted(p.name for p in folder.iterdir())
    gdf, rep = read_any(folder / "tcvn3.shp")
    assert list(gdf["ten"]) == C.UNICODE_NAMES and rep.crs_basis == "crs_local_tm3"
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written next to the user's files


def test_zip_with_two_shapefiles_needs_a_choice(tmp_path):
    import zipfile
    a, b = C.make_shp_tcvn3(tmp_path), C.make_shp_vni(tmp_path)
    both = tmp_path / "both.zip"
    with zipfile.ZipFile(both, "w") as out:
        for src in (a, b):
            with zipfile.ZipFile(src) as zf:
                for info in zf.infolist():
                    out.writestr(info.filename, zf.read(info))
    assert list_layers_in(both) == ["tcvn3", "vni"]
    with pytest.raises(AtlasError) as exc:
        read_any(both)
    assert exc.value.key == "import_errors.choose_layer"
    gdf, rep = read_any(both, layer="vni")
    assert rep.encodings == {"ten": "vni"} and list(gdf["ten"]) == C.UNICODE_NAMES


def test_zip_holding_a_geojson(tmp_path):
    import zipfile
    src = C.make_geojson_old_crs(tmp_path)
    z = tmp_path / "gj.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(src, "data/" + src.name)
    gdf, rep = read_any(z)
    assert rep.format == "geojson" and rep.crs_basis == "crs_declared"
    _assert_places(gdf)


def test_tcvn3_field_names_converted(tmp_path):
    import zipfile

    import geopandas as gpd
    import pyogrio
    src = tmp_path / "f"
    src.mkdir()
    gdf = gpd.GeoDataFrame({"Tªn": C.TCVN3_NAMES}, geometry=C.squares_9213().values)
    pyogrio.write_dataframe(gdf, src / "f.shp", encoding="latin1")
    (src / "f.cpg").unlink(missing_ok=True)
    z = tmp_path / "f.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in src.iterdir():
            zf.write(p, p.name)
    out, rep = read_any(z)
    assert rep.renamed_columns == {"Tªn": "Tên"} and list(out["Tên"]) == C.UNICODE_NAMES


def test_kmz_with_xxe_refused(tmp_path):
    import zipfile
    kml = C.make_kml_xxe(tmp_path)
    z = tmp_path / "x.kmz"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(kml, "doc.kml")
    with pytest.raises(AtlasError) as exc:
        read_any(z)
    assert exc.value.key == "import_errors.xml_unsafe"


def test_xlsx_bomb_refused_before_opening(tmp_path):
    bomb = C.make_zip_bomb(tmp_path)
    x = tmp_path / "sheet.xlsx"
    x.write_bytes(bomb.read_bytes())
    with pytest.raises(AtlasError) as exc:
        read_any(x)
    assert exc.value.key == "import_errors.zip_bomb"


def test_wkt_csv_and_geometry_named_columns(tmp_path):
    p = tmp_path / "wkt.csv"
    p.write_text('name,WKT\nA,"POINT (105.8442 21.5942)"\nB,"POLYGON ((105 21, 105.1 21, 105.1 21.1, 105 21))"\n'
                 'C,not wkt\n', encoding="utf-8")
    with pytest.raises(AtlasError) as exc:
        read_any(p)
    assert exc.value.key == "import_errors.mixed_geometry"
    gdf, rep = read_any(p, kind="points")
    assert list(gdf["name"]) == ["A"] and rep.dropped_bad_coords == 1 and rep.left_out == {"polygons": 1}
    q = tmp_path / "geomcol.csv"
    q.write_text("lat,lon,geometry\n21.5942,105.8442,x\n", encoding="utf-8")
    gdf, _ = read_any(q)
    assert list(gdf.columns) == ["lat", "lon", "geometry_1", "geometry"] and gdf["geometry_1"].iloc[0] == "x"


def test_geojson_null_geometries_and_empty_collection(tmp_path):
    import json
    p = tmp_path / "nulls.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"a": 1}, "geometry": None},
        {"type": "Feature", "properties": {"a": 2}, "geometry": {"type": "Point", "coordinates": [105.8, 21.6]}}]}))
    gdf, rep = read_any(p)
    assert (len(gdf), rep.dropped_empty, rep.features_in) == (1, 1, 2)
    e = tmp_path / "empty_fc.geojson"
    e.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(AtlasError) as exc:
        read_any(e)
    assert exc.value.key == "import_errors.no_features"


def test_unknown_format_refused(tmp_path):
    p = tmp_path / "notes.docx"
    p.write_bytes(b"\x00\x01binary")
    with pytest.raises(AtlasError) as exc:
        read_any(p)
    assert exc.value.key == "import_errors.unknown_format"


def test_every_string_key_used_exists_in_both_languages():
    import re

    from geo.i18n import catalog
    cat = catalog()
    root = Path(__file__).resolve().parents[1]
    used = set()
    files = [str(f.relative_to(root)) for f in sorted((root / "geo" / "io").glob("*.py"))]
    for f in files + ["geo/crs.py", "geo/safezip.py", "geo/workspace.py", "geo/cli/check.py", "pages/data.py",
                          "pages/data_parts.py"]:
        text = (root / f).read_text(encoding="utf-8")
        used |= set(re.findall(r'"((?:import_errors|workspace_errors|import_report|data|cli_check)\.[a-z_0-9-]+)"',
                               text))
        used |= {f"import_report.{k}" for k in re.findall(r'report\.warn\("([a-z_]+)"', text)}
    missing = sorted(k for k in used if k not in cat)
    assert missing == []
    for key in used:
        vi, en = cat[key]["vi"], cat[key]["en"]
        assert set(re.findall(r"\{(\w+)\}", vi)) == set(re.findall(r"\{(\w+)\}", en)), key


@pytest.mark.parametrize("text", ['lat,lon\n21.5,105.8\n"21.6,105.9\n', "lat,lon\n21.5,105.8\n21.6,105.9,1,2\n"])
def test_broken_csv_refused(tmp_path, text):
    p = tmp_path / "ragged.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(AtlasError) as exc:
        read_any(p)
    assert exc.value.key == "import_errors.csv_invalid"


def test_big_geojson_streams_through_gdal_and_keeps_crs_member(tmp_path, monkeypatch):
    import geo.io._vector as gio
    monkeypatch.setattr(gio, "_JSON_FULL_CHECK", 100)  # force the big-file path
    gdf, rep = read_any(C.make_geojson_old_crs(tmp_path))
    assert rep.crs_basis == "crs_declared" and rep.crs.startswith("EPSG:9213")
    _assert_places(gdf)
    with pytest.raises(AtlasError) as exc:
        read_any(C.make_geojson_truncated(tmp_path))
    assert exc.value.key == "import_errors.unreadable"


def test_stray_row_does_not_move_the_guess(tmp_path):
    """One row typed in degrees among VN-2000 metres: the others still land on the places."""
    gdf, rep = _read("csv_stray_row", tmp_path)
    _assert_places(gdf.iloc[:3])
    assert not (101.0 <= gdf.geometry.x.iloc[3] <= 110.5 and 7.0 <= gdf.geometry.y.iloc[3] <= 24.1)
    assert "1 of the 4 features lie outside Vietnam" in " ".join(rep.warning_texts("en"))


def test_latlon_columns_holding_metres_with_a_crs_override(tmp_path):
    gdf, rep = read_any(C.make_csv_latlon_metres(tmp_path), crs="9213")
    assert rep.crs_basis == "crs_override" and rep.warnings == [] and rep.dropped_out_of_range == 0
    _assert_places(gdf)


def test_dms_coordinates(tmp_path):
    gdf, rep = _read("csv_headers_with_units", tmp_path)
    assert list(gdf["Vĩ độ (WGS84)"])[0] == "21°35'39.12\"N"  # the attribute text itself is kept
    assert abs(gdf.geometry.y.iloc[0] - C.PLACES[0][1]) < 1e-6


def test_mixed_geometry_message_is_translated(tmp_path):
    path = C.make_kml_mixed(tmp_path)
    with pytest.raises(AtlasError) as exc:
        read_any(path)
    vi, en = exc.value.message("vi"), exc.value.message("en")
    assert "(điểm: 2, đường: 0, vùng: 1)" in vi and "(points: 2, lines: 0, polygons: 1)" in en
    with pytest.raises(AtlasError) as exc:
        read_any(path, kind="lines")
    assert exc.value.key == "import_errors.kind_absent" and "'mixed.kml'" in exc.value.message("vi")


def test_report_lines_without_warnings_and_vi_numbers(tmp_path):
    _, rep = _read("csv_swapped", tmp_path)
    with_w, without = rep.lines("vi"), rep.lines("vi", warnings=False)
    assert with_w[:len(without)] == without and with_w[len(without):] == rep.warning_texts("vi")
    assert rep.warning_texts("vi") and not set(rep.warning_texts("vi")) & set(without)
    crs_line = next(ln for ln in without if ln.startswith("Hệ tọa độ"))
    assert "x 105,710–105,874" in crs_line  # vi decimal comma
    (tmp_path / "tif").mkdir()
    _, rep = _read("geotiff", tmp_path / "tif")
    assert "Tổng giá trị băng 1: 77" in rep.lines("vi")


def test_zip_bomb_in_small_pieces_refused_fast_without_extracting(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    path = C.make_zip_bomb_many(tmp_path)
    start = time.perf_counter()
    with pytest.raises(AtlasError) as exc:
        read_any(path)
    assert time.perf_counter() - start < 1.0
    assert exc.value.key == "import_errors.zip_bomb_total" and "'bomb_many.zip'" in exc.value.message("vi")
    assert sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()) < 2 * path.stat().st_size


def test_giant_prj_in_an_archive_is_not_read_whole(tmp_path):
    """A .prj padded to 5 MB (inside the caps) is read only in its first 64 KB, which hold
    the real definition: still recognised, and a .prj of pure junk falls back to the guess."""
    import zipfile
    src = C.make_shp_vn2000_noprj(tmp_path)
    z = tmp_path / "giant_prj.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        zout.writestr("vn2000_noprj.prj", C.LOCAL_TM3_PRJ + " " * 5_000_000)
    gdf, rep = read_any(z, limits=Limits(max_ratio=100_000))
    assert rep.crs_basis == "crs_local_tm3" and rep.warnings == []
    _assert_places(gdf)
    junk = tmp_path / "junk_prj.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(junk, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        zout.writestr("vn2000_noprj.prj", "x" * 5_000_000)
    gdf, rep = read_any(junk, limits=Limits(max_ratio=100_000))
    assert rep.crs_basis == "crs_guess_metric" and ("prj_unreadable", {"prj": "vn2000_noprj.prj"}) in rep.warnings
    _assert_places(gdf)


def test_every_refusal_is_one_sentence_naming_the_file():
    import re

    from geo.i18n import catalog
    cat = catalog()
    keys = [k for k in cat if k.startswith("import_errors.")]
    assert len(keys) > 30
    for key in keys:
        for lang in ("vi", "en"):
            text = cat[key][lang]
            body = re.sub(r"e\.g\.|\.\w{2,5}\b|\d\.\d", "", text[:-1])  # ".shp", "e.g.", "0.9999"
            assert text.endswith(".") and not re.search(r"[.!?] ", body), (key, lang)
            assert "{file}" in text or "{path}" in text, (key, lang)


@pytest.mark.parametrize("maker", [C.make_gpkg_vrt_local_file, C.make_shp_vrt_local_file])
def test_vrt_in_disguise_never_reads_a_local_file(tmp_path, maker):
    """GDAL chooses its driver from the content: a VRT named .gpkg/.shp would read the file
    it names. The first bytes are checked before GDAL opens anything."""
    path = maker(tmp_path)
    with pytest.raises(AtlasError) as exc:
        read_any(path)
    assert C.SECRET not in exc.value.message("en")
    if path.suffix == ".gpkg":
        with pytest.raises(AtlasError):
            list_layers_in(path)


def test_big_geojson_path_refuses_non_json_content(tmp_path, monkeypatch):
    import geo.io._vector as gio
    monkeypatch.setattr(gio, "_JSON_FULL_CHECK", 100)  # force the big-file (GDAL-only) path
    vrt = C.make_gpkg_vrt_local_file(tmp_path).read_text()
    p = tmp_path / "big.geojson"
    p.write_text(vrt + " " * 200)
    with pytest.raises(AtlasError) as exc:
        read_any(p)
    assert exc.value.key == "import_errors.json_invalid" and C.SECRET not in exc.value.message("en")


def test_rows_are_numbered_as_the_spreadsheet_shows_them(tmp_path):
    """Blank lines in a CSV and blank rows in an XLSX (above the header too) keep their place:
    the out-of-range point is reported at the row number the user sees in the sheet."""
    import openpyxl

    csv = tmp_path / "diem.csv"
    csv.write_text("ten,lat,lon\nA,21.6,105.8\n\nB,21.5,105.9\nC,121.5,205.9\n", encoding="utf-8")
    _, rep = read_any(csv)
    assert rep.out_of_range_rows == [5]  # header 1, A 2, blank 3, B 4, C 5
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([None])  # a blank first row: the header is row 2
    for row in (["ten", "lat", "lon"], ["A", 21.6, 105.8], [None, None, None], ["C", 121.5, 205.9]):
        ws.append(row)
    xlsx = tmp_path / "diem.xlsx"
    wb.save(xlsx)
    _, rep = read_any(xlsx)
    assert rep.out_of_range_rows == [5]

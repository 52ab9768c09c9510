"""Exports round-trip through GDAL (pyogrio): same features, same Vietnamese text, same CRS,
and every export carries its credits."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from shapely.geometry import Point, Polygon

from geo.auth import configure_test_editor
from geo.errors import AtlasError
from geo.export import (
    FORMATS,
    VECTOR_FORMATS,
    Credits,
    RasterData,
    export_bytes,
    export_raster,
    export_source,
    export_vector,
    layer_credits,
    resolve_source,
    shapefile_field_names,
)

NAMES = ["Phường Đồng Quang", "Xã Tân Cương", "Thành phố Sông Công", "Huyện Định Hóa <b>&'\""]


pytestmark = pytest.mark.usefixtures("workspace_file")


def _polygons() -> gpd.GeoDataFrame:
    x0, y0 = 105.8, 21.5
    geoms = [Polygon([(x0 + i * 0.05, y0), (x0 + i * 0.05 + 0.04, y0), (x0 + i * 0.05 + 0.04, y0 + 0.03),
                      (x0 + i * 0.05, y0 + 0.03)]) for i in range(len(NAMES))]
    return gpd.GeoDataFrame({
        "name_full": NAMES,
        "population_2019": [12345, 6789, 69382, 0],
        "density_2019": [1234.5, 98.25, 714.11, 0.0],
        "merged_from": ["Phường Trưng Vương, Phường Đồng Quang", "", "Xã Bình Sơn", "Ừ ử ữ ự ỳ ỵ"],
    }, geometry=geoms, crs=4326)


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": NAMES, "category": ["health", "education", "post", "market"],
                             "beds": [120, 0, 0, 5]},
                            geometry=[Point(105.84 + i * 0.01, 21.59 - i * 0.01) for i in range(4)], crs=4326)


CREDITS = Credits(title="Lớp thử — dữ liệu dẫn xuất", source="nguồn thử (Sở TN&MT)", licence="CC BY 4.0",
                  vintage="2025-07-01", derived=True)


def _read(path: Path, fmt: str, **kw) -> gpd.GeoDataFrame:
    if path.suffix == ".zip":
        inner = [n for n in zipfile.ZipFile(path).namelist() if n.endswith((".shp", ".tab"))][0]
        return pyogrio.read_dataframe(f"/vsizip/{path}/{inner}", **kw)
    return pyogrio.read_dataframe(path, **kw)


def _same_geometries(a: gpd.GeoSeries, b: gpd.GeoSeries, tol: float) -> None:
    assert len(a) == len(b)
    a2 = shapely.force_2d(a.values)
    b2 = shapely.force_2d(b.values)
    d = shapely.hausdorff_distance(a2, b2)
    assert np.all(d < tol), d


CASES = [(fmt, None) for fmt in VECTOR_FORMATS] + [("gpkg", 9213), ("shp", 9213), ("tab", 9213), ("csv", 9213)]


@pytest.mark.parametrize("fmt,crs", CASES)
def test_vector_round_trip_features_text_crs(tmp_path, fmt, crs):
    src = _polygons()
    out = tmp_path / ("out.zip" if FORMATS[fmt].zipped and fmt != "csv" else f"out{FORMATS[fmt].ext}")
    res = export_vector(src, fmt, out, credits=CREDITS, crs=crs, lang="vi")
    assert res.path.exists()
    back = _read(res.path, fmt)
    expected = src.to_crs(crs or 4326)
    # CRS: the file says what the coordinates are (EPSG:9213 must land on the same place)
    assert back.crs is not None
    if crs is None:
        assert back.crs.to_epsg() == 4326
    else:
        probe = expected.geometry.iloc[0].centroid
        t_back = pyproj.Transformer.from_crs(back.crs, 4326, always_xy=True)
        t_ref = pyproj.Transformer.from_crs(9213, 4326, always_xy=True)
        lon1, lat1 = t_back.transform(probe.x, probe.y)
        lon2, lat2 = t_ref.transform(probe.x, probe.y)
        assert abs(lon1 - lon2) < 1e-7 and abs(lat1 - lat2) < 1e-7  # < 1 cm: datum shift kept
    # features: same count, same geometry (within the format's precision), same text
    _same_geometries(back.geometry, expected.geometry, 1e-6 if crs is None else 0.05)
    renamed = res.renamed_fields
    name_col = renamed.get("name_full", "name_full")
    assert list(back[name_col]) == NAMES
    merged_col = renamed.get("merged_from", "merged_from")
    assert list(back[merged_col].fillna("")) == list(src["merged_from"])
    pop_col = renamed.get("population_2019", "population_2019")
    assert [int(v) for v in back[pop_col]] == list(src["population_2019"])
    dens_col = renamed.get("density_2019", "density_2019")
    assert np.allclose(back[dens_col].astype(float), src["density_2019"], atol=1e-6)


def test_latlon_csv_round_trip(tmp_path):
    pts = _points()
    res = export_vector(pts, "csv", tmp_path / "pts.csv", credits=CREDITS, csv_geometry="latlon")
    back = pyogrio.read_dataframe(res.path, X_POSSIBLE_NAMES="lon", Y_POSSIBLE_NAMES="lat")
    assert list(back["name"]) == NAMES
    _same_geometries(back.set_crs(4326, allow_override=True).geometry, pts.geometry, 1e-7)
    # UTF-8 with BOM so spreadsheet programs show the diacritics
    assert res.path.read_bytes().startswith(b"\xef\xbb\xbf")


def test_latlon_refused_for_polygons(tmp_path):
    with pytest.raises(AtlasError) as err:
        export_vector(_polygons(), "csv", tmp_path / "x.csv", credits=CREDITS, csv_geometry="latlon")
    assert err.value.key == "export.latlon_points_only"


@pytest.mark.parametrize("fmt", ["geojson", "kml"])
def test_wgs84_only_formats_refuse_other_crs(tmp_path, fmt):
    with pytest.raises(AtlasError) as err:
        export_vector(_polygons(), fmt, tmp_path / f"x.{fmt}", credits=CREDITS, crs=9213)
    assert err.value.key == "export.wgs84_only"
    assert "WGS 84" in err.value.message("vi")


def test_geojson_is_rfc7946_with_embedded_credits(tmp_path):
    res = export_vector(_polygons(), "geojson", tmp_path / "a.geojson", credits=CREDITS)
    doc = json.loads(res.path.read_text(encoding="utf-8"))
    assert "crs" not in doc  # RFC 7946: no crs member, WGS 84 implied
    assert doc["credits"]["source"] == CREDITS.source
    assert doc["credits"]["derived"] == "yes"
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    assert shapely.Polygon(ring).exterior.is_ccw  # right-hand rule for exterior rings
    assert "Phường Đồng Quang" in res.path.read_text(encoding="utf-8")  # real UTF-8, not \u escapes


def test_gpkg_metadata_and_sidecar(tmp_path):
    res = export_vector(_polygons(), "gpkg", tmp_path / "a.gpkg", credits=CREDITS, crs=9213)
    meta = pyogrio.read_info(res.path)["layer_metadata"]
    assert meta["licence"] == "CC BY 4.0" and meta["derived"] == "yes"
    text = res.credits_path.read_text(encoding="utf-8")
    assert CREDITS.source in text and "EPSG:9213" in text and "DẪN XUẤT" in text


def test_shapefile_zip_has_cpg_prj_and_truncation_note(tmp_path):
    res = export_vector(_polygons(), "shp", tmp_path / "a.zip", credits=CREDITS)
    names = zipfile.ZipFile(res.path).namelist()
    assert {"a.shp", "a.shx", "a.dbf", "a.prj", "a.cpg", "CREDITS.txt", "FIELDS.txt"} <= set(names)
    zf = zipfile.ZipFile(res.path)
    assert zf.read("a.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
    fields = zf.read("FIELDS.txt").decode("utf-8")
    assert "population_2019\tpopulatio" in fields or "population_2019\tpopulation" in fields
    credits = zf.read("CREDITS.txt").decode("utf-8")
    assert "population_2019 →" in credits and CREDITS.licence in credits
    assert all(len(v) <= 10 for v in res.renamed_fields.values())


def test_shapefile_field_names_unique_and_short():
    cols = ["population_2019", "population_2025", "population_2030", "name", "populatio"]
    out = shapefile_field_names(cols)
    final = [out.get(c, c) for c in cols]
    assert len(set(x.lower() for x in final)) == len(cols)
    assert all(len(x.encode()) <= 10 for x in final)
    assert "name" not in out


def test_kml_names_and_credits(tmp_path):
    res = export_vector(_points(), "kml", tmp_path / "p.kml", credits=CREDITS)
    text = res.path.read_text(encoding="utf-8")
    assert "Phường Đồng Quang" in text and CREDITS.source in text and CREDITS.licence in text
    back = pyogrio.read_dataframe(res.path)
    assert list(back["Name"]) == NAMES  # the "name" column became each placemark's <name>


def test_mapinfo_zip_is_utf8(tmp_path):
    res = export_vector(_polygons(), "tab", tmp_path / "m.zip", credits=CREDITS)
    zf = zipfile.ZipFile(res.path)
    assert 'Charset "UTF-8"' in zf.read("m.tab").decode("utf-8")
    assert "CREDITS.txt" in zf.namelist()


def test_shipped_layer_round_trip_and_derived_note(tmp_path):
    src = resolve_source("wards_2025", "en")
    res = export_source(src, "gpkg", tmp_path / "w.gpkg", crs="EPSG:9213", lang="en")
    back = pyogrio.read_dataframe(res.path)
    assert len(back) == len(src.gdf)
    assert set(back["name_full"]) == set(src.gdf["name_full"])
    assert back.crs.to_epsg() == 9213
    credits = res.credits_path.read_text(encoding="utf-8")
    assert "DERIVED" not in credits and "thanglequoc" in credits  # official polygons, credited
    # exports carry the full official geometry, not the display copy
    assert int(shapely.get_num_coordinates(src.gdf.geometry.values).sum()) > 100_000
    res = export_source(resolve_source("districts", "en"), "gpkg", tmp_path / "d.gpkg", lang="en")
    assert "DERIVED" in res.credits_path.read_text(encoding="utf-8")


def test_resolve_file_path_and_unknown(tmp_path):
    path = tmp_path / "mine.geojson"
    _points().to_file(path, engine="pyogrio")
    src = resolve_source(str(path))
    assert len(src.gdf) == 4 and not src.is_raster
    with pytest.raises(AtlasError) as err:
        resolve_source("khong_co_lop_nay")
    assert err.value.key == "export.not_found"


def test_unknown_format_and_crs(tmp_path):
    with pytest.raises(AtlasError):
        export_vector(_points(), "dxf", tmp_path / "x.dxf", credits=CREDITS)
    with pytest.raises(AtlasError) as err:
        export_vector(_points(), "gpkg", tmp_path / "x.gpkg", credits=CREDITS, crs="EPSG:99999999")
    assert err.value.key == "export.bad_crs"


def test_unwritable_target(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AtlasError) as err:
        export_vector(_points(), "gpkg", blocker / "sub" / "x.gpkg", credits=CREDITS)
    assert err.value.key == "errors.unwritable"


def _raster() -> RasterData:
    from affine import Affine

    arr = np.arange(40 * 50, dtype="float32").reshape(40, 50)
    arr[0, 0] = np.nan
    return RasterData(arr, Affine(100, 0, 420000, 0, -100, 2380000), "EPSG:9213", None, "pop")


def test_geotiff_round_trip_with_tags(tmp_path):
    import rasterio

    rd = _raster()
    res = export_raster(rd, tmp_path / "pop.tif", credits=CREDITS)
    with rasterio.open(res.path) as ds:
        assert ds.crs.to_epsg() == 9213
        data = ds.read(1)
        assert np.array_equal(np.isnan(data), np.isnan(rd.array))
        assert np.allclose(data[~np.isnan(data)], rd.array[~np.isnan(rd.array)])
        tags = ds.tags()
        assert tags["licence"] == CREDITS.licence and tags["TIFFTAG_COPYRIGHT"] == CREDITS.licence
        assert ds.transform == rd.transform


def test_geotiff_reprojected_keeps_total(tmp_path):
    import rasterio

    rd = _raster()
    res = export_raster(rd, tmp_path / "pop4326.tif", credits=CREDITS, crs=4326)
    with rasterio.open(res.path) as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.bounds.left == pytest.approx(105.73, abs=0.05)


def test_export_bytes_bundles(tmp_path):
    name, data, mime = export_bytes(_polygons(), "shp", credits=CREDITS, name="Xã phường")
    assert name.endswith(".zip") and mime == "application/zip"
    (tmp_path / name).write_bytes(data)
    assert "CREDITS.txt" in zipfile.ZipFile(tmp_path / name).namelist()
    name, data, mime = export_bytes(_polygons(), "geojson", credits=CREDITS, name="Xã phường")
    assert name == "xa_phuong.geojson" and b"credits" in data
    name, data, _ = export_bytes(_raster(), "tif", credits=CREDITS, name="pop")
    assert name.endswith(".tif") and data[:2] in (b"II", b"MM")
    with pytest.raises(AtlasError):
        export_bytes(_raster(), "gpkg", credits=CREDITS)


def test_layer_credits_from_catalog():
    c = layer_credits("infrastructure", "en")
    assert "ODbL" in c.licence
    assert "© OpenStreetMap contributors" in c.text("en", 4326, "geojson")
    assert layer_credits("districts").derived and not layer_credits("wards_2025").derived


def test_credits_combine_dedupes():
    a = layer_credits("communes")
    b = layer_credits("districts")
    c = Credits.combine("map", [a, b, a])
    assert len(c.parts) == 2 and a.source in c.source
    assert pd.notna(c.short("vi"))


def test_workspace_layer_by_name(tmp_path):
    workspace = pytest.importorskip("geo.workspace")
    workspace.save_layer("Trạm y tế xã", _points(), meta={"source": "so_y_te.xlsx"}, editor=configure_test_editor()[1])
    src = resolve_source("Trạm y tế xã", "vi")
    assert len(src.gdf) == 4 and "so_y_te.xlsx" in src.credits.source
    res = export_source(src, "tab", tmp_path / "tram.zip", crs=9213, lang="vi")
    zf = zipfile.ZipFile(res.path)
    assert "so_y_te.xlsx" in zf.read("CREDITS.txt").decode("utf-8")


def test_mapinfo_vn2000_says_how_the_datum_is_written(tmp_path):
    res = export_vector(_polygons(), "tab", tmp_path / "m.zip", credits=CREDITS, crs=9213, lang="en")
    credits = zipfile.ZipFile(res.path).read("CREDITS.txt").decode("utf-8")
    assert "EPSG:6960" in credits and "EPSG:9213" in credits
    plain = export_vector(_polygons(), "tab", tmp_path / "w.zip", credits=CREDITS, lang="en")
    assert "EPSG:6960" not in zipfile.ZipFile(plain.path).read("CREDITS.txt").decode("utf-8")

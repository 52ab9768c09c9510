"""Formats departments send (issue 10 kind 7) through the one reading path, and what the
atlas exports read back unchanged (kind 8): ESRI File Geodatabase (zipped ``.gdb``, made
here with GDAL's OpenFileGDB writer), MapInfo MIF/MID (zipped, made from the handed TAB
case), GeoTIFF values, CRS and grid. Inputs are built in the tests from code.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Geod

from geo.errors import AtlasError
from geo.io import read_any, read_raster

CASES = Path(__file__).parent / "data" / "import_cases"
_GEOD = Geod(ellps="WGS84")
NAMES = ["Thửa ao nhà ông Đồng", "Đất ở xóm Phúc Xuân"]


@pytest.fixture(autouse=True)
def _ws(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_WORKSPACE", str(tmp_path / "ws.gpkg"))


def _parcels_9213() -> gpd.GeoDataFrame:
    """Two VN-2000 parcels near Sông Công; the first has a pond (hole)."""
    x0, y0 = 431000.0, 2377000.0
    pond = shapely.Polygon(shapely.box(x0, y0, x0 + 100, y0 + 100).exterior, [shapely.box(x0 + 20, y0 + 20, x0 + 40,
                                                                                          y0 + 40).exterior.coords])
    return gpd.GeoDataFrame({"ten": NAMES, "ma": ["0101", "0203"]},
                            geometry=[pond, shapely.box(x0 + 200, y0, x0 + 300, y0 + 80)], crs=9213)


def _zip_tree(root: Path, out: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(out, "w") as z:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                z.write(p, prefix + p.relative_to(root.parent).as_posix())
    return out


def _areas_m2(geoms) -> list[float]:
    """Geodesic areas, rings oriented consistently first (holes subtract whatever the file's order)."""
    return [abs(_GEOD.geometry_area_perimeter(shapely.normalize(g))[0]) for g in geoms]


def _gdb(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    gdb = tmp_path / "so_lieu.gdb"
    for name, gdf in layers.items():
        pyogrio.write_dataframe(gdf, gdb, layer=name, driver="OpenFileGDB")
    return gdb


def test_file_geodatabase_zipped_reads_names_codes_holes_and_vn2000(tmp_path):
    src = _parcels_9213()
    gdb = _gdb(tmp_path, {"thua_dat": src})
    z = _zip_tree(gdb, tmp_path / "gdb.zip", prefix="du_lieu/")  # inside a folder, as Windows zips it
    gdf, rep = read_any(z)
    assert rep.format == "filegdb" and rep.layer == "thua_dat"
    assert list(gdf["ten"]) == NAMES and list(gdf["ma"]) == ["0101", "0203"]
    assert gdf.crs.to_epsg() == 4326 and "9213" in rep.crs
    want = src.to_crs(4326)
    assert np.allclose(_areas_m2(gdf.geometry), _areas_m2(want.geometry), rtol=1e-6)
    assert len(gdf.geometry.iloc[0].geoms[0].interiors if gdf.geometry.iloc[0].geom_type == "MultiPolygon"
               else gdf.geometry.iloc[0].interiors) == 1  # the pond stays a hole
    d = shapely.distance(np.asarray(gdf.to_crs(9213).geometry.values), np.asarray(src.geometry.values))
    assert d.max() < 0.01 and rep.dropped_count == 0


def test_file_geodatabase_with_two_feature_classes_asks_for_one(tmp_path):
    src = _parcels_9213()
    pts = gpd.GeoDataFrame({"ten": ["Trạm Y tế"]}, geometry=[shapely.Point(431050, 2377050)], crs=9213)
    gdb = _gdb(tmp_path, {"thua_dat": src, "tram_y_te": pts})
    z = _zip_tree(gdb, tmp_path / "gdb2.zip")
    with pytest.raises(AtlasError) as exc:
        read_any(z)
    msg = exc.value.message("en")
    assert exc.value.key == "import_errors.choose_layer" and "thua_dat" in msg and "tram_y_te" in msg
    gdf, rep = read_any(z, layer="tram_y_te")
    assert list(gdf["ten"]) == ["Trạm Y tế"] and rep.kind == "points"


def test_file_geodatabase_without_tables_is_refused_in_one_sentence(tmp_path):
    gdb = tmp_path / "rong.gdb"
    gdb.mkdir()
    (gdb / "gdb").write_bytes(b"\x05\x00\x00\x00")
    (gdb / "a00000001.gdbtable").write_bytes(b"not a table")
    with pytest.raises(AtlasError) as exc:
        read_any(_zip_tree(gdb, tmp_path / "bad.zip"))
    assert exc.value.key == "import_errors.unreadable" and "File Geodatabase" in exc.value.message("en")


def _mif_from_case(tmp_path: Path, charset: str) -> Path:
    """The handed MapInfo TAB case (Windows-1258 bytes, VN-2000 CoordSys) written as MIF/MID
    by GDAL with its bytes untouched, declaring ``charset``."""
    src = tmp_path / "case20"
    with zipfile.ZipFile(CASES / "20-mapinfo-tab-vn2000.zip") as z:
        z.extractall(src)
    tab = next(src.rglob("*.tab"))
    raw = pyogrio.read_dataframe(tab, encoding="latin1")
    out = tmp_path / "mif"
    out.mkdir()
    pyogrio.write_dataframe(raw, out / "co_so.mif", driver="MapInfo File", FORMAT="MIF", encoding="latin1")
    mif = out / "co_so.mif"
    mif.write_bytes(mif.read_bytes().replace(b'Charset "Neutral"', f'Charset "{charset}"'.encode()))
    zp = tmp_path / f"mif_{charset}.zip"
    with zipfile.ZipFile(zp, "w") as z:
        for p in out.iterdir():
            z.write(p, p.name)
        z.writestr("CREDITS.txt", "So Xay dung")  # a side file: the data is picked by format
    return zp


@pytest.mark.parametrize("charset, basis, wrong", [("WindowsVietnamese", "declared", False),
                                                   ("Neutral", "auto", False),
                                                   ("WindowsLatin1", "detected", True),  # GDAL decodes it itself
                                                   ("UTF-8", "detected", True)])
def test_mapinfo_mif_zipped_reads_like_the_tab(tmp_path, charset, basis, wrong):
    exp = json.loads((CASES / "20-mapinfo-tab-vn2000.expect.json").read_text(encoding="utf-8"))
    gdf, rep = read_any(_mif_from_case(tmp_path, charset))
    assert rep.format == "mapinfo" and "9213" in rep.crs
    assert list(gdf[exp["name_column"]]) == exp["names"] and "\ufffd" not in "".join(gdf[exp["name_column"]])
    assert rep.encoding_basis == basis and any(k == "charset_wrong" for k, _ in rep.warnings) == wrong
    for name, (lon, lat) in exp["points_4326"].items():
        p = gdf.geometry[list(gdf[exp["name_column"]]).index(name)]
        assert _GEOD.inv(p.x, p.y, lon, lat)[2] <= exp["tol_m"]


@pytest.mark.parametrize("crs", [None, 9213])
def test_geotiff_export_reads_back_cell_for_cell(tmp_path, crs):
    import rasterio
    from rasterio.transform import from_origin

    from geo.export import RasterData, export_raster, user_credits
    arr = np.arange(20, dtype="float32").reshape(4, 5) * 1.5
    arr[1, 2] = np.nan  # nodata
    rd = RasterData(arr, from_origin(431000, 2377400, 100, 100), "EPSG:9213", np.nan, "pop")
    res = export_raster(rd, tmp_path / "pop.tif", credits=user_credits("pop", "en"),
                        **({} if crs is None else {"crs": crs}))
    info, rep = read_raster(res.path)
    assert info.total == pytest.approx(float(np.nansum(arr)), rel=1e-6)
    with rasterio.open(res.path) as ds:
        back = ds.read(1, masked=True)
        assert ds.crs.to_epsg() == 9213 and (ds.width, ds.height) == (5, 4)
        assert tuple(ds.transform)[:6] == pytest.approx(tuple(rd.transform)[:6])
    assert np.array_equal(back.mask, np.isnan(arr)) and np.allclose(back.filled(np.nan), arr, equal_nan=True)

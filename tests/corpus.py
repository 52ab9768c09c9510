"""A corpus of tricky and hostile import files, generated on the fly (no binaries in git).

Each ``make_*`` function writes one input into a folder and returns its path.
:data:`CORPUS` maps a case name to its maker; the expected outcome of every case is
asserted in ``tests/test_io.py``.
"""
from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS, Transformer

# a few places in Thái Nguyên (lon, lat, WGS84) and their names
PLACES = [
    (105.8442, 21.5942, "Thái Nguyên"),
    (105.7095, 21.6790, "Đại Từ"),
    (105.8745, 21.4078, "Phổ Yên"),
]
TCVN3_NAMES = ["Th¸i Nguyªn", "§¹i Tõ", "Phæ Yªn"]
VNI_NAMES = ["Thaùi Nguyeân", "Ñaïi Töø", "Phoå Yeân"]
UNICODE_NAMES = [p[2] for p in PLACES]
XSS = '<img src=x onerror="window.__xss=1">'
SECRET = "TOP-SECRET-8c1f"

_TO_9213 = Transformer.from_crs(4326, 9213, always_xy=True)
LOCAL_TM3_PRJ = (
    'PROJCS["TM3_106_30_local",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",'
    'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",106.5],PARAMETER["Scale_Factor",0.9999],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)


def vn2000_xy() -> np.ndarray:
    """The places in EPSG:9213 metres (E, N)."""
    lon, lat = np.array([p[0] for p in PLACES]), np.array([p[1] for p in PLACES])
    e, n = _TO_9213.transform(lon, lat)
    return np.column_stack([e, n])


def squares_9213() -> gpd.GeoSeries:
    """1 km squares around the places, EPSG:9213."""
    xy = vn2000_xy()
    return gpd.GeoSeries(shapely.box(xy[:, 0] - 500, xy[:, 1] - 500, xy[:, 0] + 500, xy[:, 1] + 500), crs=9213)


def _zip_dir(files: list[Path], out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            zf.write(f, f.name)
    return out


def _shapefile(d: Path, stem: str, names: list[str], *, encoding: str, prj: str | None, cpg: str | None,
               drop: tuple[str, ...] = ()) -> Path:
    """A zipped polygon shapefile in EPSG:9213 metres with a ``ten`` text column."""
    src = d / f"{stem}_src"
    src.mkdir()
    gdf = gpd.GeoDataFrame({"ten": names, "ma": [1, 2, 3]}, geometry=squares_9213().values, crs=None)
    shp = src / f"{stem}.shp"
    pyogrio.write_dataframe(gdf, shp, encoding=encoding)
    for ext in (".prj", ".cpg"):
        (src / f"{stem}{ext}").unlink(missing_ok=True)
    if prj is not None:
        (src / f"{stem}.prj").write_text(prj)
    if cpg is not None:
        (src / f"{stem}.cpg").write_text(cpg)
    for ext in drop:
        (src / f"{stem}{ext}").unlink()
    return _zip_dir(sorted(src.iterdir()), d / f"{stem}.zip")


# --- raw zip writer (full control over names, sizes, attributes) -------------------
def raw_zip(out: Path, entries: list[dict]) -> Path:
    """Write a zip by hand. Entry keys: name, data (compressed bytes), crc, usize,
    method (0/8), mode (unix mode for external attributes)."""
    body = bytearray()
    central = bytearray()
    for e in entries:
        name = e["name"].encode()
        data = e["data"]
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, e.get("method", 8), 0, 0x21,
                            e["crc"], len(data), e["usize"], len(name), 0) + name + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, 20, 0, e.get("method", 8), 0,
                               0x21, e["crc"], len(data), e["usize"], len(name), 0, 0, 0, 0,
                               e.get("mode", 0o100644) << 16, offset) + name
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(body), 0)
    out.write_bytes(bytes(body) + bytes(central) + eocd)
    return out


def _stored(name: str, payload: bytes, **kw) -> dict:
    return {"name": name, "data": payload, "crc": zlib.crc32(payload), "usize": len(payload), "method": 0, **kw}


# --- makers -------------------------------------------------------------------------
def make_shp_vn2000_prj(d: Path) -> Path:
    return _shapefile(d, "vn2000_prj", UNICODE_NAMES, encoding="utf-8", prj=CRS.from_epsg(9213).to_wkt("WKT1_ESRI"),
                      cpg="UTF-8")


def make_shp_vn2000_noprj(d: Path) -> Path:
    return _shapefile(d, "vn2000_noprj", UNICODE_NAMES, encoding="utf-8", prj=None, cpg="UTF-8")


def make_shp_local_prj(d: Path) -> Path:
    return _shapefile(d, "local_prj", UNICODE_NAMES, encoding="utf-8", prj=LOCAL_TM3_PRJ, cpg="UTF-8")


def make_shp_wgs84_prj_metres(d: Path) -> Path:
    return _shapefile(d, "wrong_prj", UNICODE_NAMES, encoding="utf-8", prj=CRS.from_epsg(4326).to_wkt("WKT1_ESRI"),
                      cpg="UTF-8")


def make_shp_tcvn3(d: Path) -> Path:
    return _shapefile(d, "tcvn3", TCVN3_NAMES, encoding="latin1", prj=LOCAL_TM3_PRJ, cpg=None)


def make_shp_vni(d: Path) -> Path:
    return _shapefile(d, "vni", VNI_NAMES, encoding="latin1", prj=LOCAL_TM3_PRJ, cpg=None)


def make_shp_utf8_nocpg(d: Path) -> Path:
    return _shapefile(d, "utf8_nocpg", UNICODE_NAMES, encoding="utf-8", prj=LOCAL_TM3_PRJ, cpg=None)


def make_shp_missing_shx(d: Path) -> Path:
    return _shapefile(d, "no_shx", UNICODE_NAMES, encoding="utf-8", prj=LOCAL_TM3_PRJ, cpg="UTF-8", drop=(".shx",))


def make_shp_missing_dbf(d: Path) -> Path:
    return _shapefile(d, "no_dbf", UNICODE_NAMES, encoding="utf-8", prj=LOCAL_TM3_PRJ, cpg="UTF-8", drop=(".dbf",))


def make_zip_slip(d: Path) -> Path:
    return raw_zip(d / "slip.zip", [_stored("ok.txt", b"x"), _stored("../../evil_slip.txt", b"pwned")])


def make_zip_absolute(d: Path) -> Path:
    return raw_zip(d / "absolute.zip", [_stored(str(d / "evil_abs.txt"), b"pwned")])


def make_zip_symlink(d: Path) -> Path:
    return raw_zip(d / "link.zip", [_stored("passwd.shp", b"/etc/passwd", mode=0o120777)])


def make_zip_bomb(d: Path) -> Path:
    """One member declaring 1 GiB of zeros in ~1 MB: built from one flushed deflate block."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(b"\0" * (1 << 20)) + comp.flush(zlib.Z_FULL_FLUSH)
    data = block * 1024 + comp.flush(zlib.Z_FINISH)
    return raw_zip(d / "bomb.zip", [{"name": "bomb.shp", "data": data, "crc": 0, "usize": 1 << 30}])


def make_zip_bomb_many(d: Path) -> Path:
    """A zip bomb split into 100 members of 1 MiB (each under the per-member check)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = b"\0" * (1 << 20)
    data = comp.compress(zeros) + comp.flush()
    return raw_zip(d / "bomb_many.zip", [{"name": f"part{i:03d}.csv", "data": data, "crc": zlib.crc32(zeros),
                                          "usize": 1 << 20} for i in range(100)])


def make_zip_lying_header(d: Path) -> Path:
    """Declares 10 bytes, holds 1 MB of data: extraction must stop at the declared size."""
    payload = bytes(range(256)) * 4096
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = comp.compress(payload) + comp.flush()
    return raw_zip(d / "lying.zip", [{"name": "x.geojson", "data": data, "crc": zlib.crc32(payload[:10]),
                                      "usize": 10}])


def make_zip_corrupt(d: Path) -> Path:
    p = d / "corrupt.zip"
    p.write_bytes(b"PK\x03\x04" + bytes(range(200)) * 3)
    return p


def make_geojson_empty(d: Path) -> Path:
    p = d / "empty.geojson"
    p.write_bytes(b"")
    return p


def make_geojson_truncated(d: Path) -> Path:
    p = d / "truncated.geojson"
    text = json.dumps(_fc([{"type": "Point", "coordinates": [x, y]} for x, y, _ in PLACES], UNICODE_NAMES))
    p.write_text(text[: len(text) // 2], encoding="utf-8")
    return p


def make_json_not_geojson(d: Path) -> Path:
    p = d / "config.json"
    p.write_text('{"hello": [1, 2, 3]}')
    return p


def _fc(geoms: list, names: list, crs: dict | None = None) -> dict:
    fc = {"type": "FeatureCollection",
          "features": [{"type": "Feature", "properties": {"name": n}, "geometry": g} for g, n in zip(geoms, names)]}
    if crs is not None:
        fc["crs"] = crs
    return fc


def make_geojson_old_crs(d: Path) -> Path:
    xy = vn2000_xy()
    fc = _fc([{"type": "Point", "coordinates": [float(x), float(y)]} for x, y in xy], UNICODE_NAMES,
             {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::9213"}})
    p = d / "old_crs.geojson"
    p.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    return p


def make_geojson_metric_nocrs(d: Path) -> Path:
    xy = vn2000_xy()
    p = d / "metric_nocrs.geojson"
    p.write_text(json.dumps(_fc([{"type": "Point", "coordinates": [float(x), float(y)]} for x, y in xy],
                                UNICODE_NAMES), ensure_ascii=False), encoding="utf-8")
    return p


def make_geojson_bowtie(d: Path) -> Path:
    x, y = PLACES[0][:2]
    bow = {"type": "Polygon", "coordinates": [[[x, y], [x + .01, y + .01], [x + .01, y], [x, y + .01], [x, y]]]}
    ok = {"type": "Polygon", "coordinates": [[[x, y], [x + .01, y], [x + .01, y + .01], [x, y]]]}
    p = d / "bowtie.geojson"
    p.write_text(json.dumps(_fc([bow, ok], ["bow", "ok"])), encoding="utf-8")
    return p


def make_geojson_xss(d: Path) -> Path:
    p = d / "xss.geojson"
    fc = _fc([{"type": "Point", "coordinates": [x, y]} for x, y, _ in PLACES], [XSS, "a & b", "<script>x</script>"])
    fc["features"][0]["properties"][XSS] = "field-name-xss"
    p.write_text(json.dumps(fc), encoding="utf-8")
    return p


def make_geojson_z(d: Path) -> Path:
    p = d / "z.geojson"
    p.write_text(json.dumps(_fc([{"type": "Point", "coordinates": [x, y, 50.0 + i]} for i, (x, y, _) in
                                 enumerate(PLACES)], UNICODE_NAMES)), encoding="utf-8")
    return p


def make_geojson_tcvn3_mojibake(d: Path) -> Path:
    """GeoJSON produced from a TCVN3 DBF read as Latin-1 (``Th¸i Nguyªn`` as real text)."""
    p = d / "tcvn3.geojson"
    p.write_text(json.dumps(_fc([{"type": "Point", "coordinates": [x, y]} for x, y, _ in PLACES], TCVN3_NAMES),
                            ensure_ascii=False), encoding="utf-8")
    return p


def make_gpkg_nan(d: Path) -> Path:
    """Five points: two fine, one NaN, one infinite, one empty."""
    x, y = PLACES[0][:2]
    geoms = [shapely.Point(x, y), shapely.Point(x + .01, y), shapely.Point(np.nan, y),
             shapely.Point(x, np.inf), shapely.Point()]
    gdf = gpd.GeoDataFrame({"name": list("abcde")}, geometry=geoms, crs=4326)
    p = d / "nan.gpkg"
    pyogrio.write_dataframe(gdf, p, layer="pts")
    return p


def make_gpkg_multilayer(d: Path) -> Path:
    p = d / "multi.gpkg"
    pts = gpd.GeoDataFrame({"name": UNICODE_NAMES}, geometry=gpd.points_from_xy(*zip(*[pl[:2] for pl in PLACES])),
                           crs=4326)
    pyogrio.write_dataframe(pts, p, layer="diem")
    pyogrio.write_dataframe(gpd.GeoDataFrame({"name": UNICODE_NAMES}, geometry=squares_9213().values, crs=9213), p,
                            layer="vung", append=False)
    return p


def make_kml_xxe(d: Path) -> Path:
    secret = d / "secret.txt"
    secret.write_text(SECRET)
    p = d / "xxe.kml"
    p.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file://{secret}">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&xxe;</name>
<Point><coordinates>105.84,21.59</coordinates></Point></Placemark></Document></kml>""")
    return p


def _vrt_to_secret(d: Path) -> str:
    """A GDAL VRT that reads a local CSV holding :data:`SECRET` (what a hostile upload would name)."""
    secret = d / "secret_vrt.csv"
    secret.write_text(f"name,lat,lon\n{SECRET},21.59,105.84\n")
    return (f'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>{secret}</SrcDataSource>'
            '<SrcLayer>secret_vrt</SrcLayer><GeometryType>wkbPoint</GeometryType><LayerSRS>EPSG:4326</LayerSRS>'
            '<GeometryField encoding="PointFromColumns" x="lon" y="lat"/></OGRVRTLayer></OGRVRTDataSource>')


def make_gpkg_vrt_local_file(d: Path) -> Path:
    """A 'GeoPackage' that is a GDAL VRT pointing at a local file (GDAL picks drivers by content)."""
    p = d / "ranh_gioi.gpkg"
    p.write_text(_vrt_to_secret(d))
    return p


def make_shp_vrt_local_file(d: Path) -> Path:
    """A zipped 'shapefile' whose .shp/.shx are that VRT and whose .dbf is real."""
    z = make_shp_vn2000_prj(d)
    vrt = _vrt_to_secret(d).encode()
    out = d / "vrt_shp.zip"
    with zipfile.ZipFile(z) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = vrt if info.filename.endswith((".shp", ".shx")) else zin.read(info)
            zout.writestr(info.filename, data)
    return out


def make_kml_billion_laughs(d: Path) -> Path:
    p = d / "laughs.kml"
    ents = '<!ENTITY a "ha">' + "".join(f'<!ENTITY {c} "&{p_}; &{p_}; &{p_}; &{p_};">'
                                        for p_, c in zip("abcdefgh", "bcdefghi"))
    p.write_text(f'<?xml version="1.0"?><!DOCTYPE kml [{ents}]><kml><Placemark><name>&i;</name>'
                 '<Point><coordinates>105.8,21.6</coordinates></Point></Placemark></kml>')
    return p


_KML_MIXED = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>doc</name>
<Folder><name>Trường học</name>
<Placemark><name>Trường A</name><ExtendedData><Data name="cap"><value>THCS</value></Data></ExtendedData>
<Point><coordinates>105.8442,21.5942,0</coordinates></Point></Placemark>
<Placemark><name>Trường B</name><Point><coordinates>105.7095,21.6790</coordinates></Point></Placemark>
</Folder>
<Placemark><name>Khu đô thị</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
105.80,21.58 105.82,21.58 105.82,21.60 105.80,21.60 105.80,21.58</coordinates></LinearRing></outerBoundaryIs></Polygon>
</Placemark></Document></kml>"""


def make_kml_mixed(d: Path) -> Path:
    p = d / "mixed.kml"
    p.write_text(_KML_MIXED, encoding="utf-8")
    return p


def make_kmz(d: Path) -> Path:
    p = d / "points.kmz"
    kml = _KML_MIXED.replace(_KML_MIXED[_KML_MIXED.index("<Placemark><name>Khu"):_KML_MIXED.index("</Document>")], "")
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", kml)
    return p


def make_csv_vn_bom(d: Path) -> Path:
    p = d / "truong_hoc.csv"
    lines = ["Tên;Vĩ độ;Kinh độ;Số học sinh"]
    lines += [f"{n};{str(y).replace('.', ',')};{str(x).replace('.', ',')};{100 * i}"
              for i, (x, y, n) in enumerate(PLACES)]
    p.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))
    return p


def make_csv_swapped(d: Path) -> Path:
    p = d / "swapped.csv"
    p.write_text("name,lat,lon\n" + "\n".join(f"p{i},{x},{y}" for i, (x, y, _) in enumerate(PLACES)))
    return p


def make_csv_out_of_range(d: Path) -> Path:
    p = d / "range.csv"
    rows = [f"p{i},{y},{x}" for i, (x, y, _) in enumerate(PLACES)] + ["bad,95.5,105.8", "empty,,", "text,abc,105"]
    p.write_text("name,latitude,longitude\n" + "\n".join(rows))
    return p


def make_csv_surveyor_xy(d: Path) -> Path:
    xy = vn2000_xy()
    p = d / "khao_sat.csv"
    p.write_text("Điểm,X,Y\n" + "\n".join(f"M{i},{n:.3f},{e:.3f}" for i, (e, n) in enumerate(xy)), encoding="utf-8")
    return p


def make_csv_headers_with_units(d: Path) -> Path:
    """Headers as planners write them: notes in brackets, one coordinate in DMS."""
    p = d / "tram_y_te.csv"
    lines = ["Tên trạm,Vĩ độ (WGS84),Kinh độ [độ]"]
    for x, y, n in PLACES:
        lines.append(f"{n},{y},{x}")
    lines[1] = f"{PLACES[0][2]},21°35'39.12\"N,105°50'39.12\"E"  # 21.5942, 105.8442 in DMS
    p.write_text("\n".join(lines), encoding="utf-8")
    return p


def make_csv_latlon_metres(d: Path) -> Path:
    """Columns named lat/lon that hold VN-2000 metres (northing/easting)."""
    p = d / "latlon_metres.csv"
    p.write_text("name,lat,lon\n" + "\n".join(f"p{i},{n:.3f},{e:.3f}" for i, (e, n) in enumerate(vn2000_xy())))
    return p


def make_csv_arcgis_point_xy(d: Path) -> Path:
    """ArcGIS 'Add XY Coordinates' export: POINT_X = easting, POINT_Y = northing (VN-2000)."""
    p = d / "arcgis_xy.csv"
    p.write_text("NAME,POINT_X,POINT_Y\n" + "\n".join(f"{n},{e:.3f},{nn:.3f}" for (e, nn), (_, _, n)
                                                       in zip(vn2000_xy(), PLACES)), encoding="utf-8")
    return p


def make_csv_stray_row(d: Path) -> Path:
    """VN-2000 metres with one row typed in degrees: the guess holds, the stray row is reported."""
    p = d / "stray.csv"
    rows = [f"M{i},{n:.3f},{e:.3f}" for i, (e, n) in enumerate(vn2000_xy())] + [f"sai,{PLACES[0][1]},{PLACES[0][0]}"]
    p.write_text("Điểm,X,Y\n" + "\n".join(rows), encoding="utf-8")
    return p


def make_csv_tcvn3(d: Path) -> Path:
    p = d / "tcvn3.csv"
    p.write_bytes(("ten,lat,lon\n" + "\n".join(f"{n},{y},{x}" for n, (x, y, _) in zip(TCVN3_NAMES, PLACES)))
                  .encode("latin-1"))
    return p


def make_csv_huge_value(d: Path) -> Path:
    p = d / "huge.csv"
    p.write_text("name,lat,lon,note\n" + f"a,21.59,105.84,{'x' * 1_000_000}\nb,21.6,105.8,short\n")
    return p


def make_csv_no_coords(d: Path) -> Path:
    p = d / "nocoords.csv"
    p.write_text("name,population\nA,100\nB,200\n")
    return p


def make_xlsx_vn(d: Path) -> Path:
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Cơ sở y tế"
    ws.append(["Tên cơ sở", "vĩ độ", "kinh độ", "Giường"])
    for i, (x, y, n) in enumerate(PLACES):
        ws.append([f"Trạm y tế {n}", y, x, 10 + i])
    wb.create_sheet("Ghi chú").append(["ghi chú"])
    p = d / "y_te.xlsx"
    wb.save(p)
    return p


def make_xlsx_xxe(d: Path) -> Path:
    """A workbook whose sheet XML declares an external entity pointing at a local file."""
    src = make_xlsx_vn(d)
    secret = d / "secret_xlsx.txt"
    secret.write_text(SECRET)
    out = d / "xxe.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8").replace("Trạm y tế Thái Nguyên", "&xxe;")
                data = (f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file://{secret}">]>'
                        + text).encode("utf-8")
            zout.writestr(info, data)
    return out


def make_shp_alone(d: Path) -> Path:
    """Only the .shp of a shapefile (a planner uploads one file of the set)."""
    z = make_shp_vn2000_prj(d)
    out = d / "ranh_gioi.shp"
    with zipfile.ZipFile(z) as zf:
        out.write_bytes(zf.read("vn2000_prj.shp"))
    return out


def make_geotiff(d: Path) -> Path:
    import rasterio
    from rasterio.transform import from_origin
    xy = vn2000_xy()
    arr = np.arange(1, 13, dtype="float32").reshape(3, 4)
    arr[0, 0] = -1  # nodata
    p = d / "pop.tif"
    with rasterio.open(p, "w", driver="GTiff", width=4, height=3, count=1, dtype="float32", crs="EPSG:9213",
                       transform=from_origin(xy[0, 0], xy[0, 1], 100, 100), nodata=-1) as ds:
        ds.write(arr, 1)
    return p


CORPUS = {name[len("make_"):]: fn for name, fn in sorted(globals().items())
          if name.startswith("make_") and callable(fn)}

"""geo.crs: recognise local TM-3 106°30′, guess from coordinates, override wins."""
from __future__ import annotations

import math

import pytest
from pyproj import CRS, Transformer

from geo import crs as gc
from geo.errors import AtlasError
from tests.corpus import LOCAL_TM3_PRJ, vn2000_xy

TN = (430_000.0, 2_380_000.0, 440_000.0, 2_400_000.0)


@pytest.mark.parametrize("definition, expected", [
    (LOCAL_TM3_PRJ, True),
    ("+proj=tmerc +lon_0=106.5 +k=0.9999 +x_0=500000 +ellps=WGS84 +units=m", True),
    ("+proj=tmerc +lon_0=106.5 +k=0.9999 +x_0=500000 +ellps=WGS84 +towgs84=-191.904,-39.303,-111.45,"
     "-0.00928836,0.01975479,-0.00427372,0.252906278 +units=m", True),
    ("EPSG:9213", True),
    ("EPSG:3405", False),                     # UTM 48N: k 0.9996, lon 105
    ("+proj=tmerc +lon_0=106.5 +k=0.9996 +x_0=500000 +ellps=WGS84", False),
    ("+proj=tmerc +lon_0=105.75 +k=0.9999 +x_0=500000 +ellps=WGS84", False),
    ("+proj=tmerc +lon_0=106.5 +k=0.9999 +x_0=500000 +ellps=WGS84 +units=ft", False),
    ("EPSG:4326", False),
])
def test_local_tm3_recognition(definition, expected):
    assert gc.is_local_tm3_106_30(CRS.from_user_input(definition)) is expected


def test_declared_local_tm3_becomes_9213_but_real_9213_is_declared():
    d = gc.resolve_crs(CRS.from_wkt(LOCAL_TM3_PRJ), TN)
    assert (d.crs.to_epsg(), d.basis) == (9213, gc.BASIS_LOCAL_TM3)
    d = gc.resolve_crs(CRS.from_epsg(9213), TN)
    assert (d.crs.to_epsg(), d.basis) == (9213, gc.BASIS_DECLARED)


@pytest.mark.parametrize("bounds, code", [
    (TN, 9213),                                         # TM-3 106°30′ Thái Nguyên
    ((580_000, 2_380_000, 600_000, 2_400_000), 3405),   # UTM 48N Thái Nguyên
    ((105.7, 21.4, 105.9, 21.7), 4326),                 # degrees
])
def test_guess(bounds, code):
    d = gc.guess_crs(bounds)
    assert d.crs.to_epsg() == code
    assert d.basis in (gc.BASIS_GUESS_METRIC, gc.BASIS_GUESS_DEGREES)


def test_guess_reports_extent_in_km():
    d = gc.guess_crs(TN)
    assert d.params["e"] == "430–440" and d.params["n"] == "2380–2400"
    assert d.label == "EPSG:9213 VN-2000 / TM-3 106-30"


@pytest.mark.parametrize("bounds", [(5e6, 5e6, 6e6, 6e6), (-1e6, 0, 0, 1), (math.nan,) * 4])
def test_nothing_fits(bounds):
    assert gc.guess_crs(bounds) is None
    with pytest.raises(AtlasError) as exc:
        gc.resolve_crs(None, bounds, file="x.shp")
    assert exc.value.key == "import_errors.crs_unknown"


def test_override_always_wins():
    d = gc.resolve_crs(CRS.from_wkt(LOCAL_TM3_PRJ), TN, override="3405")
    assert (d.crs.to_epsg(), d.basis) == (3405, gc.BASIS_OVERRIDE)
    d = gc.resolve_crs(None, (105.7, 21.4, 105.9, 21.7), override="EPSG:4756")
    assert d.crs.to_epsg() == 4756


def test_declared_degrees_with_metres_is_guessed():
    d = gc.resolve_crs(CRS.from_epsg(4326), TN)
    assert (d.crs.to_epsg(), d.basis) == (9213, gc.BASIS_DECLARED_MISMATCH)


@pytest.mark.parametrize("value", ["EPSG:0", "banana", "99999999", ""])
def test_parse_crs_refuses(value):
    if value == "":
        assert gc.resolve_crs(CRS.from_epsg(4326), (1, 1, 2, 2), override="").basis == gc.BASIS_DECLARED
        return
    with pytest.raises(AtlasError) as exc:
        gc.parse_crs(value, "f.csv")
    assert exc.value.key == "import_errors.bad_crs"


def test_vn2000_is_not_wgs84():
    """Same numbers read in EPSG:9213 vs a WGS84-datum TM-3: ~200 m apart (GUIDE §4)."""
    e, n = vn2000_xy()[0]
    a = Transformer.from_crs(9213, 4326, always_xy=True).transform(e, n)
    b = Transformer.from_crs(CRS.from_wkt(LOCAL_TM3_PRJ), 4326, always_xy=True).transform(e, n)
    dist = math.hypot((a[0] - b[0]) * 103_600, (a[1] - b[1]) * 110_700)
    assert 150 < dist < 300


def test_geojson_default_applies_only_to_degrees():
    d = gc.resolve_crs(None, (105.7, 21.4, 105.9, 21.7), spec_default=CRS.from_epsg(4326))
    assert (d.crs.to_epsg(), d.basis) == (4326, gc.BASIS_SPEC)
    d = gc.resolve_crs(None, TN, spec_default=CRS.from_epsg(4326))
    assert (d.crs.to_epsg(), d.basis) == (9213, gc.BASIS_GUESS_METRIC)


@pytest.mark.parametrize("lon0, code", [(105.75, 9210), (107.0, 9214), (106.0, 9211), (105.0, 5897)])
def test_local_tm3_of_other_zones_recognised(lon0, code):
    """A neighbouring province's locally written TM-3 .prj (WGS84 datum) is its VN-2000 zone."""
    local = CRS.from_user_input(f"+proj=tmerc +lon_0={lon0} +k=0.9999 +x_0=500000 +ellps=WGS84 +units=m")
    assert gc.local_tm3_zone(local) == code and not gc.is_local_tm3_106_30(local)
    d = gc.resolve_crs(local, (500_000.0, 2_380_000.0, 510_000.0, 2_390_000.0))
    assert (d.crs.to_epsg(), d.basis, d.params["code"]) == (code, gc.BASIS_LOCAL_TM3_OTHER, str(code))
    # the shift is the VN-2000 datum shift, not zero: the literal reading would be ~200 m off
    lit = Transformer.from_crs(local, 4326, always_xy=True).transform(505_000, 2_385_000)
    vn = Transformer.from_crs(code, 4326, always_xy=True).transform(505_000, 2_385_000)
    assert 150 < math.hypot((lit[0] - vn[0]) * 103_600, (lit[1] - vn[1]) * 110_700) < 300
    # the real EPSG definition is simply declared; UTM (k 0.9996) and odd meridians are not TM-3
    assert gc.resolve_crs(CRS.from_epsg(code), (500_000.0, 2_380_000.0, 510_000.0, 2_390_000.0)).basis == \
        gc.BASIS_DECLARED
    assert gc.local_tm3_zone(CRS.from_epsg(3405)) is None
    assert gc.local_tm3_zone(CRS.from_user_input("+proj=tmerc +lon_0=106.4 +k=0.9999 +x_0=500000 +units=m")) is None


def test_local_tm3_other_zone_in_the_report(tmp_path):
    from geo.io import read_any
    from tests import corpus as C
    prj = CRS.from_user_input("+proj=tmerc +lon_0=105.75 +k=0.9999 +x_0=500000 +ellps=WGS84 +units=m")
    z = C._shapefile(tmp_path, "tuyen_quang", C.UNICODE_NAMES, encoding="utf-8", prj=prj.to_wkt("WKT1_ESRI"),
                     cpg="UTF-8")
    gdf, rep = read_any(z)
    assert rep.crs == "EPSG:9210 VN-2000 / TM-3 105-45" and rep.crs_basis == gc.BASIS_LOCAL_TM3_OTHER
    line = next(ln for ln in rep.lines("en") if ln.startswith("Coordinate system"))
    assert line.endswith("recognised as VN-2000 / TM-3 105-45 (EPSG:9210)")
    assert "k=0,9999" in next(ln for ln in rep.lines("vi") if ln.startswith("Hệ tọa độ"))

"""geo.workspace: user layers share the GeoPackage with the indicator store, safely."""
from __future__ import annotations

import hashlib
import sqlite3

import geopandas as gpd
import pyogrio
import pytest
import shapely

from geo import workspace as ws
from geo.auth import configure_test_editor
from geo.errors import AtlasError
from geo.io import read_any
from tests import corpus as C


@pytest.fixture()
def wsfile(tmp_path, monkeypatch):
    path = tmp_path / "ws" / "atlas.gpkg"
    monkeypatch.setenv("ATLAS_WORKSPACE", str(path))
    return path


@pytest.fixture()
def ed(wsfile):
    """An editor signed in to the test workspace (the workspace file exists from then on)."""
    return configure_test_editor()[1]


@pytest.fixture()
def points(tmp_path):
    gdf, _ = read_any(C.make_csv_vn_bom(tmp_path))
    return gdf


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _indicator_table(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE ind_values (indicator TEXT, unit TEXT, value REAL)")
    con.execute("INSERT INTO ind_values VALUES ('wifi', 'u1', 0.5)")
    con.commit()
    con.close()


def test_empty_workspace_lists_nothing_and_is_not_created(wsfile):
    assert ws.list_layers() == []
    assert not wsfile.exists()


def test_save_list_read_rename_delete(wsfile, points, tmp_path, ed):
    _indicator_table(wsfile)
    polys, rep = read_any(C.make_shp_tcvn3(tmp_path))
    a = ws.save_layer("Trường học", points, {"source": "truong_hoc.csv"}, editor=ed)
    b = ws.save_layer(C.XSS, polys, {"source": "tcvn3.zip", "report": rep.to_dict()}, editor=ed)
    assert (a["kind"], a["features"], b["kind"], b["features"]) == ("points", 3, "polygons", 3)
    listed = ws.list_layers()
    assert [x["name"] for x in listed] == ["Trường học", C.XSS]
    assert [x["source"] for x in listed] == ["truong_hoc.csv", "tcvn3.zip"]
    assert listed[1]["meta"]["report"]["encodings"] == {"ten": "tcvn3"}
    back = ws.read_layer("Trường học")
    assert back.crs.to_epsg() == 4326 and list(back["Tên"]) == C.UNICODE_NAMES
    assert shapely.equals_exact(back.geometry.values, points.geometry.values, tolerance=1e-12).all()
    # GDAL sees a valid GeoPackage with our layers; the indicator table survives
    names = {str(n) for n, _ in pyogrio.list_layers(wsfile)}
    assert {a["table"], b["table"], "ind_values"} <= names
    ws.rename_layer("Trường học", "Schools", editor=ed)
    assert [x["name"] for x in ws.list_layers()] == ["Schools", C.XSS]
    assert list(ws.read_layer("Schools")["Tên"]) == C.UNICODE_NAMES
    ws.delete_layer(C.XSS, editor=ed)
    assert [x["name"] for x in ws.list_layers()] == ["Schools"]
    assert b["table"] not in {str(n) for n, _ in pyogrio.list_layers(wsfile)}
    con = sqlite3.connect(wsfile)
    assert con.execute("SELECT * FROM ind_values").fetchall() == [("wifi", "u1", 0.5)]
    assert con.execute("PRAGMA application_id").fetchone()[0] == ws.GPKG_APPLICATION_ID
    con.close()


@pytest.mark.parametrize("name", ["", "   ", "a" * 81, "bad\nname", "tab\tname"])
def test_bad_names(wsfile, points, name, ed):
    with pytest.raises(AtlasError) as exc:
        ws.save_layer(name, points, editor=ed)
    assert exc.value.key == "workspace_errors.bad_name"


def test_rename_and_delete_errors(wsfile, points, ed):
    ws.save_layer("a", points, editor=ed)
    ws.save_layer("b", points, editor=ed)
    for call, key in ((lambda: ws.rename_layer("a", "b", editor=ed), "workspace_errors.name_exists"),
                      (lambda: ws.rename_layer("zz", "c", editor=ed), "workspace_errors.no_such_layer"),
                      (lambda: ws.delete_layer("zz", editor=ed), "workspace_errors.no_such_layer"),
                      (lambda: ws.read_layer("zz"), "workspace_errors.no_such_layer"),
                      (lambda: ws.save_layer("a", points, editor=ed), "workspace_errors.name_exists")):
        with pytest.raises(AtlasError) as exc:
            call()
        assert exc.value.key == key


def test_overwrite_replaces(wsfile, points, ed):
    ws.save_layer("a", points, editor=ed)
    ws.save_layer("a", points.iloc[:1], overwrite=True, editor=ed)
    assert [(x["name"], x["features"]) for x in ws.list_layers()] == [("a", 1)]
    assert len(ws.read_layer("a")) == 1


def _failures(points):
    not_4326 = points.to_crs(9213)
    empty = points.iloc[:0]
    mixed = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[shapely.Point(0, 0), shapely.box(0, 0, 1, 1)], crs=4326)
    return [("dup", points, "workspace_errors.name_exists"),
            ("new", not_4326, "workspace_errors.not_normalised"),
            ("new", empty, "workspace_errors.empty_layer"),
            ("new", mixed, "workspace_errors.not_normalised"),
            ("", points, "workspace_errors.bad_name")]


def test_failed_saves_leave_workspace_byte_for_byte_unchanged(wsfile, points, tmp_path, ed):
    _indicator_table(wsfile)
    ws.save_layer("dup", points, editor=ed)
    before = _digest(wsfile)
    for name, gdf, key in _failures(points):
        with pytest.raises(AtlasError) as exc:
            ws.save_layer(name, gdf, editor=ed)
        assert exc.value.key == key
        assert _digest(wsfile) == before
    for maker in (C.make_zip_bomb, C.make_kml_xxe, C.make_geojson_truncated):
        with pytest.raises(AtlasError):
            read_any(maker(tmp_path))
        assert _digest(wsfile) == before


def test_failure_inside_the_transaction_rolls_back(wsfile, points, monkeypatch, ed):
    _indicator_table(wsfile)
    ws.save_layer("a", points, editor=ed)
    before = _digest(wsfile)
    real_now = ws._now

    def boom():
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(ws, "_now", boom)  # fails after the table was copied in
    with pytest.raises(AtlasError) as exc:
        ws.save_layer("b", points, editor=ed)
    assert exc.value.key == "workspace_errors.write_failed"
    assert _digest(wsfile) == before
    monkeypatch.setattr(ws, "_now", real_now)
    assert [x["name"] for x in ws.list_layers()] == ["a"]
    assert len([n for n, _ in pyogrio.list_layers(wsfile) if str(n).startswith("ul_")]) == 1


def test_failed_first_save_creates_no_file(wsfile, points, monkeypatch, tmp_path):
    _, elsewhere = configure_test_editor(workspace=tmp_path / "other.gpkg")   # signed in to another workspace
    with pytest.raises(AtlasError) as exc:
        ws.save_layer("a", points, editor=elsewhere)
    assert exc.value.key == "store_errors.not_editor"
    assert not wsfile.exists()


def test_raster_saved_beside_workspace(wsfile, tmp_path, ed):
    tif = C.make_geotiff(tmp_path)
    info = ws.save_raster("Dân số", tif, {"source": "pop.tif"}, editor=ed)
    assert info["kind"] == "raster"
    path = ws.raster_path("Dân số")
    assert path.read_bytes() == tif.read_bytes()
    with pytest.raises(AtlasError) as exc:
        ws.read_layer("Dân số")
    assert exc.value.key == "workspace_errors.is_raster"
    ws.delete_layer("Dân số", editor=ed)
    assert not path.exists() and ws.list_layers() == []

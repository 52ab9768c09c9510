"""The handed import cases (tests/data/import_cases, copied from the planners' files):
each file gives the outcome its ``.expect.json`` states, through the CLI as a user runs it.

``expect: ok`` → exit 0, the written layer has the expected count, names, positions or
areas; ``expect: error`` → exit 2 and one sentence containing the words the case lists.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from pyproj import Geod

from geo.cli import main

CASES = Path(__file__).parent / "data" / "import_cases"
_GEOD = Geod(ellps="WGS84")


def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.suffix != ".json" and p.name != "README.md")


def _expect(data: Path) -> dict:
    return json.loads(data.with_name(data.name.rsplit(".", 1)[0] + ".expect.json").read_text(encoding="utf-8"))


pytestmark = pytest.mark.usefixtures("workspace_file")


def _dist_m(a, b) -> float:
    return float(_GEOD.inv(a[0], a[1], b[0], b[1])[2])


@pytest.mark.parametrize("data", _cases(), ids=lambda p: p.name)
def test_handed_case(data, tmp_path, capsys):
    exp = _expect(data)
    if exp.get("run") == "export_path":
        out = tmp_path / "out.geojson"
        rc = main(["export", str(data), "--format", "geojson", "--out", str(out)])
    else:
        out = tmp_path / "out.gpkg"
        rc = main(["check", str(data), "--out", str(out)])
    cap = capsys.readouterr()
    if exp["expect"] == "error":
        assert rc == 2 and cap.err.count("\n") == 1
        assert all(w in cap.err for w in exp.get("acceptable_error_mentions", []))
        return
    assert rc == 0, cap.err
    assert "\ufffd" not in cap.out
    gdf = pyogrio.read_dataframe(out)
    assert gdf.crs.to_epsg() == 4326
    assert len(gdf) == exp["feature_count"]
    text = " ".join(str(v) for v in gdf.drop(columns="geometry").to_numpy().ravel())
    assert "\ufffd" not in text
    col = exp.get("name_column")
    if "names" in exp:
        assert list(gdf[col]) == exp["names"]
    tol = exp.get("tol_m", 1.0)
    for key, attr in (("points_4326", "point"), ("centroids_4326", "centroid")):
        if key not in exp:
            continue
        by_name = dict(zip(gdf[col], gdf.geometry)) if col else None
        if by_name is None:  # the case names no column: find the one holding the names
            names = set(exp[key])
            col = next(c for c in gdf.columns if c != "geometry" and names <= set(gdf[c].astype(str)))
            by_name = dict(zip(gdf[col], gdf.geometry))
        for name, lonlat in exp[key].items():
            g = by_name[name]
            p = g.centroid if attr == "centroid" else g
            if attr == "centroid":  # centroids in a metric CRS, as the case computed them
                import geopandas as gpd
                p = gpd.GeoSeries([g], crs=4326).to_crs(9213).centroid.to_crs(4326).iloc[0]
            assert _dist_m((p.x, p.y), lonlat) <= tol, (name, p.x, p.y, lonlat)
    if "areas_m2" in exp:
        areas = sorted((abs(_GEOD.geometry_area_perimeter(g)[0]) for g in gdf.geometry), reverse=True)
        want = sorted(exp["areas_m2"], reverse=True)
        assert np.allclose(areas, want, rtol=exp.get("area_tol_rel", 0.01)), (areas, want)

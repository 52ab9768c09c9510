"""``python -m geo coverage``: files in different CRSs in, a table out; bad input → exit 2."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

from geo.cli import main
from geo.coverage import coverage_by_unit
from geo.population import read_population_raster

# UTM 48N metres: a 1 km × 0.5 km raster of 100 m cells
UX, UY = 590_000.0, 2_390_000.0


pytestmark = pytest.mark.usefixtures("workspace_file")


@pytest.fixture
def files(tmp_path):
    vals = np.arange(1, 51, dtype="float32").reshape(5, 10)
    tif = tmp_path / "pop_utm48n.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=10, height=5, count=1, dtype="float32",
                       crs="EPSG:32648", transform=Affine(100, 0, UX, 0, -100, UY + 500)) as dst:
        dst.write(vals, 1)
    units = gpd.GeoDataFrame({"code": ["W", "E"], "ten": ["Tây", "Đông"]},
                             geometry=[shapely.box(UX, UY, UX + 400, UY + 500), shapely.box(UX + 400, UY, UX + 1000, UY + 500)],
                             crs="EPSG:32648").to_crs(4326)
    units_path = tmp_path / "units.geojson"
    units.to_file(units_path, driver="GeoJSON")
    fac = gpd.GeoDataFrame({"name": ["Trạm A"], "beds": [4]}, geometry=[shapely.Point(UX + 150, UY + 250)],
                           crs="EPSG:32648").to_crs(4326)
    fac_path = tmp_path / "fac.geojson"
    fac.to_file(fac_path, driver="GeoJSON")
    road = gpd.GeoDataFrame({"highway": ["residential"]},
                            geometry=[shapely.LineString([(UX, UY + 250), (UX + 1000, UY + 250)])], crs="EPSG:32648")
    road_path = tmp_path / "roads.gpkg"
    road.to_file(road_path, driver="GPKG")
    return {"tif": tif, "units": units_path, "fac": fac_path, "roads": road_path, "dir": tmp_path}


def test_csv_from_files_in_mixed_crs(files, capsys):
    out = files["dir"] / "out.csv"
    rc = main(["coverage", "--facilities", str(files["fac"]), "--units", str(files["units"]), "--unit-id", "code",
               "--unit-name", "ten", "--radius-m", "260", "--population", str(files["tif"]), "--out", str(out)])
    assert rc == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows "Tây" rather than mojibake
    df = pd.read_csv(out)
    for col in ("unit_id", "unit_name", "population", "covered_population", "covered_share"):
        assert col in df.columns
    assert df.unit_id.tolist() == ["W", "E"] and df.unit_name.tolist() == ["Tây", "Đông"]
    assert df.population.sum() == pytest.approx(sum(range(1, 51)))
    want = coverage_by_unit(gpd.read_file(files["fac"]), gpd.read_file(files["units"]),
                            read_population_raster(files["tif"]), 260, "code", "ten")
    np.testing.assert_allclose(df.covered_population, want.covered_population)
    assert 0 < df.covered_population.sum() < df.population.sum()
    printed = capsys.readouterr().out
    assert "out.csv" in printed and "260 m" in printed


def test_geopackage_output_and_2sfca_and_raster(files):
    out = files["dir"] / "out.gpkg"
    tif = files["dir"] / "dist.tif"
    rc = main(["coverage", "--facilities", str(files["fac"]), "--units", str(files["units"]), "--unit-id", "code",
               "--unit-name", "ten", "--radius-m", "1000", "--population", str(files["tif"]),
               "--capacity-col", "beds", "--raster-out", str(tif), "--out", str(out)])
    assert rc == 0
    gdf = gpd.read_file(out)
    assert gdf.crs.to_epsg() == 4326 and len(gdf) == 2
    # everyone within 1 km shares the 4 beds: 4 / 1275 people × 1000 in both units where all are in reach
    assert gdf.access_ratio.dropna().min() > 0
    with rasterio.open(tif) as src:
        d = src.read(1)
        assert d.shape == (5, 10) and d.min() == pytest.approx(0, abs=1e-3)  # the facility sits on a cell centre
        assert d.max() == pytest.approx(np.hypot(800, 200), rel=1e-4)


def test_network_mode_with_a_road_file(files, capsys):
    out = files["dir"] / "net.csv"
    rc = main(["coverage", "--facilities", str(files["fac"]), "--units", str(files["units"]), "--unit-id", "code",
               "--unit-name", "ten", "--mode", "network", "--roads", str(files["roads"]), "--minutes", "4",
               "--speed-profile", "walk", "--population", str(files["tif"]), "--out", str(out)])
    assert rc == 0
    df = pd.read_csv(out)
    assert "median_minutes" in df.columns
    # the synopsis always carries --radius-m: accepted, the time limit rules, and the user is told
    out2 = files["dir"] / "net2.csv"
    rc = main(["coverage", "--facilities", str(files["fac"]), "--units", str(files["units"]), "--unit-id", "code",
               "--unit-name", "ten", "--radius-m", "50", "--mode", "network", "--roads", str(files["roads"]),
               "--minutes", "4", "--population", str(files["tif"]), "--out", str(out2)])
    assert rc == 0
    pd.testing.assert_frame_equal(pd.read_csv(out2), df)
    assert "--radius-m is not used" in capsys.readouterr().err
    # walking 5 km/h: 4 min = 333 m along the road (plus the legs to it) — the west unit is reached
    assert df.covered_population.iloc[0] > 0
    assert df.covered_population.iloc[1] < df.population.iloc[1]


def test_catalog_layers(tmp_path):
    out = tmp_path / "cities.geojson"
    rc = main(["--lang", "vi", "coverage", "--facilities", "infrastructure:health", "--units", "smart_cities",
               "--radius-m", "2000", "--out", str(out)])
    assert rc == 0
    gdf = gpd.read_file(out)
    assert len(gdf) == 3 and gdf.covered_share.between(0, 1).all()
    assert gdf.population_source.iloc[0].startswith("mô hình hoá")


@pytest.mark.parametrize("argv, needle", [
    (["--radius-m", "-5"], "positive"),
    (["--radius-m", "abc"], "number"),
    (["--radius-m", "100", "--out", "x.txt"], ".csv"),
    (["--radius-m", "100", "--mode", "network"], "road"),
    (["--radius-m", "100", "--population", "missing.tif"], "missing.tif"),
    (["--radius-m", "100", "--unit-id", "nope"], "nope"),
    (["--radius-m", "100", "--detour", "0.5"], "0.5"),
    (["--radius-m", "100", "--detour", "nan"], "≥ 1"),
    (["--radius-m", "100", "--minutes", "0", "--mode", "network", "--roads", "r.gpkg"], "Travel time '0'"),
    (["--radius-m", "inf"], "'inf'"),
    (["--radius-m", "1e12"], "at most 100,000 m"),
    (["--radius-m", "100", "--detour", "50"], "from 1 to 3"),
    (["--radius-m", "100", "--minutes", "1e9", "--mode", "network", "--roads", "r.gpkg"], "at most 240 minutes"),
    ([], "--radius-m"),
    (["--radius-m", "100", "--capacity-col", "giuong"], "giuong"),
    (["--radius-m", "100", "--raster-out", "d.txt"], ".tif"),
    (["--radius-m", "100", "--minutes", "5"], "--mode network"),
    (["--radius-m", "100", "--mode", "network", "--roads", "r.gpkg", "--capacity-col", "beds"], "euclidean"),
    (["--radius-m", "100", "--out", "no_such_folder/o.csv"], "does not exist"),
    (["--radius-m", "100", "--population", "p.tif", "--cell-m", "50"], "census"),  # a raster has its own cells
])
def test_bad_arguments_exit_2(files, capsys, argv, needle):
    base = ["coverage", "--facilities", str(files["fac"]), "--units", str(files["units"]), "--unit-id", "code",
            "--unit-name", "ten", "--out", str(files["dir"] / "o.csv")]
    # later options override earlier ones in argparse
    try:
        rc = main(base + argv)
    except SystemExit as e:
        rc = e.code
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err


def test_unknown_sources_and_bad_files(files, capsys):
    bad = files["dir"] / "bad.geojson"
    bad.write_text("{not json")
    for facilities in ("infrastructure:spaceports", "no_such_layer", str(bad)):
        rc = main(["coverage", "--facilities", facilities, "--units", str(files["units"]), "--unit-id", "code",
                   "--unit-name", "ten", "--radius-m", "100", "--out", str(files["dir"] / "o.csv")])
        assert rc == 2
    err = capsys.readouterr().err
    assert err.count("error: ") == 3


def test_zipped_shapefile_units(files, tmp_path):
    import zipfile

    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    gpd.read_file(files["units"]).to_file(shp_dir / "units.shp", encoding="utf-8")
    zpath = tmp_path / "units.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in shp_dir.iterdir():
            zf.write(p, p.name)
    out = tmp_path / "z.csv"
    rc = main(["coverage", "--facilities", str(files["fac"]), "--units", str(zpath), "--unit-id", "code",
               "--unit-name", "ten", "--radius-m", "260", "--population", str(files["tif"]), "--out", str(out)])
    assert rc == 0
    df = pd.read_csv(out)
    assert df.unit_name.tolist() == ["Tây", "Đông"]
    assert df.population.sum() == pytest.approx(sum(range(1, 51)))


def test_wards_2025_with_their_own_population(tmp_path):
    from geo.catalog import load_layer

    out = tmp_path / "w.csv"
    rc = main(["coverage", "--facilities", "infrastructure:education", "--units", "wards_2025",
               "--population-source", "wards_2025", "--radius-m", "1500", "--out", str(out)])
    assert rc == 0
    df = pd.read_csv(out, dtype={"unit_id": str})
    wards = load_layer("wards_2025")
    assert len(df) == len(wards)
    # the grid is modelled from the same figures, so each ward gets (almost exactly) its own population back
    assert df.population.sum() == pytest.approx(wards.population_2025.sum(), rel=0.01)
    assert df.population_source.iloc[0] == "modelled from 2025 figures, uniform within ward"


def test_options_of_the_other_mode_are_refused_not_ignored(files, capsys):
    """--roads without --mode network would silently give straight-line results."""
    out = files["dir"] / "o.csv"
    rc = main(["coverage", "--facilities", str(files["fac"]), "--units", str(files["units"]), "--unit-id", "code",
               "--unit-name", "ten", "--radius-m", "300", "--roads", str(files["roads"]), "--population",
               str(files["tif"]), "--out", str(out)])
    assert rc == 2 and not out.exists()
    assert "--mode network" in capsys.readouterr().err


def test_network_raster_holds_travel_times_not_straight_lines(files):
    """--raster-out in network mode: the travel time of each populated cell along the road."""
    from geo.coverage import facility_xy
    from geo.network import build_graph, network_cost_fn

    tif = files["dir"] / "minutes.tif"
    rc = main(["coverage", "--facilities", str(files["fac"]), "--units", str(files["units"]), "--unit-id", "code",
               "--unit-name", "ten", "--mode", "network", "--roads", str(files["roads"]), "--minutes", "4",
               "--population", str(files["tif"]), "--raster-out", str(tif), "--out", str(files["dir"] / "n.csv")])
    assert rc == 0
    grid = read_population_raster(files["tif"])
    with rasterio.open(tif) as src:
        got = src.read(1)
        assert src.transform == grid.transform
    rr, cc = np.meshgrid(np.arange(5), np.arange(10), indexing="ij")
    centres = grid.cell_centres(rr.ravel(), cc.ravel())
    graph = build_graph(gpd.read_file(files["roads"]), "walk", grid.crs)
    want = network_cost_fn(graph, facility_xy(gpd.read_file(files["fac"]), grid.crs), "time")(centres)
    np.testing.assert_allclose(got.ravel(), want, rtol=1e-5)
    # walking 5 km/h: the far east cell (≈ 850 m away) is ≈ 10 minutes, not a distance in metres
    assert 9 < got.max() < 12


def test_raster_outside_the_units_is_an_error(files, tmp_path, capsys):
    far = tmp_path / "far.tif"
    with rasterio.open(far, "w", driver="GTiff", width=3, height=3, count=1, dtype="float32", crs="EPSG:32648",
                       transform=Affine(100, 0, UX + 50_000, 0, -100, UY)) as dst:
        dst.write(np.ones((3, 3), dtype="float32"), 1)
    rc = main(["coverage", "--facilities", str(files["fac"]), "--units", str(files["units"]), "--unit-id", "code",
               "--unit-name", "ten", "--radius-m", "300", "--population", str(far), "--out", str(tmp_path / "o.csv")])
    assert rc == 2
    assert "No people" in capsys.readouterr().err


def test_refusals_follow_the_language(files, capsys):
    rc = main(["--lang", "vi", "coverage", "--facilities", str(files["fac"]), "--units", str(files["units"]),
               "--radius-m", "-5", "--out", str(files["dir"] / "o.csv")])
    assert rc == 2
    assert capsys.readouterr().err.startswith("error: Khoảng cách '-5' không hợp lệ")


def test_radius_defaults_to_the_category_service_radius(tmp_path, capsys):
    """Without --radius-m a catalog category is asked at its own radius (layers/catalog.toml)."""
    from geo.catalog import load_layer, service_reach
    from geo.population import census_grid

    out = tmp_path / "edu.csv"
    assert main(["coverage", "--facilities", "infrastructure:education", "--units", "smart_cities",
                 "--out", str(out)]) == 0
    got = pd.read_csv(out, dtype={"unit_id": str})
    d = load_layer("districts")
    infra = load_layer("infrastructure")
    want = coverage_by_unit(infra[infra["category"] == "education"], d,   # cells labelled on all districts
                            census_grid(load_layer("communes"), "population_2019"), service_reach("education")[0],
                            "level2_id", "name").set_index("unit_id").loc[got["unit_id"]]
    assert got["covered_population"].tolist() == want["covered_population"].round().tolist()  # whole people
    assert "1 km" in capsys.readouterr().out

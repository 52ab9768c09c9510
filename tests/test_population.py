"""Population grids: census-modelled (uniform within unit) and user rasters in any CRS."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import AtlasError
from geo.population import (
    LABEL_CENSUS_COMMUNE,
    LABEL_RASTER,
    PopulationGrid,
    census_grid,
    read_population_raster,
    write_grid_geotiff,
)
from geo.settings import METRIC_CRS

X0, Y0 = 430_000.0, 2_380_000.0  # EPSG:9213 metres, inside Thái Nguyên


pytestmark = pytest.mark.usefixtures("workspace_file")


def boxes(specs, crs=METRIC_CRS, **cols):
    """Rectangles (x0, y0, x1, y1) relative to (X0, Y0)."""
    geoms = [shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in specs]
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=crs)


def test_uniform_density_by_hand():
    units = boxes([(0, 0, 300, 200), (300, 0, 400, 200)], pop=[600.0, 50.0], name=["A", "B"])
    g = census_grid(units, "pop", cell_m=100)
    assert g.crs == METRIC_CRS
    assert g.shape == (2, 4)
    assert g.transform == Affine(100, 0, X0, 0, -100, Y0 + 200)
    np.testing.assert_allclose(g.values, [[100, 100, 100, 25], [100, 100, 100, 25]])
    assert g.total() == pytest.approx(650.0)
    assert g.label_key == LABEL_CENSUS_COMMUNE


def test_cells_belong_to_the_unit_holding_their_centre():
    # boundary at x=240: the cells centred at 50,150 are A's; 250,350 are B's
    units = boxes([(0, 0, 240, 100), (240, 0, 400, 100)], pop=[20.0, 60.0])
    g = census_grid(units, "pop", cell_m=100)
    np.testing.assert_allclose(g.values, [[10, 10, 30, 30]])


def test_missing_population_contributes_nobody_and_tiny_units_keep_their_people():
    units = boxes([(0, 0, 200, 100), (200, 0, 400, 100), (410, 10, 420, 20)],
                  pop=[40.0, np.nan, 7.0])
    g = census_grid(units, "pop", cell_m=100)
    assert g.total() == pytest.approx(47.0)
    assert np.nansum(g.values[:, 2:4]) == pytest.approx(0.0)  # the NaN unit's cells are empty
    assert g.values.max() == pytest.approx(20.0)


def test_units_in_wgs84_are_projected():
    units = boxes([(0, 0, 1000, 1000), (1000, 0, 2500, 1000)], pop=[1000.0, 3000.0]).to_crs(4326)
    g = census_grid(units, "pop", cell_m=100)
    assert g.total() == pytest.approx(4000.0)
    assert g.crs == METRIC_CRS


def test_bad_inputs_are_refused():
    units = boxes([(0, 0, 100, 100)], pop=[1.0])
    with pytest.raises(AtlasError) as e:
        census_grid(units, "nope")
    assert e.value.key == "coverage_errors.no_pop_column"
    with pytest.raises(AtlasError) as e:
        census_grid(units.assign(pop=[np.nan]), "pop")
    assert e.value.key == "coverage_errors.no_population"
    with pytest.raises(AtlasError):
        census_grid(units, "pop", cell_m=0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 8), st.integers(1, 8), st.floats(0, 1e5)), min_size=1, max_size=5),
       st.sampled_from([50.0, 100.0, 130.0]))
def test_grid_total_equals_unit_total(specs, cell):
    """Side-by-side rectangles of random size and population: nobody is lost or invented."""
    rects, x = [], 0.0
    for w, h, _ in specs:
        rects.append((x, 0, x + w * 37.0, h * 53.0))
        x += w * 37.0
    pops = [p for *_, p in specs]
    if sum(pops) <= 0:
        return
    g = census_grid(boxes(rects, pop=pops), "pop", cell_m=cell)
    assert g.total() == pytest.approx(sum(pops), rel=1e-9)


def _write_tif(path, values, crs, transform, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(values.astype("float32"), 1)


def test_projected_raster_is_kept_as_is(tmp_path):
    vals = np.array([[1, 2, 3], [4, -9999, 6]], dtype=float)
    p = tmp_path / "utm.tif"
    _write_tif(p, vals, "EPSG:32648", Affine(100, 0, 580_000, 0, -100, 2_400_000), nodata=-9999)
    g = read_population_raster(p)
    assert g.crs == "EPSG:32648"
    assert g.label_key == LABEL_RASTER
    np.testing.assert_allclose(g.values, [[1, 2, 3], [4, 0, 6]])
    assert g.total() == pytest.approx(16.0)


def test_geographic_raster_is_reprojected_keeping_the_total(tmp_path):
    rng = np.random.default_rng(1)
    vals = rng.uniform(0, 50, size=(40, 50))
    p = tmp_path / "wgs.tif"
    _write_tif(p, vals, "EPSG:4326", Affine(0.001, 0, 105.8, 0, -0.001, 21.6))
    g = read_population_raster(p)
    assert g.crs == METRIC_CRS
    assert g.total() == pytest.approx(float(vals.astype("float32").sum()), rel=1e-6)
    assert 90 < g.cell_size < 115  # ~0.001° of longitude at 21.6° N


def test_raster_errors(tmp_path):
    with pytest.raises(AtlasError) as e:
        read_population_raster(tmp_path / "missing.tif")
    assert e.value.key == "coverage_errors.file_missing"
    bad = tmp_path / "bad.tif"
    bad.write_text("not a tiff")
    with pytest.raises(AtlasError) as e:
        read_population_raster(bad)
    assert e.value.key == "coverage_errors.raster_unreadable"
    nocrs = tmp_path / "nocrs.tif"
    _write_tif(nocrs, np.ones((2, 2)), None, Affine(1, 0, 0, 0, -1, 2))
    with pytest.raises(AtlasError) as e:
        read_population_raster(nocrs)
    assert e.value.key == "coverage_errors.raster_no_crs"


def test_grid_geotiff_round_trip(tmp_path):
    g = PopulationGrid(values=np.arange(6, dtype=float).reshape(2, 3),
                       transform=Affine(100, 0, X0, 0, -100, Y0), crs=METRIC_CRS)
    back = read_population_raster(write_grid_geotiff(g, tmp_path / "g.tif"))
    np.testing.assert_allclose(back.values, g.values)
    assert back.transform == g.transform


def test_absurd_cell_size_is_refused_before_allocating():
    units = boxes([(0, 0, 100_000, 100_000)], pop=[1000.0])
    with pytest.raises(AtlasError) as e:
        census_grid(units, "pop", cell_m=0.5)  # 4·10^10 cells
    assert e.value.key == "coverage_errors.grid_too_large"


def test_projected_raster_in_feet_is_resampled_to_metres(tmp_path):
    """Not metres, not degrees: reprojected at about its native pixel size, total kept."""
    feet = "+proj=utm +zone=48 +datum=WGS84 +units=us-ft +no_defs"
    vals = np.full((20, 30), 2.0)
    p = tmp_path / "feet.tif"
    x0, y0 = 580_000 / 0.3048006096, 2_400_000 / 0.3048006096
    _write_tif(p, vals, feet, Affine(328.0833, 0, x0, 0, -328.0833, y0))  # 100 m pixels
    g = read_population_raster(p)
    assert g.crs == METRIC_CRS
    assert 80 < g.cell_size < 125
    assert g.total() == pytest.approx(vals.sum(), rel=1e-6)

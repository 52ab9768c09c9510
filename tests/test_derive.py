"""Derived layers: name joins, crosswalk dissolve, POI categories — on small hand-made data."""
from __future__ import annotations

import geopandas as gpd
import pytest
import pandas as pd
from shapely.geometry import Point, box

from geo.derive import (categorise_pois, derive_wards_2025, districts_from_communes, fill_small_holes,
                        join_census_2019)
from geo.catalog import get_catalog, load_layer


def _communes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "province_vn": ["Thái Nguyên"] * 4,
        "district_vn": ["Huyện A", "Huyện A", "Huyện A", "Huyện B"],
        "commune_vn": ["Xã Một", "Thị trấn Hai", "Xã Ba", "Xã Bốn"],
    }, geometry=[box(105.80, 21.50, 105.81, 21.51), box(105.81, 21.50, 105.82, 21.51),
                 box(105.82, 21.50, 105.83, 21.51), box(105.83, 21.50, 105.84, 21.51)], crs=4326)


def test_census_join_by_name_reports_unmatched() -> None:
    census = pd.DataFrame({"city": ["TháiNguyên"] * 3, "district": ["A", "A", "C"],
                           "ward": ["Một", "Hai", "Bốn"], "ward_title": ["Xã", "ThịTrấn", "Xã"],
                           "total": [100, 200, 400]})
    out, report = join_census_2019(_communes(), census)
    assert out["population_2019"].tolist()[:2] == [100, 200]
    assert pd.isna(out["population_2019"].iloc[2])  # Xã Ba: not in census → no data, not a guess
    assert out["population_2019"].iloc[3] == 400  # moved district, unique name in province
    assert report.matched_province == 1 and report.unmatched_left == ["Xã Ba (Huyện A)"]
    assert abs(out["area_km2"].iloc[0] - 1.11 * 1.04) < 0.1  # 0.01° x 0.01° near 21.5°N ≈ 1.15 km²


def test_crosswalk_dissolve_split_and_orphans() -> None:
    crosswalk = pd.DataFrame({
        "old_province": ["Tỉnh Thái Nguyên"] * 4, "old_district": ["Huyện A", "Huyện A", "Huyện B", "Huyện B"],
        "old_commune_id": ["1", "2", "4", "4"], "old_commune": ["Xã Một", "Thị trấn Hai", "Xã Bốn", "Xã Bốn"],
        "new_commune_id": ["00010", "00010", "00020", "00030"], "new_commune": ["X", "X", "Y", "Z"],
    })
    points = gpd.GeoDataFrame({
        "gso_code_2025": [10, 20, 30], "name_full": ["Xã X", "Xã Y", "Xã Z"], "name": ["X", "Y", "Z"],
        "unit_type": ["xã"] * 3, "area_km2": [3.0, 1.0, 1.0], "population_2025": [300, 100, 100],
        "merged_from": ["", "", ""],
    }, geometry=[Point(105.805, 21.505), Point(105.835, 21.505), Point(105.9, 21.6)], crs=4326)
    wards, notes = derive_wards_2025(_communes(), crosswalk, points)
    by_code = wards.set_index("gso_code")
    # Một + Hai + orphan Ba (shares the longest border with Hai) → X
    assert by_code.loc["00010"].geometry.bounds == pytest.approx((105.80, 21.50, 105.83, 21.51), abs=1e-6)
    assert by_code.loc["00020", "split_predecessor"] and not by_code.loc["00010", "split_predecessor"]
    assert "00030" not in by_code.index  # Bốn went whole to Y (nearest point): Z is listed, not invented
    assert any("no polygon could be derived for Xã Z" in n for n in notes)
    assert any("Xã Ba" in n and "longest shared border" in n for n in notes)


def test_poi_categories_follow_catalog_tags_in_order() -> None:
    pois = gpd.GeoDataFrame({"amenity": ["hospital", "school", "townhall", None, "cafe"],
                             "man_made": [None, None, None, "mast", None]},
                            geometry=[Point(0, 0)] * 5, crs=4326)
    cats = {cid: list(c.tags) for cid, c in get_catalog().categories.items()}
    assert categorise_pois(pois, cats).tolist() == ["health", "education", "public_admin", "telecom", "other"]


def test_shipped_derived_layers_are_consistent() -> None:
    districts = load_layer("districts")
    assert sorted(districts.loc[districts["smart_city"], "level2_id"]) == ["164", "165", "172"]
    assert int(districts["population_2019"].sum()) == 1_286_751  # official census total
    wards = load_layer("wards_2025")
    assert wards["polygon_derived"].all() and len(wards) <= 92
    assert wards.is_valid.all()
    # figures carried across the reform: census 2019 summed over predecessors, never invented
    communes = load_layer("communes")
    carried = wards["population_2019_carried"].dropna()
    assert 0.9 * communes["population_2019"].sum() < carried.sum() <= communes["population_2019"].sum()
    smart = wards.loc[wards["in_smart_city_2020"], "name_full"]
    assert {"Phường Phổ Yên", "Phường Sông Công", "Phường Phan Đình Phùng"} <= set(smart)
    assert "Xã Phú Bình" not in set(smart)
    infra = load_layer("infrastructure")
    assert set(infra["category"]) <= set(get_catalog().categories)


def test_district_polygons_follow_the_2019_structure() -> None:
    communes = load_layer("communes")
    districts = load_layer("districts")
    tn = communes[communes["province_vn"] == "Thái Nguyên"]
    inside = gpd.sjoin(tn.set_geometry(tn.representative_point()), districts[["name", "geometry"]],
                       predicate="within")
    city = inside[inside["name"] == "Thành phố Thái Nguyên"]
    # communes transferred into the city in 2017 are inside its polygon now
    assert {"Xã Sơn Cẩm", "Xã Linh Sơn", "Xã Huống Thượng", "Xã Đồng Liên"} <= set(city["commune_vn"])
    # so the census population of the communes inside each district equals the district figure
    by_district = inside.groupby("name")["population_2019"].sum()
    expected = districts.set_index("name")["population_2019"]
    matched = by_district.index[by_district.index != "Huyện Đại Từ"]  # one Đại Từ commune has no census match
    assert (by_district[matched] == expected[matched]).all()


def test_dissolved_districts_have_no_sliver_holes() -> None:
    import shapely

    districts = load_layer("districts").to_crs(9213)
    for geom in districts.geometry:
        for part in getattr(geom, "geoms", [geom]):
            assert all(shapely.Polygon(r).area >= 1e6 for r in part.interiors)
    ring = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(4, 4), (5, 4), (5, 5), (4, 5)]])
    big = shapely.Polygon([(0, 0), (5000, 0), (5000, 5000), (0, 5000)], [[(100, 100), (2100, 100), (2100, 2100), (100, 2100)]])
    out = fill_small_holes(gpd.GeoSeries([ring, big], crs=9213), max_hole_km2=1.0)
    assert len(out.iloc[0].interiors) == 0 and len(out.iloc[1].interiors) == 1  # 4 km² hole kept


def test_districts_from_communes_on_small_data() -> None:
    communes = _communes().assign(district_2019=["Huyện A", "Huyện A", "Huyện B", "Huyện B"])
    districts = gpd.GeoDataFrame({"name": ["Huyện A", "Huyện B", "Huyện C"]},
                                 geometry=[box(0, 0, 1, 1)] * 3, crs=4326)
    out, notes = districts_from_communes(districts, communes)
    assert out.geometry.iloc[0].bounds == pytest.approx((105.80, 21.50, 105.82, 21.51))
    assert out.geometry.iloc[1].bounds == pytest.approx((105.82, 21.50, 105.84, 21.51))
    assert out.geometry.iloc[2].bounds == (0, 0, 1, 1)  # no communes: outline kept, and said so
    assert any("Xã Ba" in n and "Huyện B" in n for n in notes)
    assert any("Huyện C" in n for n in notes)

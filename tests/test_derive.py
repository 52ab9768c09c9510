"""Derived layers: name joins, crosswalk dissolve, POI categories — on small hand-made data."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from geo.catalog import get_catalog, load_layer
from geo.derive import categorise_pois, join_census_2019, merge_census_towns
from geo.official_units import CENSUS_2019_TN


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


def test_poi_categories_follow_catalog_tags_in_order() -> None:
    pois = gpd.GeoDataFrame({"amenity": ["hospital", "school", "townhall", None, "cafe"],
                             "man_made": [None, None, None, "mast", None]},
                            geometry=[Point(0, 0)] * 5, crs=4326)
    cats = {cid: list(c.tags) for cid, c in get_catalog().categories.items()}
    assert categorise_pois(pois, cats).tolist() == ["health", "education", "public_admin", "telecom", "other"]


def test_shipped_layers_are_consistent() -> None:
    districts = load_layer("districts")
    assert sorted(districts.loc[districts["smart_city"], "level2_id"]) == ["164", "165", "172"]
    assert int(districts["population_2019"].sum()) == CENSUS_2019_TN  # official census total
    wards = load_layer("wards_2025")
    assert wards["gso_code"].is_unique and wards.is_valid.all()
    # census 2019 carried across the reform: every person of the census table placed once
    communes = load_layer("communes")  # every census row sits on one 2009 polygon
    assert communes["population_2019"].notna().all()
    assert wards["population_2019_carried"].sum() == pytest.approx(communes["population_2019"].sum(), abs=len(wards))
    smart = wards.loc[wards["in_smart_city_2020"], "name_full"]
    assert {"Phường Phổ Yên", "Phường Sông Công", "Phường Phan Đình Phùng"} <= set(smart)
    assert "Xã Phú Bình" not in set(smart)
    infra = load_layer("infrastructure")
    assert set(infra["category"]) <= set(get_catalog().categories)


def test_district_polygons_partition_the_province_and_hold_their_wards() -> None:
    districts = load_layer("districts").to_crs(9213)
    province = load_layer("province_pre2025").to_crs(9213).geometry.iloc[0]
    union = shapely.union_all(districts.geometry.to_numpy())
    assert shapely.symmetric_difference(union, province).area < 1e4  # < 0.01 km²: same outline
    assert districts.area.sum() == pytest.approx(province.area, rel=1e-6)  # so no overlap either
    wards = load_layer("wards_2025").to_crs(9213)
    city = districts.loc[districts["level2_id"] == "164"].geometry.iloc[0]
    inside = wards[wards.representative_point().within(city)]
    # the city's 2025 wards formed only from its own communes take its official edge
    own = inside[inside["old_districts"] == "Thành phố Thái Nguyên"]
    assert len(own) >= 5
    assert (own.geometry.difference(city).area < 1e3).all()


def test_merged_town_keeps_its_census_figure() -> None:
    communes = load_layer("communes")
    dt = communes[communes["district_vn"] == "Huyện Đại Từ"]
    assert "Thị trấn Đại Từ" not in set(dt["commune_vn"])  # shown inside the unit that counts it
    town = dt[dt["merged_note"].fillna("").str.contains("Đại Từ")]
    assert len(town) == 1 and town["commune_vn"].iloc[0] == "Thị trấn Hùng Sơn"
    assert dt["population_2019"].notna().all()  # no "no data" left in Đại Từ
    district = load_layer("districts").set_index("name").loc["Huyện Đại Từ", "population_2019"]
    assert dt["population_2019"].sum() == district  # the census rows add up to the district total


def test_merge_rule_on_small_data() -> None:
    communes = gpd.GeoDataFrame({
        "district_vn": ["Huyện Đại Từ"] * 3, "commune_vn": ["Thị trấn Đại Từ", "Xã Hùng Sơn", "Xã Khác"],
        "population_2019": [None, 1500.0, 700.0], "census_2019_unit": [None, "HùngSơn", "Khác"],
        "area_km2": [1.0, 2.0, 3.0], "density_2019": [None, 750.0, 233.3],
    }, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=4326)
    out, notes = merge_census_towns(communes)
    assert len(out) == 2 and out["population_2019"].sum() == 2200  # nothing split, nothing lost
    merged = out[out["commune_vn"] == "Thị trấn Hùng Sơn"].iloc[0]
    assert merged["area_km2"] == 3.0 and merged["density_2019"] == 500 and merged.geometry.bounds == (0, 0, 2, 1)
    assert "Thị trấn Đại Từ" in notes[0]

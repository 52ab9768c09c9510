"""Unit search, click lookup and the side-panel facts on the shipped layers."""
from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry import Point, box

from geo.units import (facilities_by_category, missing_ward_polygons, search_units, unit_at, unit_code,
                       unit_facts, unit_from_code)
from geo.catalog import load_layer


def test_search_ignores_diacritics_and_case() -> None:
    frames = {"districts": load_layer("districts"), "wards_2025": load_layer("wards_2025")}
    names = [h.name for h in search_units("pho yen", frames)]
    assert "Thành phố Phổ Yên" in names and "Phường Phổ Yên" in names
    assert [h.name for h in search_units("SÔNG CÔNG", frames)][0].endswith("Sông Công")
    assert search_units("zzzz", frames) == []


def test_click_finds_song_cong_and_counts_its_facilities() -> None:
    districts = load_layer("districts")
    song_cong = districts[districts["level2_id"] == "165"]
    pt = shapely.point_on_surface(song_cong.geometry.iloc[0])
    idx = unit_at(districts, pt.x, pt.y)
    assert districts.loc[idx, "name"] == "Thành phố Sông Công"
    infra = load_layer("infrastructure")
    facts = unit_facts("districts", districts.loc[idx], infra)
    assert facts["population"] == 69_382 and facts["population_year"] == 2019
    assert 90 < facts["area_km2"] < 100
    inside = infra[infra.within(song_cong.geometry.iloc[0])]
    assert facts["facilities"].sum() == len(inside) > 0


def test_facility_counts_are_per_category() -> None:
    pts = gpd.GeoDataFrame({"category": ["health", "health", "education", "health"]},
                           geometry=[Point(0.5, 0.5), Point(0.2, 0.2), Point(0.3, 0.3), Point(5, 5)], crs=4326)
    counts = facilities_by_category(box(0, 0, 1, 1), pts)
    assert counts.to_dict() == {"health": 2, "education": 1}


def test_units_without_derived_polygon_are_listed() -> None:
    points, polygons = load_layer("wards_2025_points"), load_layer("wards_2025")
    missing = missing_ward_polygons(points, polygons)
    assert len(missing) == len(points) - len(polygons)
    assert missing == sorted(set(points["name_full"]) - set(polygons["name_full"]))


def test_unit_codes_round_trip() -> None:
    frames = {"districts": load_layer("districts"), "wards_2025": load_layer("wards_2025")}
    for layer, gdf in frames.items():
        for idx in gdf.index[:5]:
            code = unit_code((layer, int(idx)), frames)
            assert unit_from_code(code, frames) == (layer, int(idx))
    assert unit_from_code("districts:999", frames) is None and unit_from_code("nope", frames) is None


def test_commune_type_comes_from_its_name() -> None:
    from geo.text import unit_type_of

    assert unit_type_of("Thị trấn Hùng Sơn") == "Thị trấn"
    assert unit_type_of("Phường Phan Đình Phùng") == "Phường"
    assert unit_type_of("Xã Xuân Phương") == "Xã"
    assert unit_type_of("Hùng Sơn") == ""
    communes = load_layer("communes")
    row = communes[communes["commune_vn"].str.startswith("Thị trấn")].iloc[0]
    assert unit_facts("communes", row, None)["type"] == "Thị trấn"

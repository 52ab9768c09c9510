"""Unit search, click lookup and the side-panel facts on the shipped layers."""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point, box

from geo.catalog import load_layer
from geo.errors import AtlasError
from geo.units import (
    facilities_by_category,
    missing_ward_polygons,
    search_units,
    unit_at,
    unit_code,
    unit_facts,
    unit_from_code,
)


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


# ---- the one registry: ids, resolve, the 3 programme cities, the radius per category -----

def test_one_id_scheme_accepts_the_old_spellings() -> None:
    from geo.units import normalise_id

    assert normalise_id("districts:165") == normalise_id("district:165") == "districts:165"
    assert normalise_id("ward:5809") == normalise_id("wards_2025:05809") == "wards_2025:05809"
    assert normalise_id("commune:2070101") == "communes:2070101"
    assert normalise_id("province") == normalise_id("province:19") == "province:19"
    assert normalise_id("Thành phố Sông Công") is None and normalise_id("districts:") is None


def test_resolve_takes_ids_codes_and_names_to_one_unit() -> None:
    from geo.units import DECK_LEVELS, find, resolve

    song_cong = resolve("districts:165")
    for spelling in ("district:165", "165", "TP Sông Công", "tp. song cong", "THÀNH PHỐ SÔNG CÔNG", "Song Cong City"):
        assert resolve(spelling) == song_cong, spelling
    assert song_cong.key == "165" and song_cong.code == "165" and song_cong.layer == "districts"
    assert resolve("Phổ Yên", DECK_LEVELS).id == "districts:172"   # the city, not its namesake ward
    assert resolve("Tỉnh Thái Nguyên").id == resolve("province").id == "province:19"
    ward = resolve("ward:05809")
    assert ward.level == "ward" and ward.name == resolve(ward.name).name
    assert find("Hà Nội") is None
    with pytest.raises(AtlasError) as err:
        resolve("Hà Nội")
    assert err.value.key == "report.unknown_unit" and "Sông Công" in err.value.message("vi")


def test_the_three_programme_cities_come_from_the_districts_layer() -> None:
    from geo.units import PROGRAMME_CITY_KEYS, programme_cities, unit_frame

    cities = programme_cities()
    districts = load_layer("districts")
    assert [c.code for c in cities] == sorted(districts.loc[districts["smart_city"], "level2_id"])
    assert set(PROGRAMME_CITY_KEYS) == {c.code for c in cities}
    frame, id_col, name_col = unit_frame("smart_cities")
    assert sorted(frame[id_col]) == [c.code for c in cities] and name_col == "name"
    assert sum(c.population for c in cities) == frame["population_2019"].sum()


def test_old_id_spellings_open_the_same_unit_in_links() -> None:
    frames = {"districts": load_layer("districts"), "wards_2025": load_layer("wards_2025")}
    assert unit_from_code("district:165", frames) == unit_from_code("districts:165", frames) is not None


def test_service_radius_is_declared_once_per_category_and_used_everywhere() -> None:
    """One default per category (layers/catalog.toml): the indicators, the deck and the
    export use it (the school radius was 1,000 m in the deck and 2,000 m in the export)."""
    from geo import report
    from geo.catalog import get_catalog, service_reach
    from geo.indicators import load_framework

    cats = get_catalog().categories
    assert all(c.radius_m > 0 and c.minutes > 0 for c in cats.values())
    for ind in load_framework().indicators.values():
        if ind.computed:
            assert ind.radius_m == service_reach(ind.category)[0]
    assert report._radii() == {c: cats[c].radius_m for c in report.SERVICES}
    assert service_reach("education")[0] == 1000.0
    with pytest.raises(AtlasError):
        service_reach("nope")


def test_short_labels_abbreviate_the_official_type():
    from geo.units import PlanningUnit

    assert PlanningUnit("districts:172", "city", "Thành phố Phổ Yên", name_en="Phổ Yên City").short_label() == "TP Phổ Yên"
    assert PlanningUnit("districts:9", "city", "Thị xã Mới").short_label("vi") == "TX Mới"
    assert PlanningUnit("districts:8", "city", "Huyện Đại Từ").short_label("vi") == "Huyện Đại Từ"
    assert PlanningUnit("districts:172", "city", "Thành phố Phổ Yên", name_en="Phổ Yên City").short_label("en") \
        == "Phổ Yên City"

"""Facility completeness: known facilities per unit and category vs a national norm."""
from __future__ import annotations

import geopandas as gpd
from shapely.geometry import Point, box

from geo.catalog import load_layer
from geo.completeness import NORMS, completeness, facility_counts


def _units() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["A", "B", "C"]},
                            geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=4326)


def _facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "category": ["health", "health", "health", "education", "health"],
        "facility_type": ["health_station", "hospital", "health_station", "", "health_station"],
    }, geometry=[Point(0.5, 0.5), Point(0.6, 0.5), Point(0.4, 0.4), Point(1.5, 0.5), Point(9, 9)], crs=4326)


def test_counts_per_unit_and_category_next_to_the_norm() -> None:
    rows = facility_counts(_units(), _facilities(), "code", ["health", "education"])
    h = rows[rows["category"] == "health"].set_index("unit_id")
    assert h["known"].tolist() == [3, 0, 0]  # the point at (9, 9) is outside every unit
    assert h["known_norm_type"].tolist() == [2, 0, 0] and h["expected"].tolist() == [1, 1, 1]
    assert h["missing"].tolist() == [0, 1, 1]
    e = rows[rows["category"] == "education"].set_index("unit_id")
    assert e["known"].tolist() == [0, 1, 0] and e["expected"].isna().all()  # no national norm


def test_summary_caps_per_unit_and_marks_a_lower_bound() -> None:
    c = completeness("health", _units(), _facilities(), "code")
    assert (c.known, c.known_norm_type, c.expected, c.units_without) == (3, 1, 3, 2)
    assert c.lower_bound and c.summary("en") == "Facility data: 1 of 3 commune health stations known"
    assert c.summary("vi") == "Dữ liệu cơ sở: biết 1 trên 3 trạm y tế xã/phường"
    assert "at least" in c.reason("en") and "ít nhất" in c.reason("vi")
    assert c.per_unit["no_facility_data"].tolist() == [False, True, True]
    full = _facilities().iloc[[0, 0, 0]].copy()
    full["geometry"] = [Point(0.5, 0.5), Point(1.5, 0.5), Point(2.5, 0.5)]
    done = completeness("health", _units(), full, "code")
    assert done.complete and not done.lower_bound and done.reason("en") == ""


def test_a_register_without_types_counts_all_points_and_no_norm_needs_authority() -> None:
    reg = _facilities().drop(columns="facility_type")
    assert completeness("health", _units(), reg, "code").known_norm_type == 1 + 0 + 0 + 0  # capped per unit
    edu = completeness("education", _units(), _facilities(), "code")
    assert edu.norm is None and edu.lower_bound and "no national norm" in edu.summary("en")
    assert not completeness("education", _units(), _facilities(), "code", authoritative=True).lower_bound


def test_shipped_health_stations_against_the_92_units() -> None:
    wards = load_layer("wards_2025")
    infra = load_layer("infrastructure")
    c = completeness("health", wards, infra, "gso_code")
    stations = infra[(infra["category"] == "health") & (infra["facility_type"] == NORMS["health"].facility_type)]
    assert c.expected == len(wards) and c.known_norm_type <= len(stations)
    assert c.known_norm_type < c.expected and c.lower_bound  # OSM holds a handful of the 92 stations
    assert c.summary("en") == f"Facility data: {c.known_norm_type} of {len(wards)} commune health stations known"
    # dentists, pharmacies and healers are not in the health-station/hospital category
    assert not infra.loc[infra["category"] == "health", "osm_tag"].isin(
        ["amenity=dentist", "amenity=pharmacy", "amenity=doctors"]).any()
    # village cultural houses are not public administration
    assert not (infra.loc[infra["category"] == "public_admin", "osm_tag"] == "amenity=community_centre").any() or \
        infra.loc[(infra["category"] == "public_admin") & (infra["osm_tag"] == "amenity=community_centre"),
                  "name"].fillna("").str.contains("(?i)ủy ban|ubnd").all()


def test_the_k_of_n_statement_says_what_it_is_about() -> None:
    """"1 trên 92" (the province's 2025 units today: readiness page, map panel) and "1 trên 55"
    (the 2025 units inside a selected area, e.g. the 9 pre-2025 districts: coverage page/CLI)
    each say which they are, so neither reads as a unit's own figure or contradicts the other."""
    from geo.completeness import province_summaries
    from geo.service import CoverageRequest, CoverageService

    wards = load_layer("wards_2025")
    for lang, whole, area in (("vi", "toàn tỉnh", "khu vực đã chọn"), ("en", "whole province", "selected area")):
        lines = province_summaries(lang)
        assert lines and all(whole in line and f"({len(wards)} " in line for line in lines)
        service = CoverageService()
        everywhere = service.ask(CoverageRequest(category="health", units="wards_2025", population="wards_2025"))
        assert everywhere.completeness.official.scope == "province"
        assert lines[0] in everywhere.completeness_sentence(lang)        # the same sentence on every surface
        districts = service.ask(CoverageRequest(category="health", units="districts", population="communes"))
        off = districts.completeness.official
        assert off.scope == "area" and off.units < len(wards)
        text = districts.completeness_sentence(lang)
        assert area in text and f"({off.units} " in text and whole not in text

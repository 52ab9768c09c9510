"""Indicator framework: seeded facts, status rules, gaps, computed indicators vs the coverage engine."""
from __future__ import annotations

import math

import pytest

from geo.errors import AtlasError
from geo.indicators import (
    FRAMEWORK_FILE,
    PROVINCE_ID,
    Target,
    Value,
    compute_indicator,
    computed_values,
    gap_sentence,
    load_framework,
    meets,
    merge_targets,
    parse_framework,
    people_gap,
    scorecard,
    status,
    target_for,
)
from geo.units import find as resolve_unit
from geo.units import units_by_id


@pytest.fixture(scope="module")
def fw():
    return load_framework()


def _v(period, value, version=1, unit_id=PROVINCE_ID, iid="x"):
    return Value(indicator_id=iid, unit_id=unit_id, period=period, value=value, unit="percent", source="s",
                 version=version)


# ---------------------------------------------------------------- the seeded framework

def test_resolution_targets_exactly_as_published(fw):
    def targets(iid):
        return [(tg.year, tg.op, tg.value) for tg in fw.indicators[iid].targets]

    assert targets("online_services_level4") == [(2025, ">", 90)]
    assert "mobile" in fw.indicators["online_services_level4"].note_en
    assert targets("digital_enterprises") == [(2025, ">", 700), (2030, ">", 3000)]
    assert targets("smart_cities") == [(2025, ">=", 3)]
    assert targets("dti_rank") == [(2025, "<=", 15), (2030, "<=", 10)]
    assert fw.indicators["dti_rank"].direction == "lower"
    assert targets("online_services_satisfaction") == [(2030, ">", 90)]
    for iid in ("online_services_level4", "digital_enterprises", "smart_cities", "dti_rank",
                "online_services_satisfaction"):
        assert fw.indicators[iid].source == "resolution_2020"
        assert fw.indicators[iid].method == "manual"
        assert "31-12-2020" in fw.source_text("resolution_2020", "en")


def test_smart_cities_named_are_the_three_cities(fw):
    units = units_by_id()
    names = {units[f"districts:{c}"].name for c in fw.smart_cities}
    assert names == {"Thành phố Thái Nguyên", "Thành phố Sông Công", "Thành phố Phổ Yên"}
    assert all(units[f"districts:{c}"].smart_city for c in fw.smart_cities)


def test_computed_indicators_and_editable_distances(fw, monkeypatch):
    spec = {iid: (fw.indicators[iid].category, fw.indicators[iid].radius_m, fw.indicators[iid].method)
            for iid in ("health_access", "school_access", "admin_access")}
    assert spec == {"health_access": ("health", 2000, "computed"), "school_access": ("education", 1000, "computed"),
                    "admin_access": ("public_admin", 3000, "computed")}
    assert "amenity=school" in fw.indicators["school_access"].note_en   # says what OSM cannot tell
    # the distance is the category's service radius, declared once in layers/catalog.toml
    from geo import catalog as cat_mod

    catalog_text = cat_mod.CATALOG_FILE.read_text(encoding="utf-8")
    edited = cat_mod.parse_catalog(catalog_text.replace("radius_m = 2000", "radius_m = 1500", 1))
    assert edited.categories["health"].radius_m == 1500
    monkeypatch.setattr(cat_mod, "get_catalog", lambda path=None: edited)
    text = FRAMEWORK_FILE.read_text(encoding="utf-8")
    assert parse_framework(text).indicators["health_access"].radius_m == 1500
    with pytest.raises(ValueError, match="catalog"):   # a second declaration is refused
        parse_framework(text.replace('category = "health"', 'category = "health"\nradius_m = 1500'))


def test_only_the_known_facts_are_seeded(fw):
    seeded = sorted((v.indicator_id, v.unit_id, v.period, v.value, v.source) for v in fw.values)
    assert seeded == sorted([("dti_rank", PROVINCE_ID, 2020, 12, "mic_dti_2020"),
                      ("dti_rank", PROVINCE_ID, 2021, 8, "dti_gov_vn"),
                      ("dti_rank", PROVINCE_ID, 2022, 8, "dti_gov_vn"),
                      ("dti_rank", PROVINCE_ID, 2024, 8, "most_dti_2024"),
                      ("digital_enterprises", PROVINCE_ID, 2024, 324, "press_digital_enterprises_2024"),
                      ("service_index_rank", PROVINCE_ID, 2025, 1, "dantri_service_index_2025_08_29"),
                      ("service_index_score", PROVINCE_ID, 2025, 86.97, "dantri_service_index_2025_08_29")])
    assert "Science and Technology" in fw.source_text("most_dti_2024", "en")


@pytest.mark.parametrize("bad, fragment", [
    ('op = ">"', 'op = "=>"'),
    ('unit = "rank"', 'unit = "stars"'),
    ('direction = "lower"', 'direction = "sideways"'),
    ('id = "smart_cities"', 'id = "dti_rank"'),
])
def test_malformed_framework_is_refused(bad, fragment):
    text = FRAMEWORK_FILE.read_text(encoding="utf-8").replace(bad, fragment, 1)
    with pytest.raises(ValueError):
        parse_framework(text)


def test_missing_or_bad_framework_file_is_an_atlas_error(tmp_path):
    with pytest.raises(AtlasError) as exc:
        load_framework(tmp_path / "nope.toml")
    assert exc.value.key == "indicators.framework_missing"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[indicator]]\nid = "a"\n', encoding="utf-8")
    with pytest.raises(AtlasError) as exc:
        load_framework(bad)
    assert exc.value.key == "indicators.framework_bad"


# ---------------------------------------------------------------- status rules

T25 = Target(2025, ">", 90.0, "s")
T30 = Target(2030, ">", 95.0, "s")


def test_meets_all_ops():
    assert meets(91, ">", 90) and not meets(90, ">", 90)
    assert meets(90, ">=", 90) and not meets(89.9, ">=", 90)
    assert meets(9, "<", 10) and not meets(10, "<", 10)
    assert meets(10, "<=", 10) and not meets(11, "<=", 10)


def test_status_no_data_and_no_target():
    assert status([], [T25], "higher").code == "no_data"
    assert status([_v(2024, 50)], [], "higher").code == "no_target"


def test_status_met_uses_the_target_due_next():
    assert target_for(2024, [T30, T25]) is T25
    assert target_for(2026, [T25, T30]) is T30
    assert target_for(2031, [T25, T30]) is T30          # all past: the last one
    st = status([_v(2024, 91)], [T25, T30], "higher")
    assert st.code == "met" and st.target is T25
    st = status([_v(2026, 94)], [T25, T30], "higher")     # 2025 met but 2030 (95) is the one due now
    assert st.code == "behind" and st.target is T30


def test_status_on_track_and_behind_by_straight_line():
    # baseline 2020: 50 → target > 90 in 2025: required in 2023 = 50 + 40 * 3/5 = 74
    st = status([_v(2020, 50), _v(2023, 75)], [T25], "higher")
    assert st.code == "on_track" and math.isclose(st.required, 74.0)
    assert status([_v(2020, 50), _v(2023, 73)], [T25], "higher").code == "behind"


def test_status_single_value_or_passed_deadline_is_behind():
    assert status([_v(2023, 89)], [T25], "higher").code == "behind"
    assert status([_v(2020, 10), _v(2025, 90)], [T25], "higher").code == "behind"   # > 90 not met at deadline


def test_status_lower_is_better_rank():
    top15 = Target(2025, "<=", 15, "s")
    assert status([_v(2020, 12), _v(2024, 8)], [top15], "lower").code == "met"
    top10 = Target(2030, "<=", 10, "s")
    # rank 30 in 2020 → 10 in 2030: required in 2024 = 30 - 20 * 4/10 = 22
    assert status([_v(2020, 30), _v(2024, 21)], [top10], "lower").code == "on_track"
    assert status([_v(2020, 30), _v(2024, 23)], [top10], "lower").code == "behind"


def test_status_uses_newest_version_of_each_year():
    hist = [_v(2024, 95, version=0), _v(2024, 80, version=2), _v(2024, 99, version=1)]
    st = status(hist, [T25], "higher")
    assert st.latest.value == 80 and st.code == "behind"


def test_seeded_dti_rank_is_met(fw):
    ind = fw.indicators["dti_rank"]
    hist = [v for v in fw.values if v.indicator_id == "dti_rank"]
    st = status(hist, ind.targets, ind.direction)
    assert st.code == "met" and st.latest.period == 2024 and st.latest.value == 8


def test_recorded_target_replaces_file_target_for_its_year():
    recorded = [Target(2030, ">", 97, "plan A", version=1), Target(2030, ">", 98, "plan B", version=2),
                Target(2035, ">", 99, "plan C", version=1)]
    merged = merge_targets([T25, T30], recorded)
    assert [(tg.year, tg.value, tg.source) for tg in merged] == [(2025, 90, "s"), (2030, 98, "plan B"),
                                                                 (2035, 99, "plan C")]


# ---------------------------------------------------------------- gaps

def test_people_gap_exact():
    ge = Target(2030, ">=", 80.0, "s")
    gt = Target(2030, ">", 80.0, "s")
    assert people_gap(1000, 700, ge) == 100
    assert people_gap(1000, 700, gt) == 101
    assert people_gap(1000, 800, ge) == 0
    assert people_gap(1000, 799.5, ge) == 1
    assert people_gap(0, 0, ge) == 0
    n = people_gap(69382, 9538.7, ge)
    assert ge.met_by(100 * (9538.7 + n) / 69382) and not ge.met_by(100 * (9538.7 + n - 1) / 69382)


def test_gap_sentences(fw):
    ind = fw.indicators["health_access"]
    tg = Target(2030, ">=", 80.0, "plan")
    st = status([_v(2026, 50.0, iid=ind.id)], [tg], "higher")
    text = gap_sentence(ind, "TP Sông Công", st, "vi", population=10000, covered=5000)
    assert text == "TP Sông Công: cần thêm 3.000 người trong phạm vi 2 km tới cơ sở y tế để đạt mục tiêu 2030."
    en = gap_sentence(ind, "TP Sông Công", st, "en", population=10000, covered=5000)
    assert "3,000 more people" in en and "2 km" in en and "2030" in en
    rank = fw.indicators["dti_rank"]
    st = status([_v(2020, 20), _v(2024, 19)], [Target(2030, "<=", 10, "s")], "lower")
    assert "9" in gap_sentence(rank, "Tỉnh Thái Nguyên", st, "en", integer=True)
    assert "no data" in gap_sentence(rank, "X", status([], [], "lower"), "en")
    online = fw.indicators["online_services_level4"]
    st = status([_v(2024, 85.5)], online.targets, "higher")
    assert gap_sentence(online, "Tỉnh Thái Nguyên", st, "vi") == (
        "Tỉnh Thái Nguyên: Tỷ lệ dịch vụ công trực tuyến mức độ 4 cần tăng thêm hơn 4,5 điểm phần trăm "
        "để đạt mục tiêu 2025.")
    ent = fw.indicators["digital_enterprises"]
    st = status([_v(2024, 650)], ent.targets, "higher")
    assert "needs 51 more" in gap_sentence(ent, "P", st, "en", integer=True)   # > 700 means at least 701
    assert "cần thêm 51 doanh nghiệp để đạt mục tiêu 2025" in gap_sentence(ent, "P", st, "vi", integer=True,
                                                                          unit_label="doanh nghiệp")
    met = status([_v(2024, 8)], [Target(2025, "<=", 15, "s")], "lower")
    assert "meets the 2025 target" in gap_sentence(rank, "X", met, "en")


def test_gap_goes_on_to_the_later_target_once_the_due_one_is_met(fw):
    ent = fw.indicators["digital_enterprises"]            # > 700 by 2025, > 3,000 by 2030
    st = status([_v(2024, 800)], ent.targets, "higher")
    assert st.code == "met" and st.target.year == 2025
    vi = gap_sentence(ent, "Tỉnh Thái Nguyên", st, "vi", integer=True, targets=ent.targets)
    assert vi == ("Tỉnh Thái Nguyên: Số doanh nghiệp công nghệ số đã đạt mục tiêu 2025; tiếp theo, "
                  "cần thêm 2.201 để đạt mục tiêu 2030.")                      # 3,001 - 800
    en = gap_sentence(ent, "P", st, "en", integer=True, targets=ent.targets)
    assert "meets the 2025 target" in en and "needs 2,201 more to reach the 2030 target" in en
    rank = fw.indicators["dti_rank"]                     # <= 15 by 2025, <= 10 by 2030
    seeded = [v for v in fw.values if v.indicator_id == "dti_rank"]
    st = status(seeded, rank.targets, "lower")
    assert gap_sentence(rank, "X", st, "en", integer=True, targets=rank.targets) == (
        "X: Provincial digital-transformation index (DTI) rank already meets the 2025 and 2030 targets.")
    st = status([_v(2024, 12)], rank.targets, "lower")
    text = gap_sentence(rank, "X", st, "en", integer=True, targets=rank.targets)
    assert "meets the 2025 target" in text and "climb 2 more places (to rank 10 or better)" in text
    # without the later targets the sentence stops at the one that applies
    assert gap_sentence(rank, "X", st, "en", integer=True).endswith("meets the 2025 target.")


def test_fmt_when_is_readable_utc():
    from geo.indicators import fmt_when

    assert fmt_when("2026-11-26T08:14:03+00:00") == "2026-11-26 08:14 UTC"
    assert fmt_when("2026-11-26T15:14:03+07:00") == "2026-11-26 08:14 UTC"
    assert fmt_when("") == ""


def test_wards_inside_the_three_cities_are_marked():
    from geo.catalog import load_layer

    wards = load_layer("wards_2025")
    marked = {u.id for u in units_by_id().values() if u.level == "ward" and u.smart_city}
    assert marked == {f"wards_2025:{c}" for c in wards.loc[wards["in_smart_city_2020"], "gso_code"]} and marked


def test_resolve_unit_by_id_or_name():
    assert resolve_unit("district:165").name == "Thành phố Sông Công"   # the old spelling is accepted
    assert resolve_unit("districts:165").name == "Thành phố Sông Công"
    assert resolve_unit("thanh pho song cong").id == "districts:165"   # one id scheme (geo.units)
    assert resolve_unit("Nowhere") is None


# ---------------------------------------------------------------- computed indicators = coverage engine

def test_computed_indicator_equals_coverage_by_unit(fw):
    from geo.catalog import load_layer
    from geo.coverage import coverage_by_unit
    from geo.population import census_grid

    ind = fw.indicators["health_access"]
    districts = load_layer("districts")
    infra = load_layer("infrastructure")
    facilities = infra[infra["category"] == "health"]
    communes = load_layer("communes")  # census 2019 uniform within each commune
    expected = coverage_by_unit(facilities, districts, census_grid(communes, "population_2019"), 2000.0,
                                "level2_id", "name")
    got = compute_indicator(ind, "city")
    assert list(got["unit_key"]) == [f"districts:{u}" for u in expected["unit_id"]]
    # a district without any known facility has no value ("no facility data", not 0 %: issue 9 §3)
    none = got["facilities_known"].to_numpy() == 0
    want = (100 * expected["covered_share"]).where(~none)
    assert got["value"].tolist() == pytest.approx(want.tolist(), nan_ok=True)
    assert got["covered_population"].tolist() == expected["covered_population"].round().tolist()  # whole people
    assert got["lower_bound"].all()   # OSM misses health stations: "at least"
    prov = compute_indicator(ind, "province")
    assert prov["value"].iloc[0] == pytest.approx(100 * expected["covered_population"].round().sum()
                                                  / expected["population"].round().sum())
    vals = computed_values(ind, got, 2026)
    assert {v.unit_id for v in vals} == set(got.loc[~none, "unit_key"]) and all(v.method == "computed" for v in vals)
    assert all(v.lower_bound for v in vals)


def test_ward_indicator_equals_coverage_by_unit_on_2025_wards(fw):
    from geo.catalog import load_layer
    from geo.coverage import coverage_by_unit
    from geo.population import census_grid

    ind = fw.indicators["school_access"]
    wards = load_layer("wards_2025")
    infra = load_layer("infrastructure")
    expected = coverage_by_unit(infra[infra["category"] == "education"], wards,
                                census_grid(wards, "population_2025"), 1000.0, "gso_code", "name_full")
    got = compute_indicator(ind, "ward")
    assert list(got["unit_key"]) == [f"wards_2025:{u}" for u in expected["unit_id"]]
    none = got["facilities_known"].to_numpy() == 0   # "no facility data", not 0 % (issue 9 §3)
    assert got["value"].tolist() == pytest.approx((100 * expected["covered_share"]).where(~none).tolist(),
                                                  nan_ok=True)
    assert got["population"].sum() == pytest.approx(wards["population_2025"].sum())   # 2025 figures kept
    assert set(got["unit_key"]) <= set(units_by_id())     # every row is a unit the scorecard can show


def test_computed_indicator_follows_the_radius(fw):
    ind = fw.indicators["admin_access"]
    wide = compute_indicator(ind, "city")
    narrow = compute_indicator(ind, "city", radius_m=500)
    assert (narrow["covered_population"].to_numpy() <= wide["covered_population"].to_numpy() + 1e-6).all()
    assert narrow["covered_population"].sum() < wide["covered_population"].sum()


def test_manual_indicator_cannot_be_computed(fw):
    with pytest.raises(AtlasError) as exc:
        compute_indicator(fw.indicators["dti_rank"], "city")
    assert exc.value.key == "indicators.not_computed"


class _FakeStore:
    def __init__(self, fw, targets=None):
        self.fw, self._targets = fw, targets or {}

    def targets(self, iid):
        return merge_targets(self.fw.indicators[iid].targets, self._targets.get(iid, []))

    def history(self, iid, unit_id=None):
        return [v for v in self.fw.values if v.indicator_id == iid and (unit_id is None or v.unit_id == unit_id)]


def test_scorecard_rows(fw):
    units = units_by_id()
    target = Target(2030, ">=", 60, "plan", version=1)
    store = _FakeStore(fw, {"health_access": [target]})
    rows = {r["indicator_id"]: r for r in scorecard(fw, store, units[PROVINCE_ID], "vi", compute_indicator)}
    assert rows["dti_rank"]["status"] == "met" and rows["dti_rank"]["value"] == 8
    assert rows["online_services_level4"]["status"] == "no_data"
    assert rows["online_services_level4"]["value_text"] == "không có dữ liệu"
    assert rows["digital_enterprises"]["target_2030"] == "> 3.000"
    health = rows["health_access"]
    assert health["status"] in ("met", "behind")
    if health["status"] == "behind":
        assert "cần thêm" in health["gap"] and "2030" in health["gap"]
    city_rows = scorecard(fw, store, units["districts:165"], "en", None)
    assert city_rows == []   # no manual indicator is tracked per city; computed skipped without the engine


def test_scorecard_computed_trend_uses_saved_snapshots(fw):
    units = units_by_id()
    snap = Value(indicator_id="health_access", unit_id="districts:165", period=2022, value=1.0, unit="percent",
                 source="coverage_engine", method="computed", version=1)

    class _Store(_FakeStore):
        def history(self, iid, unit_id=None):
            return [snap] if iid == "health_access" and unit_id == "districts:165" else []

    store = _Store(fw, {"health_access": [Target(2030, ">=", 99.9, "plan", version=1)]})
    rows = {r["indicator_id"]: r for r in scorecard(fw, store, units["districts:165"], "en", compute_indicator)}
    live = compute_indicator(fw.indicators["health_access"], "city").set_index("unit_key").loc["districts:165", "value"]
    assert rows["health_access"]["value"] == pytest.approx(live) and rows["health_access"]["period"] == fw.computed_period
    # two points (2022 snapshot + live) → judged by the straight line to the 2030 target, not "single value"
    expected = status([snap, Value("health_access", "districts:165", fw.computed_period, live, "percent", "s",
                                   version=0)], store.targets("health_access"), "higher").code
    assert rows["health_access"]["status"] == expected


def test_indicator_map_frame_joins_values_to_every_unit_polygon():
    """The readiness map's frame: every district polygon (id as text, name), the indicator's
    figures where it has them and NaN elsewhere, the share rounded to 0.1 for the legend."""
    import pandas as pd

    from geo.catalog import load_layer
    from geo.indicators import indicator_map_frame

    districts = load_layer("districts")
    codes = districts["level2_id"].astype(str).tolist()
    values = pd.DataFrame({"unit_id": [int(codes[0]), int(codes[1])], "value": [12.345, 67.89],
                           "covered_population": [100.0, 200.0], "population": [1000.0, 300.0]})
    gdf = indicator_map_frame(values, "city", load_layer)
    assert list(gdf.columns[:3]) == ["unit_id", "name", "geometry"] and len(gdf) == len(districts)
    assert gdf["unit_id"].tolist() == codes and gdf["name"].tolist() == districts["name"].tolist()
    by_id = gdf.set_index("unit_id")
    assert by_id.loc[codes[0], "readiness_share"] == 12.3 and by_id.loc[codes[1], "covered_population"] == 200.0
    assert by_id.drop(index=codes[:2])["value"].isna().all()
    with pytest.raises(AtlasError):
        indicator_map_frame(values, "commune", load_layer)

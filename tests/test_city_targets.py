"""Per-city and per-unit targets with their documents, province-wide targets marked, and the
programme cities seen as their 2025 units with indicators aggregated over them."""
from __future__ import annotations

import pandas as pd
import pytest

from geo.auth import configure_test_editor
from geo.catalog import load_layer
from geo.errors import AtlasError
from geo.i18n import t
from geo.indicators import (
    Value,
    aggregation_method,
    group_history,
    group_scorecard,
    load_framework,
    merge_targets,
    scorecard,
)
from geo.store import Store
from geo.units import programme_cities, programme_city_group, units_by_id


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_WORKSPACE", str(tmp_path / "ws.gpkg"))
    monkeypatch.setenv("ATLAS_BCRYPT_ROUNDS", "4")
    _, editor = configure_test_editor(None, "lan", "lan-password-1", "Lan")
    return Store(framework=load_framework()), editor


def test_unit_target_is_recorded_with_its_document_and_history_kept(env):
    store, lan = env
    first = store.record_unit_target(lan, "health_access", "districts:165", 2030, ">=", 90, "Kế hoạch 12/KH-UBND")
    second = store.record_unit_target(lan, "health_access", "TP Sông Công", 2030, ">=", 95, "Kế hoạch 40/KH-UBND",
                                      expected_version=first.version)
    assert (first.version, second.version) == (1, 2) and second.unit_id == "districts:165"
    [now] = store.unit_targets("health_access", "districts:165")
    assert (now.value, now.source) == (95, "Kế hoạch 40/KH-UBND")
    assert len(store.recorded_unit_targets("health_access", "districts:165")) == 2   # nothing overwritten
    assert store.targets("health_access") == []                  # the province's targets are untouched
    assert store.unit_targets("health_access", "districts:164") == []
    log = store.audit_log()
    assert (log["action"] == "unit_target_saved").sum() == 2
    with pytest.raises(AtlasError) as stale:                     # someone saved in between
        store.record_unit_target(lan, "health_access", "districts:165", 2030, ">=", 99, "QĐ", expected_version=1)
    assert stale.value.key == "store_errors.target_conflict"
    assert store.unit_targets("health_access", "districts:165")[0].value == 95


@pytest.mark.parametrize("args, key", [
    (("province:19", 2030, ">=", 90, "QĐ"), "store_errors.unknown_unit"),
    (("Nowhere", 2030, ">=", 90, "QĐ"), "store_errors.unknown_unit"),
    (("districts:165", 2030, ">=", 90, " "), "store_errors.missing_source"),
    (("districts:165", 2030, "=", 90, "QĐ"), "store_errors.bad_op"),
    (("districts:165", 1990, ">=", 90, "QĐ"), "store_errors.unknown_period"),
])
def test_bad_unit_targets_are_refused(env, args, key):
    store, lan = env
    with pytest.raises(AtlasError) as err:
        store.record_unit_target(lan, "health_access", *args)
    assert err.value.key == key
    assert store.recorded_unit_targets() == []


def test_a_viewer_cannot_set_a_unit_target(env):
    store, _ = env
    with pytest.raises(AtlasError):
        store.record_unit_target(None, "health_access", "districts:165", 2030, ">=", 90, "QĐ")
    assert store.recorded_unit_targets() == []


def test_city_scorecard_own_target_province_target_marked_and_breakdown(env):
    store, lan = env
    fw, units = store.framework, units_by_id()
    # a province-wide share: held to every city, shown as province-wide
    store.record_target(lan, "admin_access", 2030, ">=", 99, "Kế hoạch tỉnh")
    # the city's own target replaces it for that city
    store.record_unit_target(lan, "health_access", "districts:165", 2030, ">=", 99.5, "Kế hoạch TP Sông Công")
    # a province count broken down to a city by a document: the indicator now shows for that city
    store.record_unit_target(lan, "digital_enterprises", "districts:164", 2025, ">", 400, "QĐ phân bổ",
                             breakdown=True)
    store.record_value(lan, "digital_enterprises", "districts:164", 2024, 300, "Sở KH&CN")
    live = pd.DataFrame({"unit_key": ["districts:165", "districts:164"], "value": [50.0, 60.0],
                         "population": [1000.0, 1000.0], "covered_population": [500.0, 600.0],
                         "lower_bound": [True, True]})
    rows = {r["indicator_id"]: r for r in scorecard(fw, store, units["districts:165"], "vi", lambda i, lv: live)}
    assert rows["health_access"]["target_2030"] == "≥ 99,5%" and rows["health_access"]["target_scope"] == "unit"
    assert rows["health_access"]["status"] == "behind" and "Kế hoạch TP Sông Công" in rows["health_access"]["target_source"]
    assert rows["admin_access"]["target_2030"] == t("readiness.target_province_mark", "vi", target="≥ 99%")
    assert rows["admin_access"]["target_scope"] == "province" and rows["admin_access"]["status"] == "behind"
    assert rows["school_access"]["status"] == "no_target"
    assert "digital_enterprises" not in rows                    # no target of Sông Công for it
    city = {r["indicator_id"]: r for r in scorecard(fw, store, units["districts:164"], "en", None)}
    ent = city["digital_enterprises"]
    assert ent["target_2025"] == t("readiness.target_breakdown_mark", "en", target="> 400")
    assert ent["status"] == "behind" and "101" in ent["gap"]
    # the province still sees its own (file) targets, unmarked
    prov = {r["indicator_id"]: r for r in scorecard(fw, store, units["province:19"], "en", None)}
    assert prov["digital_enterprises"]["target_2025"] == "> 700"


def test_province_count_target_is_reference_only_for_a_city(env):
    store, lan = env
    fw = store.framework
    ind = fw.indicators["digital_enterprises"]
    assert aggregation_method(fw.units[ind.unit]) == "sum"
    from geo.indicators import scorecard_row

    hist = [Value("digital_enterprises", "districts:164", 2024, 300, "count", "s")]
    row = scorecard_row(fw, ind, "TP", hist, [], list(ind.targets), "vi", unit_level="city")
    assert row["status"] == "no_target" and row["status_text"] == t("readiness.status_province_only", "vi")
    assert row["target_2025"] == t("readiness.target_province_mark", "vi", target="> 700")


def test_programme_city_groups_follow_the_crosswalk():
    wards = load_layer("wards_2025")
    inside = set("wards_2025:" + wards.loc[wards["in_smart_city_2020"].astype(bool), "gso_code"].astype(str).str.zfill(5))
    groups = [programme_city_group(c) for c in programme_cities()]
    ids = [i for g in groups for i in g.unit_ids]
    assert len(ids) == len(set(ids))                               # a 2025 unit counts in one city only
    assert inside <= set(ids)                                      # every unit formed from city communes is in
    for g in groups:
        assert g.population == pytest.approx(sum(m.unit.population for m in g.members))
        for m in g.members:
            named = [m.unit.name for m in g.members]
            assert m.unit.level == "ward" and m.unit.name in named
            assert m.share + sum(s for _, s in m.others) == pytest.approx(1.0, abs=0.01)
            assert all(m.share >= s for _, s in m.others)          # the city holding the largest part
            assert m.shared == (m.share < 0.999)
    with pytest.raises(AtlasError):
        programme_city_group("Huyện Đại Từ")


class _Store:
    """Stand-in store: latest values per unit and no targets."""

    def __init__(self, fw, values):
        self.framework, self._values = fw, values

    def targets(self, iid):
        return merge_targets(self.framework.indicators[iid].targets, [])

    def unit_targets(self, iid, uid):
        return []

    def units_with_targets(self, iid=None):
        return set()

    def history(self, iid, uid=None):
        return [v for v in self._values if v.indicator_id == iid and (uid is None or v.unit_id == uid)]

    latest_values = history


def test_group_aggregation_sums_counts_and_weights_shares_by_population():
    fw = load_framework()
    group = programme_city_group("districts:172")
    members = list(group.members)
    a, b = members[0].unit, members[1].unit
    vals = [Value("digital_enterprises", a.id, 2024, 10, "count", "s1"),
            Value("digital_enterprises", b.id, 2024, 5, "count", "s2"),
            Value("online_services_level4", a.id, 2024, 80, "percent", "s"),
            Value("online_services_level4", b.id, 2024, 40, "percent", "s")]
    store = _Store(fw, vals)
    [count], _, _ = group_history(fw, store, fw.indicators["digital_enterprises"], group)
    assert count.value == 15 and count.lower_bound                   # 2 of 5 units known: "at least"
    [share], _, _ = group_history(fw, store, fw.indicators["online_services_level4"], group)
    w = a.population / (a.population + b.population)
    assert share.value == pytest.approx(80 * w + 40 * (1 - w)) and not share.lower_bound
    assert "2/5" in share.evidence
    assert group_history(fw, store, fw.indicators["dti_rank"], group)[0] == []   # ranks do not add up
    # computed: covered people over people of the member units, outsiders ignored
    df = pd.DataFrame({"unit_key": [m.unit.id for m in members] + ["wards_2025:99999"],
                       "value": [50.0] * len(members) + [100.0],
                       "population": [100.0 * (i + 1) for i in range(len(members))] + [1e6],
                       "covered_population": [10.0 * (i + 1) for i in range(len(members))] + [1e6],
                       "lower_bound": [False] * len(members) + [True]})
    [cov], pop, covered = group_history(fw, store, fw.indicators["health_access"], group, lambda i, lv: df)
    assert pop == pytest.approx(df["population"][:-1].sum()) and cov.value == pytest.approx(10.0)
    assert not cov.lower_bound
    rows = {r["indicator_id"]: r for r in group_scorecard(fw, store, group, "en", lambda i, lv: df)}
    assert rows["health_access"]["value"] == pytest.approx(10.0)
    assert rows["health_access"]["method"] == t("readiness.group_method_computed", "en")
    assert rows["health_access"]["gap"].startswith(t("readiness.group_name", "en", city=group.city.name,
                                                      n=len(members)))

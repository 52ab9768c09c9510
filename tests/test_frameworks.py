"""Indicator frameworks as data: the XLSX template round-trips the framework, a filled-in file
becomes a NEW version (earlier ones readable), bad rows are all reported and nothing loads."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from geo.auth import configure_test_editor
from geo.errors import AtlasError
from geo.frameworks import (
    FrameworkRejected,
    active_framework,
    framework_version,
    load_version,
    template_frame,
    template_xlsx,
    versions,
)
from geo.indicators import load_framework
from geo.store import Store


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_WORKSPACE", str(tmp_path / "ws.gpkg"))
    monkeypatch.setenv("ATLAS_BCRYPT_ROUNDS", "4")
    _, editor = configure_test_editor(None, "lan", "lan-password-1", "Lan")
    return Store(framework=load_framework()), editor


def _xlsx(df: pd.DataFrame) -> io.BytesIO:
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    buf.seek(0)
    return buf


def _template(fw) -> pd.DataFrame:
    return pd.read_excel(io.BytesIO(template_xlsx(fw, "vi")), sheet_name="framework", dtype=object)


def test_template_round_trips_the_shipped_framework(env):
    store, lan = env
    fw = store.framework
    v = load_version(store, lan, _xlsx(_template(fw)), "unchanged.xlsx")
    again = framework_version(store, v.version)
    assert list(again.indicators) == list(fw.indicators)
    for iid, ind in fw.indicators.items():
        got = again.indicators[iid]
        assert (got.name_vi, got.unit, got.direction, got.scope, got.method, got.category) == \
            (ind.name_vi, ind.unit, ind.direction, ind.scope, ind.method, ind.category)
        assert [(x.year, x.op, x.value, x.source) for x in got.targets] == \
            [(x.year, x.op, x.value, x.source) for x in ind.targets]
    assert again.values == fw.values                                   # the known facts are kept


def test_a_new_version_keeps_the_earlier_ones_readable(env):
    store, lan = env
    df = _template(store.framework)
    df.loc[df["id"] == "health_access", ["target_2030", "source"]] = ["≥ 95", "Quyết định 1893/QĐ-UBND"]
    df = df[df["id"] != "service_index_score"]                          # the new document drops one
    df = pd.concat([df, pd.DataFrame([{"id": "maturity_level", "name_vi": "Mức trưởng thành đô thị thông minh",
                                       "name_en": "Smart-city maturity level", "unit": "điểm", "direction": "higher",
                                       "scope": "city, province", "method": "manual",
                                       "source": "Thông tư 03/2026/TT-BXD"}])])
    v1 = load_version(store, lan, _xlsx(df), "qd1893.xlsx")
    assert (v1.version, v1.file_name, v1.loaded_by, v1.n_indicators) == (1, "qd1893.xlsx", "lan", 10)
    now = active_framework(store)
    assert [(x.year, x.op, x.value) for x in now.indicators["health_access"].targets] == [(2030, ">=", 95)]
    assert now.indicators["maturity_level"].targets == ()              # "no data" until a document sets one
    assert now.indicators["maturity_level"].scope == ("city", "province")
    assert "service_index_score" not in now.indicators
    assert all(v.indicator_id != "service_index_score" for v in now.values)
    old = framework_version(store, 0)                                  # the shipped version still reads
    assert "service_index_score" in old.indicators and old.indicators["health_access"].targets == ()
    assert [v.version for v in versions(store)] == [0, 1]
    assert "framework_loaded" in set(store.audit_log()["action"])
    v2 = load_version(store, lan, _xlsx(_template(old)), "back.xlsx")
    assert v2.version == 2 and "service_index_score" in active_framework(store).indicators
    assert "maturity_level" in framework_version(store, 1).indicators


def test_every_bad_row_is_reported_and_nothing_loads(env):
    store, lan = env
    df = _template(store.framework)
    df.loc[0, "unit"] = "kg"
    df.loc[1, "direction"] = "up"
    df.loc[2, "scope"] = "country"
    df.loc[3, "target_2025"] = "about 15"
    df.loc[4, "source"] = None
    df.loc[5, "id"] = "Bad Id"
    df.loc[6, "id"] = df.loc[7, "id"]
    with pytest.raises(FrameworkRejected) as rej:
        load_version(store, lan, _xlsx(df), "bad.xlsx")
    got = {(e.row, e.column, e.key) for e in rej.value.errors}
    assert {(2, "unit", "fw_bad_value"), (3, "direction", "fw_bad_value"), (4, "scope", "fw_bad_value"),
            (5, "target_2025", "fw_bad_target"), (6, "source", "fw_missing"), (7, "id", "fw_bad_id"),
            (9, "id", "duplicate_row")} <= got
    assert "kg" in rej.value.table("en").to_string()
    assert [v.version for v in versions(store)] == [0]


def test_only_an_editor_loads_and_an_unknown_version_is_a_clear_error(env):
    store, _ = env
    with pytest.raises(AtlasError):
        load_version(store, None, _xlsx(template_frame(store.framework)), "x.xlsx")
    with pytest.raises(AtlasError) as err:
        framework_version(store, 7)
    assert err.value.key == "store_errors.fw_unknown_version"


def test_impossible_targets_in_a_framework_file_are_refused_like_the_form(env):
    """The XLSX framework load refuses a 250 % share or a negative rank target with the store's
    sentence (geo.indicators.target_problem); nothing loads."""
    store, lan = env
    df = _template(store.framework)
    ids = list(df["id"])
    share, rank = ids.index("health_access"), ids.index("dti_rank")
    df.loc[share, "target_2030"] = ">= 250"
    df.loc[rank, "target_2030"] = "<= -5"
    with pytest.raises(FrameworkRejected) as rej:
        load_version(store, lan, _xlsx(df), "bad.xlsx")
    got = {(e.row, e.column, e.key) for e in rej.value.errors}
    assert got == {(share + 2, "target_2030", "target_range"), (rank + 2, "target_2030", "target_min")}
    assert "250" in rej.value.table("vi").to_string()
    assert [v.version for v in versions(store)] == [0]

"""The indicator store: history, audit, conflicts, atomic writes, GeoPackage sharing, import validation."""
from __future__ import annotations

import json
import re
import sqlite3

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.auth import Editor, configure_test_editor
from geo.errors import AtlasError
from geo.indicators import PROVINCE_ID, load_framework
from geo.store import GPKG_APPLICATION_ID, ImportRejected, Store, read_table, write_table

P = PROVINCE_ID


@pytest.fixture()
def ws(workspace_file):
    return workspace_file


@pytest.fixture()
def store(ws):
    return Store(framework=load_framework())   # path from ATLAS_WORKSPACE


@pytest.fixture()
def editors(tmp_path, monkeypatch):
    path, lan = configure_test_editor(tmp_path, "lan", "lan-password-1", "Lan")
    _, minh = configure_test_editor(tmp_path / "m", "minh", "minh-password-1", "Minh")
    return lan, minh


def _count(path, table):
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# ---------------------------------------------------------------- values, history, audit

def test_store_uses_workspace_env_and_reading_creates_nothing(store, ws):
    assert store.path == ws
    assert store.stored_values() == [] and store.audit_log().empty
    assert store.current_version("dti_rank", P, 2024) == 0
    assert not ws.exists()


def test_new_value_never_overwrites_history_kept(store, editors, ws):
    lan, minh = editors
    r1 = store.record_value(lan, "digital_enterprises", P, 2023, "650", "Sở KH&CN report 2023",
                            evidence="table 3", evidence_url="https://example.org/r")
    assert r1.version == 1 and r1.entered_by == "lan" and r1.value == 650
    r2 = store.record_value(minh, "digital_enterprises", P, 2023, 655, "corrected report", expected_version=1)
    assert r2.version == 2
    hist = [v for v in store.history("digital_enterprises", P) if v.period == 2023]  # 2024 is a seeded fact
    assert [(v.version, v.value, v.entered_by) for v in hist] == [(1, 650, "lan"), (2, 655, "minh")]
    assert [v.value for v in store.latest_values("digital_enterprises", P) if v.period == 2023] == [655]
    log = store.audit_log()
    assert list(log["action"]) == ["value_saved", "value_saved"]
    assert list(log["actor"]) == ["minh", "lan"]
    detail = json.loads(log["detail"].iloc[0])
    assert detail["previous_version"] == 1 and detail["value"] == 655


def test_seeded_facts_are_version_zero_and_can_be_superseded(store, editors):
    lan, _ = editors
    hist = store.history("dti_rank", P)
    assert [(v.period, v.value, v.version) for v in hist] == [(2020, 12, 0), (2021, 8, 0), (2022, 8, 0), (2024, 8, 0)]
    store.record_value(lan, "dti_rank", P, 2024, 8, "MoST 2024 ranking", evidence="re-checked", expected_version=0)
    hist = store.history("dti_rank", P)
    assert [(v.period, v.version) for v in hist if v.period == 2024] == [(2024, 0), (2024, 1)]


def test_audit_and_history_are_append_only(store, editors, ws):
    lan, _ = editors
    store.record_value(lan, "digital_enterprises", P, 2023, 650, "report")
    store.record_target(lan, "digital_enterprises", 2030, ">", 3500, "plan")
    with sqlite3.connect(ws) as conn:
        for sql in ("UPDATE ind_audit SET actor='x'", "DELETE FROM ind_audit",
                    "UPDATE ind_values SET value=1", "DELETE FROM ind_values", "UPDATE ind_targets SET value=1",
                    "DELETE FROM ind_targets"):
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(sql)
    assert _count(ws, "ind_audit") == 2 and _count(ws, "ind_values") == 1 and _count(ws, "ind_targets") == 1


def test_conflict_second_editor_gets_clear_message_and_nothing_is_lost(store, editors, ws):
    lan, minh = editors
    store.record_value(lan, "online_services_level4", P, 2024, 80, "report A")
    seen_by_lan = seen_by_minh = store.current_version("online_services_level4", P, 2024)   # both open v1
    store.record_value(lan, "online_services_level4", P, 2024, 85, "report B", expected_version=seen_by_lan)
    with pytest.raises(AtlasError) as exc:
        store.record_value(minh, "online_services_level4", P, 2024, 70, "report C", expected_version=seen_by_minh)
    err = exc.value
    assert err.key == "store_errors.conflict"
    msg = err.message("en")
    assert "lan" in msg and "NOT saved" in msg and "85%" in msg and "70%" in msg
    # people's words, not ids: the indicator and unit by name in the reader's language, time in UTC
    assert "Share of online public services at level 4" in msg and "Tỉnh Thái Nguyên" in msg
    assert "online_services_level4" not in msg and "province:19" not in msg
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", msg) and "+00:00" not in msg
    vi = err.message("vi")
    assert "CHƯA được lưu" in vi and "Tỷ lệ dịch vụ công trực tuyến mức độ 4" in vi
    # the first editor's value stands; the refused value is kept in the audit log
    assert [v.value for v in store.latest_values("online_services_level4", P)] == [85]
    log = store.audit_log()
    refused = log[log["action"] == "conflict_rejected"]
    assert len(refused) == 1 and refused["actor"].iloc[0] == "minh"
    assert json.loads(refused["detail"].iloc[0])["value"] == 70
    # after loading the newest version, the save goes through
    rec = store.record_value(minh, "online_services_level4", P, 2024, 70, "report C",
                             expected_version=store.current_version("online_services_level4", P, 2024))
    assert rec.version == 3


def test_two_store_objects_on_one_file_see_each_other(ws, editors):
    lan, minh = editors
    a, b = Store(framework=load_framework()), Store(framework=load_framework())
    a.record_value(lan, "smart_cities", P, 2024, 3, "decision")
    with pytest.raises(AtlasError):
        b.record_value(minh, "smart_cities", P, 2024, 2, "other", expected_version=0)
    assert b.current_version("smart_cities", P, 2024) == 1


def test_viewers_cannot_write(store, ws):
    fake = type("NotEditor", (), {"username": "eve", "name": "Eve"})()
    for who in (None, fake, "eve"):
        with pytest.raises(AtlasError) as exc:
            store.record_value(who, "smart_cities", P, 2024, 3, "x")
        assert exc.value.key == "store_errors.not_editor"
        with pytest.raises(AtlasError):
            store.record_target(who, "smart_cities", 2030, ">=", 3, "x")
        with pytest.raises(AtlasError):
            store.import_frame(who, pd.DataFrame())
    assert not ws.exists()


@pytest.mark.parametrize("kwargs, key", [
    ({"value": "abc"}, "bad_number"),
    ({"source": "  "}, "missing_source"),
    ({"period": 1990}, "unknown_period"),
    ({"unit_id": "district:165"}, "unit_not_in_scope"),
    ({"indicator_id": "health_access"}, "computed_indicator"),
    ({"value": 140}, "out_of_range"),
])
def test_form_entry_is_validated(store, editors, kwargs, key):
    lan, _ = editors
    args = {"indicator_id": "online_services_level4", "unit_id": P, "period": 2024, "value": 80, "source": "r"}
    args.update(kwargs)
    with pytest.raises(AtlasError) as exc:
        store.record_value(lan, **args)
    assert exc.value.key == f"store_errors.{key}"
    assert store.stored_values() == []


# ---------------------------------------------------------------- targets

def test_recorded_target_replaces_file_target_and_keeps_history(store, editors):
    lan, minh = editors
    assert [(tg.year, tg.value) for tg in store.targets("digital_enterprises")] == [(2025, 700), (2030, 3000)]
    store.record_target(lan, "digital_enterprises", 2030, ">", 3500, "Plan adopted after 2025")
    eff = store.targets("digital_enterprises")
    assert [(tg.year, tg.value, tg.source, tg.entered_by) for tg in eff] == [
        (2025, 700, "resolution_2020", "data/indicators.toml"), (2030, 3500, "Plan adopted after 2025", "lan")]
    with pytest.raises(AtlasError) as exc:   # someone else saw version 0 too
        store.record_target(minh, "digital_enterprises", 2030, ">", 4000, "other", expected_version=0)
    assert exc.value.key == "store_errors.target_conflict"
    msg = exc.value.message("en")
    assert "Number of digital-technology enterprises" in msg and "lan" in msg and "NOT saved" in msg
    assert "> 3,500 enterprises" in msg and "> 4,000 enterprises" in msg and "UTC" in msg
    assert "> 4.000 doanh nghiệp" in exc.value.message("vi")
    refused = store.audit_log().query("action == 'target_conflict_rejected'")   # the refused target is kept
    assert len(refused) == 1 and refused["actor"].iloc[0] == "minh"
    assert json.loads(refused["detail"].iloc[0])["value"] == 4000
    assert [tg.value for tg in store.recorded_targets("digital_enterprises")] == [3500]
    store.record_target(minh, "digital_enterprises", 2030, ">", 4000, "newer plan", expected_version=1)
    assert store.targets("digital_enterprises")[-1].value == 4000
    assert [tg.version for tg in store.recorded_targets("digital_enterprises")] == [1, 2]
    assert load_framework().indicators["digital_enterprises"].targets[-1].value == 3000   # file unchanged


def test_target_state_is_the_version_to_expect_and_the_target_in_force(store, editors):
    lan, _ = editors
    version, in_force = store.target_state("digital_enterprises", 2030)   # the file's target, nothing recorded
    assert version == 0 and (in_force.value, in_force.source) == (3000, "resolution_2020")
    store.record_target(lan, "digital_enterprises", 2030, ">", 3500, "plan")
    version, in_force = store.target_state("digital_enterprises", 2030)
    assert version == 1 and (in_force.value, in_force.entered_by) == (3500, "lan")
    assert store.target_state("digital_enterprises", 2031) == (0, None)
    assert store.target_state("health_access", 2030, "districts:165") == (0, None)   # a unit: recorded ones only
    store.record_unit_target(lan, "health_access", "districts:165", 2030, ">=", 90, "KH 12")
    store.record_unit_target(lan, "health_access", "districts:165", 2030, ">=", 95, "KH 40", expected_version=1)
    version, in_force = store.target_state("health_access", 2030, "districts:165")
    assert version == 2 and (in_force.value, in_force.source) == (95, "KH 40")


@pytest.mark.parametrize("args, key", [
    (("dti_rank", 2030, "=>", 10, "plan"), "bad_op"),
    (("dti_rank", 2030, "<=", "ten", "plan"), "bad_number"),
    (("dti_rank", 2030, "<=", 10, ""), "missing_source"),
    (("dti_rank", "soon", "<=", 10, "plan"), "unknown_period"),
    (("nope", 2030, "<=", 10, "plan"), None),
])
def test_bad_targets_refused(store, editors, args, key):
    with pytest.raises(AtlasError) as exc:
        store.record_target(editors[0], *args)
    assert exc.value.key == (f"store_errors.{key}" if key else "indicators.unknown")


# ---------------------------------------------------------------- atomicity and the shared GeoPackage

def test_crash_mid_write_leaves_store_unchanged(store, editors, ws, monkeypatch):
    lan, _ = editors
    store.record_value(lan, "smart_cities", P, 2023, 2, "before")
    before_values, before_audit = _count(ws, "ind_values"), _count(ws, "ind_audit")
    df = pd.DataFrame({"indicator_id": ["smart_cities"] * 3, "unit_id": [P] * 3, "period": [2020, 2021, 2022],
                       "value": [0, 1, 2], "unit": ["cities"] * 3, "source": ["r"] * 3})
    real = Store._insert_value
    calls = {"n": 0}

    def crashing(self, write, clean, version):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return real(self, write, clean, version)

    monkeypatch.setattr(Store, "_insert_value", crashing)
    with pytest.raises(RuntimeError):
        store.import_frame(lan, df)
    assert calls["n"] == 3
    assert _count(ws, "ind_values") == before_values and _count(ws, "ind_audit") == before_audit


def test_new_workspace_is_a_geopackage_shared_with_gdal_layers(store, editors, ws):
    import pyogrio

    store.record_value(editors[0], "smart_cities", P, 2024, 3, "decision")
    with sqlite3.connect(ws) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == GPKG_APPLICATION_ID
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(105.8, 21.6)], crs=4326)
    gdf.to_file(ws, layer="user_points", driver="GPKG", engine="pyogrio")
    # GDAL lists unregistered tables too: every table of ours carries the ind_ prefix to filter on
    names = [name for name, _ in pyogrio.list_layers(ws)]
    assert [n for n in names if not n.startswith(("ind_", "ws_"))] == ["user_points"]
    assert store.current_version("smart_cities", P, 2024) == 1                 # and they survived
    store.record_value(editors[0], "smart_cities", P, 2024, 3, "again", expected_version=1)
    assert len(gpd.read_file(ws, layer="user_points")) == 1


def test_store_adds_its_tables_to_an_existing_gdal_geopackage(tmp_path, editors, monkeypatch):
    path = tmp_path / "gdal.gpkg"
    gpd.GeoDataFrame({"v": [1]}, geometry=[Point(0, 0)], crs=4326).to_file(path, layer="mine", driver="GPKG")
    st = Store(path, framework=load_framework())
    _, lan = configure_test_editor(username="lan", password="lan-password-1", workspace=path)   # this workspace's editor
    st.record_value(lan, "smart_cities", P, 2024, 3, "decision")
    assert len(gpd.read_file(path, layer="mine")) == 1
    assert [v.value for v in st.stored_values("smart_cities")] == [3]


def test_unopenable_workspace_is_a_clear_error(tmp_path, editors):
    bad = tmp_path / "junk.gpkg"
    bad.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(AtlasError) as exc:
        Store(bad, framework=load_framework()).stored_values()
    assert exc.value.key == "workspace_errors.damaged"
    assert str(tmp_path) not in exc.value.message("en")   # no server path reaches a user


# ---------------------------------------------------------------- import validation

GOOD = {"indicator_id": "online_services_level4", "unit_id": P, "unit_name": "", "period": "2024",
        "value": "85.5", "unit": "%", "source": "Báo cáo UBND tỉnh", "evidence": "", "evidence_url": ""}


def _frame(*overrides):
    return pd.DataFrame([{**GOOD, **o} for o in overrides])


@pytest.mark.parametrize("override, key, column", [
    ({"indicator_id": "no_such"}, "unknown_indicator", "indicator_id"),
    ({"indicator_id": "school_access"}, "computed_indicator", "indicator_id"),
    ({"unit_id": "district:999"}, "unknown_unit", "unit_id"),
    ({"unit_id": "", "unit_name": "Huyện Không Có"}, "unknown_unit", "unit_id"),
    ({"unit_id": "ward:05809"}, "unit_not_in_scope", "unit_id"),
    ({"period": "2010"}, "unknown_period", "period"),
    ({"period": "2099"}, "unknown_period", "period"),
    ({"period": "năm ngoái"}, "unknown_period", "period"),
    ({"period": "2024.5"}, "unknown_period", "period"),
    ({"value": "abc"}, "bad_number", "value"),
    ({"value": ""}, "bad_number", "value"),
    ({"value": "1.286.751"}, "bad_number", "value"),
    ({"value": "1,286"}, "bad_number", "value"),
    ({"value": "nan"}, "bad_number", "value"),
    ({"value": "101"}, "out_of_range", "value"),
    ({"value": "-1"}, "out_of_range", "value"),
    ({"indicator_id": "dti_rank", "unit": "rank", "value": "0"}, "below_min", "value"),
    ({"indicator_id": "digital_enterprises", "unit": "count", "value": "700.5"}, "not_integer", "value"),
    ({"indicator_id": "digital_enterprises", "unit": "count", "value": "1.286"}, "not_integer", "value"),
    ({"unit": "kg"}, "wrong_unit", "unit"),
    ({"unit": ""}, "wrong_unit", "unit"),
    ({"indicator_id": "dti_rank", "unit": "%", "value": "8"}, "wrong_unit", "unit"),
    ({"source": ""}, "missing_source", "source"),
    ({"evidence_url": "javascript:alert(1)"}, "bad_url", "evidence_url"),
])
def test_every_rejection_reason_and_nothing_written(store, editors, ws, override, key, column):
    lan, _ = editors
    df = _frame({"period": "2023"}, override, {"period": "2022", "value": "70"})   # bad row is sheet row 3
    with pytest.raises(ImportRejected) as exc:
        store.import_frame(lan, df)
    report = exc.value.report
    assert (3, column, key) in [(e.row, e.column, e.key) for e in report.errors]
    assert report.bad_rows() == [3]
    assert exc.value.key == "store_errors.import_rejected"
    for lang in ("vi", "en"):
        assert all(e.message(lang) and not e.message(lang).startswith("store_errors.") for e in report.errors)
        assert all("()" not in e.message(lang) and "đến ," not in e.message(lang) and "to ," not in e.message(lang)
                   for e in report.errors)   # no empty bound left in the sentence
    assert store.stored_values() == []
    assert not ws.exists() or _count(ws, "ind_values") == 0


def test_report_lists_every_bad_row_and_reason(store, editors):
    df = _frame({}, {"indicator_id": "zzz", "source": ""}, {}, {"value": "x", "period": "1900"})
    with pytest.raises(ImportRejected) as exc:
        store.import_frame(editors[0], df)
    rep = exc.value.report
    got = sorted((e.row, e.key) for e in rep.errors)
    assert (3, "unknown_indicator") in got and (3, "missing_source") in got
    assert (4, "duplicate_row") in got                      # same indicator/unit/year as row 2
    assert (5, "bad_number") in got and (5, "unknown_period") in got
    assert rep.bad_rows() == [3, 4, 5]
    table = rep.table("en")
    assert list(table.columns) == ["Row", "Column", "Reason"] and len(table) == len(rep.errors)
    assert "row 2" in [e for e in rep.errors if e.key == "duplicate_row"][0].message("en")


def test_file_level_rejections(store, editors, tmp_path):
    lan, _ = editors
    with pytest.raises(ImportRejected) as exc:
        store.import_frame(lan, pd.DataFrame({"indicator_id": ["dti_rank"], "value": [8]}))
    assert exc.value.report.errors[0].key == "missing_columns"
    assert "period" in exc.value.report.errors[0].message("en")
    with pytest.raises(ImportRejected) as exc:
        store.import_frame(lan, store.template_frame())          # untouched template
    assert [e.key for e in exc.value.report.errors] == ["empty_file"]
    txt = tmp_path / "values.txt"
    txt.write_text("x", encoding="utf-8")
    with pytest.raises(AtlasError) as exc:
        store.import_file(lan, txt)
    assert exc.value.key == "store_errors.bad_format"
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(AtlasError) as exc:
        store.import_file(lan, broken)
    assert exc.value.key == "store_errors.unreadable_file"
    with pytest.raises(AtlasError) as exc:
        store.import_file(lan, tmp_path / "missing.csv")
    assert exc.value.key == "store_errors.file_missing"


def test_valid_csv_and_xlsx_import_everything(store, editors, tmp_path):
    lan, _ = editors
    tpl = store.template_frame()
    manual = {i for i, ind in store.framework.indicators.items() if not ind.computed}
    assert {"online_services_level4", "digital_enterprises", "smart_cities", "dti_rank",
            "online_services_satisfaction", "service_index_rank"} <= manual
    assert set(tpl["indicator_id"]) == manual
    assert set(tpl["unit_id"]) == {P}
    tpl = tpl.astype(object)
    i = tpl.index[tpl["indicator_id"] == "online_services_level4"][0]
    tpl.loc[i, ["period", "value", "source", "evidence_url"]] = ["2024", "87,5", "Báo cáo 2024",
                                                                 "https://thainguyen.gov.vn/x"]
    j = tpl.index[tpl["indicator_id"] == "dti_rank"][0]
    tpl.loc[j, ["period", "value", "unit", "source"]] = ["2024", "8", "hạng", "MoST 2024"]
    csv = write_table(tpl, tmp_path / "filled.csv")
    rep = store.import_file(lan, csv)
    assert (rep.written, rep.replaced, rep.skipped_blank) == (2, 1, len(tpl) - 2)   # dti 2024 was a seeded fact
    assert [v.value for v in store.latest_values("online_services_level4", P)] == [87.5]
    xlsx = write_table(tpl, tmp_path / "filled.xlsx")
    with pytest.raises(ImportRejected) as rej:      # the same rows again: stored since, like the form's conflict
        store.import_file(lan, xlsx)
    assert {e.key for e in rej.value.report.errors} == {"import_conflict"}
    assert "lan" in rej.value.report.errors[0].message("en")
    assert [v.version for v in store.history("online_services_level4", P)] == [1]
    assert list(store.audit_log()["action"]).count("import_conflict_rejected") == 2
    rep = store.import_file(lan, xlsx, replace=True)   # the editor chose to replace
    assert rep.written == 2 and rep.replaced == 2
    assert [v.version for v in store.history("online_services_level4", P)] == [1, 2]
    log = store.audit_log()
    assert list(log.loc[log["action"] == "import", "subject"]) == ["filled.xlsx", "filled.csv"]   # which file


def test_dry_run_validates_without_writing(store, editors):
    rep = store.import_frame(editors[0], _frame({}), dry_run=True)
    assert rep.ok and rep.rows == 1 and store.stored_values() == []


def test_export_round_trip(store, editors, tmp_path):
    lan, _ = editors
    store.record_value(lan, "smart_cities", P, 2024, 3, "decision", evidence="QĐ", evidence_url="https://a.b/c")
    out = write_table(store.export_frame("en"), tmp_path / "export.csv")
    back = read_table(out)
    assert len(back) == len(store.framework.values) + 1   # the seeded facts + one stored value
    row = back[back["indicator_id"] == "smart_cities"].iloc[0]
    assert (row["value"], row["entered_by"], row["evidence_url"]) == ("3.0", "lan", "https://a.b/c")
    rep = store.import_frame(lan, back, dry_run=True)   # an export is a valid import file
    assert rep.ok and rep.rows == len(store.framework.values) + 1
    hist = store.export_frame("en", history=True)
    assert len(hist) == len(store.framework.values) + 1
    with pytest.raises(AtlasError):
        write_table(back, tmp_path / "out.json")


def test_only_a_signed_in_editor_of_this_workspace_writes(store, editors, tmp_path):
    lan, _ = editors
    ghost = Editor(username="lan", name="Lan")                  # constructed by hand: no proof of sign-in
    _, other = configure_test_editor(username="lan", password="lan-password-1", workspace=tmp_path / "o.gpkg")
    for who in (ghost, other, None, "lan"):                      # … or signed in to another workspace
        with pytest.raises(AtlasError) as exc:
            store.record_value(who, "smart_cities", P, 2024, 3, "x")
        assert exc.value.key == "store_errors.not_editor"
        with pytest.raises(AtlasError):
            store.record_target(who, "smart_cities", 2030, ">=", 5, "plan")
    assert store.stored_values() == [] and store.audit_log().empty
    store.record_value(lan, "smart_cities", P, 2024, 3, "x")
    assert store.audit_log()["actor"].tolist() == ["lan"]


def test_xlsx_template_has_rows_to_fill_and_a_guide(store):
    import io

    from geo.store import template_xlsx

    sheets = pd.read_excel(io.BytesIO(template_xlsx(store, "en")), sheet_name=None)
    assert list(sheets) == ["template", "Guide", "Columns"]
    columns = sheets["Columns"].set_index("Column")
    assert list(columns.index) == list(sheets["template"].columns)          # every column is explained
    assert set(columns.loc[["indicator_id", "period", "value", "unit", "source"], "Required"]) == {"yes"}
    assert "from 2015 to" in columns.loc["period", "What to write"]
    assert list(pd.read_excel(io.BytesIO(template_xlsx(store, "vi")), sheet_name=None)) == ["template", "Hướng dẫn",
                                                                                            "Các cột"]
    assert len(read_table(io.BytesIO(template_xlsx(store, "en")), "t.xlsx")) == len(store.template_frame())
    guide = sheets["Guide"].set_index("indicator_id")
    assert "hạng" in guide.loc["dti_rank", "Accepted in the unit column"]
    assert guide.loc["digital_enterprises", "Targets"] == "2025: > 700; 2030: > 3000"


def test_snapshot_of_a_computed_indicator_keeps_a_trend(store, editors, ws):
    lan, _ = editors
    df = pd.DataFrame({"unit_key": ["district:164", "district:165", "district:167"], "value": [40.0, 20.0, None]})
    assert store.record_snapshot(lan, "health_access", df, 2024) == 2      # units without a value are skipped
    df2 = df.assign(value=[45.0, 25.0, 5.0])
    assert store.record_snapshot(lan, "health_access", df2, 2024) == 3
    hist = store.history("health_access", "district:165")
    assert [(v.period, v.value, v.version, v.method) for v in hist] == [(2024, 20.0, 1, "computed"),
                                                                       (2024, 25.0, 2, "computed")]
    assert "radius_m=2000" in hist[0].evidence
    assert not any(v.lower_bound for v in hist)  # computed on complete facility data: exact
    assert list(store.audit_log()["action"]) == ["snapshot_saved", "snapshot_saved"]
    # computed on incomplete facility data: the saved value stays "at least" when read back
    store.record_snapshot(lan, "health_access", df2.assign(lower_bound=[True, False, True]), 2025)
    saved = {v.unit_id: v.lower_bound for v in store.history("health_access") if v.period == 2025}
    assert saved == {"districts:164": True, "districts:165": False, "districts:167": True}
    with pytest.raises(AtlasError) as exc:
        store.record_snapshot(lan, "dti_rank", df, 2024)
    assert exc.value.key == "indicators.not_computed"
    with pytest.raises(AtlasError) as exc:
        store.record_snapshot(None, "health_access", df, 2024)
    assert exc.value.key == "store_errors.not_editor"


def _racer(path, units, editor, value, barrier, out):
    name = editor.username
    st = Store(path, framework=load_framework(), units=units)
    barrier.wait()
    try:
        st.record_value(editor, "smart_cities", P, 2024, value, f"report {name}", expected_version=0)
        out.put((name, "saved"))
    except AtlasError as err:
        out.put((name, err.key))


def test_two_processes_saving_at_once_one_wins_one_gets_conflict(store, ws):
    import multiprocessing as mp

    units = store.units                         # loaded once here, inherited by the forked children
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    eds = {n: configure_test_editor(username=n, password=f"{n}-password-1", name=n)[1] for n in ("an", "binh")}
    procs = [ctx.Process(target=_racer, args=(ws, units, eds[n], v, barrier, out)) for n, v in (("an", 3), ("binh", 2))]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    results = dict(out.get(timeout=5) for _ in procs)
    assert sorted(results.values()) == ["saved", "store_errors.conflict"]
    winner = next(n for n, r in results.items() if r == "saved")
    hist = store.history("smart_cities", P)
    assert [(v.version, v.entered_by) for v in hist] == [(1, winner)]
    assert set(store.audit_log()["action"]) == {"value_saved", "conflict_rejected"}


def test_import_rows_are_numbered_as_in_the_spreadsheet(store, editors, tmp_path):
    """A blank line in the CSV keeps its place: the bad row is reported at its sheet row."""
    good = pd.DataFrame([GOOD])
    bad = pd.DataFrame([{**GOOD, "period": "2023", "value": "abc"}])
    csv = tmp_path / "rows.csv"
    text = good.to_csv(index=False) + "\n" + bad.to_csv(index=False, header=False)
    csv.write_text(text, encoding="utf-8")  # header 1, good 2, blank 3, bad 4
    with pytest.raises(ImportRejected) as exc:
        store.import_file(editors[0], csv)
    assert exc.value.report.bad_rows() == [4]


def test_every_store_write_is_one_edit_with_its_audit_row(store, editors, ws, monkeypatch):
    """Values, snapshots, imports, targets (kept or refused), framework versions and register
    declarations all write through Store.edit: each opens exactly one workspace transaction,
    and its audit row is written in it, stamped like the row it accompanies."""
    import io

    from geo import register, wsdb
    from geo.frameworks import load_version
    from geo.frameworks import template_xlsx as fw_template
    from geo.store.storage import StoreBase

    lan, _ = editors
    store.record_value(lan, "smart_cities", P, 2020, 1, "setup")          # the schema exists from here on
    counts = {"edit": 0, "transaction": 0}
    real_edit, real_tx = StoreBase.edit, wsdb.transaction

    def counted_edit(self, editor):
        counts["edit"] += 1
        return real_edit(self, editor)

    def counted_tx(*args, **kwargs):
        counts["transaction"] += 1
        return real_tx(*args, **kwargs)

    monkeypatch.setattr(StoreBase, "edit", counted_edit)
    monkeypatch.setattr(wsdb, "transaction", counted_tx)
    fw_file = io.BytesIO(fw_template(store.framework, "en"))
    df = pd.DataFrame({"indicator_id": ["smart_cities"], "unit_id": [P], "period": [2021], "value": [2],
                       "unit": ["cities"], "source": ["r"]})
    writes = [
        (lambda: store.record_value(lan, "smart_cities", P, 2022, 3, "decision"), ["value_saved"]),
        (lambda: store.record_snapshot(lan, "health_access", pd.DataFrame({"unit_key": ["districts:165"],
                                                                           "value": [20.0]}), 2024),
         ["snapshot_saved"]),
        (lambda: store.import_frame(lan, df, file_name="v.csv"), ["value_imported", "import"]),
        (lambda: store.record_target(lan, "digital_enterprises", 2030, ">", 3500, "plan"), ["target_saved"]),
        (lambda: store.record_unit_target(lan, "health_access", "districts:165", 2030, ">=", 90, "KH"),
         ["unit_target_saved"]),
        (lambda: load_version(store, lan, fw_file, "fw.xlsx"), ["framework_loaded"]),
        (lambda: register.declare_authoritative(lan, "health", None), ["register_declared"]),
    ]
    for write, actions in writes:
        before = dict(counts)
        n_audit = len(store.audit_log())
        write()
        assert counts["edit"] == before["edit"] + 1 and counts["transaction"] == before["transaction"] + 1, actions
        assert list(store.audit_log()["action"])[:len(actions)][::-1] == actions
        assert len(store.audit_log()) == n_audit + len(actions)
    # a refused target: the write is rolled back, the refusal is one more edit with its own audit row
    before = dict(counts)
    with pytest.raises(AtlasError):
        store.record_target(lan, "digital_enterprises", 2030, ">", 4000, "other", expected_version=0)
    assert counts["edit"] == before["edit"] + 2 and counts["transaction"] == before["transaction"] + 2
    assert store.audit_log()["action"].iloc[0] == "target_conflict_rejected"
    saved = store.stored_values("smart_cities", P)[-1]
    log = store.audit_log().query("action == 'value_saved'")
    assert saved.entered_at == log["at"].iloc[0]                          # one time stamp per write


def test_only_geo_wsdb_opens_a_write_transaction():
    """One transaction helper: no module but geo.wsdb begins, commits or rolls back by hand, and
    only geo.wsdb, the workspace, editors and the store's storage open a workspace transaction."""
    from geo.settings import REPO_ROOT

    by_hand, openers = [], set()
    for path in sorted((REPO_ROOT / "geo").rglob("*.py")):
        rel = path.relative_to(REPO_ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        if rel != "geo/wsdb.py" and re.search(r"""execute\(\s*["'](BEGIN|COMMIT|ROLLBACK)""", text):
            by_hand.append(rel)
        if "wsdb.transaction(" in text:
            openers.add(rel)
    assert by_hand == []
    assert openers == {"geo/auth.py", "geo/workspace.py", "geo/store/storage.py"}


@pytest.mark.parametrize("indicator, op, value, key", [
    ("health_access", ">=", 250, "target_range"),       # a 250 % share
    ("health_access", ">=", -1, "target_range"),
    ("health_access", ">", 100, "target_unreachable"),  # more than every one of 100 %
    ("dti_rank", "<=", -5, "target_min"),               # a negative rank
    ("dti_rank", "<=", 0, "target_min"),
    ("dti_rank", "<=", 2.5, "target_integer"),
    ("dti_rank", "<", 1, "target_unreachable"),         # better than first
    ("digital_enterprises", ">", -3, "target_min"),     # a count below 0
    ("digital_enterprises", ">", 10.5, "target_integer"),
])
def test_impossible_targets_refused_province_and_unit_with_one_sentence(store, editors, indicator, op, value, key):
    from geo.i18n import fmt_number

    """The store refuses a target the indicator's unit cannot have — province-wide and per unit
    (the page form and the CLI both call it) — with one sentence in vi and en; nothing is written."""
    for call in (lambda: store.record_target(editors[0], indicator, 2030, op, value, "plan"),
                 lambda: store.record_unit_target(editors[0], indicator, "districts:165", 2030, op, value, "plan")):
        with pytest.raises(AtlasError) as exc:
            call()
        assert exc.value.key == f"store_errors.{key}"
        for lang in ("vi", "en"):
            msg = exc.value.message(lang)
            assert indicator in msg and fmt_number(value, lang) in msg and "{" not in msg
    assert store.recorded_targets(indicator) == [] and store.recorded_unit_targets(indicator) == []


@pytest.mark.parametrize("indicator, op, value", [
    ("health_access", ">=", 100), ("health_access", "<", 100), ("health_access", ">", 0),
    ("dti_rank", "<=", 1), ("dti_rank", "<", 2), ("digital_enterprises", ">=", 0),
])
def test_possible_targets_at_the_edges_are_kept(store, editors, indicator, op, value):
    assert store.record_target(editors[0], indicator, 2030, op, value, "plan").value == value

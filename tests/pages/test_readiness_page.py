"""AppTest for pages/readiness.py: scorecard, rule, languages, comparison, gaps, sign-in, entry, conflicts."""
from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from streamlit.testing.v1 import AppTest

from geo.auth import configure_test_editor
from geo.catalog import load_layer
from geo.i18n import t
from geo.indicators import PROVINCE_ID, load_framework
from geo.settings import REPO_ROOT
from geo.store import Store

PAGE = str(REPO_ROOT / "pages" / "readiness.py")
LAST_YEAR = dt.date.today().year - 1


@pytest.fixture()
def env(workspace_file, fast_bcrypt):
    return configure_test_editor(username="lan", password="lan-password-1", name="Lan")[1]


def _app(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def _w(key: str, lang: str) -> str:
    """The page's widget key for a remembered choice (one widget per language)."""
    return f"_w_{key}_{lang}"


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    parts += [e.value for e in at.error] + [s.value for s in at.success] + [x.value for x in at.title]
    return "\n".join(str(p) for p in parts)


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def test_default_vietnamese_scorecard_rule_and_viewer_mode(env):
    at = _app()
    assert not at.exception
    text = _texts(at)
    assert t("readiness.title", "vi") in text
    assert "**đúng tiến độ**" in text and "**chậm**" in text and "**đạt**" in text   # the rule is stated
    card = at.dataframe[0].value
    assert list(card.columns)[:2] == [t("readiness.col_indicator", "vi"), t("readiness.col_latest", "vi")]
    assert set(card[t("readiness.col_indicator", "vi")]) == {
        "Tỷ lệ dân số trong phạm vi 2 km tới cơ sở y tế", "Tỷ lệ dân số trong phạm vi 1 km tới trường tiểu học",
        "Tỷ lệ dân số trong phạm vi 3 km tới điểm hành chính công"}
    assert all(v.endswith("%") for v in card[t("readiness.col_latest", "vi")])
    # computed on facility data: the page says how complete that data is (national norm)
    from geo.completeness import province_summaries

    assert set(province_summaries("vi")) <= {c.value for c in at.caption}
    assert any("trạm y tế xã/phường" in c.value for c in at.caption)
    at.session_state["ind_section"] = "entry"
    at.run()
    assert t("readiness.viewer_note", "vi") in _texts(at)               # viewers read only
    assert not [b for b in at.button if b.label == t("readiness.entry_save", "vi")]
    assert not at.main.text_input and not at.main.get("file_uploader")   # nothing to change anything with
    assert [e.label for e in at.expander] == [t("readiness.rule_title", "vi"), t("readiness.audit_title", "vi")]
    assert {d.label for d in at.get("download_button")} >= {t("readiness.template_csv", "vi"),
                                                             t("readiness.template_xlsx", "vi")}


def test_map_section_draws_a_choropleth_of_a_computed_indicator(env):
    at = _app(lang="en", ind_section="map")
    assert not at.exception
    assert t("readiness.map_unavailable", "en") not in _texts(at)        # the choropleth was drawn
    table = at.dataframe[0].value
    assert len(table) == 9 and "Thành phố Sông Công" in set(table["Unit"])
    at.radio(key=_w("ind_map_level", "en")).set_value("ward")
    at.run()
    assert not at.exception and len(at.dataframe[0].value) == len(load_layer("wards_2025"))  # all 92 units


def test_english_province_scorecard_with_seeded_dti(env):
    at = _app(lang="en", ind_level="province")
    assert not at.exception
    text = _texts(at)
    assert t("readiness.title", "en") in text and "đúng tiến độ" not in text
    card = at.dataframe[0].value.set_index("Indicator")
    dti = card.loc["Provincial digital-transformation index (DTI) rank"]
    assert (dti["Latest value"], dti["Year"], dti["Status"]) == ("8", "2024", "met")
    assert dti["2025 target"] == "≤ 15" and dti["2030 target"] == "≤ 10"
    assert "Ministry of Science and Technology" in dti["Source"]
    online = card.loc["Share of online public services at level 4"]
    assert (online["Latest value"], online["Status"], online["2025 target"]) == ("no data", "no data", "> 90%")
    assert ("Tỉnh Thái Nguyên: Provincial digital-transformation index (DTI) rank already meets the 2025 and 2030 "
            "targets.") in text
    trend = at.selectbox(key=_w("ind_trend_province", "en"))
    trend.select_index(trend.options.index("Provincial digital-transformation index (DTI) rank"))
    at.run()
    assert not at.exception and len(at.get("vega_lite_chart")) == 1      # trend chart over the years
    evidence = next(d.value for d in at.dataframe if "Entered by" in d.value.columns)
    assert list(evidence["Year"]) == ["2020", "2021", "2022", "2024"] and list(evidence["Value"]) == ["12", "8", "8", "8"]
    assert "Ministry of Information and Communications" in evidence["Source"].iloc[0]
    assert list(evidence["Source"].iloc[1:3]) == ["DTI ranking table on dti.gov.vn"] * 2


def test_level_and_unit_survive_switching_sections_and_language(env):
    at = _app(lang="vi")
    at.radio(key=_w("ind_level", "vi")).set_value("ward")
    at.run()
    wards = at.selectbox(key=_w("ind_unit_ward", "vi"))
    from geo.catalog import load_layer

    inside = int(load_layer("wards_2025")["in_smart_city_2020"].sum())          # wards of the three cities
    assert inside and sum(o.endswith(" — thuộc đô thị thông minh") for o in wards.options) == inside
    wards.select_index(5)
    at.run()
    chosen = at.selectbox(key=_w("ind_unit_ward", "vi")).value
    for section, lang in (("scorecard", "en"), ("entry", "en"), ("entry", "vi"), ("scorecard", "vi"), ("scorecard", "en")):
        at.session_state["ind_section"] = section
        at.session_state["lang"] = lang
        at.run()
        assert not at.exception
        if section == "scorecard":    # the widget drawn for this language shows the choice (its index)
            assert at.radio(key=_w("ind_level", lang)).index == 2
    assert at.radio(key=_w("ind_level", "en")).value == "ward" and at.radio(key=_w("ind_level", "en")).index == 2
    assert at.selectbox(key=_w("ind_unit_ward", "en")).value == chosen
    assert f"{chosen.name}: " in _texts(at)              # the scorecard shown is the chosen ward's


def test_entry_choices_survive_switching_sections(env):
    at = _app(lang="en", ind_editor=env, ind_section="entry")
    at.selectbox(key=_w("ind_entry_ind", "en")).select_index(1)
    at.number_input(key=_w("ind_entry_period", "en")).set_value(2021)
    at.number_input(key=_w("ind_target_year", "en")).set_value(2035)
    at.run()
    for section in ("compare", "entry"):
        at.session_state["ind_section"] = section
        at.run()
        assert not at.exception
    assert at.selectbox(key=_w("ind_entry_ind", "en")).value.id == "digital_enterprises"
    assert at.number_input(key=_w("ind_entry_period", "en")).value == 2021
    assert at.number_input(key=_w("ind_target_year", "en")).value == 2035


def test_three_cities_compared_and_gap_in_words_with_recorded_target(env):
    Store(framework=load_framework()).record_target(env, "health_access", 2030, ">=", 95, "test plan")
    at = _app(lang="vi", ind_section="compare")
    assert not at.exception
    cities = {"Thành phố Thái Nguyên", "Thành phố Sông Công", "Thành phố Phổ Yên"}
    compare = next(d.value for d in at.dataframe if cities <= set(d.value.columns))
    assert len(compare) == 3 and all(" · " in v for v in compare["Thành phố Sông Công"])
    text = _texts(at)
    assert "Thành phố Sông Công: cần thêm" in text
    assert "người trong phạm vi 2 km tới cơ sở y tế để đạt mục tiêu 2030" in text


def test_sign_in_in_sidebar(env):
    at = _app(lang="en")
    at.sidebar.text_input(key="ind_user").input("lan")
    at.sidebar.text_input(key="ind_password").input("wrong-password")
    _button(at, "Sign in").click()
    at.run()
    assert at.session_state["ind_editor"] is None
    assert any("Wrong username or password" in e.value for e in at.error)
    at.sidebar.text_input(key="ind_user").input("lan")
    at.sidebar.text_input(key="ind_password").input("lan-password-1")
    _button(at, "Sign in").click()
    at.run()
    assert at.session_state["ind_editor"] == env
    assert any("Signed in as Lan" in s.value for s in at.success)


def test_sign_in_locks_after_repeated_wrong_passwords(env):
    at = _app(lang="en")
    for _ in range(5):
        at.sidebar.text_input(key="ind_user").input("lan")
        at.sidebar.text_input(key="ind_password").input("guess-password")
        _button(at, "Sign in").click()
        at.run()
    at.sidebar.text_input(key="ind_user").input("lan")
    at.sidebar.text_input(key="ind_password").input("lan-password-1")   # right password, but locked
    _button(at, "Sign in").click()
    at.run()
    assert at.session_state["ind_editor"] is None
    assert any(t("editor_auth.locked", "en", seconds=0).split(";")[0] in unescape(e.value) for e in at.error)
    fresh = _app(lang="en")   # a new session (a reload) is still locked: the lockout lives on the server
    fresh.sidebar.text_input(key="ind_user").input("lan")
    fresh.sidebar.text_input(key="ind_password").input("lan-password-1")
    _button(fresh, "Sign in").click()
    fresh.run()
    assert fresh.session_state["ind_editor"] is None


def test_editor_enters_a_value_and_history_is_kept(env):
    at = _app(lang="en", ind_editor=env, ind_section="entry")
    assert not at.exception
    at.selectbox(key=_w("ind_entry_ind", "en")).select_index(1)           # digital enterprises
    at.run()
    at.text_input(key="ind_entry_value").input("650")
    at.text_input(key="ind_entry_source").input("Sở KH&CN report")
    at.text_input(key="ind_entry_link").input("https://example.org/report")
    _button(at, "Save value").click()
    at.run()
    assert not at.exception
    assert any("Saved as version 1" in s.value for s in at.success)
    store = Store(framework=load_framework())
    rec = store.latest_values("digital_enterprises", PROVINCE_ID)
    seeds = [(v.period, v.value, v.entered_by) for v in load_framework().values
             if v.indicator_id == "digital_enterprises"]  # the framework's own facts (324 in 2024)
    assert [(v.period, v.value, v.entered_by) for v in rec] == sorted(seeds + [(LAST_YEAR, 650, "lan")])
    at.text_input(key="ind_entry_value").input("660")
    _button(at, "Save value").click()
    at.run()
    assert any("Saved as version 2" in s.value for s in at.success)
    assert [v.value for v in store.history("digital_enterprises", PROVINCE_ID) if v.version > 0] == [650, 660]


def test_conflict_shows_clear_message_and_keeps_other_value(env):
    store = Store(framework=load_framework())
    minh = configure_test_editor(None, "minh", "minh-password-1", "Minh")[1]
    key = ("online_services_level4", PROVINCE_ID, LAST_YEAR)
    at = _app(lang="en", ind_editor=env, ind_section="entry")   # Lan opens the form: version 0 seen
    assert at.session_state["ind_seen_versions"][key] == 0
    store.record_value(minh, *key, 88, "Minh's report")          # Minh saves meanwhile
    at.text_input(key="ind_entry_value").input("70")
    at.text_input(key="ind_entry_source").input("Lan's report")
    _button(at, "Save value").click()
    at.run()
    errors = " ".join(e.value for e in at.error)
    assert "was just saved by minh" in errors and "NOT saved" in errors
    assert [v.value for v in store.latest_values("online_services_level4", PROVINCE_ID)] == [88]
    _button(at, "Load the newest value").click()
    at.run()
    assert at.session_state["ind_seen_versions"][key] == 1


def test_invalid_entry_is_refused_with_reason(env):
    at = _app(lang="vi", ind_editor=env, ind_section="entry")
    at.text_input(key="ind_entry_value").input("nhiều")
    at.text_input(key="ind_entry_source").input("báo cáo")
    _button(at, t("readiness.entry_save", "vi")).click()
    at.run()
    assert any("không phải là số" in e.value for e in at.error)
    assert Store(framework=load_framework()).stored_values() == []


def test_editor_records_a_newer_target(env):
    at = _app(lang="en", ind_editor=env, ind_section="entry")
    ids = [o for o in at.selectbox(key=_w("ind_target_ind", "en")).options]
    at.selectbox(key=_w("ind_target_ind", "en")).select_index(ids.index("Number of digital-technology enterprises"))
    at.run()
    assert any("Target in force for this year: > 3,000" in c.value for c in at.caption)
    at.selectbox(key="ind_target_op").select(">")
    at.text_input(key="ind_target_value").input("3500")
    at.text_input(key="ind_target_source").input("Plan adopted in 2026")
    _button(at, "Save target").click()
    at.run()
    assert any("Saved the 2030 target: > 3,500" in s.value for s in at.success)
    store = Store(framework=load_framework())
    assert [(tg.year, tg.value) for tg in store.targets("digital_enterprises")] == [(2025, 700), (2030, 3500)]
    assert "target_saved" in set(store.audit_log()["action"])
    log = next(d.value for d in at.dataframe if "Action" in d.value.columns)
    assert "target saved" in set(log["Action"]) and "lan" in set(log["Entered by"])
    assert list(log.loc[log["Action"] == "target saved", "Value"]) == ["3,500"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", x) for x in log["Entered at"])
    # a viewer (signed out) reads the same change log
    viewer = _app(lang="en", ind_section="entry")
    log = next(d.value for d in viewer.dataframe if "Action" in d.value.columns)
    assert "target saved" in set(log["Action"])


def test_target_conflict_names_who_and_keeps_the_refused_target(env):
    at = _app(lang="en", ind_editor=env, ind_section="entry")        # Lan opens the 2030 target form
    Store(framework=load_framework()).record_target(configure_test_editor(None, "minh", "minh-password-1", "Minh")[1], "online_services_level4", 2030, ">=",
                                                    95, "Minh's plan")
    at.text_input(key="ind_target_value").input("97")
    at.text_input(key="ind_target_source").input("Lan's plan")
    _button(at, "Save target").click()
    at.run()
    errors = unescape(" ".join(e.value for e in at.error))   # shown literally
    assert "was just recorded by minh" in errors and "≥ 95%" in errors and "> 97%" in errors
    store = Store(framework=load_framework())
    assert [tg.value for tg in store.recorded_targets("online_services_level4")] == [95]
    assert "target_conflict_rejected" in set(store.audit_log()["action"])


def test_editor_saves_a_computed_snapshot(env):
    at = _app(lang="en", ind_editor=env)          # city level, TP Thái Nguyên, first trend indicator is computed
    assert at.selectbox(key=_w("ind_trend_city", "en")).value.id == "health_access"
    _button(at, next(b.label for b in at.button if b.label.startswith("Save the computation"))).click()
    at.run()
    # districts without any known facility have no value ("no facility data", issue 9 §3): not saved
    from geo.indicators import compute_indicator

    n = int(compute_indicator(load_framework().indicators["health_access"], "city")["value"].notna().sum())
    assert 0 < n <= 9 and any(f"Saved {n} values" in s.value for s in at.success)
    hist = Store(framework=load_framework()).history("health_access", "district:164")
    assert len(hist) == 1 and hist[0].method == "computed" and hist[0].entered_by == "lan"


def test_editor_sets_a_city_target_with_its_document_and_the_scorecard_shows_it(env):
    at = _app(lang="vi", ind_editor=env, ind_section="entry")
    ind_box = at.selectbox(key=_w("ind_target_ind", "vi"))
    ind_box.select_index(list(ind_box.options).index(load_framework().indicators["health_access"].name("vi")))
    at.run()
    unit_box = at.selectbox(key=_w("ind_target_unit", "vi"))
    assert unit_box.options[0] == t("readiness.target_applies_province", "vi")
    unit_box.select_index(next(i for i, o in enumerate(unit_box.options) if o.startswith("Thành phố Sông Công")))
    at.run()
    at.selectbox(key="ind_target_op").select(">=")
    at.text_input(key="ind_target_value").input("99,5")
    at.text_input(key="ind_target_source").input("Kế hoạch số 40/KH-UBND")
    _button(at, t("readiness.target_save", "vi")).click()
    at.run()
    assert not at.exception
    assert any("Thành phố Sông Công" in s.value for s in at.success)
    store = Store(framework=load_framework())
    [tg] = store.unit_targets("health_access", "districts:165")
    assert (tg.op, tg.value, tg.source) == (">=", 99.5, "Kế hoạch số 40/KH-UBND")
    assert store.targets("health_access") == []                       # not a province-wide target
    at.session_state["ind_section"] = "scorecard"
    at.session_state["ind_level"] = "city"
    at.run()
    units = at.selectbox(key=_w("ind_unit_city", "vi"))
    units.select_index(next(i for i, u in enumerate(units.options) if u.startswith("Thành phố Sông Công")))
    at.run()
    card = at.dataframe[0].value.set_index(t("readiness.col_indicator", "vi"))
    row = card.loc[load_framework().indicators["health_access"].name("vi")]
    assert row[t("readiness.col_target_2030", "vi")] == "≥ 99,5%"
    assert row[t("readiness.col_target_source", "vi")] == "Kế hoạch số 40/KH-UBND"
    assert row[t("readiness.col_status", "vi")] in (t("readiness.status_behind", "vi"), t("readiness.status_met", "vi"))


def test_programme_city_as_its_2025_units(env):
    at = _app(lang="en")
    at.radio(key=_w("ind_level", "en")).set_value("group")
    at.run()
    assert not at.exception
    box = at.selectbox(key=_w("ind_unit_group", "en"))
    assert len(box.options) == 3
    box.select_index(next(i for i, o in enumerate(box.options) if o.startswith("Thành phố Thái Nguyên")))
    at.run()
    assert not at.exception
    members = next(d.value for d in at.dataframe if t("readiness.col_area_share", "en") in d.value.columns)
    names = set(members[t("readiness.unit", "en")])
    assert {"Phường Phan Đình Phùng", "Xã Tân Cương"} <= names and "Phường Sông Công" not in names
    text = _texts(at)
    assert "Xã Tân Cương" in text and "Thành phố Sông Công" in text   # the shared unit said with its other city
    card = next(d.value for d in at.dataframe if t("readiness.col_method", "en") in d.value.columns)
    assert set(card[t("readiness.col_method", "en")]) == {t("readiness.group_method_computed", "en")}
    assert all(v.startswith("at least") or v == "no data" for v in card[t("readiness.col_latest", "en")])


def test_framework_versions_readable_on_the_page(env):
    import io

    import pandas as pd

    from geo.frameworks import load_version, template_xlsx

    store = Store(framework=load_framework())
    df = pd.read_excel(io.BytesIO(template_xlsx(store.framework)), sheet_name="framework", dtype=object)
    df = df[df["id"] != "service_index_score"]
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    buf.seek(0)
    load_version(store, env, buf, "qd1893.xlsx")
    at = _app(lang="en", ind_section="entry")
    assert not at.exception
    assert any("Version in force: 1." in c.value for c in at.caption)
    box = at.selectbox(key="ind_fw_view")
    assert box.value == 1 and len(box.options) == 2
    shown = next(d.value for d in at.dataframe if "id" in d.value.columns)
    assert "service_index_score" not in set(shown["id"])
    box.select(0)
    at.run()
    shown = next(d.value for d in at.dataframe if "id" in d.value.columns)
    assert "service_index_score" in set(shown["id"])                 # the earlier version still reads
    # the scorecard works on the version in force
    at.session_state["ind_section"] = "scorecard"
    at.session_state["ind_level"] = "province"
    at.run()
    card = at.dataframe[0].value
    assert "Score on the national index of service to citizens and businesses" not in set(card["Indicator"])

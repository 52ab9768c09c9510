"""``python -m geo indicators ...`` end to end through ``geo.cli.main``."""
from __future__ import annotations

import pandas as pd
import pytest

from geo.cli import main
from geo.indicators import PROVINCE_ID, load_framework

PW = "cli-password-1"


@pytest.fixture()
def env(tmp_path, workspace_file, fast_bcrypt, monkeypatch):
    monkeypatch.setenv("ATLAS_EDITOR_PASSWORD", PW)
    return tmp_path


def _run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_list(env, capsys):
    rc, out, _ = _run(capsys, "indicators", "list")
    assert rc == 0
    lines = out.strip().splitlines()
    assert lines[0].split("\t") == ["id", "name", "unit", "method", "targets"]
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert rows["digital_enterprises"][4] == "2025: > 700; 2030: > 3,000"
    assert rows["dti_rank"][4] == "2025: <= 15; 2030: <= 10"
    assert rows["health_access"][4] == "no target"
    rc, out, _ = _run(capsys, "--lang", "vi", "indicators", "list")
    assert "3.000" in out and "chưa có mục tiêu" in out


def test_show_manual_with_history_and_status(env, capsys):
    rc, out, _ = _run(capsys, "indicators", "show", "dti_rank", "--unit", "Tỉnh Thái Nguyên")
    assert rc == 0
    assert "Tỉnh Thái Nguyên: met" in out
    assert "2020\t12\tv0" in out and "2024\t8\tv0" in out
    assert "Ministry of Science and Technology" in out
    assert "already meets the 2025 and 2030 targets" in out        # rank 8: top 15 and top 10 both reached
    rc, out, _ = _run(capsys, "indicators", "show", "online_services_level4")
    assert rc == 0 and "no data" in out


def test_show_computed_for_a_city(env, capsys):
    rc, out, _ = _run(capsys, "indicators", "show", "health_access", "--unit", "district:165")
    assert rc == 0
    assert "Thành phố Sông Công\t" in out and "%" in out and "no target" in out


@pytest.mark.parametrize("argv", [
    ("indicators", "show", "nope"),
    ("indicators", "show", "dti_rank", "--unit", "Atlantis"),
    ("indicators", "show", "dti_rank", "--unit", "district:165"),
    ("indicators", "import", "missing.csv", "--user", "lan"),
    ("indicators", "export", "--out", "x.json"),
])
def test_refusals_exit_2_with_one_error_line(env, capsys, argv):
    from geo.auth import add_editor

    add_editor("lan", PW)
    rc, _, err = _run(capsys, *argv)
    assert rc == 2 and err.startswith("error: ")


def test_add_editor_import_export(env, capsys, monkeypatch):
    monkeypatch.setenv("ATLAS_NEW_EDITOR_PASSWORD", PW)
    rc, out, _ = _run(capsys, "indicators", "add-editor", "lan", "--name", "Lan")
    assert rc == 0 and "lan" in out
    from geo.auth import list_editors
    assert PW not in list_editors()["lan"]["password_hash"] and str(env) not in out

    good = env / "good.csv"
    pd.DataFrame([{"indicator_id": "smart_cities", "unit_id": PROVINCE_ID, "period": 2024, "value": 3,
                   "unit": "cities", "source": "decision"}]).to_csv(good, index=False)
    rc, out, _ = _run(capsys, "indicators", "import", str(good), "--user", "lan", "--dry-run")
    assert rc == 0 and "nothing written" in out
    rc, out, _ = _run(capsys, "indicators", "import", str(good), "--user", "lan")
    assert rc == 0 and "Imported 1 values" in out

    bad = env / "bad.csv"
    pd.DataFrame([{"indicator_id": "smart_cities", "unit_id": PROVINCE_ID, "period": 2023, "value": 2,
                   "unit": "cities", "source": "x"},
                  {"indicator_id": "smart_cities", "unit_id": "Nowhere", "period": 2024, "value": "many",
                   "unit": "cities", "source": ""}]).to_csv(bad, index=False)
    rc, _, err = _run(capsys, "indicators", "import", str(bad), "--user", "lan")
    assert rc == 2
    assert "Row 3 [unit_id]" in err and "Row 3 [value]" in err and "Row 3 [source]" in err
    assert err.strip().splitlines()[-1].startswith("error: File rejected")

    monkeypatch.setenv("ATLAS_EDITOR_PASSWORD", "wrong-password")
    rc, _, err = _run(capsys, "indicators", "import", str(good), "--user", "lan")
    assert rc == 2 and "Wrong username or password" in err
    monkeypatch.setenv("ATLAS_EDITOR_PASSWORD", PW)

    rc, out, _ = _run(capsys, "indicators", "set-target", "smart_cities", "2030", ">=", "5", "--source", "plan",
                      "--user", "lan")
    assert rc == 0
    rc, out, _ = _run(capsys, "indicators", "list")
    assert "2025: >= 3; 2030: >= 5" in out

    for name in ("out.csv", "out.xlsx"):
        rc, out, _ = _run(capsys, "indicators", "export", "--out", str(env / name))
        seeds = load_framework().values  # the framework's known facts + the value lan recorded
        assert rc == 0 and f"Exported {len(seeds) + 1} rows" in out
    df = pd.read_excel(env / "out.xlsx")
    assert sorted(df["indicator_id"]) == sorted([v.indicator_id for v in seeds] + ["smart_cities"])
    assert df.loc[df["indicator_id"] == "smart_cities", "entered_by"].iloc[0] == "lan"


def test_snapshot_then_show_lists_it(env, capsys):
    from geo.auth import add_editor

    add_editor("lan", PW)
    rc, out, _ = _run(capsys, "indicators", "snapshot", "admin_access", "--level", "city", "--user", "lan")
    from geo.indicators import compute_indicator, load_framework

    # districts without any known facility have no value ("no facility data", issue 9 §3): not saved
    n = int(compute_indicator(load_framework().indicators["admin_access"], "city")["value"].notna().sum())
    assert rc == 0 and 0 < n <= 9 and f"Saved {n} values" in out
    rc, out, _ = _run(capsys, "indicators", "snapshot", "dti_rank", "--user", "lan")
    assert rc == 2
    from geo.store import Store

    saved = Store(framework=load_framework()).history("admin_access", "district:165")
    assert [(v.period, v.method, v.entered_by) for v in saved] == [(load_framework().computed_period, "computed", "lan")]


def test_add_editor_cannot_mint_editors_and_cli_writes_name_the_os_user(env, capsys, monkeypatch):
    import getpass
    import json
    import sqlite3

    monkeypatch.setenv("ATLAS_NEW_EDITOR_PASSWORD", PW)
    assert _run(capsys, "indicators", "add-editor", "lan")[0] == 0          # the first editor bootstraps
    rc, _, err = _run(capsys, "indicators", "add-editor", "mallory")         # later ones need an editor
    assert rc == 2 and "--by" in err
    monkeypatch.setenv("ATLAS_EDITOR_PASSWORD", "wrong-password")
    monkeypatch.setenv("ATLAS_NEW_EDITOR_PASSWORD", "mallory-password")
    rc, _, err = _run(capsys, "indicators", "add-editor", "mallory", "--by", "lan")
    assert rc == 2 and "Wrong username or password" in err
    monkeypatch.setenv("ATLAS_EDITOR_PASSWORD", PW)
    assert _run(capsys, "indicators", "add-editor", "minh", "--by", "lan")[0] == 0
    from geo.auth import list_editors
    assert set(list_editors()) == {"lan", "minh"}
    rc, _, _ = _run(capsys, "indicators", "set-target", "smart_cities", "2030", ">=", "5", "--source", "plan",
                    "--user", "lan")
    assert rc == 0
    con = sqlite3.connect(env / "ws.gpkg")
    rows = con.execute("SELECT actor, action, detail FROM ind_audit ORDER BY id").fetchall()
    con.close()
    saved = [json.loads(d) for a, act, d in rows if act == "target_saved"]
    assert saved and saved[0]["os_user"] == getpass.getuser()
    assert [act for _, act, _ in rows if act.endswith("editor_added")] == ["first_editor_added", "editor_added"]


def test_first_editor_password_from_the_new_editor_variable_as_the_readme_says(env, capsys, monkeypatch):
    """README: the new editor's password comes from $ATLAS_NEW_EDITOR_PASSWORD — the first one's too;
    $ATLAS_EDITOR_PASSWORD (set to something else here) is only the signing-in editor's."""
    from geo.auth import authenticate
    from geo.errors import AtlasError

    monkeypatch.setenv("ATLAS_EDITOR_PASSWORD", "x")              # too short: must not be used
    monkeypatch.setenv("ATLAS_NEW_EDITOR_PASSWORD", "Qa-test-pass-123")
    rc, out, err = _run(capsys, "indicators", "add-editor", "qa", "--name", "QA")
    assert rc == 0 and "qa" in out and not err
    assert authenticate("qa", "Qa-test-pass-123").username == "qa"
    with pytest.raises(AtlasError):
        authenticate("qa", "x")


def test_set_target_of_a_city_with_its_document(env, capsys):
    from geo.auth import configure_test_editor
    from geo.store import Store

    configure_test_editor(None, "lan", PW, "Lan")
    rc, out, _ = _run(capsys, "--lang", "vi", "indicators", "set-target", "health_access", "2030", ">=", "95",
                      "--source", "Kế hoạch 40/KH-UBND", "--unit", "TP Sông Công", "--user", "lan")
    assert rc == 0 and "Thành phố Sông Công" in out
    store = Store()
    [tg] = store.unit_targets("health_access", "districts:165")
    assert (tg.value, tg.source, tg.breakdown) == (95, "Kế hoạch 40/KH-UBND", False)
    assert store.targets("health_access") == []
    rc, _, err = _run(capsys, "indicators", "set-target", "health_access", "2030", ">=", "95", "--source", "x",
                      "--unit", "Hà Giang", "--user", "lan")
    assert rc == 2 and err.startswith("error:") and "Hà Giang" in err


def test_framework_template_and_load_as_a_new_version(env, capsys):
    from geo.auth import configure_test_editor

    configure_test_editor(None, "lan", PW, "Lan")
    out = env / "fw.xlsx"
    rc, text, _ = _run(capsys, "--lang", "vi", "indicators", "framework-template", "--out", str(out))
    assert rc == 0 and str(out) in text
    df = pd.read_excel(out, sheet_name="framework", dtype=object)
    df.loc[df["id"] == "health_access", ["target_2030", "source"]] = [">= 95", "QĐ 1893/QĐ-UBND"]
    df.to_excel(env / "fw2.xlsx", index=False)
    rc, text, _ = _run(capsys, "indicators", "framework-load", str(env / "fw2.xlsx"), "--user", "lan")
    assert rc == 0 and "version 1" in text
    rc, text, _ = _run(capsys, "indicators", "frameworks")
    assert [line.split("\t")[:2] for line in text.strip().splitlines()] == [["0", "data/indicators.toml"],
                                                                          ["1", "fw2.xlsx"]]
    df.loc[0, "unit"] = "kg"
    df.to_excel(env / "bad.xlsx", index=False)
    rc, _, err = _run(capsys, "indicators", "framework-load", str(env / "bad.xlsx"), "--user", "lan")
    assert rc == 2 and "kg" in err and "error:" in err


def test_show_judges_a_city_on_its_own_target_like_the_scorecard(env, capsys):
    """`show` resolves targets like the readiness page (one function: scorecard_row): a city's own
    target judges it (status, target, gap identical to the page's row); province-wide targets are
    marked; a unit without a value says "no data" (never "no data%")."""
    from geo.auth import configure_test_editor
    from geo.indicators import compute_indicator, load_framework, scorecard
    from geo.store import Store
    from geo.units import units_by_id

    configure_test_editor(None, "lan", PW, "Lan")
    assert _run(capsys, "indicators", "set-target", "health_access", "2030", ">=", "95", "--source", "x",
                "--unit", "district:165", "--user", "lan")[0] == 0
    for lang in ("en", "vi"):
        rc, out, _ = _run(capsys, "--lang", lang, "indicators", "show", "health_access")
        assert rc == 0
        assert "no data%" not in out and "không có dữ liệu%" not in out and "chưa có dữ liệu%" not in out
        targets_line = next(line for line in out.splitlines() if line.startswith(("targets:", "mục tiêu:")))
        assert "Thành phố Sông Công 2030: ≥ 95%" in targets_line
        fw = load_framework()
        page = {r["indicator_id"]: r for r in scorecard(fw, Store(framework=fw), units_by_id()["districts:165"],
                                                         lang, computed=compute_indicator)}["health_access"]
        assert page["status"] == "behind" and page["target_2030"] == "≥ 95%"
        lines = out.splitlines()
        i = next(k for k, line in enumerate(lines) if line.startswith("Thành phố Sông Công\t"))
        cells = lines[i].split("\t")
        assert cells[2] == page["value_text"] and cells[4] == page["status_text"]
        assert cells[5:] == [f"2030: {page['target_2030']}"]
        assert lines[i + 1].strip() == page["gap"]
    # a province-wide target is marked as such and judges a share of every city
    assert _run(capsys, "indicators", "set-target", "health_access", "2030", ">=", "90", "--source", "y",
                "--user", "lan")[0] == 0
    rc, out, _ = _run(capsys, "indicators", "show", "health_access", "--unit", "Thành phố Phổ Yên")
    assert "2030: ≥ 90% (province-wide)" in out
    assert "Thành phố Phổ Yên\t" in out and "\t2030: ≥ 90% (province-wide)" in out.split("Thành phố Phổ Yên\t")[1]


@pytest.mark.parametrize("argv, words", [
    (("health_access", "2030", ">=", "250"), "from 0 to 100"),
    (("dti_rank", "2030", "<=", "-5"), "1 or more"),
])
def test_set_target_refuses_impossible_targets_exit_2(env, capsys, argv, words):
    from geo.auth import configure_test_editor

    configure_test_editor(None, "lan", PW, "Lan")
    rc, _, err = _run(capsys, "indicators", "set-target", *argv, "--source", "x", "--user", "lan")
    assert rc == 2 and err.startswith("error: ") and words in err and len(err.strip().splitlines()) == 1
    rc, _, err = _run(capsys, "indicators", "set-target", *argv, "--source", "x", "--unit", "district:165",
                      "--user", "lan")
    assert rc == 2 and words in err

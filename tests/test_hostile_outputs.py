"""Also-fix items of issue 14: spreadsheet formulas, print-title mathtext, terminal escape codes
and server paths in CLI output, "busy, try again" for a locked workspace, staged uploads."""
from __future__ import annotations

import io
import os
import sqlite3
import time

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely

from geo.errors import AtlasError

RISKY = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1"]


def _starts_risky(v) -> bool:
    return isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r")


def test_csv_and_xlsx_exports_neutralise_cells_and_field_names(tmp_path):
    from geo.store import frame_bytes, read_table

    df = pd.DataFrame({"=cmd|' /C calc'!A0": RISKY, "ok": [1, 2, 3, 4, 5], "@name": ["a", "b", "c", "d", "e"]})
    csv = frame_bytes(df, "csv").decode("utf-8-sig")
    header, *rows = csv.splitlines()
    assert not any(_starts_risky(c) for c in header.split(","))
    assert not any(_starts_risky(c.strip('"')) for line in rows for c in line.split(","))
    book = openpyxl.load_workbook(io.BytesIO(frame_bytes(df, "xlsx")))
    cells = [c for row in book.active.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)                  # no formula anywhere
    assert not any(_starts_risky(c.value) for c in cells)
    (tmp_path / "back.xlsx").write_bytes(frame_bytes(df, "xlsx"))
    back = read_table(tmp_path / "back.xlsx")                      # re-import: the values as they were
    assert list(back.iloc[:, 0]) == RISKY


def test_geo_export_csv_neutralises_field_names_and_cells(tmp_path):
    from geo.export import export_vector, user_credits

    gdf = gpd.GeoDataFrame({"=1+2": RISKY[:2], "name": ["@x", "ok"]},
                           geometry=[shapely.Point(105.8, 21.5), shapely.Point(105.9, 21.6)], crs=4326)
    export_vector(gdf, "csv", tmp_path / "out.csv", credits=user_credits("t", "en"))
    text = next(tmp_path.glob("out*.csv")).read_text(encoding="utf-8-sig")
    cells = [c.strip('"') for line in text.splitlines() for c in line.split(",")]
    assert "=1+2" not in cells and not any(_starts_risky(c) for c in cells)


def test_print_titles_are_plain_text(tmp_path):
    from geo.printmap import MapLayer, render_map, save_figure

    gdf = gpd.GeoDataFrame({"name": ["$\\frac{"]}, geometry=[shapely.box(105.8, 21.5, 105.9, 21.6)], crs=4326)
    title = "Bản đồ $\\unknowncommand{x}$ ^_^ $5 + $6"
    fig = render_map([MapLayer(gdf, "$\\broken layer")], title=title, subtitle="$x^2$")
    save_figure(fig, tmp_path / "m.png")          # mathtext would raise on the broken TeX
    assert fig.texts[0].get_text() == title and not fig.texts[0].get_parse_math()


def test_cli_strips_terminal_escape_codes_and_never_shows_server_paths(tmp_path, monkeypatch, capsys, editor):
    from geo import cli
    from geo.indicators import PROVINCE_ID, load_framework
    from geo.store import Store

    ed = editor
    Store(framework=load_framework()).record_value(ed, "smart_cities", PROVINCE_ID, 2024, 3,
                                                   "decision \x1b]0;pwned\x07\x1b[2J\x1b[31mred", "ev \x1b[1A")
    assert cli.main(["indicators", "show", "smart_cities"]) == 0
    out = capsys.readouterr().out
    assert "decision" in out and "red" in out and "\x1b" not in out and "\x07" not in out

    def boom(args):
        raise RuntimeError(f"cannot open {tmp_path}/secret/atlas.gpkg")
    monkeypatch.setattr("geo.cli.indicators.cmd_list", boom)
    assert cli.main(["indicators", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(tmp_path) not in err and "Traceback" not in err


def test_locked_workspace_says_busy_try_again(tmp_path, monkeypatch, workspace_file, editor):
    from geo import workspace, wsdb

    path, ed = workspace_file, editor
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(105.8, 21.5)], crs=4326)
    workspace.save_layer("a", gdf, editor=ed)
    monkeypatch.setattr(wsdb, "BUSY_TIMEOUT_S", 0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")                  # another writer holds the lock
    try:
        for call in (lambda: workspace.rename_layer("a", "b", editor=ed),
                     lambda: workspace.delete_layer("a", editor=ed),
                     lambda: workspace.save_layer("c", gdf, editor=ed)):
            with pytest.raises(AtlasError) as exc:
                call()
            assert exc.value.key == "workspace_errors.busy"
            assert str(tmp_path) not in exc.value.message("en") and "try again" in exc.value.message("en")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert [x["name"] for x in workspace.list_layers()] == ["a"]


def test_staged_uploads_are_removed_at_session_end_and_swept(tmp_path):
    import gc

    from geo import staging

    folder = staging.StagingFolder()
    (folder.path / "upload.zip").write_bytes(b"x" * 1000)
    kept = folder.path
    del folder
    gc.collect()
    assert not kept.exists()                          # the session (and its folder object) ended
    old = tmp_path / f"{staging.PREFIX}old"
    old.mkdir()
    (old / "f").write_bytes(b"x" * 10)
    os.utime(old, (time.time() - 10_000, time.time() - 10_000))
    big = [tmp_path / f"{staging.PREFIX}big{i}" for i in range(3)]
    for i, d in enumerate(big):
        d.mkdir()
        (d / "f").write_bytes(b"x" * 600)
        os.utime(d, (time.time() - 100 + i, time.time() - 100 + i))
    removed = staging.sweep(keep=big[2], max_age_s=3600, max_total_bytes=1000, root=tmp_path)
    assert old in removed and big[0] in removed and big[1] in removed and big[2].exists()

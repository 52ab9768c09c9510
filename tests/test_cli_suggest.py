"""``python -m geo suggest``: the same answer as the library, and the bad-input rules."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo import coverage as cov
from geo import suggest as sg
from geo.catalog import load_layer
from geo.cli import main
from geo.population import census_grid
from geo.units import UNIT_LAYERS

CITY = "Thành phố Sông Công"
BASE = ["suggest", "--facilities", "infrastructure:health", "--units", "districts", "--unit", CITY,
        "--radius-m", "1500"]


pytestmark = pytest.mark.usefixtures("workspace_file")


def test_cli_gives_the_library_answer(tmp_path, capsys):
    out = tmp_path / "sites.gpkg"
    assert main(BASE + ["--new", "2", "--method", "greedy", "--out", str(out)]) == 0
    got = gpd.read_file(out)
    assert list(got["rank"]) == [1, 2]
    text = capsys.readouterr().out
    assert "Adding 2 new sites" in text and "Method: greedy" in text
    # the same problem through the library
    spec = UNIT_LAYERS["communes"]
    grid = census_grid(load_layer(spec.layer), spec.pop_col, 100.0)
    units = load_layer("districts")
    units = units[units["name"] == CITY]
    cells = cov.prepare_cells(grid, units, "level2_id", "name")
    infra = load_layer("infrastructure")
    fac_xy = cov.facility_xy(infra[infra["category"] == "health"], grid.crs)
    reach = sg.Reach(1500.0)
    cand = sg.filter_candidates(sg.grid_candidates(units, grid.crs, 500.0, grid=grid), None, fac_xy, 0.0)
    prob = sg.build_problem(cells, reach.costs_from(fac_xy, cells.xy), reach, cand)
    s = sg.suggest(prob, 2, method="greedy")
    assert np.allclose(got["marginal_people"], s.sites["marginal_people"])
    assert np.allclose(got.geometry.x, s.sites.geometry.x) and np.allclose(got.geometry.y, s.sites.geometry.y)


def test_cli_lscp_csv_in_vietnamese(tmp_path, capsys):
    out = tmp_path / "sites.csv"
    assert main(["--lang", "vi"] + BASE + ["--new", "20", "--model", "lscp", "--target-share", "0.5",
                                           "--min-spacing-m", "1000", "--out", str(out)]) == 0
    df = pd.read_csv(out, encoding="utf-8-sig")
    assert df["covered_share"].iloc[-1] >= 0.5 and (df["covered_share"].iloc[:-1] < 0.5).all()
    assert "Phương pháp" in capsys.readouterr().out


@pytest.mark.parametrize("extra,needle", [
    (["--new", "0"], "new sites '0'"),
    (["--new", "abc"], "new sites 'abc'"),
    (["--model", "lscp"], "target share"),
    (["--model", "foo"], "Model 'foo'"),
    (["--target-share", "1.2", "--model", "lscp"], "Target share '1.2'"),
    (["--time-limit", "-1"], "Time limit '-1'"),
    (["--min-spacing-m", "x"], "Minimum spacing 'x'"),
    (["--candidate-cell-m", "0"], "Candidate cell size '0'"),
    (["--candidates", "nowhere/file.geojson"], "was not found"),
    (["--unit", "Atlantis"], "no unit 'Atlantis'"),
    (["--radius-m", "1e12"], "'1e12' m is too large"),
])
def test_bad_input_one_line_exit_2(tmp_path, capsys, extra, needle):
    args = [a for a in BASE if a not in ("--unit", CITY)] if "--unit" in extra else list(BASE)
    rc = main(args + extra + ["--out", str(tmp_path / "s.gpkg")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert err[-1].startswith("error: ") and needle in err[-1]
    assert "Traceback" not in "\n".join(err)


def test_bad_output_and_vietnamese_refusal(tmp_path, capsys):
    assert main(BASE + ["--out", str(tmp_path / "s.txt")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert main(["--lang", "vi"] + BASE + ["--new", "-3", "--out", str(tmp_path / "s.gpkg")]) == 2
    assert "Số điểm mới" in capsys.readouterr().err


def test_deck_with_the_suggested_sites_slide(tmp_path, capsys):
    """``--deck`` writes the city's council deck with the same sites as ``--out``."""
    from pptx import Presentation

    out, deck = tmp_path / "sites.gpkg", tmp_path / "song_cong.pptx"
    assert main(BASE + ["--new", "2", "--method", "greedy", "--out", str(out), "--deck", str(deck),
                        "--deck-lang", "en"]) == 0
    assert str(deck) in capsys.readouterr().out
    sites = gpd.read_file(out)
    texts = ["\n".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
             for slide in Presentation(str(deck)).slides]
    assert any("Sông Công" in x for x in texts[:1])  # the deck is the city's (from --unit)
    slide = next(x for x in texts if "new sites" in x.lower() or "suggested" in x.lower())
    from geo.numbers import round_people

    # the slide's headline states the people the sites add, by the atlas's one rounding rule
    assert f"brings {round(round_people(float(sites['marginal_people'].sum()))):,} more people" in slide


@pytest.mark.parametrize("extra,needle", [
    (["--deck", "deck.docx"], "must end in .pptx or .pdf"),
    (["--deck-unit", "TP Sông Công"], "--deck-unit needs --deck"),
    (["--deck", "deck.pptx", "--deck-unit", "Atlantis"], "Atlantis"),
])
def test_deck_options_refused_before_work(tmp_path, capsys, extra, needle):
    extra = [str(tmp_path / a) if a.startswith("deck.") else a for a in extra]
    assert main(BASE + extra + ["--out", str(tmp_path / "s.gpkg")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and needle in err[-1]
    assert not (tmp_path / "s.gpkg").exists()


@pytest.mark.parametrize("spelling", ["TP Sông Công", "Sông Công", "districts:165", "district:165", "song cong",
                                      "165", "Song Cong City"])
def test_unit_spellings_of_the_registry_scope_the_same_unit(spelling):
    from geo.cli.suggest import _scope
    from geo.units import resolve

    units = load_layer("districts")
    got = _scope(units, "level2_id", "name", spelling, "districts")
    assert list(got["level2_id"].astype(str)) == [resolve(spelling, ("city",)).code]


def test_cli_accepts_short_unit_name_and_lists_names_when_unknown(tmp_path, capsys):
    args = [a if a != CITY else "TP Sông Công" for a in BASE]
    out_short, out_full = tmp_path / "short.gpkg", tmp_path / "full.gpkg"
    assert main(args + ["--new", "1", "--method", "greedy", "--out", str(out_short)]) == 0
    assert main(BASE + ["--new", "1", "--method", "greedy", "--out", str(out_full)]) == 0
    a, b = gpd.read_file(out_short), gpd.read_file(out_full)
    assert np.allclose(a.geometry.x, b.geometry.x) and np.allclose(a["marginal_people"], b["marginal_people"])
    capsys.readouterr()
    bad = [a if a != CITY else "Atlantis" for a in BASE]
    assert main(["--lang", "vi"] + bad + ["--out", str(tmp_path / "x.gpkg")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "Atlantis" in err and "Thành phố Sông Công" in err

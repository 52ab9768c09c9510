"""One rounding rule: whole persons in tables/files, 3 significant figures in sentences."""
from __future__ import annotations

import numpy as np
import pandas as pd

from geo import coverage as cov
from geo.catalog import load_layer
from geo.numbers import round_people, whole_people
from geo.population import census_grid


def test_round_people_rule() -> None:
    assert round_people(18_437) == 18_400 and round_people(1_234) == 1_230 and round_people(87.4) == 87
    assert round_people(69_382) == round_people(69_399) == 69_400  # the same figure reads the same
    assert np.isnan(round_people(float("nan")))


def test_coverage_table_on_a_census_grid_becomes_whole_people() -> None:
    grid = census_grid(load_layer("communes"), "population_2019")
    health = load_layer("infrastructure").query("category == 'health'")
    df = cov.coverage_by_unit(health, load_layer("districts"), grid, 2000, "level2_id", "name")
    people = [c for c in df.columns if "population" in c]
    assert any((df[c] % 1 != 0).any() for c in people)  # the engine's figures are fractional
    out = whole_people(df)
    for c in people:
        assert str(out[c].dtype) == "Int64" and (out[c] == np.round(df[c])).all()
    pd.testing.assert_series_equal(out["covered_share"], df["covered_share"])  # shares untouched
    text = out.to_csv(index=False)
    assert not any("." in cell for line in text.splitlines()[1:] for cell in line.split(",")[2:4])

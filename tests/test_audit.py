"""``python -m geo audit`` on the shipped data, and on copies broken on purpose."""
from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from shapely import affinity

from geo.audit import run_audit
from geo.cli import main
from geo.settings import DATA_DIR


def test_shipped_data_passes_every_check(capsys) -> None:
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "[FAIL]" not in out and "All" in out
    assert "1,799,489" in out and "8,375.27" in out and "1,286,751" in out and "313,905" in out
    assert main(["--lang", "vi", "audit"]) == 0
    assert "1.799.489" in capsys.readouterr().out


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    for f in Path(DATA_DIR).iterdir():
        if f.suffix in (".geojson", ".csv"):
            shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _failing(data_dir: Path) -> set[str]:
    return {c.key for c in run_audit(data_dir) if not c.ok}


def test_a_wrong_figure_or_code_fails(copy: Path, capsys) -> None:
    wards = gpd.read_file(copy / "wards_2025.geojson")
    wards.loc[0, "population_2025"] = wards.loc[0, "population_2025"] // 10  # the one-tenth error of item 6
    wards.loc[1, "gso_code"] = "05794"  # the old Phú Lạc error
    wards.to_file(copy / "wards_2025.geojson", driver="GeoJSON")
    assert {"audit.population_sum", "audit.units_codes", "audit.label_points"} <= _failing(copy)
    assert main(["audit", "--data-dir", str(copy)]) == 1
    assert "[FAIL]" in capsys.readouterr().out


def test_overlapping_districts_fail(copy: Path) -> None:
    d = gpd.read_file(copy / "districts_pre2025.geojson")
    d.loc[0, "geometry"] = affinity.scale(d.geometry.iloc[0], 1.05, 1.05)
    d.to_file(copy / "districts_pre2025.geojson", driver="GeoJSON")
    assert {"audit.district_partition", "audit.district_outline"} <= _failing(copy)

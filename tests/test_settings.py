"""geo.settings: the one place where paths, CRS constants and ATLAS_* variables are read."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from geo import settings

ROOT = Path(__file__).resolve().parents[1]
CODE = [p for d in ("geo", "layers", "pages") for p in (ROOT / d).rglob("*.py")] + [ROOT / "app.py"]


def _environ_reads(path: Path) -> list[int]:
    """Lines reading the process environment: os.environ[...] / .get(...), os.getenv(...)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            lines.append(node.lineno)
    return lines


def test_only_settings_reads_the_environment():
    allowed = {ROOT / "geo" / "settings.py": None,
               ROOT / "geo" / "cli" / "__init__.py": "system_lang reads the POSIX locale variables, not ours"}
    offenders = {str(p.relative_to(ROOT)): lines for p in CODE if p not in allowed and (lines := _environ_reads(p))}
    assert offenders == {}, "read ATLAS_* variables through geo.settings"
    cli = (ROOT / "geo" / "cli" / "__init__.py").read_text(encoding="utf-8")
    assert "ATLAS_" not in "".join(line for line in cli.splitlines() if "environ" in line)


def test_every_variable_the_code_names_is_in_the_settings_table():
    named = set()
    for p in CODE:
        named |= set(re.findall(r"\bATLAS_[A-Z_]*[A-Z]\b", p.read_text(encoding="utf-8")))
    table = set(re.findall(r"``(ATLAS_[A-Z_]+)``", settings.__doc__ or ""))
    assert named - {"ATLAS_MAX_"} <= table, f"not documented in geo/settings.py: {sorted(named - table)}"
    read = set(re.findall(r'"(ATLAS_[A-Z_]+)"', (ROOT / "geo" / "settings.py").read_text(encoding="utf-8")))
    assert read == table, "the table lists exactly the variables settings reads"


def test_paths_and_crs_constants():
    assert settings.REPO_ROOT == ROOT
    assert settings.CATALOG_FILE.is_file() and settings.DATA_DIR.is_dir()
    assert (settings.METRIC_CRS, settings.STORE_CRS) == ("EPSG:9213", "EPSG:4326")


def test_workspace_follows_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("ATLAS_WORKSPACE", raising=False)
    assert settings.workspace_path() == ROOT / "workspace" / "atlas.gpkg"
    monkeypatch.setenv("ATLAS_WORKSPACE", str(tmp_path / "x.gpkg"))
    assert settings.workspace_path() == tmp_path / "x.gpkg"


@pytest.mark.parametrize("value, rounds", [("4", 4), ("2", 4), ("99", 16), ("13", 13), ("lots", 12), ("", 12)])
def test_bcrypt_rounds_are_clamped_and_a_bad_value_is_the_default(monkeypatch, value, rounds):
    monkeypatch.setenv("ATLAS_BCRYPT_ROUNDS", value)
    assert settings.bcrypt_rounds() == rounds


def test_limits_read_when_used_and_a_bad_number_falls_back(monkeypatch):
    monkeypatch.setenv("ATLAS_MAX_UPLOAD_MB", "3")
    monkeypatch.setenv("ATLAS_MAX_ZIP_MEMBERS", "many")
    monkeypatch.setenv("ATLAS_READ_SECONDS", "2.5")
    limits = settings.import_limits()
    assert limits["max_file_bytes"] == 3 * 1024 * 1024 and limits["max_members"] == 2000
    assert settings.read_seconds() == 2.5
    monkeypatch.setenv("ATLAS_OFFLINE", "Yes")
    assert settings.offline()
    monkeypatch.setenv("ATLAS_OFFLINE", "0")
    assert not settings.offline()

"""Lint is part of the README's one test command: ``ruff check .`` must report nothing.

The rules are in pyproject.toml ([tool.ruff]); ruff's version is pinned in requirements.txt
so every machine judges the same code the same way.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_installed_ruff_is_the_pinned_one():
    pinned = re.search(r"^ruff==(\S+)$", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M)
    assert pinned, "requirements.txt must pin ruff exactly (ruff==x.y.z)"
    out = _ruff("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == pinned.group(1), f"installed {out.stdout.strip()}, pinned {pinned.group(1)}"


def test_ruff_finds_nothing_in_the_repository():
    out = _ruff("check", "--no-cache", "--output-format", "concise", ".")
    assert out.returncode == 0, f"ruff check . found problems (fix them, or `ruff check --fix .`):\n{out.stdout}{out.stderr}"


def test_the_house_rules_catch_a_finding(tmp_path):
    # the same configuration on a file that breaks two of its rules: the check above can fail
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nimport sys\n\nx = 1  # noqa: E731\n", encoding="utf-8")
    out = _ruff("check", "--no-cache", "--output-format", "concise", "--config", str(ROOT / "pyproject.toml"),
                str(bad), cwd=tmp_path)
    assert out.returncode == 1
    assert "F401" in out.stdout and "RUF100" in out.stdout

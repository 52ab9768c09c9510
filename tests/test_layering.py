"""The house's dependency rule: app → pages → layers → geo, never the other way.

``geo/`` (outside ``geo/cli/``) must not import streamlit, folium, branca, streamlit_folium,
``layers`` or ``pages`` — at module top or inside functions. ``layers/`` must not import
streamlit or ``pages``. Checked on the AST so a string or comment cannot hide or fake it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                roots.add(node.args[0].value.split(".")[0])
    return roots


def _offenders(folder: str, forbidden: set[str], skip: str | None = None) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if skip and rel.startswith(skip):
            continue
        bad = _imported_roots(path) & forbidden
        if bad:
            found.append(f"{rel}: {sorted(bad)}")
    return found


def test_geo_core_depends_on_nothing_above_it() -> None:
    forbidden = {"streamlit", "folium", "branca", "streamlit_folium", "layers", "pages", "app"}
    assert _offenders("geo", forbidden, skip="geo/cli/") == []


def test_layers_do_not_reach_up_into_pages_or_streamlit() -> None:
    assert _offenders("layers", {"streamlit", "pages", "app"}) == []


def test_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from layers.render import new_map\n    import streamlit as st\n")
    assert _imported_roots(probe) >= {"layers", "streamlit"}


@pytest.mark.parametrize("module", ["geo.catalog", "geo.classify", "geo.cli"])
def test_moved_modules_import(module: str) -> None:
    __import__(module)

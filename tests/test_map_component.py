"""pages/map_component.py is the one module that calls streamlit-folium's private API
(``_component_func`` and its ``name``, ``_get_html``, ``_get_header``, ``_get_map_string``): pinned here to
the installed, required version so an upgrade fails this test instead of a blank map."""
from __future__ import annotations

import ast
import inspect
import re
from importlib.metadata import version
from pathlib import Path

import folium
import streamlit_folium as sf

from pages import map_component

ROOT = Path(__file__).resolve().parents[1]
PRIVATE = {"_component_func", "_get_html", "_get_header", "_get_map_string"}  # and _component_func.name


def _call_keywords(source: str, func: str) -> set[str]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == func:
            return {k.arg for k in node.keywords if k.arg}
    raise AssertionError(f"no call of {func}")


def test_installed_streamlit_folium_is_the_pinned_one():
    pinned = re.search(r"^streamlit-folium==(\S+)$", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M)
    assert pinned and version("streamlit-folium") == pinned.group(1) == "0.27.4", \
        "streamlit-folium changed: check pages/map_component.py against its st_folium, then update this pin"


def test_private_calls_match_st_folium_of_this_version():
    for name in PRIVATE | {"get_full_id"}:
        assert callable(getattr(sf, name, None)), name
    assert isinstance(sf._component_func.name, str)   # registered by name with the running server
    ours = _call_keywords(inspect.getsource(map_component.show_map), "_component_func")
    theirs = _call_keywords(inspect.getsource(sf.st_folium), "_component_func")
    assert ours == theirs


def test_prepared_parts_come_from_the_private_helpers():
    m = folium.Map(location=[21.6, 105.8], zoom_start=9, tiles=None)
    parts = map_component.prepare_map(m)
    assert parts["id"] == sf.get_full_id(m) and parts["zoom"] == 9
    assert "L.map(" in parts["script"] and "map_div" in parts["script"]   # streamlit-folium renames the map
    assert map_component.prepare_map(m) is parts   # rendered once per map object


def test_no_other_module_touches_streamlit_folium_privately():
    offenders = []
    for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("layers/*.py"), *ROOT.glob("geo/**/*.py"), ROOT / "app.py"]:
        if path.name == "map_component.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "streamlit_folium" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], "show maps through pages.map_component.show_map"

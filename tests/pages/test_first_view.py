"""The map page's first view stays light (issue 12/13: first map ≤ 3 s, bench/bench_startup.py):
no grid/Arrow table element on it, the pages' helpers imported at start-up, tables as escaped
Markdown."""
from __future__ import annotations

import html
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.catalog import get_catalog
from pages import PAGES
from pages.common import markdown_table

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_WORKSPACE", str(tmp_path / "ws.gpkg"))


def test_map_page_first_view_has_no_dataframe_and_lists_the_credits():
    at = AppTest.from_file(str(ROOT / "pages" / "map_explorer.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.dataframe) == 0 and len(at.table) == 0  # each would load ~1.3 MB of grid code first
    credits = "\n".join(md.value for md in at.expander[0].markdown)
    shown = html.unescape(credits)
    for layer in get_catalog().layers.values():  # one row per layer: its title and source
        assert layer.title("en") in shown and layer.source_text("en").split(";")[0].strip() in shown.replace("\u2060", "")


def test_markdown_table_keeps_columns_and_shows_hostile_text_literally():
    hostile = ["a | b", "<img src=x onerror=alert(1)>", "[link](http://evil.example)", "**bold**", None]
    frame = pd.DataFrame({"Tên | name": hostile, "Số": [1, 2, 3, 4, 5]})
    text = markdown_table(frame)
    rows = text.splitlines()
    assert len(rows) == len(frame) + 2
    for row in rows:  # every row has exactly the frame's columns: no pipe from a cell splits one
        assert row.count("|") == len(frame.columns) + 1
    assert rows[1] == "|---|---:|"  # the count column right-aligned
    header = [html.unescape(c.strip()) for c in rows[0].strip("|").split("|")]
    assert header == ["Tên | name", "Số"]
    body = "\n".join(rows[2:])
    assert "<img" not in body and "](http" not in body and "**" not in body  # no markup survives
    for value in filter(None, hostile):
        assert value.replace(" ", "") in html.unescape(body).replace("\u2060", "").replace(" ", "")


def test_start_up_imports_every_page_helper_and_runs_no_page():
    code = ("import sys, pages.map_cache as m, streamlit.delta_generator as dg; "
            "known = hasattr(dg, '_use_warning_has_been_displayed'); m.warm_imports(); "
            "print(known, dg._use_warning_has_been_displayed, ' '.join(k for k in sys.modules if k.startswith('pages.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    known, answered, *modules = out.stdout.split()
    assert known == "True"   # Streamlit still has the flag (a rename would make the warm-up a no-op)
    assert answered == "True"   # the first element a session sends skips Streamlit's stack walk
    loaded = set(modules)
    scripts = {f"pages.{name}" for name, *_ in PAGES}
    helpers = {f"pages.{p.stem}" for p in (ROOT / "pages").glob("*.py") if not p.stem.startswith("_")} - scripts
    assert helpers <= loaded and not loaded & scripts


def test_pages_end_with_end_page_not_st_stop():
    """``st.stop()`` in a page run by app.py leaves its loading indicator on screen (Streamlit
    stops again at app.py's ``finally``): pages call ``pages.common.end_page`` instead, whose
    fallback outside app.py is the only ``st.stop()`` left."""
    import re

    calls = {p.relative_to(ROOT).as_posix(): len(re.findall(r"\bst\.stop\(", p.read_text(encoding="utf-8")))
             for p in [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]}
    assert {k: v for k, v in calls.items() if v} == {"pages/common.py": 1}

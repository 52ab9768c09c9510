"""Streamlit entry point: navigation and the language switch; nothing else."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo.i18n import t
from pages.common import basemap_switch, current_lang, language_switch

st.set_page_config(page_title="Atlas ĐTTM Thái Nguyên", page_icon=str(Path(__file__).resolve().parent / "static" / "favicon.png"), layout="wide")
language_switch()
lang = current_lang()
basemap_switch()

PAGES = [
    ("pages/map_explorer.py", "nav.map", ":material/map:", True),
    ("pages/coverage.py", "nav.coverage", ":material/local_hospital:", False),
    ("pages/readiness.py", "nav.readiness", ":material/insights:", False),
    ("pages/data.py", "nav.data", ":material/upload_file:", False),
    ("pages/export.py", "nav.export", ":material/print:", False),
]
ROOT = Path(__file__).resolve().parent
nav = st.navigation([st.Page(path, title=t(key, lang), icon=icon, default=default)
                     for path, key, icon, default in PAGES if (ROOT / path).is_file()])
nav.run()

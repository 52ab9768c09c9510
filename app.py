"""Streamlit entry point: navigation and the language switch; nothing else.

``streamlit run app.py`` finds ``app`` below (an ``st.App``) and serves it; that server runs
this same file as the script for every session (then the other branch is taken). The ASGI
wrapper is what adds the Content-Security-Policy / frame-ancestors headers (``pages.web``).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

if get_script_run_ctx() is None:  # imported by the web server, not run for a session
    from starlette.middleware import Middleware

    from pages.web import BootSplash, FrontendFiles, SecurityHeaders, keep_nagle_off, show_unexpected

    keep_nagle_off()  # ~40 ms per request otherwise (pages.web.keep_nagle_off)

    # BootSplash: a spinner in the page's HTML itself, seen before Streamlit's frontend has loaded
    app = st.App(__file__, middleware=[Middleware(SecurityHeaders), Middleware(BootSplash), Middleware(FrontendFiles)],
                 on_script_error=show_unexpected)

    # before the server answers: imports, unit layers and the default map built and rendered
    # once (shared by every session), so a new session's first map is not a build (issue 13)
    from pages.map_cache import warm_default_map

    warm_default_map()
else:
    from geo.i18n import t
    from pages.common import LOADED_KEY, current_lang, loading_placeholder, map_first_view, widget_texts_css

    st.set_page_config(page_title="Atlas ĐTTM Thái Nguyên",
                       page_icon=str(Path(__file__).resolve().parent / "static" / "favicon.png"), layout="wide")
    loading = loading_placeholder()  # first thing drawn in a new session: a spinner, cleared below

    from pages.sidebar import basemap_switch, language_switch, seed_language
    from pages.web import run_page

    seed_language()
    lang = current_lang()

    from pages import PAGES

    ROOT = Path(__file__).resolve().parent
    pages = {name: st.Page(f"pages/{name}.py", title=t(key, lang), icon=icon, default=default)
             for name, key, icon, default in PAGES if (ROOT / "pages" / f"{name}.py").is_file()}
    nav = st.navigation(list(pages.values()))
    # a browser's first view of the map: the map alone, these on the rerun it asks for once drawn
    if not (nav is pages.get("map_explorer") and map_first_view()):
        language_switch()
        widget_texts_css()
        basemap_switch()
    try:
        run_page(nav)
    finally:   # also after pages.common.end_page (not after st.stop: Streamlit stops here again)
        st.session_state[LOADED_KEY] = True
        loading.empty()

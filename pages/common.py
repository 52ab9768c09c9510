"""Shared page helpers: language, translated text, cached layer access, friendly errors."""
from __future__ import annotations

from typing import Any

import streamlit as st

from geo.errors import AtlasError
from geo.i18n import DEFAULT_LANG, LANGS, t

LANG_KEY = "lang"


def language_switch() -> None:
    """Sidebar switch Tiếng Việt / English; the choice lives in session state and the URL."""
    if LANG_KEY not in st.session_state:
        qp = st.query_params.get(LANG_KEY)
        st.session_state[LANG_KEY] = qp if qp in LANGS else DEFAULT_LANG
    st.sidebar.radio(
        t("common.language", st.session_state[LANG_KEY]),
        options=list(LANGS),
        format_func=lambda code: {"vi": "Tiếng Việt", "en": "English"}[code],
        key=LANG_KEY,
        horizontal=True,
    )
    st.query_params[LANG_KEY] = st.session_state[LANG_KEY]


def current_lang() -> str:
    """The language chosen by the user (Vietnamese by default)."""
    return st.session_state.get(LANG_KEY, DEFAULT_LANG)


def tr(key: str, **params: Any) -> str:
    """Translate ``key`` into the current language."""
    return t(key, current_lang(), **params)


def show_error(err: AtlasError) -> None:
    """Show a refusal as one clear sentence in the current language."""
    st.error(err.message(current_lang()))

"""The sidebar of every page: language, basemap and the editor's sign-in box.

The choices live in plain session-state keys (they survive navigation) and, for language and
basemap, in the URL so a shared link keeps them.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from geo.errors import AtlasError
from geo.i18n import DEFAULT_LANG, LANGS, t
from pages.common import EDITOR_KEY, LANG_KEY, choose_one, current_lang, show_error, tr, tr_plain


def seed_language() -> None:
    """The session's language, once: the address's (``?lang=en``), else Vietnamese."""
    if LANG_KEY not in st.session_state:
        qp = st.query_params.get(LANG_KEY)
        st.session_state[LANG_KEY] = qp if qp in LANGS else DEFAULT_LANG


def language_switch() -> None:
    """Sidebar switch Tiếng Việt / English.

    The choice lives in ``session_state["lang"]`` (a plain key, not widget state, so it
    survives navigation) and in the URL (``?lang=en``) so a shared link keeps it.
    """
    seed_language()

    def _changed() -> None:
        st.session_state[LANG_KEY] = st.session_state["_lang_choice"]

    st.sidebar.radio(
        t("common.language", st.session_state[LANG_KEY]),
        options=list(LANGS),
        index=list(LANGS).index(st.session_state[LANG_KEY]),
        format_func=lambda code: {"vi": "Tiếng Việt", "en": "English"}[code],
        key="_lang_choice",
        on_change=_changed,
        horizontal=True,
    )
    if st.query_params.get(LANG_KEY) != st.session_state[LANG_KEY]:
        st.query_params[LANG_KEY] = st.session_state[LANG_KEY]


BASEMAP_KEY = "basemap"


def _seed_basemap() -> str:
    """The session's basemap: the shared link's, else "none" offline, else the online default."""
    if BASEMAP_KEY not in st.session_state:
        from layers.basemap import default_basemap
        from layers.render import BASEMAPS

        qp = st.query_params.get(BASEMAP_KEY)
        st.session_state[BASEMAP_KEY] = qp if qp in BASEMAPS else default_basemap()
    return st.session_state[BASEMAP_KEY]


def basemap_switch() -> None:
    """Sidebar choice of the basemap for every map of the app (``none`` = offline).

    Lives in ``session_state["basemap"]`` (survives navigation) and in the URL
    (``?basemap=none``) once chosen, so a shared link keeps it.
    """
    from layers.render import BASEMAPS

    lang = current_lang()
    current = _seed_basemap()

    def _changed() -> None:
        st.session_state[BASEMAP_KEY] = st.session_state[f"_basemap_choice_{lang}"]
        st.query_params[BASEMAP_KEY] = st.session_state[BASEMAP_KEY]

    choose_one(t("map.basemap", lang), list(BASEMAPS), where=st.sidebar, index=list(BASEMAPS).index(current),
                         format_func=lambda b: t(f"map.basemap_{b}", lang), key=f"_basemap_choice_{lang}",
                         on_change=_changed)


def current_basemap() -> str:
    """The basemap every map of the app uses (chosen in the sidebar; "none" when offline)."""
    return _seed_basemap()


def client_address() -> str:
    """The browser's address as the server sees it ("" when unknown): a sign-in lockout key."""
    return str(st.context.ip_address or "")  # None outside a request (tests, bare mode) and on localhost


def editor_sign_in(form_key: str = "editor_sign_in") -> Any:
    """The sidebar's editor box: sign in / signed in as … / sign out. Returns the signed-in
    ``geo.auth.Editor`` or None (a viewer). Failures, lockouts (per account and per client
    address, kept on the server) and their audit rows are ``geo.auth.authenticate``'s."""
    from geo.auth import authenticate

    st.session_state.setdefault(EDITOR_KEY, None)
    with st.sidebar:
        st.subheader(tr("readiness.sign_in_title"), anchor=False)
        editor = st.session_state[EDITOR_KEY]
        if editor is not None:
            st.success(tr_plain("readiness.signed_in_as", name=editor.name))
            if st.button(tr("readiness.sign_out"), key=f"{form_key}_out"):
                st.session_state[EDITOR_KEY] = None
                st.rerun()
            return editor
        with st.form(form_key, clear_on_submit=True):   # the password never lingers
            user = st.text_input(tr("readiness.username"), key="ind_user")
            pw = st.text_input(tr("readiness.password"), type="password", key="ind_password")
            if st.form_submit_button(tr("readiness.sign_in")):
                try:
                    st.session_state[EDITOR_KEY] = authenticate(user, pw, client=client_address())
                    st.rerun()
                except AtlasError as err:
                    show_error(err)
    return None

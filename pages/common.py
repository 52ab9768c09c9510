"""Shared page helpers: language, translated text, cached layer access, friendly errors."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import streamlit as st

from geo.errors import AtlasError
from geo.i18n import DEFAULT_LANG, LANGS, t
from geo.text import display_text

LANG_KEY = "lang"

if TYPE_CHECKING:
    from geo.service import CoverageService


def language_switch() -> None:
    """Sidebar switch Tiếng Việt / English.

    The choice lives in ``session_state["lang"]`` (a plain key, not widget state, so it
    survives navigation) and in the URL (``?lang=en``) so a shared link keeps it.
    """
    if LANG_KEY not in st.session_state:
        qp = st.query_params.get(LANG_KEY)
        st.session_state[LANG_KEY] = qp if qp in LANGS else DEFAULT_LANG

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

    st.sidebar.selectbox(t("map.basemap", lang), list(BASEMAPS), index=list(BASEMAPS).index(current),
                         format_func=lambda b: t(f"map.basemap_{b}", lang), key=f"_basemap_choice_{lang}",
                         on_change=_changed)


def current_basemap() -> str:
    """The basemap every map of the app uses (chosen in the sidebar; "none" when offline)."""
    return _seed_basemap()


def current_lang() -> str:
    """The language chosen by the user (Vietnamese by default)."""
    return st.session_state.get(LANG_KEY, DEFAULT_LANG)


def tr(key: str, **params: Any) -> str:
    """Translate ``key`` into the current language."""
    return t(key, current_lang(), **params)


def plain(text: Any) -> str:
    """User or file text (layer names, cell values, URL values, sources …) for any Markdown
    element (``st.markdown``/``caption``/``table``/``info``/``error`` …): shown literally, never
    as a link, image, formula or HTML. The one display helper for such text on every page."""
    return display_text(text)


def tr_plain(key: str, **params: Any) -> str:
    """``tr`` for a Markdown element whose text parameters came from a user or a file: the
    catalog's own Markdown stays, every text parameter is shown literally (see ``plain``)."""
    return t(key, current_lang(), **{k: plain(v) if isinstance(v, str) else v for k, v in params.items()})


def plain_table(frame):  # pandas.DataFrame in and out
    """A copy of ``frame`` for ``st.table`` (which renders cells and headers as Markdown):
    every text cell, index label and column name shown literally."""
    out = frame.copy()
    out.columns = [plain(c) for c in out.columns]
    out.index = [plain(i) if isinstance(i, str) else i for i in out.index]
    for col in out.columns:
        out[col] = [plain(v) if isinstance(v, str) else v for v in out[col]]
    return out


def upload_limit_mb() -> int:
    """The per-file upload cap (MB) the reader enforces (``ATLAS_MAX_UPLOAD_MB``)."""
    import math

    from geo.safezip import Limits

    return max(1, math.ceil(Limits.from_env().max_file_bytes / 1048576))


def uploader(label: str, types: list[str], key: str, **kwargs: Any) -> Any:
    """``st.file_uploader`` with the hint Streamlit writes in English said in the UI language
    (``help``: formats and size cap) and the reader's own size cap."""
    mb = upload_limit_mb()
    help_text = tr("common.upload_help", types=", ".join(f".{x}" for x in types), mb=mb)
    return st.file_uploader(label, type=types, key=key, help=kwargs.pop("help", help_text),
                            max_upload_size=kwargs.pop("max_upload_size", mb), **kwargs)


def choose_many(label: str, options: Any, **kwargs: Any) -> list:
    """``st.multiselect`` without its English "Select all" entry and with a placeholder in the
    UI language (Streamlit's own texts that can be set)."""
    kwargs.setdefault("placeholder", tr("common.choose_options"))
    return st.multiselect(label, options, select_all=False, **kwargs)


def show_error(err: AtlasError) -> None:
    """Show a refusal as one clear sentence in the current language (names in it literal)."""
    st.error(plain(err.message(current_lang())))


EDITOR_KEY = "ind_editor"   # the signed-in geo.auth.Editor of this session (or None), shared by all pages


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
        st.subheader(tr("readiness.sign_in_title"))
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


@st.cache_resource(show_spinner=False, max_entries=32)
def _cached_layer(layer_id: str, version: tuple[str, float | None]):
    from geo.catalog import load_layer

    return load_layer(layer_id)


def layer_version(layer_id: str) -> tuple[str, float | None]:
    """(path, modification time) of a catalog layer's file: part of every cache key."""
    from geo.catalog import get_catalog

    path = get_catalog().layer(layer_id).path
    return str(path), (path.stat().st_mtime if path.exists() else None)


def cached_layer(layer_id: str):  # GeoDataFrame
    """A catalog layer, read once per file version and shared (read-only) by all sessions.

    GeoDataFrames are not hashable by ``st.cache_data``: this caches the object itself,
    keyed by layer id and file modification time. Failures raise ``AtlasError`` and are
    not cached, so a repaired file is picked up on the next run.
    """
    return _cached_layer(layer_id, layer_version(layer_id))


@st.cache_data(show_spinner=False, max_entries=16)
def _facility_summaries(lang: str, versions: tuple, register: tuple) -> list[str]:  # cache key
    from geo.completeness import province_summaries

    return province_summaries(lang)


def facility_summaries(lang: str) -> list[str]:
    """The province's facility completeness lines ("biết 1 trên 92 trạm y tế xã/phường"),
    cached per data file version and declared register; ``[]`` when the data cannot be read
    (the page has already said which file is missing or damaged)."""
    from geo.completeness import NORMS
    from geo.register import authoritative_source

    try:
        register = tuple(str(authoritative_source(c)) for c in NORMS)
        return _facility_summaries(lang, (layer_version("wards_2025"), layer_version("infrastructure")), register)
    except AtlasError:
        return []


_SERVICE: list = []
_SERVICE_LOCK = threading.Lock()


def coverage_service() -> CoverageService:
    """The app's one coverage service, shared by every session of this server process.

    Sessions asking the same question get the same answer object, per-cell cost array and
    labelled cells (one computation even when they ask at the same moment); its caches are
    bounded in bytes (``ATLAS_COVERAGE_CACHE_MB``). A module-level object rather than
    ``st.cache_resource`` so that tests and benchmarks can read its hit counters.
    """
    from geo.service import CoverageService

    with _SERVICE_LOCK:
        if not _SERVICE:
            _SERVICE.append(CoverageService(loader=cached_layer))
        return _SERVICE[0]


def workspace_layers() -> dict:
    """Saved user vector layers as ``{name: loader}`` (rasters are not drawn on the map).

    Each loader carries ``saved_at`` so caches see a layer saved again under the same name.
    Empty when the workspace is unavailable.
    """
    from geo import workspace

    try:
        entries = [e for e in workspace.list_layers() if e.get("kind") != "raster"]
    except AtlasError:  # a damaged or locked workspace must not break the map
        return {}

    def loader(name: str, saved_at: str):
        def load():
            return workspace.read_layer(name)
        load.saved_at = saved_at  # type: ignore[attr-defined]
        return load

    return {e["name"]: loader(e["name"], str(e.get("saved_at", ""))) for e in entries}


def ensure_app_entry() -> None:
    """Make a deep link (``/export?...``) on a freshly started server go through app.py.

    With a ``pages/`` folder next to app.py, Streamlit starts in its old multipage mode
    until some session has called ``st.navigation``: the first request for a page URL then
    runs that page alone, without the app's navigation and language switch. A page called
    that way switches the server to ``st.navigation`` mode and reruns; the rerun executes
    app.py, which resolves the same page. No effect once app.py has run.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()

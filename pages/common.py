"""Shared page helpers: the UI language, translated text, the one display helper for user/file
text, Vietnamese-speaking widgets and friendly errors.

Beside it: ``pages.sidebar`` (language, basemap and sign-in boxes) and ``pages.shared_data``
(cached layers, the coverage service, workspace layers).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NoReturn

import streamlit as st

from geo.errors import AtlasError
from geo.i18n import DEFAULT_LANG, t
from geo.text import display_text

LANG_KEY = "lang"
EDITOR_KEY = "ind_editor"   # the signed-in geo.auth.Editor of this session (or None), shared by all pages

_LOADING_HTML = """<div id="atlas-loading" role="status" style="display:flex;align-items:center;gap:.6rem;
font-size:1.1rem;color:#374151;padding:.5rem 0"><span style="width:1.1rem;height:1.1rem;border:3px solid #d1d5db;
border-top-color:#b91c1c;border-radius:50%%;display:inline-block;animation:atlas-spin .8s linear infinite"></span>
<span>%s</span></div><style>@keyframes atlas-spin { to { transform: rotate(360deg); } }</style>"""
LOADED_KEY = "_atlas_loaded"  # session-state flag: the session's first page has run


class PageEnd(BaseException):
    """A page's run ends here (:func:`end_page`); ``pages.web.run_page`` catches it. Not an
    ``Exception``, like Streamlit's own stop: a page's ``except Exception`` does not catch it."""


_IN_PAGE_RUN: ContextVar[bool] = ContextVar("atlas_in_page_run", default=False)   # set by page_run


@contextmanager
def page_run() -> Iterator[None]:
    """Mark the page run by app.py's navigation (``pages.web.run_page``): :func:`end_page` ends it."""
    token = _IN_PAGE_RUN.set(True)
    try:
        yield
    finally:
        _IN_PAGE_RUN.reset(token)


def end_page() -> NoReturn:
    """End the page's run here, like ``st.stop``, but so that app.py's ``finally`` still runs.

    After ``st.stop`` Streamlit raises the stop again at the next session-state write or
    element, so app.py could neither clear its loading indicator nor mark the session loaded:
    a first page that stopped (a presentation link, a coverage question waiting for a file)
    kept "Đang tải…" on screen. A page run alone (``AppTest`` on a page file) has no
    ``run_page`` around it and stops with ``st.stop``.
    """
    if _IN_PAGE_RUN.get():
        raise PageEnd
    st.stop()


def browser_session() -> bool:
    """Whether this session's script runs for a browser: its websocket request's headers are
    known (``st.context.headers``); a session without one (``AppTest``) has no frontend that
    could say when a map was drawn."""
    try:
        return bool(st.context.headers)
    except Exception:  # no script-run context: not a session at all
        return False


def map_first_view() -> bool:
    """True on a browser session's very first run: the map page then sends its title, its map
    and the zoom/search row above it alone and draws everything else (sidebar switches,
    controls, side panel) on the rerun the map asks for once its first frame is painted (``pages.map_component.show_map``,
    ``report_drawn``). Rendered together with the map, the other widgets held the browser's
    main thread (which the map's frame shares) before the frame could start: without them the
    first map came ~0.3–0.5 s sooner (``bench/bench_startup.py``, interleaved A/B, README)."""
    return not st.session_state.get(LOADED_KEY) and browser_session()


def loading_placeholder() -> Any:
    """The slot app.py clears once the page has run; on a session's first run it shows a
    spinner and "Đang tải…" at once (before the page's imports and data: a cold start says
    so within a second, ``bench/bench_startup.py`` measures it). Static HTML, our own text."""
    import html

    from geo.i18n import LANGS

    slot = st.empty()
    if not st.session_state.get(LOADED_KEY):
        lang = st.session_state.get(LANG_KEY) or st.query_params.get(LANG_KEY)
        slot.html(_LOADING_HTML % html.escape(t("common.loading", lang if lang in LANGS else DEFAULT_LANG)))
    return slot


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


def markdown_table(frame) -> str:  # pandas.DataFrame in
    """``frame`` as a Markdown table for ``st.markdown``: headers and cells shown literally
    (through ``plain_table``, the same rule as ``st.table``), number columns right-aligned.
    For small static tables on a page's first view: ``st.dataframe``/``st.table`` make the
    browser load and compile ~1.3 MB of grid and Arrow code, which delayed the map page's first
    map by ~0.4 s (bench/bench_startup.py)."""
    from pandas.api.types import is_numeric_dtype

    def row(cells) -> str:
        return "| " + " | ".join("" if v is None else str(v) for v in cells) + " |"

    safe = plain_table(frame)
    lines = [row(safe.columns), "|" + "".join("---:|" if is_numeric_dtype(d) else "---|" for d in frame.dtypes)]
    lines += [row(values) for values in safe.itertuples(index=False, name=None)]
    return "\n".join(lines)


def upload_limit_mb() -> int:
    """The per-file upload cap (MB) the reader enforces (``ATLAS_MAX_UPLOAD_MB``)."""
    import math

    from geo.safezip import Limits

    return max(1, math.ceil(Limits.from_env().max_file_bytes / 1048576))


def css_string(text: str) -> str:
    """``text`` as a CSS string literal (quotes, backslashes and ``<`` escaped: it cannot end
    the string or the ``<style>`` element it sits in)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ").replace("\n", " ")
    return f'"{out}"'


# Streamlit writes the file uploader's own texts in English and offers no parameter for them
# ("Upload", "200MB per file • ZIP, …", "Drag and drop a file here" while dragging, and for a
# refused file — wrong type, too big, one too many — "<mime type> files are not allowed." / "File
# must be … or smaller." in the file chip's tooltip and its screen-reader alert; checked in chromium
# against Streamlit 1.67's DOM). The app's style sheet hides those texts (font size 0, keyed on
# data-testid; the alert, read by screen readers only, by visibility so they skip it) and writes
# the UI language's in their place (::after). The drag overlay is the dropzone's one child div
# without a data-testid inside (the file-chip list is such a div too, but holds test ids). The
# size/format line and the refusal of an uploader made by ``uploader`` are its own (variables on
# its st-key class; the tooltip lives outside the uploader, so a rule per uploader with a refused
# chip); any other uploader gets the general texts. If a later Streamlit changes this DOM, its
# English texts show again — the label's help says the formats and size in the UI language.
_DRAG_OVERLAY = '[data-testid="stFileUploaderDropzone"] > div:not([data-testid]):not(:has([data-testid]))'
_UPLOADER_CSS = """
<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p { font-size: 0 !important; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: %(button)s; font-size: 0.875rem; }
[data-testid="stFileUploaderDropzoneInstructions"] span { font-size: 0 !important; }
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
  content: var(--atlas-upload-limit, %(hint)s); font-size: 0.875rem; }
%(overlay)s * { font-size: 0 !important; }
%(overlay)s::after { content: %(drop)s; font-size: 1rem; }
[data-testid="stFileChip"] [role="alert"] { visibility: hidden; }
[data-testid="stFileChip"] [role="alert"]::after {
  visibility: visible; content: var(--atlas-upload-refused, %(refused)s); }
[data-testid="stTooltipErrorContent"] { font-size: 0 !important; }
[data-testid="stTooltipErrorContent"]::after { content: %(refused)s; font-size: 0.875rem; }
</style>
"""


def widget_texts_css() -> None:
    """Streamlit's fixed uploader texts replaced by the UI language's (see ``_UPLOADER_CSS``);
    called once per run by app.py, before the page."""
    st.html(_UPLOADER_CSS % {"button": css_string(tr("common.upload_button")),
                             "hint": css_string(tr("common.upload_hint")),
                             "drop": css_string(tr("common.upload_drop")),
                             "refused": css_string(tr("common.upload_refused_any")),
                             "overlay": _DRAG_OVERLAY})


def uploader(label: str, types: list[str], key: str, **kwargs: Any) -> Any:
    """``st.file_uploader`` with the hint Streamlit writes in English said in the UI language
    (``help``: formats and size cap; the box's own size/format line and the reason a file is
    refused through the app's style sheet, ``widget_texts_css``) and the reader's own size cap."""
    mb = upload_limit_mb()
    help_text = tr("common.upload_help", types=", ".join(f".{x}" for x in types), mb=mb)
    shown_types = ", ".join(x.upper() for x in types)
    limit = css_string(tr("common.upload_limit", mb=mb, types=shown_types))
    refused = css_string(tr("common.upload_refused", mb=mb, types=shown_types))
    box = f".st-key-{_css_class(key)}"
    st.html(f"<style>{box} {{ --atlas-upload-limit: {limit}; --atlas-upload-refused: {refused}; }}\n"
            f'body:has({box} [data-testid="stFileChip"][aria-invalid="true"]) '
            f'[data-testid="stTooltipErrorContent"]::after {{ content: {refused}; }}</style>')
    return st.file_uploader(label, type=types, key=key, help=kwargs.pop("help", help_text),
                            max_upload_size=kwargs.pop("max_upload_size", mb), **kwargs)


def _css_class(key: str) -> str:
    """The class Streamlit gives a keyed widget's container (``st-key-<key>``, other
    characters than letters, digits, ``-`` and ``_`` replaced by ``-``)."""
    import re

    return re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def choose_many(label: str, options: Any, **kwargs: Any) -> list:
    """``st.multiselect`` without its English "Select all" entry and with a placeholder in the
    UI language (Streamlit's own texts that can be set)."""
    kwargs.setdefault("placeholder", tr("common.choose_options"))
    return st.multiselect(label, options, select_all=False, **kwargs)


def choose_one(label: str, options: Any, where: Any = None, **kwargs: Any) -> Any:
    """``st.selectbox`` (or ``where.selectbox``: a column, ``st.sidebar``) with its placeholder
    in the UI language instead of Streamlit's English "Choose an option"."""
    kwargs.setdefault("placeholder", tr("common.choose_option"))
    return (where if where is not None else st).selectbox(label, options, **kwargs)


def show_error(err: AtlasError) -> None:
    """Show a refusal as one clear sentence in the current language (names in it literal)."""
    st.error(plain(err.message(current_lang())))


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

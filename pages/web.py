"""The web server's side of the app: security headers on every HTTP response and the page
runner's last-resort error handler (one sentence to the user, the details to the log).

``streamlit run app.py`` serves app.py's ``st.App`` (Streamlit's ASGI mode), which installs
``SecurityHeaders`` as middleware: Streamlit has no option for response headers.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOG = logging.getLogger("atlas")

# The app's own bundles, inline styles/scripts of Streamlit and folium, tiles and images from
# anywhere over https (basemaps), data:/blob: for downloads and canvases; framing only by itself.
CSP = ("default-src 'self'; "
       "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
       "style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob: https:; "
       "font-src 'self' data:; "
       "connect-src 'self' ws: wss:; "
       "worker-src 'self' blob:; "
       "frame-src 'self' blob: data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'self'")
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode("ascii")),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders:
    """ASGI middleware adding ``SECURITY_HEADERS`` to every HTTP response (replacing any
    header of the same name a route set)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        names = {name for name, _ in SECURITY_HEADERS}

        async def send_with_headers(message: dict) -> None:
            if message.get("type") == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + list(SECURITY_HEADERS)}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _nodelay(transport: Any) -> None:
    """Switch Nagle's algorithm off on a TCP connection (no-op for other sockets)."""
    import socket

    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:   # the connection is already gone
            pass


def keep_nagle_off() -> None:
    """Every HTTP connection the server accepts gets ``TCP_NODELAY``.

    Why: Streamlit's ASGI server binds its listening socket itself (``socket.socket(family)``,
    protocol 0); accepted sockets inherit protocol 0, and asyncio switches Nagle's algorithm
    off only for sockets that report ``IPPROTO_TCP`` — the same fault as uvicorn issue #3149.
    With Nagle on, a response written as headers then body waits for the browser's delayed
    ACK: ~40 ms for every request after the first on a kept-alive connection. The frontend's
    ~150 script files then took ~1.2 s to arrive over the browser's 6 connections (measured:
    59 requests on one connection 2.5 s, each 43 ms; with this, a few ms each). Streamlit has
    no option for it, so uvicorn's HTTP protocol classes set it when a connection is made
    (WebSocket connections start as HTTP on the same socket). Idempotent.
    """
    import importlib

    for module, name in (("uvicorn.protocols.http.h11_impl", "H11Protocol"),
                         ("uvicorn.protocols.http.httptools_impl", "HttpToolsProtocol")):
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):   # httptools is optional
            continue
        made = cls.connection_made
        if getattr(made, "_atlas_nodelay", False):
            continue

        def connection_made(self: Any, transport: Any, _made: Callable[..., Any] = made) -> None:
            _nodelay(transport)
            _made(self, transport)

        connection_made._atlas_nodelay = True  # type: ignore[attr-defined]
        cls.connection_made = connection_made


def show_unexpected(exc: BaseException) -> bool:
    """Report an unexpected failure of a page: details (with traceback) to the server log, one
    translated sentence to the user — never a traceback or a server path. Returns True
    (Streamlit's ``on_script_error`` contract: the default error display is suppressed)."""
    import streamlit as st

    from geo.errors import AtlasError
    from pages.common import current_lang, plain

    if isinstance(exc, AtlasError):
        st.error(plain(exc.message(current_lang())))
        return True
    LOG.error("page failed", exc_info=exc)
    from geo.i18n import t

    st.error(t("errors.page_failed", current_lang()))
    return True


def session_gone_test() -> Callable[[], bool] | None:
    """A test that turns True once this script's browser session has ended (tab closed,
    connection dropped): Streamlit's runtime no longer lists the session as active. ``None``
    outside a served session (AppTest, bare mode). Safe to call from any thread."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return None
    runtime, session_id = Runtime.instance(), ctx.session_id
    if not runtime.is_active_session(session_id):  # AppTest and bare runs have no registered session
        return None
    return lambda: not runtime.is_active_session(session_id)


def run_page(nav: Any) -> None:
    """Run the page chosen by ``st.navigation`` under the last-resort handler: an unexpected
    exception shows one sentence (``show_unexpected``); ``pages.common.end_page`` ends the page;
    ``st.stop``/``st.rerun`` pass through (they are not ``Exception`` subclasses). The page runs
    in a :func:`geo.cancel.scope` bound to its session, so reads and computations stop when the
    tab closes."""
    from geo import cancel
    from pages.common import PageEnd, page_run

    try:
        with cancel.scope(session_gone_test()), page_run():
            nav.run()
    except PageEnd:   # pages.common.end_page: the page has shown all it has to show
        pass
    except cancel.Cancelled:
        LOG.info("page work stopped: its session ended")
    except Exception as exc:  # the one place every page failure ends up
        show_unexpected(exc)


# Shown by the browser as soon as the page's HTML arrives, before Streamlit's frontend (~5 MB of
# scripts) has loaded: React replaces the contents of #root when it mounts. Static HTML and CSS
# (no script), in the language of the address (?lang=en) or Vietnamese; app.py's own indicator
# (pages.common.loading_placeholder) takes over until the page has run.
_BOOT_HTML = ('<div id="root"><div id="atlas-boot" role="status" style="display:flex;align-items:center;'
              'justify-content:center;gap:.8rem;height:60vh;font:1.2rem sans-serif;color:#374151">'
              '<span style="width:1.4rem;height:1.4rem;border:3px solid #d1d5db;border-top-color:#b91c1c;'
              'border-radius:50%;display:inline-block;animation:atlas-boot-spin .8s linear infinite"></span>'
              '<span>{text}</span></div><style>@keyframes atlas-boot-spin {{ to {{ transform: rotate(360deg); }} }}'
              '</style></div>')


def _boot_html(query_string: bytes) -> bytes:
    import html
    from urllib.parse import parse_qs

    from geo.i18n import DEFAULT_LANG, LANGS, t

    lang = (parse_qs(query_string.decode("latin-1")).get("lang") or [DEFAULT_LANG])[-1]
    text = t("common.loading", lang if lang in LANGS else DEFAULT_LANG)
    return _BOOT_HTML.format(text=html.escape(text)).encode("utf-8")


# Streamlit's frontend loads the code of each element kind only when a page first shows one; the
# map page's widgets and the map component then wait for ~30 small chunks fetched one import
# level at a time while the main thread is busy. Preloading them from the page's HTML lets the
# browser fetch them during start-up. Measured (bench/bench_startup.py, 4 runs each way): no
# difference for a fresh browser profile; a returning tab 2.76 s vs 3.07 s on average — within
# the bench's ±0.5 s run-to-run swing, so a weak gain. Names without their content hash: a
# Streamlit release that renames a chunk just loses its hint.
PRELOAD_CHUNKS = (
    "Autocomplete", "Cancel", "ComponentInstance", "ErrorOutline", "Html", "IFrameUtil", "Input",
    "InputInstructions", "Multiselect", "Radio", "Selectbox", "TextField", "TextInput", "WidgetLabel",
    "WidgetLabelHelpIcon", "WidgetLabelHelpIconInline", "_baseMap", "inputUtils", "purify", "requiredField",
    "sortBy", "urls", "useBasicWidgetState", "useCollator", "useDebouncedCallback", "useField", "useFilter",
    "useFormReset", "useFormValidation", "useLoadMoreSentinel", "useMenuTrigger", "useSlot",
    "useSyncComboBoxEnterTargetFocus", "useTextField", "useUpdateUiValue", "withCalculatedWidth",
)


def frontend_dir() -> Path:
    """The installed Streamlit's frontend files (what it serves under ``/static/``)."""
    import streamlit

    return Path(streamlit.__file__).resolve().parent / "static" / "static"


def preload_links() -> bytes:
    """``<link rel="modulepreload">`` tags for the installed Streamlit's files of ``PRELOAD_CHUNKS``."""
    js = frontend_dir() / "js"
    stems = set(PRELOAD_CHUNKS)
    files = sorted(p.name for p in js.glob("*.js") if p.name.split(".", 1)[0] in stems)
    return "".join(f'<link rel="modulepreload" crossorigin href="./static/js/{f}">' for f in files).encode("ascii")


class FrontendFiles:
    """ASGI middleware: serves Streamlit's own frontend files (``/static/…``: ~150 content-hashed
    scripts, styles and fonts a new browser fetches before it can draw anything) from memory,
    before Streamlit's middleware stack and its file response (a worker-thread hand-off per
    file: in a py-spy profile of a cold page load, ~40 % of the server's samples were those
    hand-offs while the browser needed both cores). Same bytes and caching headers as
    Streamlit's route (immutable: the names carry a content hash) plus ``SECURITY_HEADERS``.

    Only GET requests for a file that exists in Streamlit's ``static/static`` folder (an exact
    match in a listing made at start-up, so no path can reach outside it); everything else,
    HEAD and conditional requests included, goes on to the app unchanged. Why our own: the
    library route is the one being bypassed; Starlette's ``StaticFiles`` reads files in a
    worker thread too."""

    def __init__(self, app: Callable[..., Any]) -> None:
        from streamlit import config

        self.app = app
        self.root = frontend_dir()
        base = str(config.get_option("server.baseUrlPath") or "").strip("/")
        self.prefix = f"/{base}/static/" if base else "/static/"
        self.files = {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()}
        self.cache: dict[str, tuple[bytes, bytes]] = {}   # path → (body, content type)

    def _load(self, rel: str) -> tuple[bytes, bytes]:
        import mimetypes

        hit = self.cache.get(rel)
        if hit is None:
            kind = mimetypes.guess_type(rel)[0] or "application/octet-stream"
            if kind in ("text/javascript", "application/x-javascript"):
                kind = "application/javascript"
            hit = self.cache[rel] = ((self.root / rel).read_bytes(), kind.encode("ascii"))
        return hit

    async def __call__(self, scope: dict, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        path = str(scope.get("path", "")) if scope.get("type") == "http" else ""
        rel = path[len(self.prefix):] if path.startswith(self.prefix) else ""
        if (not rel or rel not in self.files or scope.get("method") != "GET"
                or any(k.lower() in (b"if-none-match", b"if-modified-since", b"range")
                       for k, _ in scope.get("headers") or [])):
            await self.app(scope, receive, send)
            return
        body, kind = self._load(rel)
        headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode("ascii")),
                   (b"cache-control", b"public, immutable, max-age=31536000"), *SECURITY_HEADERS]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# HTML that is not the app's page: a custom component's own page (the map's iframe, whose
# relative links would point the preloads below into the component's folder), static files
NOT_THE_APP_PAGE = ("/component/", "/app/static/", "/media/", "/_stcore/")


class BootSplash:
    """ASGI middleware: the app's HTML page (a browser navigation, ``Accept: text/html``) gets a
    spinner and "Đang tải Atlas…" inside Streamlit's empty ``<div id="root">``, so a cold start
    shows progress within a second instead of a blank page while the frontend loads, and the map
    page's element code preloaded (``PRELOAD_CHUNKS``). Other responses (a component's page
    included) pass untouched; the page is asked for uncompressed (it is ~8 KB)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.preload = preload_links()

    async def __call__(self, scope: dict, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        headers = dict(scope.get("headers") or []) if scope.get("type") == "http" else {}
        if (scope.get("method") != "GET" or b"text/html" not in headers.get(b"accept", b"")
                or any(part in str(scope.get("path", "")) for part in NOT_THE_APP_PAGE)):
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]}
        start: dict | None = None
        chunks: list[bytes] = []

        async def rewrite(message: dict) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                head = {k.lower(): v for k, v in message.get("headers", [])}
                if head.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in head:
                    start = message   # held until the body is complete
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks).replace(b'<div id="root"></div>', _boot_html(scope.get("query_string", b"")), 1)
                body = body.replace(b"</head>", self.preload + b"</head>", 1)
                kept = [(k, v) for k, v in start.get("headers", [])
                        if k.lower() not in (b"content-length", b"etag", b"last-modified")]
                await send({**start, "headers": kept + [(b"content-length", str(len(body)).encode("ascii"))]})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, rewrite)

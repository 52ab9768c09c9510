"""pages.web.FrontendFiles: Streamlit's own frontend files served from memory — the same bytes,
immutable caching and the security headers; anything else (unknown names, paths that leave the
folder, HEAD, conditional requests, other routes) reaches the app untouched."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from pages.web import SECURITY_HEADERS, FrontendFiles, frontend_dir

ROOT = frontend_dir()


def _call(path: str, method: str = "GET", headers: list | None = None) -> tuple[int, dict, bytes, bool]:
    reached = []

    async def app(scope, receive, send):
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"app"})

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": headers or []}
    with ThreadPoolExecutor(1) as pool:   # Playwright's sync API may hold an event loop in the main thread
        pool.submit(asyncio.run, FrontendFiles(app)(scope, receive, send)).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body, bool(reached)


def test_a_frontend_file_comes_from_memory_with_its_headers():
    js = next(ROOT.glob("js/index.*.js"))
    status, headers, body, reached = _call(f"/static/js/{js.name}")
    assert (status, reached) == (200, False)
    assert body == js.read_bytes()
    assert headers[b"content-type"] == b"application/javascript"
    assert headers[b"content-length"] == str(len(body)).encode()
    assert b"immutable" in headers[b"cache-control"]
    for name, value in SECURITY_HEADERS:
        assert headers[name] == value
    css = next(ROOT.glob("css/*.css"))
    assert _call(f"/static/css/{css.name}")[1][b"content-type"] == b"text/css"


def test_everything_else_reaches_the_app():
    js = next(ROOT.glob("js/index.*.js")).name
    for path, method, headers in [
        ("/static/js/no-such-file.js", "GET", []),
        ("/static/js/../../index.html", "GET", []),        # outside the folder: Streamlit refuses it
        ("/static/../static/js/" + js, "GET", []),
        (f"/static/js/{js}", "HEAD", []),
        (f"/static/js/{js}", "GET", [(b"if-none-match", b'"x"')]),
        (f"/app/static/js/{js}", "GET", []),
        ("/", "GET", []),
    ]:
        status, _, body, reached = _call(path, method, headers)
        assert (status, body, reached) == (299, b"app", True), (path, method, headers)

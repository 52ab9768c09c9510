"""pages.web.BootSplash rewrites the app's own HTML page only (spinner + preloads), never a
custom component's page (the map's iframe) or other responses."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from pages.web import BootSplash

PAGE = (b'<html><head><script type="module" src="./static/js/index.js"></script></head>'
        b'<body><div id="root"></div></body></html>')


def _serve(path: str, accept: bytes = b"text/html") -> bytes:
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html"), (b"content-length", str(len(PAGE)).encode())]})
        await send({"type": "http.response.body", "body": PAGE})

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
             "headers": [(b"accept", accept), (b"accept-encoding", b"gzip")]}
    # in a thread of its own: Playwright's sync API (the e2e tests' session browser) keeps an event
    # loop running in the main thread, where asyncio.run would refuse to start
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, BootSplash(app)(scope, receive, send)).result()
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_the_app_page_gets_the_spinner_and_the_preloads():
    for path in ("/", "/coverage", "/base/data"):
        body = _serve(path)
        assert b'id="atlas-boot"' in body and b'rel="modulepreload"' in body, path
        assert body.index(b'rel="modulepreload"') < body.index(b"</head>")


def test_a_components_page_and_other_responses_pass_untouched():
    for path in ("/component/streamlit_folium.st_folium/index.html", "/base/component/x/index.html",
                 "/app/static/vendor/x.html", "/media/abc.html", "/_stcore/health"):
        assert _serve(path) == PAGE, path
    assert _serve("/", accept=b"application/json") == PAGE

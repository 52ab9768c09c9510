"""The running app sends a Content-Security-Policy with frame-ancestors 'self' (real HTTP
requests to ``streamlit run app.py``), and a page on another origin cannot frame it."""
from __future__ import annotations

import urllib.request


def _headers(url: str) -> dict[str, str]:
    with urllib.request.urlopen(url, timeout=20) as resp:
        return {k.lower(): v for k, v in resp.headers.items()}


def test_every_response_carries_the_policy(app_url: str) -> None:
    for path in ("/", "/data", "/_stcore/health", "/app/static/favicon.png"):
        headers = _headers(app_url + path)
        csp = headers.get("content-security-policy", "")
        assert "frame-ancestors 'self'" in csp, (path, headers)
        assert "object-src 'none'" in csp
        assert headers.get("x-frame-options") == "SAMEORIGIN"


def test_another_origin_cannot_frame_the_app(app_url: str, offline_page) -> None:
    # 127.0.0.1 and localhost are different origins: the app refuses to be framed by the other one
    other = app_url.replace("127.0.0.1", "localhost")
    offline_page.goto(other + "/_stcore/health")
    offline_page.evaluate("""url => { document.body.innerHTML = ''; const f = document.createElement('iframe');
                             f.src = url; f.id = 'victim'; document.body.appendChild(f); }""", app_url + "/")
    offline_page.wait_for_timeout(4000)
    frame = offline_page.frame_locator("#victim")
    assert frame.locator("[data-testid='stApp']").count() == 0


def test_the_page_html_shows_a_spinner_before_the_frontend_loads(app_url: str) -> None:
    """A cold start is never a blank page: the HTML itself (gzip asked for or not) carries the
    boot spinner and its sentence in the link's language, still with the security headers;
    other responses are untouched (timing: bench/bench_startup.py)."""
    from geo.i18n import t

    for path, lang in (("/", "vi"), ("/data?lang=en", "en")):
        req = urllib.request.Request(app_url + path, headers={"Accept": "text/html", "Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=20) as resp:
            body = resp.read().decode("utf-8")
            assert resp.headers.get("content-length") == str(len(body.encode("utf-8")))
            assert "frame-ancestors 'self'" in resp.headers.get("content-security-policy", "")
        assert '<div id="root"><div id="atlas-boot" role="status"' in body and t("common.loading", lang) in body
        assert "<script" not in body.split('id="atlas-boot"')[1]
    with urllib.request.urlopen(app_url + "/_stcore/health", timeout=20) as resp:
        assert b"atlas-boot" not in resp.read()


def test_the_page_html_preloads_the_map_pages_element_code(app_url: str) -> None:
    """The map page's widget and component chunks are preloaded from the HTML (bench_startup):
    every hint (Streamlit's and ours) names a file the server serves, and the chunks the map page needs are among them."""
    import re

    from pages.web import PRELOAD_CHUNKS

    req = urllib.request.Request(app_url + "/", headers={"Accept": "text/html"})
    with urllib.request.urlopen(req, timeout=20) as resp:
        head = resp.read().decode("utf-8").split("</head>")[0]
    hrefs = re.findall(r'<link rel="modulepreload" crossorigin href="\./(static/js/[^"]+)">', head)
    stems = {h.rsplit("/", 1)[1].split(".", 1)[0] for h in hrefs}
    assert {"ComponentInstance", "Selectbox", "Multiselect", "Radio", "TextInput"} <= stems  # not preloaded by Streamlit
    assert len(stems & set(PRELOAD_CHUNKS)) >= len(PRELOAD_CHUNKS) - 3  # a release may rename a few
    for href in hrefs:
        with urllib.request.urlopen(f"{app_url}/{href}", timeout=20) as resp:
            assert resp.status == 200 and resp.read(1)

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

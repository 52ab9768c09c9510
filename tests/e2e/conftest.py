"""Browser tests: the real app in Debian's chromium, with the network cut to localhost.

Fixtures: ``e2e_workspace`` (the workspace file the app uses), ``app_url`` (a running
``streamlit run app.py`` on a free port), ``offline_page`` (a Playwright page that can
only reach localhost, data: and blob: URLs; every other request is aborted and recorded
in ``page.blocked_requests``).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("ATLAS_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def e2e_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e_ws") / "atlas.gpkg"


def start_app(workspace: Path):
    """Start ``streamlit run app.py`` on a free port; returns (process, base URL)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: install Debian's chromium (see .ci/run)")
    port = _free_port()
    env = {**os.environ, "ATLAS_WORKSPACE": str(workspace)}
    log = open(workspace.parent / f"streamlit-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    proc.log = log  # type: ignore[attr-defined]
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + (workspace.parent / f"streamlit-{port}.log").read_text()[-2000:])
    return proc, url


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    proc.log.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def app_url(e2e_workspace: Path):
    proc, url = start_app(e2e_workspace)
    yield url
    stop_app(proc)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _local_only(route, request) -> None:
    url = request.url
    if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")):
        route.continue_()
    else:
        route.page_blocked.append(url) if hasattr(route, "page_blocked") else None
        _BLOCKED.append(url)
        route.abort()


_BLOCKED: list[str] = []


@pytest.fixture()
def offline_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
    _BLOCKED.clear()
    context.route("**/*", _local_only)
    page = context.new_page()
    page.blocked_requests = _BLOCKED  # type: ignore[attr-defined]
    yield page
    context.close()


def map_frame(page, timeout_ms: int = 60000):
    """The streamlit-folium iframe once Leaflet has drawn vector layers in it."""
    page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=timeout_ms)
    frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
    frame.locator(".leaflet-container .leaflet-overlay-pane path, .leaflet-container canvas").first.wait_for(
        timeout=timeout_ms)
    return frame

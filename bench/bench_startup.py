"""Cold start: time from "server up" to the first progress indicator and to the first map.

Starts ``streamlit run app.py`` on a free port (fresh process, empty caches), waits for
/_stcore/health, then opens the map page in Debian's chromium (network cut to localhost)
and prints: time to the first visible element of the page, time to the first Leaflet map
drawn. Target on the 2-core machine: first map ≤ 3 s after the server is up. Figures only,
not a test; the baseline is a warm second page load in the same run (caches filled).

Usage: python3 bench/bench_startup.py [--runs N]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app

MAP = ".leaflet-container .leaflet-overlay-pane path, .leaflet-container canvas"


def _first_map(page, url: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    page.goto(url + "/?lang=vi&basemap=none", wait_until="commit")
    page.wait_for_selector('[data-testid="stStatusWidget"], [data-testid="stSpinner"], h1', timeout=120000)
    first = time.perf_counter() - t0
    page.frame_locator('iframe[title="streamlit_folium.st_folium"]').locator(MAP).first.wait_for(timeout=120000)
    return first, time.perf_counter() - t0


def _local_only(base: str):  # returns a Playwright route handler
    """Let through requests to the app's server, abort the rest (no network)."""
    def handle(route) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            route.abort()
    return handle


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                proc, url = start_app(Path(tmp) / "atlas.gpkg")  # returns once /_stcore/health answers
                try:
                    page = browser.new_page()
                    page.route("**/*", _local_only(url))
                    cold_first, cold_map = _first_map(page, url)
                    warm_first, warm_map = _first_map(browser.new_page(), url)
                finally:
                    stop_app(proc)
            print(f"run {run + 1}: cold — first element {cold_first:.2f} s, first map {cold_map:.2f} s "
                  f"(target ≤ 3 s: {'met' if cold_map <= 3 else 'NOT met'}); warm — first element "
                  f"{warm_first:.2f} s, first map {warm_map:.2f} s; cold/warm map ratio {cold_map / warm_map:.1f}×")
        browser.close()


if __name__ == "__main__":
    main()

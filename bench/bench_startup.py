"""Cold start: time from "server up" to the first progress indicator and to the first map.

Starts ``streamlit run app.py`` on a free port (fresh process, empty caches), waits for
/_stcore/health, then opens the map page in Debian's chromium (every host but localhost unresolvable)
and prints, from the browser's navigation start: when the boot spinner of the page's HTML
(``#atlas-boot``, before Streamlit's frontend has loaded), app.py's progress indicator
(``#atlas-loading``, a session's first run before the page's work), Streamlit's spinner and
the page title first appeared, and when the first Leaflet map was drawn. Targets
on the 2-core machine: an indicator within 1 s, the first map ≤ 3 s after the server is up.
Three new sessions per run: *cold* (fresh browser profile, the server's first session),
*new browser* (another fresh profile: nothing cached in the browser, the server warm) and
*returning* (a new tab of the first profile: a planner who has opened the atlas before, the
browser's HTTP and code caches warm). Figures only, not a test; the baseline is the warm rows
of the same run.

Usage: python3 bench/bench_startup.py [--runs N]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app

MAP = ".leaflet-container .leaflet-overlay-pane path, .leaflet-container canvas"
# first moment (ms since navigation start) each thing is in the page, recorded by the page itself:
# the boot spinner in the page's HTML (#atlas-boot, pages.web.BootSplash, until the frontend
# mounts), app.py's progress indicator (#atlas-loading, until the page has run), Streamlit's own
# spinner, the page title — so an indicator shown and removed between two polls still counts
_WATCH = """
window.__atlasSeen = {};
const atlasWatch = new MutationObserver(() => {
  const seen = window.__atlasSeen, now = performance.now();
  if (!seen.boot && document.querySelector("#atlas-boot")) seen.boot = now;
  if (!seen.indicator && document.querySelector("#atlas-loading")) seen.indicator = now;
  if (!seen.spinner && document.querySelector('[data-testid="stSpinner"]')) seen.spinner = now;
  if (!seen.title && document.querySelector("[data-testid=stMain] h1")) seen.title = now;
  if (seen.title) atlasWatch.disconnect();  // watching costs the page time: stop once the title is in
});
// init scripts run in every frame: watch the app's page only, not the map component's iframe
if (window === window.top) atlasWatch.observe(document, {childList: true, subtree: true});
"""


def _first_map(page, url: str) -> tuple[dict[str, float], float]:
    """Seconds from navigation start to the progress indicator, the title and the first map."""
    page.goto(url + "/?lang=vi&basemap=none", wait_until="commit")
    page.frame_locator('iframe[title="streamlit_folium.st_folium"]').locator(MAP).first.wait_for(timeout=120000)
    drawn = page.evaluate("performance.now()") / 1000.0
    seen = {k: v / 1000.0 for k, v in page.evaluate("window.__atlasSeen").items()}
    return seen, drawn


def _fmt(seen: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f} s" for k, v in sorted(seen.items(), key=lambda kv: kv[1])) or "none seen"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # no network but localhost, without request interception (which would switch off the cache)
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                proc, url = start_app(Path(tmp) / "atlas.gpkg")  # returns once /_stcore/health answers
                try:
                    rows = []
                    first_ctx = browser.new_context()
                    for label, ctx in (("cold", first_ctx), ("new browser", browser.new_context()),
                                       ("returning", first_ctx)):
                        page = ctx.new_page()
                        page.add_init_script(_WATCH)
                        outside: list[str] = []
                        page.on("request", lambda r, o=outside, u=url: o.append(r.url) if not r.url.startswith(u) else None)
                        rows.append((label, *_first_map(page, url), outside))
                        page.close()
                finally:
                    stop_app(proc)
            for label, seen, drawn, outside in rows:
                first = min([v for k, v in seen.items() if k in ("boot", "indicator", "spinner")] or [float("inf")])
                print(f"run {run + 1}, {label}: {_fmt(seen)}; first map {drawn:.2f} s (indicator ≤ 1 s: "
                      f"{'met' if first <= 1 else 'NOT met'}; first map ≤ 3 s: {'met' if drawn <= 3 else 'NOT met'})"
                      + (f"; {len(outside)} outside requests!" if outside else ""))
        browser.close()


if __name__ == "__main__":
    main()

"""Benchmark: maps against naive folium pages of the same data.

1. The default map view vs a naive folium page (bytes, render time) and the map page's
   warm rerun (AppTest) — issue #2 targets: ≤ 40 % of the naive bytes, rerun ≤ 150 ms.
2. National size (issue #13): ≥ 10,000 polygons × ~100 vertices and 50,000 points
   (synthetic, fixed seed) + the real full-resolution 2025 communes
   (/work/shared/data/vnm_communes_post2025_thai_nguyen_bando_polygons.geojson), through
   ``layers.render.add_gdf_layer`` (big layers take ``layers.compact``) vs plain
   ``folium.GeoJson`` with tooltips. Both pages are written to disk and opened in headless
   Debian chromium with every non-file request blocked; first paint = navigation start →
   the load event, every Leaflet map done with any zoom animation, + two animation frames
   (all inline scripts ran and the canvas frame of the fitted view was drawn), capped at
   ``--timeout`` s; the browser's CPU seconds for it (all chromium processes, /proc). Prints
   bytes, times and ratios, plus a pan/zoom check (time for a zoom-in + pan to settle) and
   a hover tooltip check.
3. The same layers in the app (unless ``--skip-app``): saved as a planner's own layers in a
   fresh workspace, ticked under "My layers" on the map page of ``streamlit run app.py``
   (browser network cut to localhost): ticking the last layer → its map drawn in the
   component's iframe, for a first session (the server builds the view, once) and a second
   one (cached map), with server and browser CPU seconds.

    python bench/bench_map.py [--reruns 10] [--skip-default] [--skip-app] [--timeout 120]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import folium

from geo.catalog import get_catalog, load_layer
from layers.views import build_map, default_view


def naive_page(layer_ids: list[str]) -> str:
    """What a first folium attempt does: every layer as-is, all geometry, all properties."""
    env = folium.Map._template.environment
    ours = env.policies["json.dumps_kwargs"]
    env.policies["json.dumps_kwargs"] = {"sort_keys": True}  # folium/jinja default
    try:
        m = folium.Map(location=[21.6, 105.85], zoom_start=9)
        for lid in layer_ids:
            gdf = load_layer(lid)
            fields = [c for c in gdf.columns if c != "geometry"]
            folium.GeoJson(gdf, name=lid, tooltip=folium.GeoJsonTooltip(fields=fields)).add_to(m)
        folium.LayerControl().add_to(m)
        return m.get_root().render()
    finally:
        env.policies["json.dumps_kwargs"] = ours


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def warm_rerun_ms(reruns: int) -> tuple[float, float]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "map_explorer.py"), default_timeout=120)
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    times = []
    for _ in range(reruns):
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    if at.exception:
        raise SystemExit(f"page raised: {at.exception}")
    return cold * 1000, statistics.median(times) * 1000


SEED = 20251201
REAL_UNITS = Path("/work/shared/data/vnm_communes_post2025_thai_nguyen_bando_polygons.geojson")


def national_data():
    """10,000 Voronoi polygons over Vietnam's extent densified to ~100 vertices, 50,000 points."""
    import geopandas as gpd
    import numpy as np
    import shapely

    rng = np.random.default_rng(SEED)
    frame = shapely.box(102.2, 8.6, 109.4, 23.3)
    seeds = np.column_stack((rng.uniform(102.2, 109.4, 10_000), rng.uniform(8.6, 23.3, 10_000)))
    polys = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds))), frame)
    perim = shapely.length(polys)
    polys = shapely.segmentize(polys, perim / 100)  # ~100 vertices each
    # a little noise so the vertices are real detail, not collinear (and cannot simplify away)
    polys = shapely.transform(polys, lambda c: c + 0.002 * np.column_stack((np.sin(c[:, 1] * 997 + c[:, 0] * 13),
                                                                          np.cos(c[:, 0] * 991 - c[:, 1] * 7))))
    polys = shapely.make_valid(polys)
    units = gpd.GeoDataFrame({"name": [f"Xã <{i}> & co" for i in range(len(polys))],
                              "population": rng.integers(1000, 50000, len(polys))}, geometry=polys, crs=4326)
    pts = gpd.GeoDataFrame({"name": [f"Trạm y tế {i}" for i in range(50_000)],
                            "kind": rng.choice(["health", "school", "market"], 50_000)},
                           geometry=shapely.points(np.column_stack((rng.uniform(102.2, 109.4, 50_000),
                                                                    rng.uniform(8.6, 23.3, 50_000)))), crs=4326)
    real = gpd.read_file(REAL_UNITS).to_crs(4326) if REAL_UNITS.exists() else None
    return units, pts, real


def national_pages(units, pts, real):
    import folium
    import shapely

    from layers.render import add_gdf_layer, finish_map, new_map

    nv = int(shapely.get_num_coordinates(units.geometry.to_numpy()).sum())
    nr = int(shapely.get_num_coordinates(real.geometry.to_numpy()).sum()) if real is not None else 0
    desc = (f"{len(units):,} synthetic polygons ({nv:,} vertices, {nv / len(units):.0f} a polygon), "
            f"{len(pts):,} points" + (f", {len(real)} real 2025 communes at full resolution ({nr:,} vertices)"
                                      if real is not None else " (real 2025 communes file missing)"))
    bounds = [[8.6, 102.2], [23.3, 109.4]]
    t0 = time.perf_counter()
    m = new_map("vi", "none", bounds=bounds)
    add_gdf_layer(m, units, "vi", "units", tooltip_fields=["name", "population"])
    add_gdf_layer(m, pts, "vi", "points", tooltip_fields=["name", "kind"], kind="point")
    if real is not None:
        add_gdf_layer(m, real, "vi", "communes 2025", tooltip_fields=[c for c in real.columns if c != "geometry"][:2])
    ours = finish_map(m, "vi").get_root().render()
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    n = folium.Map(location=[16, 106], zoom_start=6, tiles=None)
    folium.GeoJson(units, name="units", tooltip=folium.GeoJsonTooltip(fields=["name", "population"])).add_to(n)
    folium.GeoJson(pts, name="points", marker=folium.CircleMarker(radius=4),
                   tooltip=folium.GeoJsonTooltip(fields=["name", "kind"])).add_to(n)
    if real is not None:
        f = [c for c in real.columns if c != "geometry"][:2]
        folium.GeoJson(real, name="communes", tooltip=folium.GeoJsonTooltip(fields=f)).add_to(n)
    folium.LayerControl().add_to(n)
    naive = n.get_root().render()
    t_naive = time.perf_counter() - t0
    return desc, ours, t_ours, naive, t_naive


# two animation frames after every Leaflet map on the page stopped animating a zoom (a map
# that fits its bounds with an animation has not drawn its first real frame before that)
PAINT_JS = """() => new Promise(r => {
    const maps = Object.keys(window).filter(k => k.startsWith("map_") && window[k] && window[k].getZoom)
                                    .map(k => window[k]);
    const settle = () => maps.some(m => m._animatingZoom) ? requestAnimationFrame(settle)
        : requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now())));
    settle();
})"""


def tree_cpu(root: int, skip: int | None = None) -> float:
    """CPU seconds (user + system) of the live processes under ``root`` (itself included),
    leaving out the subtree of ``skip`` (e.g. the app server when measuring the browser)."""
    tick = os.sysconf("SC_CLK_TCK")
    procs: dict[int, tuple[int, float]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        procs[int(d.name)] = (int(rest[1]), (int(rest[11]) + int(rest[12])) / tick)
    keep, grew = {root}, True
    while grew:
        more = {pid for pid, (ppid, _) in procs.items() if ppid in keep and pid not in keep and pid != skip}
        keep |= more
        grew = bool(more)
    return sum(procs[pid][1] for pid in keep if pid in procs)


def first_paint(browser, path: Path, timeout: float) -> tuple[float | None, str]:
    """Seconds from navigation to load + two frames (None = not painted within ``timeout``)."""
    ctx = browser.new_context(viewport={"width": 1200, "height": 800})
    ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
              else route.abort())
    page = ctx.new_page()
    try:
        cpu0 = tree_cpu(os.getpid())
        page.goto(path.as_uri(), wait_until="load", timeout=timeout * 1000)
        t = page.evaluate(PAINT_JS) / 1000.0
        note = f"browser CPU {tree_cpu(os.getpid()) - cpu0:.2f} s"
        # interactivity: zoom in twice and pan, time until two frames are drawn again
        t0 = time.perf_counter()
        page.mouse.move(600, 400)
        page.mouse.wheel(0, -600)
        page.wait_for_timeout(400)
        page.mouse.down()
        page.mouse.move(400, 300, steps=5)
        page.mouse.up()
        page.evaluate(PAINT_JS)
        note += f"; zoom+pan settled in {time.perf_counter() - t0 - 0.4:.2f} s"
        tip = page.locator(".leaflet-tooltip")
        for x, y in ((600, 400), (610, 405), (590, 395), (620, 380)):
            page.mouse.move(x, y)
            page.wait_for_timeout(300)
            if tip.count():
                note += f"; hover tooltip shown: {tip.first.inner_text()[:40]!r}"
                break
        else:
            note += "; no tooltip under the probed points"
        page.screenshot(path=str(path.with_suffix(".png")))
        return t, note
    except Exception as e:  # a page that never paints is a result, not a crash
        return None, f"not painted within {timeout:.0f} s ({type(e).__name__})"
    finally:
        ctx.close()


def national(timeout: float, app: bool) -> None:
    import tempfile

    from playwright.sync_api import sync_playwright

    data = national_data()
    desc, ours_page, t_ours, naive, t_naive = national_pages(*data)
    print(f"[national map] {desc}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    tmp = Path(tempfile.mkdtemp())
    ours_file, naive_file = tmp / "atlas.html", tmp / "naive.html"
    ours_file.write_text(ours_page, encoding="utf-8")
    naive_file.write_text(naive, encoding="utf-8")
    ob, nb = len(ours_page.encode()), len(naive.encode())
    print(f"[national map] page bytes (HTML/JS of the map, shared Leaflet assets excluded on both sides): "
          f"atlas {ob / 1e6:.2f} MB, naive folium {nb / 1e6:.2f} MB → {ob / nb:.1%} (target ≤ 25 %: "
          f"{'MET' if ob <= nb / 4 else 'NOT MET'}); built in {t_ours:.1f} s vs {t_naive:.1f} s")
    standalone = tmp / "atlas_standalone.html"
    standalone.write_text(standalone_html_from(ours_page), encoding="utf-8")  # every asset inlined
    with sync_playwright() as pw:
        from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for label, f in (("atlas standalone (assets inlined, from disk, no network)", standalone),
                             ("naive folium (from disk, no network)", naive_file)):
                t, note = first_paint(b, f, timeout)
                shown = f"{t:.2f} s" if t is not None else "—"
                print(f"[national map] first paint, {label}: {shown} (target ≤ 3 s); {note}; "
                      f"load {os.getloadavg()[0]:.1f}")
        finally:
            b.close()
    print(f"[national map] screenshots: {tmp}/*.png")
    if app:
        in_app(*data, timeout=timeout)


# the map of the component's iframe (streamlit-folium sets window.map) has drawn every compact layer
APP_DRAWN_JS = """n => { const m = window.map; return !!m && !m._animatingZoom && !!m._atlasCompactLayers &&
    m._atlasCompactLayers.filter(l => l._map === m && l._bounds).length >= n; }"""


def in_app(units, pts, real, timeout: float) -> None:
    """The same layers saved as a planner's own layers and shown on the app's map page.

    A fresh workspace and ``streamlit run app.py``; a browser session (network cut to
    localhost) opens the map page and ticks the layers under "My layers". Timed: ticking the
    last one → its map drawn in the component's iframe (two frames after every compact layer
    drew). Session 1 includes the server building and rendering that view (once; the map is
    shared by sessions through ``st.cache_resource``); session 2 gets the cached map.
    """
    import tempfile

    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _local_only, map_frame, start_app, stop_app

    ws = Path(tempfile.mkdtemp()) / "atlas.gpkg"
    os.environ["ATLAS_WORKSPACE"] = str(ws)
    from geo import workspace
    from geo.auth import configure_test_editor

    _, editor = configure_test_editor()
    layers = {"units": units, "points": pts}
    if real is not None:
        layers["communes 2025"] = real
    for name, gdf in layers.items():
        workspace.save_layer(name, gdf, editor=editor)
    proc, url = start_app(ws)
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for session in ("session 1 (server builds this view)", "session 2 (cached map)"):
                ctx = b.new_context(viewport={"width": 1400, "height": 1000})
                ctx.route("**/*", _local_only)
                page = ctx.new_page()
                page.goto(f"{url}/?lang=en", wait_until="domcontentloaded")
                page.locator('[data-testid="stSidebarNav"] a', has_text="Map explorer").first.click(timeout=60000)
                map_frame(page)
                side = page.locator('[data-testid="stSidebar"]')
                for i, name in enumerate(layers):
                    box = side.locator('[data-testid="stMultiSelect"]', has_text="My layers").locator("input")
                    box.click()
                    box.press_sequentially(name)
                    option = page.get_by_role("option", name=name, exact=True)
                    option.wait_for(timeout=30000)
                    last = i == len(layers) - 1
                    if last:
                        t0, srv0, br0 = time.perf_counter(), tree_cpu(proc.pid), tree_cpu(os.getpid(), skip=proc.pid)
                    option.click()
                    page.keyboard.press("Escape")
                    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
                    frame.wait_for_function(APP_DRAWN_JS, arg=i + 1, timeout=timeout * 1000, polling=100)
                    if last:
                        frame.evaluate(PAINT_JS)
                        wall = time.perf_counter() - t0
                        srv = tree_cpu(proc.pid) - srv0
                        br = tree_cpu(os.getpid(), skip=proc.pid) - br0
                        page.screenshot(path=str(ws.parent / f"app_{session[:9].replace(' ', '')}.png"))
                print(f"[national map] in the app, {session}: tick the last layer → map drawn in {wall:.2f} s "
                      f"(target ≤ 3 s); CPU: server {srv:.2f} s, browser {br:.2f} s; load {os.getloadavg()[0]:.1f}")
                ctx.close()
            b.close()
    finally:
        stop_app(proc)
    print(f"[national map] app screenshots: {ws.parent}/*.png")


def standalone_html_from(html: str) -> str:
    from layers import assets

    return assets.inline_assets(html)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reruns", type=int, default=10)
    ap.add_argument("--skip-default", action="store_true")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--skip-app", action="store_true", help="only the standalone pages, not the app")
    args = ap.parse_args()
    national(args.timeout, app=not args.skip_app)
    if args.skip_default:
        return
    get_catalog()
    view = default_view("vi")
    for lid in view.layers:  # load once so both sides measure rendering, not disk
        load_layer(lid)
    ours_t, ours = timed(lambda: build_map(default_view("vi")).get_root().render())
    naive_t, naive = timed(lambda: naive_page(view.layers))
    ours_b, naive_b = len(ours.encode()), len(naive.encode())
    ratio = ours_b / naive_b
    print(f"layers in the default view: {', '.join(view.layers)}")
    print("page bytes = the HTML/JS folium renders (UTF-8); shared JS/CSS assets excluded on both sides")
    print(f"{'':28}{'bytes':>12}{'render s':>10}")
    print(f"{'naive folium page':28}{naive_b:>12,}{naive_t:>10.3f}")
    print(f"{'atlas default view':28}{ours_b:>12,}{ours_t:>10.3f}")
    print(f"bytes ratio atlas/naive: {ratio:.1%} (target <= 40%) -> {'OK' if ratio <= 0.40 else 'MISSED'}")
    print(f"render speed-up: {naive_t / ours_t:.1f}x")
    cold_ms, warm_ms = warm_rerun_ms(args.reruns)
    print(f"map page cold run: {cold_ms:.0f} ms; warm rerun (median of {args.reruns}): {warm_ms:.0f} ms "
          f"(target <= 150 ms) -> {'OK' if warm_ms <= 150 else 'MISSED'}")


if __name__ == "__main__":
    main()

"""Benchmark: the default map view against a naive folium page of the same layers.

Prints page bytes and server render time for both, built in the same run, the ratio,
and the warm-rerun time of the map page (AppTest, median of several reruns).
Targets (issue #2): default view <= 40% of the naive bytes; warm rerun <= 150 ms.

    python bench/bench_map.py [--reruns 10]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import folium  # noqa: E402

from geo.catalog import get_catalog, load_layer  # noqa: E402
from layers.views import build_map, default_view  # noqa: E402


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


def timed(fn, repeat: int = 3) -> tuple[float, object]:  # noqa: ANN001
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reruns", type=int, default=10)
    args = ap.parse_args()
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

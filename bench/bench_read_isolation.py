"""Benchmark: what reading a user's file in a child process costs (issue 14 item 1).

Every GDAL read of a user's file runs in a forked child under a wall clock and a memory cap
(``geo.io._isolate``). The baseline is the same ``geo.io.read_any`` in-process
(``ATLAS_READ_ISOLATION=0``), the way it read before, in the same run. Measured for a
single-threaded caller (the CLI: plain ``fork``) and a threaded one (the web server: a
``forkserver`` with pyogrio and geopandas preloaded; its one-time start is shown apart).

    python bench/bench_read_isolation.py [--points 200000] [--repeat 5]

Measured 1 December 2026 (2 shared cores, load average 10–14), 200,000 points / 22 MB
GeoPackage, median of 3: in-process 5.14 s; fork 6.52 s (1.27×, +1.4 s); forkserver
11.56 s (2.25×, +6.4 s; its one-time start ≈ 3 s); one-feature GeoJSON 181 / 416 / 672 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from geo.io import read_any


def _make(d: Path, n: int) -> Path:
    rng = np.random.default_rng(14)
    xy = np.column_stack([105.6 + rng.random(n) * 0.4, 21.4 + rng.random(n) * 0.3])
    gdf = gpd.GeoDataFrame({"ten": [f"Điểm {i}" for i in range(n)], "ma": [f"{i:06d}" for i in range(n)]},
                           geometry=shapely.points(xy), crs=4326)
    p = d / "points.gpkg"
    pyogrio.write_dataframe(gdf, p, layer="points", driver="GPKG")
    return p


def _times(path: Path, repeat: int, isolate: bool, threaded: bool) -> list[float]:
    os.environ["ATLAS_READ_ISOLATION"] = "1" if isolate else "0"
    out: list[float] = []

    def run() -> None:
        for _ in range(repeat):
            t0 = time.perf_counter()
            gdf, _ = read_any(path)
            out.append(time.perf_counter() - t0)
            assert len(gdf) > 0

    if threaded:  # a second thread alive, as in the web server: the forkserver path
        th = threading.Thread(target=run)
        th.start()
        th.join()
    else:
        run()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_iso_") as tmp:
        path = _make(Path(tmp), args.points)
        mb = path.stat().st_size / 1048576
        print(f"file: {args.points:,} points, {mb:.1f} MB GeoPackage; median of {args.repeat} reads (read_any)")
        base = _times(path, args.repeat, isolate=False, threaded=False)
        fork = _times(path, args.repeat, isolate=True, threaded=False)
        first = _times(path, 1, isolate=True, threaded=True)  # starts the forkserver
        served = _times(path, args.repeat, isolate=True, threaded=True)
        mb_, mf, ms = statistics.median(base), statistics.median(fork), statistics.median(served)
        print(f"in-process (baseline, no limits):          {mb_:6.2f} s")
        print(f"child by fork (CLI):                       {mf:6.2f} s  ratio {mf / mb_:.2f}×  (+{mf - mb_:.2f} s)")
        print(f"child by forkserver (web server):          {ms:6.2f} s  ratio {ms / mb_:.2f}×  (+{ms - mb_:.2f} s)")
        print(f"forkserver start, once per server process: {first[0] - ms:6.2f} s "
              f"(first threaded read {first[0]:.2f} s incl. start)")
        small = Path(tmp) / "small.geojson"
        small.write_text(gpd.GeoDataFrame({"ten": ["a"]}, geometry=[shapely.Point(105.8, 21.5)], crs=4326).to_json())
        sb = statistics.median(_times(small, args.repeat, isolate=False, threaded=False))
        sf = statistics.median(_times(small, args.repeat, isolate=True, threaded=False))
        ss = statistics.median(_times(small, args.repeat, isolate=True, threaded=True))
        print(f"one-feature GeoJSON: in-process {sb * 1000:.0f} ms, fork {sf * 1000:.0f} ms, "
              f"forkserver {ss * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

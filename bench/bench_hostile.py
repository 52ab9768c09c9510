"""Benchmark: hostile files against `python -m geo check` (issue 14 item 1).

Builds every hostile input from code (recursive and zeroblob GeoPackage views, a sparse
14000 × 14000 GeoTIFF, zip bombs, an XXE KML, a GDAL VRT in disguise), runs
``python -m geo check FILE`` on each in a fresh process and prints, per file: exit code,
wall time, peak memory (ru_maxrss of the command or of its GDAL reading child, whichever
is higher) and the first words of the refusal. The baseline is
the same command on a small valid file in the same run (interpreter + imports), so the
extra time and memory a hostile file costs are shown as differences.

Figures to keep: hostile files tried / refused in ≤ 5 s / memory peak.

    python bench/bench_hostile.py
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import corpus as C
from tests import hostile as H

_RUN = ("import resource, sys; from geo.cli import main; rc = main(sys.argv[1:]); "
        "sys.stderr.write('MAXRSS %d\\n' % max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); sys.exit(rc)")  # the reading child counts too


def run_check(path: Path, timeout: float = 120.0) -> tuple[int, float, float, str]:
    """Exit code, seconds, peak MB and the message of ``geo check path`` in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), ATLAS_WORKSPACE=str(path.parent / "ws.gpkg"))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", _RUN, "check", str(path)], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return -1, time.perf_counter() - t0, float("nan"), "TIMEOUT"
    dt = time.perf_counter() - t0
    rss = next((int(line.split()[1]) / 1024 for line in proc.stderr.splitlines() if line.startswith("MAXRSS")),
               float("nan"))
    msg = next((line for line in proc.stderr.splitlines() if line.startswith("error:")), "")
    return proc.returncode, dt, rss, msg


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench_hostile_") as tmp:
        d = Path(tmp)
        files = {name: maker(d) for name, maker in H.HOSTILE.items()}
        for name in ("zip_bomb", "zip_bomb_many", "kml_xxe", "gpkg_vrt_local_file"):
            maker = getattr(C, f"make_{name}", None)
            if maker is not None:
                sub = d / name
                sub.mkdir()
                files[name] = maker(sub)
        ok_file = C.make_csv_swapped(d)
        rc0, t_base, rss_base, _ = run_check(ok_file)
        print(f"baseline (valid CSV): exit {rc0}, {t_base:.2f} s, {rss_base:.0f} MB peak")
        print(f"{'file':<24} {'exit':>4} {'s':>6} {'+s':>6} {'MB':>6} {'+MB':>6}  message")
        refused_fast, peak = 0, 0.0
        for name, path in files.items():
            rc, dt, rss, msg = run_check(path)
            peak = max(peak, rss)
            fast = rc == 2 and dt - t_base <= 5.0
            refused_fast += fast
            print(f"{name:<24} {rc:>4} {dt:6.2f} {dt - t_base:6.2f} {rss:6.0f} {rss - rss_base:6.0f}  {msg[:90]}")
        print(f"hostile files tried / refused in ≤5 s (beyond start-up) / memory peak: "
              f"{len(files)} / {refused_fast} / {peak:.0f} MB (baseline {rss_base:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

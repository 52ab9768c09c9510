"""Figures to keep for issue 14 (hold under attack and accident), printed, not timed tests:

- kill -9 loops tried / lost: a writer of indicator values, then a writer of map layers, is
  SIGKILLed at a random point (fixed seed) in each loop; after each kill the workspace is
  reopened as the pages do and checked (integrity_check, every layer readable, history ↔
  audit rows). "Lost" = loops after which any check failed.
- concurrent form writes: N processes save the same new value with expected version 0 at the
  same instant — exactly one winner, the others get the conflict message.
- concurrent imports of one row: the same, through a one-row file import without "replace".

Baseline for the kill loops: the same drill against a workspace in the old rollback-journal
mode opened read-only (as before this change) counts the loops whose reopen fails.

    python bench/bench_security.py [--loops 20] [--racers 4]
"""
from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ATLAS_BCRYPT_ROUNDS", "4")

from tests import crashkit as K


def _read_only_reopen_fails(ws: Path) -> bool:
    """The old way of opening for reading (mode=ro, no recovery): does it fail now?"""
    try:
        con = sqlite3.connect(f"{ws.resolve().as_uri()}?mode=ro", uri=True, timeout=2)
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        con.close()
        return False
    except sqlite3.Error:
        return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loops", type=int, default=20)
    ap.add_argument("--racers", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for kind in ("values", "layers"):
            ws = tmp / f"{kind}.gpkg"
            K.prepare(ws)
            t0 = time.time()
            rng = random.Random(14)
            lost, ro_fail, problems = 0, 0, []
            for _ in range(args.loops):
                K.kill_writer_once(ws, kind, rng)
                ro_fail += _read_only_reopen_fails(ws)
                found = K.check(ws)
                lost += bool(found)
                problems += found
            print(f"kill -9 loops ({'indicator writes' if kind == 'values' else 'layer saves'}): "
                  f"tried {args.loops} / lost {lost}  ({time.time() - t0:.0f} s; "
                  f"read-only reopen without recovery failed in {ro_fail} of {args.loops})")
            for p in problems[:5]:
                print("   ", p)
        for kind in ("form", "import"):
            ws = tmp / f"race_{kind}.gpkg"
            K.prepare(ws)
            outcomes = K.race(ws, kind, args.racers)
            winners = outcomes.count("saved")
            print(f"concurrent {kind} writes of one value: {args.racers} processes, winners {winners} "
                  f"({'exactly one' if winners == 1 else 'NOT exactly one'}); others: "
                  f"{sorted(set(o for o in outcomes if o != 'saved'))}")


if __name__ == "__main__":
    main()

"""Crash and race drills on a real workspace file (used by tests/test_crash_recovery.py and
bench/bench_security.py): a writer process killed with SIGKILL at random points, then the
workspace is reopened and checked; N processes saving the same value at once."""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "crash-password-1"

_WRITER = r"""
import os, sys, itertools
sys.path.insert(0, os.environ["ATLAS_ROOT"])
import geopandas as gpd, shapely
from geo import workspace
from geo.auth import authenticate
from geo.indicators import PROVINCE_ID, load_framework
from geo.store import Store
ed = authenticate("crash", os.environ["CRASH_PW"])
st = Store(framework=load_framework())
gdf = gpd.GeoDataFrame({"n": list(range(200))}, geometry=[shapely.Point(105.8 + i / 1e4, 21.5) for i in range(200)],
                       crs=4326)
st.units                                 # load what the first write needs before the clock starts
import pyogrio  # noqa: F401
print("ready", flush=True)
for i in itertools.count():
    if os.environ["CRASH_KIND"] == "layers":
        workspace.save_layer(f"layer {i % 3}", gdf, {"source": "drill"}, overwrite=True, editor=ed)
    else:
        v = st.current_version("smart_cities", PROVINCE_ID, 2024)
        st.record_value(ed, "smart_cities", PROVINCE_ID, 2024, i % 9 + 1, f"drill {i}", expected_version=v)
"""


def prepare(ws: Path) -> None:
    """A workspace with one editor ("crash") and the store's tables."""
    os.environ["ATLAS_WORKSPACE"] = str(ws)
    from geo.auth import configure_test_editor
    from geo.indicators import load_framework
    from geo.store import Store

    configure_test_editor(username="crash", password=PASSWORD, name="Crash", workspace=ws)
    Store(ws, framework=load_framework(), units=())._ensure_schema()


def kill_writer_once(ws: Path, kind: str, rng: random.Random) -> None:
    """Start a writer, let it write for a random 0.05–0.8 s after it is ready, SIGKILL it."""
    env = {**os.environ, "ATLAS_WORKSPACE": str(ws), "ATLAS_ROOT": str(ROOT), "CRASH_PW": PASSWORD,
           "CRASH_KIND": kind, "ATLAS_BCRYPT_ROUNDS": "4"}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.8))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)


def check(ws: Path) -> list[str]:
    """Problems found after reopening the workspace the way the pages do (empty = intact):
    integrity, every page's reads, and history ↔ audit log row for row."""
    problems: list[str] = []
    from geo import workspace
    from geo.indicators import load_framework
    from geo.store import Store

    try:
        layers = workspace.list_layers()                      # My data, map, coverage, export
        for layer in layers:
            workspace.read_layer(layer["name"])
        store = Store(ws, framework=load_framework(), units=())
        hist = store.history("smart_cities")                   # readiness
        audit = store.audit_log()
    except Exception as exc:  # any failure to open is a lost workspace
        return [f"reopen failed: {type(exc).__name__}: {exc}"]
    con = sqlite3.connect(ws)
    try:
        if con.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append("integrity_check failed")
    finally:
        con.close()
    saved = {(json.loads(d).get("version")) for a, d in zip(audit["action"], audit["detail"]) if a == "value_saved"}
    versions = {v.version for v in hist}
    if saved != versions:
        problems.append(f"history versions {sorted(versions)[-3:]} ≠ audit {sorted(saved)[-3:]}")
    if sorted(versions) != list(range(1, len(versions) + 1)):
        problems.append("history has gaps")
    layer_audits = list(audit.loc[audit["action"] == "layer_saved", "subject"])
    if len(layer_audits) < len(layers) or any(x["name"] not in layer_audits for x in layers):
        problems.append("a saved layer has no audit row")
    return problems


def kill_loop(ws: Path, kind: str, loops: int, seed: int = 14) -> tuple[int, int, list[str]]:
    """``loops`` SIGKILLed writers; returns (tried, lost, problems)."""
    rng = random.Random(seed)
    lost, problems = 0, []
    for _ in range(loops):
        kill_writer_once(ws, kind, rng)
        found = check(ws)
        if found:
            lost += 1
            problems += found
    return loops, lost, problems


_RACER = r"""
import os, sys
sys.path.insert(0, os.environ["ATLAS_ROOT"])
import pandas as pd
from geo.auth import authenticate
from geo.errors import AtlasError
from geo.indicators import PROVINCE_ID, load_framework
from geo.store import Store
ed = authenticate(os.environ["RACE_USER"], os.environ["CRASH_PW"])
st = Store(framework=load_framework())
go = float(os.environ["RACE_AT"])
import time
while time.time() < go:
    time.sleep(0.001)
try:
    if os.environ["RACE_KIND"] == "form":
        st.record_value(ed, "smart_cities", PROVINCE_ID, 2025, 4, "race", expected_version=0)
    else:
        df = pd.DataFrame([{"indicator_id": "smart_cities", "unit_id": PROVINCE_ID, "period": 2025, "value": 4,
                            "unit": "cities", "source": "race"}])
        st.import_frame(ed, df, file_name="race.csv")
    print("saved")
except AtlasError as err:
    print(err.key)
"""


def race(ws: Path, kind: str, n: int) -> list[str]:
    """``n`` processes (each its own editor) save the same new value at the same instant
    (``kind`` "form": ``record_value`` with expected version 0; "import": a one-row import
    without a replace flag). Returns each process's outcome ("saved" or the refusal key)."""
    from geo.auth import configure_test_editor

    for i in range(n):
        configure_test_editor(username=f"racer{i}", password=PASSWORD, name=f"R{i}", workspace=ws)
    at = time.time() + 4.0
    procs = [subprocess.Popen([sys.executable, "-c", _RACER], text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE,
                              env={**os.environ, "ATLAS_WORKSPACE": str(ws), "ATLAS_ROOT": str(ROOT),
                                   "CRASH_PW": PASSWORD, "RACE_USER": f"racer{i}", "RACE_AT": str(at),
                                   "RACE_KIND": kind, "ATLAS_BCRYPT_ROUNDS": "4",
                                   "PYTHONFAULTHANDLER": "1"}) for i in range(n)]
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        outcomes.append(out.strip().splitlines()[-1] if p.returncode == 0
                        else "crashed: " + " / ".join(err.strip().splitlines()[-4:] or ["(no message)"]))
    return outcomes

"""Many planners at once: 1, 4, 8 and 16 concurrent sessions against one app server.

Starts one ``streamlit run app.py`` on localhost (fresh process, empty caches, a temporary
workspace) and drives sessions through Streamlit's own websocket protocol (what the browser
sends: a ``rerun_script`` BackMsg; the server's answer ends with ``script_finished``), which
is light enough to run 16 sessions on this 2-core machine next to the server. A browser
would add its own drawing time on the planner's machine, not on the server; the first map
drawn in chromium is measured by ``bench/bench_startup.py``.

For each level the sessions are added to those already open (1 → 4 → 8 → 16), each new
session runs the page once (its first render), then every open session reruns the page
``--reruns`` times at the same moment (what a click, a widget change or a pan that reports
back does). Printed per page and level: first-render median, rerun median / p95, server RSS
and its growth per extra session, and the coverage service's cache hits (one per-cell cost
computation however many sessions ask the same question). Targets (issue 13 §4): p95 ≤
1.5 s at 8 sessions, ≤ 30 MB more server memory per extra session. Baseline: the same
rerun with one session alone (level 1).

Usage: python3 bench/bench_sessions.py [--pages map,coverage] [--reruns 5] [--max-seconds 900]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.e2e.conftest import start_app, stop_app

LEVELS = (1, 4, 8, 16)
PAGES = {"map": "", "coverage": "coverage"}  # page name in the URL ("" = the default page, the map)
QUERY = "lang=vi&basemap=none"


def rss_mb(pid: int) -> float:
    """Resident memory of the server process (MB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the server process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(0.95 * (len(xs) - 1))))]


class Session:
    """One browser tab's conversation with the server, without the browser."""

    def __init__(self, url: str, page: str) -> None:
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.page = page
        self.cached: set[str] = set()  # message hashes the "browser" holds (as the frontend reports them)
        self.ws = None
        self.errors: list[str] = []

    async def open(self) -> None:
        import websockets

        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           open_timeout=60, ping_interval=None)

    async def run(self, timeout: float) -> float:
        """Ask for a run of the page; seconds until the server says the script finished."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = QUERY
        cs.page_name = self.page
        cs.cached_message_hashes.extend(sorted(self.cached))
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        while True:
            data = await asyncio.wait_for(self.ws.recv(), timeout)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            if fwd.hash:
                self.cached.add(fwd.hash)
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.new_element.WhichOneof("type") == "exception":
                self.errors.append(fwd.delta.new_element.exception.message[:200])
            if kind == "script_finished":
                if fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    return time.perf_counter() - t0
                if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # the page asked for a rerun itself (st.rerun): wait for that one
                self.errors.append(f"script finished with status {fwd.script_finished}")
                return time.perf_counter() - t0

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def drive(url: str, pid: int, page: str, reruns: int, deadline: float) -> list[dict]:
    sessions: list[Session] = []
    rows = []
    base_rss = rss_mb(pid)
    for level in LEVELS:
        if time.time() > deadline:
            print(f"  {page}: stopped before {level} sessions (time bound reached)")
            break
        new = [Session(url, PAGES[page]) for _ in range(level - len(sessions))]
        await asyncio.gather(*(s.open() for s in new))
        left = max(30.0, deadline - time.time())
        first = await asyncio.gather(*(s.run(left) for s in new))
        sessions += new
        times: list[float] = []
        cpu0 = cpu_seconds(pid)
        for _ in range(reruns):
            left = max(30.0, deadline - time.time())
            times += await asyncio.gather(*(s.run(left) for s in sessions))
        cpu = (cpu_seconds(pid) - cpu0) / len(times)
        errors = sorted({e for s in sessions for e in s.errors})
        rows.append({"page": page, "sessions": level, "first": statistics.median(first),
                     "median": statistics.median(times), "p95": p95(times), "rss": rss_mb(pid), "errors": errors,
                     "cpu": cpu})
    await asyncio.gather(*(s.close() for s in sessions))
    for row in rows:
        row["base_rss"] = base_rss
    return rows


def report(rows: list[dict]) -> None:
    if not rows:
        return
    one = rows[0]
    print(f"\n  page {one['page']!r}: server RSS before the first session {one['base_rss']:.0f} MB")
    print("  sessions | first render median | rerun median | rerun p95 | p95 vs 1 session | server CPU per rerun "
          "| server RSS | MB per extra session")
    for row in rows:
        extra = row["sessions"] - 1
        per = (row["rss"] - one["rss"]) / extra if extra else float("nan")
        target = ""
        if row["sessions"] == 8:
            target = (f"  [target p95 ≤ 1.5 s: {'met' if row['p95'] <= 1.5 else 'NOT met'}; "
                      f"≤ 30 MB/session: {'met' if per <= 30 else 'NOT met'}]")
        print(f"  {row['sessions']:8d} | {row['first']:18.2f} s | {row['median']:10.2f} s | {row['p95']:7.2f} s | "
              f"{row['p95'] / one['p95']:15.1f}× | {row['cpu']:17.3f} s | {row['rss']:7.0f} MB | "
              f"{'—' if extra == 0 else f'{per:.1f}':>8}{target}")
        if row["sessions"] == 8:
            print(f"    8 sessions rerunning together need {8 * row['cpu']:.2f} CPU-s: ≈ {8 * row['cpu'] / 2:.2f} s on "
                  "2 idle cores (the wall figures above are on the shared, loaded machine)")
        for err in row["errors"]:
            print(f"    error seen: {err}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", default="map,coverage")
    ap.add_argument("--reruns", type=int, default=5)
    ap.add_argument("--max-seconds", type=float, default=900)
    args = ap.parse_args()
    pages = [p for p in args.pages.split(",") if p]
    load = os.getloadavg()
    print(f"bench_sessions: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start; "
          f"levels {LEVELS}, {args.reruns} reruns per session per level, one server per page")
    deadline = time.time() + args.max_seconds
    for page in pages:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            proc: subprocess.Popen
            proc, url = start_app(Path(tmp) / "atlas.gpkg")
            print(f"\n{page}: server up in {time.perf_counter() - t0:.1f} s ({url})")
            try:
                rows = asyncio.run(drive(url, proc.pid, page, args.reruns, deadline))
            finally:
                stop_app(proc)
        report(rows)
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2-core machine shared with other jobs)")


if __name__ == "__main__":
    main()

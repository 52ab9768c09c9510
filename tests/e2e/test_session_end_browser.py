"""Work for a session stops when its tab closes (issue 14 item 1), in the real app.

A signed-in planner uploads a hostile DXF (3 KB that GDAL expands into 10⁸ lines) on the
Data page; the server reads it in a child process. With the wall-clock budget set far out
of reach (600 s) only the session's end can stop the read: the browser tab is closed and
the reading child must be gone within seconds, the server still healthy.
"""
from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from tests import hostile as H
from tests.e2e.conftest import start_app, stop_app
from tests.e2e.test_upload_browser import _open_data_page, _upload


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc: no psutil needed)."""
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            parents[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        out.update(kids)
        todo.extend(kids)
    return out


def _readers(server: int) -> set[int]:
    """Processes forked by the reader's forkserver (grandchildren of the server)."""
    direct = {c for c in _descendants(server) if _ppid(c) == server}
    return {c for c in _descendants(server) if _ppid(c) in direct}


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


@pytest.fixture()
def slow_app(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    ws = tmp_path_factory.mktemp("e2e_session_end") / "atlas.gpkg"
    monkeypatch.setenv("ATLAS_WORKSPACE", str(ws))
    monkeypatch.setenv("ATLAS_READ_SECONDS", "600")  # only the session's end can stop the read
    monkeypatch.setenv("ATLAS_MAX_ROWS", str(10**9))  # past the DXF block count: GDAL reads it
    proc, url = start_app(ws)
    yield proc, url
    stop_app(proc)


def test_closing_the_tab_stops_the_read_of_a_hostile_file(slow_app, browser, tmp_path):
    proc, url = slow_app
    bomb = H.make_dxf_block_bomb(tmp_path)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    _open_data_page(page, url)
    _upload(page, bomb)
    deadline = time.monotonic() + 120
    readers: set[int] = set()
    while not readers and time.monotonic() < deadline:  # a child alive for 3 s is the long read
        first = _readers(proc.pid)
        time.sleep(3)
        readers = first & _readers(proc.pid)
    assert readers, "the server never started a long read of the upload"
    closed = time.monotonic()
    context.close()  # the tab closes
    while any(Path(f"/proc/{r}").exists() and _ppid(r) != 1 for r in readers) and time.monotonic() - closed < 30:
        time.sleep(0.1)
    gone_after = time.monotonic() - closed
    assert not any(Path(f"/proc/{r}").exists() and _ppid(r) != 1 for r in readers)
    assert gone_after < 10, f"the read ran on {gone_after:.1f} s after the tab closed"
    with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as resp:
        assert resp.status == 200
    print(f"reading child gone {gone_after:.2f} s after the tab closed")

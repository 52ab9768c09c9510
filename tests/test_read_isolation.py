"""Reads of a user's file that GDAL cannot be interrupted in (issue 14 item 1): a wall-clock
and a memory limit enforced on a child process, and work that stops when its session ends.

The hostile file is a DXF block bomb of a few KB (``tests.hostile.make_dxf_block_bomb``):
GDAL expands it into 10⁸ lines, over a minute of one core when read in-process.
"""
from __future__ import annotations

import multiprocessing as mp
import resource
import threading
import time

import geopandas as gpd
import pytest
import shapely

from geo import cancel
from geo.cli import main
from geo.errors import AtlasError
from geo.io import read_any
from tests import hostile as H


@pytest.fixture(autouse=True)
def _ws(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_WORKSPACE", str(tmp_path / "ws.gpkg"))


def _no_reader_children(timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not [p for p in mp.active_children() if p.name.startswith(("Process", "ForkServerProcess"))]:
            return True
        time.sleep(0.1)
    return False


def test_block_bomb_is_refused_before_gdal_expands_it(tmp_path, capsys):
    bomb = H.make_dxf_block_bomb(tmp_path)
    t0 = time.monotonic()
    rc = main(["check", str(bomb)])
    took = time.monotonic() - t0
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "expands its nested blocks into 100,000,000 objects" in err
    assert took < 5 and not mp.active_children()  # counted from the BLOCKS section, GDAL never ran


def test_a_read_over_its_processing_budget_is_killed_in_one_sentence(tmp_path, monkeypatch, capsys):
    """Any file GDAL works on too long (here the block bomb with the object cap lifted, so
    that only the reader's processing budget stands in its way)."""
    monkeypatch.setenv("ATLAS_READ_SECONDS", "2")
    monkeypatch.setenv("ATLAS_MAX_ROWS", str(10**9))
    bomb = H.make_dxf_block_bomb(tmp_path)
    assert bomb.stat().st_size < 5000
    t0 = time.monotonic()
    rc = main(["check", str(bomb)])
    took = time.monotonic() - t0
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith("error: ")
    assert "needed over 2 seconds of processing" in err and "Traceback" not in err and str(tmp_path) not in err
    assert took < 30  # the budget is 2 s (+1 s/MB); the rest is a loaded machine's fork and kill
    assert _no_reader_children()


def test_memory_limit_stops_the_read_in_the_child_not_the_server(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_READ_SECONDS", "120")
    monkeypatch.setenv("ATLAS_READ_MEMORY_MB", "60")
    bomb = H.make_dxf_block_bomb(tmp_path, depth=6)  # 10⁶ lines: ~0.5 GB when read whole
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(AtlasError) as exc:
        read_any(bomb)
    # GDAL either reports the failed allocation (→ "needed more than 60 MB") or dies of it
    # (→ "cannot be read"); either way one sentence, and this process did not grow
    assert exc.value.key in ("import_errors.read_too_big", "import_errors.unreadable")
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 100


def test_a_normal_file_reads_the_same_in_the_child_as_in_process(tmp_path, monkeypatch):
    gdf = gpd.GeoDataFrame({"ten": ["Trạm y tế", "Trường"], "n": [1, 2]},
                           geometry=shapely.points([[105.8, 21.5], [105.9, 21.6]]), crs=4326)
    p = tmp_path / "ok.gpkg"
    gdf.to_file(p, layer="pts", driver="GPKG")
    isolated, rep1 = read_any(p)
    monkeypatch.setenv("ATLAS_READ_ISOLATION", "0")
    inproc, rep2 = read_any(p)
    assert isolated.equals(inproc) and rep1.lines("en") == rep2.lines("en")
    assert list(isolated["ten"]) == ["Trạm y tế", "Trường"]


def test_a_read_in_a_session_thread_stops_within_seconds_of_the_session_ending(tmp_path, monkeypatch):
    """As the web page runs it: the read happens in the session's script thread under
    ``cancel.scope``; when the session goes, the GDAL child is killed and the thread ends."""
    monkeypatch.setenv("ATLAS_READ_SECONDS", "600")  # only the session's end can stop it
    monkeypatch.setenv("ATLAS_MAX_ROWS", str(10**9))  # past the DXF block count, into GDAL
    bomb = H.make_dxf_block_bomb(tmp_path)
    session_alive = threading.Event()
    session_alive.set()
    outcome: dict = {}

    def script_thread() -> None:
        with cancel.scope(lambda: not session_alive.is_set()):
            try:
                read_any(bomb)
                outcome["result"] = "read"
            except cancel.Cancelled as exc:
                outcome["result"] = exc.key
                outcome["at"] = time.monotonic()

    th = threading.Thread(target=script_thread, daemon=True)
    th.start()
    deadline = time.monotonic() + 120  # the first read of a threaded process starts the forkserver
    while not mp.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)  # the read is under way in its child
    assert th.is_alive() and mp.active_children()
    ended = time.monotonic()
    session_alive.clear()  # the tab closes
    th.join(15)
    assert not th.is_alive() and outcome.get("result") == "errors.cancelled"
    assert outcome["at"] - ended < 5
    assert _no_reader_children()


def test_outside_a_scope_nothing_is_cancelled_and_scopes_nest():
    assert not cancel.stopped()
    cancel.check()
    with cancel.scope(lambda: True):
        assert cancel.stopped()
        with pytest.raises(cancel.Cancelled):
            cancel.check()
        with cancel.scope(None):
            cancel.check()
    with cancel.scope(lambda: 1 / 0):  # a broken test never breaks the work
        cancel.check()
    assert cancel.current() is None


def test_coverage_blocks_stop_when_the_session_is_gone():
    import numpy as np
    from affine import Affine

    from geo.coverage import iter_cells
    from geo.population import PopulationGrid
    pop = np.ones((400, 400))
    grid = PopulationGrid(values=pop, transform=Affine(100, 0, 0, 0, -100, 40000), crs="EPSG:9213")
    units = np.array([shapely.box(0, 0, 40000, 40000)])
    blocks = iter_cells(grid, units, chunk_cells=4000)
    next(blocks)
    with cancel.scope(lambda: True):
        with pytest.raises(cancel.Cancelled):
            next(blocks)


def test_dxf_block_count_matches_what_a_drawing_holds(tmp_path):
    """The block count is exact on drawings GDAL can show: plain entities, a block used
    three times (one of them a 2 × 2 MINSERT), a block that inserts itself."""
    from geo.io._formats import dxf_expanded_count
    codes = ["0", "SECTION", "2", "BLOCKS",
             "0", "BLOCK", "2", "CAY", "10", "0", "20", "0",
             "0", "LINE", "10", "0", "20", "0", "11", "1", "21", "1",
             "0", "CIRCLE", "10", "0", "20", "0", "40", "1",
             "0", "ENDBLK",
             "0", "BLOCK", "2", "VONG", "10", "0", "20", "0",
             "0", "INSERT", "2", "VONG", "10", "0", "20", "0",
             "0", "POINT", "10", "0", "20", "0",
             "0", "ENDBLK", "0", "ENDSEC",
             "0", "SECTION", "2", "ENTITIES",
             "0", "LINE", "10", "0", "20", "0", "11", "5", "21", "5",
             "0", "INSERT", "2", "CAY", "10", "1", "20", "1",
             "0", "INSERT", "2", "CAY", "10", "2", "20", "2", "70", "2", "71", "2",
             "0", "INSERT", "2", "VONG", "10", "3", "20", "3",
             "0", "ENDSEC", "0", "EOF"]
    p = tmp_path / "ban_ve.dxf"
    p.write_text("\n".join(codes) + "\n", encoding="ascii")
    # 1 line + CAY (2) × (1 + 4) + VONG (its point; the self-insert counts once) = 12
    assert dxf_expanded_count(p) == 12
    assert dxf_expanded_count(H.make_dxf_block_bomb(tmp_path, depth=3, fan=7)) == 7 ** 3

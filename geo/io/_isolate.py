"""GDAL reads of a user's file in a child process, under a wall-clock and a memory limit.

A GDAL read cannot be interrupted from Python: once ``pyogrio.read_dataframe`` runs, the
thread is inside C until GDAL returns. A 3 KB DXF whose blocks insert each other ten times
over eight levels asks GDAL for 10⁸ lines (over a minute of one core, half a gigabyte);
a malformed file of another driver can do the same. So every GDAL call on a user's file
(:func:`call`) runs in a forked child (in the threaded web server: forked by a
``forkserver`` that has already imported pyogrio and geopandas), which costs milliseconds,
not an interpreter start, with

- an address-space limit (``RLIMIT_AS``) of ``ATLAS_READ_MEMORY_MB`` (2048) above what the
  child starts with: GDAL's allocations fail inside the child, never in the server;
- a processing budget of ``ATLAS_READ_SECONDS`` (10) plus ``ATLAS_READ_SECONDS_PER_MB``
  (1.0) per MB of the file's data, as CPU seconds of the child (``RLIMIT_CPU``: what a
  hostile file burns, whatever the machine's load) and, as a backstop for a read that
  waits instead of computing, :data:`WALL_FACTOR` times that in wall-clock seconds: past
  either the child is killed;
- the session's cancellation test (:mod:`geo.cancel`) checked every 0.1 s while waiting:
  a closed browser tab kills the child at once.

The result (a GeoDataFrame or a list) comes back pickled through a pipe. A refusal is one
:class:`~geo.errors.AtlasError` sentence. ``ATLAS_READ_ISOLATION=0`` reads in-process
(debugging; no wall-clock or memory limit then).

Own code, because GDAL offers no time or memory limit for a vector read (its
``GDAL_CACHEMAX`` bounds only the raster block cache) and pyogrio no progress callback.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geo import cancel, settings
from geo.errors import AtlasError

log = logging.getLogger(__name__)

POLL_S = 0.1
WALL_FACTOR = 4  # wall-clock backstop = 4 × the CPU budget (a loaded server shares its cores)
_CTX_LOCK = threading.Lock()
_CTX: Any = None


isolation_on = settings.read_isolation
memory_limit_bytes = settings.read_memory_bytes


def data_bytes(path: Path) -> int:
    """Bytes of a file, or of every file in a folder (a File Geodatabase)."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0


def wall_seconds(nbytes: int) -> float:
    """Processing budget (CPU seconds) of one GDAL call on ``nbytes`` of data:
    ``ATLAS_READ_SECONDS`` (10) + ``ATLAS_READ_SECONDS_PER_MB`` (1.0) × MB."""
    return settings.read_seconds() + settings.read_seconds_per_mb() * nbytes / 1048576


def _context() -> Any:
    """``fork`` from a process with one thread (the CLI: the child inherits what is loaded,
    no start-up cost); a ``forkserver`` (started once, pyogrio and geopandas preloaded) from
    a threaded one (the web server), where forking could copy a lock another thread holds."""
    global _CTX
    if threading.active_count() == 1:
        return mp.get_context("fork")
    with _CTX_LOCK:
        if _CTX is None:
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(["geo.io._isolate_warm"])
            _CTX = ctx
        return _CTX


def call(fn: Callable[..., Any], *args: Any, fname: str, fmt_label: str, nbytes: int, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a child process under the limits above; its return value.

    ``fn`` must be a module-level function of :mod:`geo.io._isolate_child` (pickled by name).
    Raises ``AtlasError``: ``import_errors.read_too_slow`` (wall clock), ``read_too_big``
    (memory), ``unreadable`` (GDAL failed or the child died), or the child's own refusal;
    :class:`geo.cancel.Cancelled` when the session ended while waiting.
    """
    if not isolation_on():
        return fn(*args, **kwargs)
    cancel.check()
    budget = wall_seconds(nbytes)
    ctx = _context()
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_run_child, args=(send, fn, args, kwargs, memory_limit_bytes(), budget),
                       daemon=True)
    proc.start()
    send.close()
    deadline = time.monotonic() + WALL_FACTOR * budget
    try:
        while True:
            if recv.poll(POLL_S):
                try:
                    outcome = recv.recv()
                except (EOFError, OSError):  # the child died without answering (killed, crashed)
                    outcome = ("died", proc.exitcode)
                break
            if cancel.stopped():
                raise cancel.Cancelled()
            if time.monotonic() > deadline:
                raise AtlasError("import_errors.read_too_slow", file=fname, format=fmt_label,
                                 seconds=int(round(budget)))
            if not proc.is_alive() and not recv.poll(0):
                outcome = ("died", proc.exitcode)
                break
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        recv.close()
    kind = outcome[0]
    if kind == "died":  # the exit code is known once the child is joined (above)
        outcome = ("died", proc.exitcode)
    if kind == "died" and outcome[1] in (-signal.SIGXCPU, -signal.SIGKILL):  # over its CPU seconds
        raise AtlasError("import_errors.read_too_slow", file=fname, format=fmt_label, seconds=int(round(budget)))
    if kind == "ok":
        return outcome[1]
    if kind == "atlas":
        raise AtlasError(outcome[1], **outcome[2])
    if kind == "memory":
        raise AtlasError("import_errors.read_too_big", file=fname, format=fmt_label,
                         cap_mb=int(memory_limit_bytes() // 1048576))
    log.info("isolated GDAL read of %s failed: %s", fname, outcome[1:])
    raise AtlasError("import_errors.unreadable", file=fname, format=fmt_label)


def _run_child(conn: Any, fn: Callable[..., Any], args: tuple, kwargs: dict, mem_bytes: int,
               cpu_seconds: float = 0.0) -> None:
    """The child's side: cap the address space and the CPU seconds, run ``fn``, send one outcome."""
    import resource
    try:
        if cpu_seconds > 0:  # SIGXCPU at the soft limit ends the child; SIGKILL one second later
            used = resource.getrusage(resource.RUSAGE_SELF)
            now = used.ru_utime + used.ru_stime
            soft = int(now + cpu_seconds) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
    except (OSError, ValueError):
        pass
    try:
        if mem_bytes > 0:
            with open("/proc/self/statm") as fh:
                vm_now = int(fh.read().split()[0]) * resource.getpagesize()
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            cap = vm_now + mem_bytes
            if hard != resource.RLIM_INFINITY:
                cap = min(cap, hard)
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (OSError, ValueError):
        pass
    try:
        outcome: tuple = ("ok", fn(*args, **kwargs))
    except AtlasError as exc:
        outcome = ("atlas", exc.key, exc.params)
    except MemoryError:
        outcome = ("memory",)
    except BaseException as exc:
        text = str(exc)
        outcome = ("memory",) if "memory" in text.lower() or "alloc" in text.lower() else (
            "error", type(exc).__name__, text[:300])
    try:
        conn.send(outcome)
    except MemoryError:
        conn.send(("memory",))
    except Exception as exc:
        conn.send(("error", type(exc).__name__, str(exc)[:300]))
    finally:
        conn.close()

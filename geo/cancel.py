"""Stopping work nobody waits for any more: the browser tab that asked for it has closed.

The web page runs a session's script under :func:`scope` with a predicate that says whether
its session is gone (``pages.web`` asks Streamlit's runtime); the long parts of the library
call :func:`check` between steps — the user-file reader while it waits for GDAL in its child
process (which is then killed), the SQL limits of a GeoPackage, raster windows, coverage row
blocks — and the work ends with :class:`Cancelled` within a fraction of a second of the
session's end instead of running on for minutes. Outside a scope (CLI, tests, other threads)
:func:`check` costs one context-variable lookup and never stops anything.

Own code, because Streamlit stops a script only at its next ``st.*`` call, and a read or a
computation inside ``geo`` makes none.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from geo.errors import AtlasError

_SHOULD_STOP: ContextVar[Callable[[], bool] | None] = ContextVar("atlas_should_stop", default=None)


class Cancelled(AtlasError):
    """The work was stopped because the session that asked for it has ended."""

    def __init__(self) -> None:
        super().__init__("errors.cancelled")


@contextmanager
def scope(should_stop: Callable[[], bool] | None) -> Iterator[None]:
    """Run the body with ``should_stop`` (no argument → True once the requester is gone) as
    the current cancellation test of this thread/context; ``None`` = never stop."""
    token = _SHOULD_STOP.set(should_stop)
    try:
        yield
    finally:
        _SHOULD_STOP.reset(token)


def current() -> Callable[[], bool] | None:
    """The cancellation test in force here (to hand on to a worker thread), or ``None``."""
    return _SHOULD_STOP.get()


def stopped() -> bool:
    """True when the current scope's requester is gone (a failing test counts as not gone)."""
    fn = _SHOULD_STOP.get()
    if fn is None:
        return False
    try:
        return bool(fn())
    except Exception:
        return False


def check() -> None:
    """Raise :class:`Cancelled` when the current scope's requester is gone."""
    if stopped():
        raise Cancelled()

"""The app's default basemap: "none" offline (configured or detected), never blocking."""
from __future__ import annotations

import time

import pytest

from layers import basemap


@pytest.fixture()
def fresh(monkeypatch):
    monkeypatch.setattr(basemap, "_started", False)
    monkeypatch.setattr(basemap, "_state", {"online": None})
    monkeypatch.delenv("ATLAS_OFFLINE", raising=False)
    return basemap


def test_offline_configured_means_no_basemap_and_no_probe(fresh, monkeypatch) -> None:
    monkeypatch.setenv("ATLAS_OFFLINE", "1")
    monkeypatch.setattr(fresh.socket, "create_connection", lambda *a, **k: pytest.fail("probed"))
    assert fresh.default_basemap() == "none"


def test_reachable_tile_server_gives_the_online_default(fresh, monkeypatch) -> None:
    class _Conn:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(fresh.socket, "create_connection", lambda *a, **k: _Conn())
    assert fresh.default_basemap() == "positron"


def test_unreachable_or_slow_network_gives_none_without_blocking(fresh, monkeypatch) -> None:
    def slow(*a, **k):
        time.sleep(3)
        raise OSError("timed out")

    monkeypatch.setattr(fresh.socket, "create_connection", slow)
    start = time.perf_counter()
    assert fresh.default_basemap() == "none"
    assert time.perf_counter() - start < 1.0  # the page does not wait for the probe
    # asked once per process: a second call starts no second probe
    assert fresh.default_basemap() == "none" and fresh._started

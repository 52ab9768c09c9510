"""Which basemap a map starts with: "none" when the machine is offline.

``ATLAS_OFFLINE=1`` forces offline. Otherwise one background probe (a TCP connection to
the tile server, at most ``PROBE_TIMEOUT_S``) runs once per server process; until it has
answered, and whenever it failed, the app counts as offline. So the check never blocks a
page and never makes a browser fetch anything from outside while the answer is unknown.
Written here (not a library) because it is a 30-line socket probe with a cache.
"""
from __future__ import annotations

import socket
import threading

from geo import settings

PROBE_HOST = ("tile.openstreetmap.org", 443)
PROBE_TIMEOUT_S = 1.5
FIRST_WAIT_S = 0.3
ONLINE_DEFAULT = "positron"

_state: dict[str, bool | None] = {"online": None}
_lock = threading.Lock()
_started = False


def _probe() -> None:
    try:
        with socket.create_connection(PROBE_HOST, timeout=PROBE_TIMEOUT_S):
            _state["online"] = True
    except OSError:
        _state["online"] = False


def offline_configured() -> bool:
    """True when ``ATLAS_OFFLINE`` is set to 1/true/yes."""
    return settings.offline()


def internet_known_available() -> bool:
    """True only once the background probe has reached the tile server (never blocks)."""
    global _started
    if offline_configured():
        return False
    with _lock:
        if not _started:
            _started = True
            probe = threading.Thread(target=_probe, name="atlas-internet-probe", daemon=True)
            probe.start()
            probe.join(FIRST_WAIT_S)  # a short, bounded chance to answer before the first page
    return bool(_state["online"])


def default_basemap() -> str:
    """``"none"`` when offline is configured or not (yet) confirmed online, else Positron."""
    return ONLINE_DEFAULT if internet_known_available() else "none"

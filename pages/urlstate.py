"""Shareable page state in the URL query parameters.

The map explorer (and the Export page) keep what the user sees — layers, basemap, extent
(bounding box or centre + zoom), selected unit, indicator, language — in
``st.query_params``, so copying the address shares the view and opening it restores it.

``encode_state``/``decode_state`` (and ``unit_key``/``unit_param``) are pure, in
``pages.url_codec``; ``read_state()`` and ``write_state(**state)``
bind them to ``st.query_params``. A parameter that does not decode is dropped, never raised —
``read_state`` removes it from the address and says so once.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from geo.i18n import t
from pages.common import current_lang, tr_plain
from pages.url_codec import decode_state, encode_state


def read_state() -> dict[str, Any]:
    """The state in the current page's URL (see ``decode_state``). Invalid parameters are
    removed from the address, with one notice naming them."""
    dropped: list[str] = []
    ignored: dict[str, list[str]] = {}
    state = decode_state({k: st.query_params.get_all(k) for k in st.query_params.keys()}, dropped, ignored)
    for key in dropped:
        if key in st.query_params:
            del st.query_params[key]
    partly = [key for key in ignored if key in state]  # a list that kept some ids: say which were left out
    for key in partly:
        st.warning(tr_plain("errors.url_ids_ignored", name=key, ids=", ".join(ignored[key])))
    rest = [key for key in dropped if key not in partly]
    if rest:
        st.warning(t("errors.url_dropped", current_lang(), names=", ".join(rest)))
    return state


VIEW_KEYS = ("layers", "basemap", "bbox", "bounds", "center", "zoom", "unit", "indicator", "scheme", "classes",
             "categories")
LAST_VIEW_KEY = "_urlstate_last_view"  # session-state key of the last view a page wrote
_LAST_VIEW = LAST_VIEW_KEY


def write_state(remember: bool = True, **state: Any) -> None:
    """Put ``state`` into the URL. Keys given as ``None`` are removed; keys not given are
    kept. Only changed parameters are written (no needless reruns/history entries).

    ``remember``: also keep the view part (layers, basemap, extent, unit, indicator) in the
    session, so another page can use "the current map" after navigation (Streamlit drops
    the query parameters when the user switches pages); see ``current_view``.
    """
    encoded = encode_state(state)
    if remember:
        last = dict(st.session_state.get(_LAST_VIEW) or {})
        for key, value in decode_state(encoded).items():
            if key in VIEW_KEYS:
                last[key] = value
        for key in state:
            if key in VIEW_KEYS and state[key] is None:
                last.pop(key, None)
                if key == "bounds":
                    last.pop("bbox", None)
                elif key == "bbox":
                    last.pop("bounds", None)
        st.session_state[_LAST_VIEW] = last
    for key in state:
        name = "bbox" if key == "bounds" else key
        if name in encoded:
            if st.query_params.get(name) != encoded[name]:
                st.query_params[name] = encoded[name]
        elif name in st.query_params:
            del st.query_params[name]


def current_view() -> dict[str, Any]:
    """The map view to act on: the view in the URL when the address carries one (a shared
    link), else the last view a page of this session wrote (the map the user just left)."""
    state = read_state()
    if any(k in state for k in ("layers", "bbox", "unit", "indicator")):
        return state
    last = {k: v for k, v in (st.session_state.get(_LAST_VIEW) or {}).items() if k not in state}
    return {**state, **last}


def seed_session(mapping: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Copy the URL state into ``st.session_state`` once per session (before widgets are made).

    ``mapping``: state key → session-state key (default: layers→layers, basemap→basemap,
    bounds→map_bounds, unit→selected_unit_code, indicator→indicator). Returns the state read.
    """
    mapping = mapping or {"layers": "layers", "basemap": "basemap", "bounds": "map_bounds",
                          "unit": "selected_unit_code", "indicator": "indicator"}
    state = read_state()
    if not st.session_state.get("_urlstate_seeded"):
        for key, skey in mapping.items():
            if key in state:
                st.session_state[skey] = state[key]
        st.session_state["_urlstate_seeded"] = True
    return state


__all__ = ["VIEW_KEYS", "LAST_VIEW_KEY", "read_state", "write_state", "current_view", "seed_session"]

"""Readiness page: choices that survive switching sections and languages, unit labels, and the
computed indicators' per-unit values (cached)."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from geo.i18n import t
from geo.indicators import Indicator, compute_indicator, province_total
from geo.units import PlanningUnit
from pages.common import current_lang


@st.cache_resource(show_spinner=False)
def _computed(indicator_id: str, level: str, radius_m: float, _ind: Indicator) -> pd.DataFrame:
    """Coverage of a computed indicator per unit (cached per indicator, level and radius)."""
    return compute_indicator(_ind, level)


def computed_for(ind: Indicator, level: str) -> pd.DataFrame:
    """A computed indicator's per-unit values at ``level`` (``compute_indicator``'s columns)."""
    if level == "province":                      # the districts' totals: no second computation
        return province_total(_computed(ind.id, "city", ind.radius_m, ind))
    return _computed(ind.id, level, ind.radius_m, ind)


def unit_label(u: PlanningUnit, lang: str) -> str:
    """Unit name, marked when it is one of the three smart cities (``lang`` is bound by the
    caller's ``format_func`` so widget labels never depend on reading session state later)."""
    if not u.smart_city:
        return u.name
    return t("readiness.smart_city_ward_mark" if u.level == "ward" else "readiness.smart_city_mark", lang, name=u.name)


def widget_key(key: str) -> str:
    """The widget's own key: one per language, because a widget whose option labels change
    (Tỉnh → Province) is re-drawn by the browser as a new one that would show its first option
    (or none) while the session still holds the old choice."""
    return f"_w_{key}_{current_lang()}"


def sticky(widget, label: str, options: list, key: str, default=None, **kwargs) -> Any:
    """``st.radio``/``st.selectbox`` whose choice survives switching sections and languages.

    The choice lives under the plain session key ``key`` (Streamlit forgets a widget's state on
    a run that does not draw it) and is always handed back to the widget as ``index``, so the
    option shown is the one the page works with."""
    wkey = widget_key(key)
    current = st.session_state.get(wkey, st.session_state.get(key, default))
    index = options.index(current) if current in options else 0

    def _remember() -> None:
        st.session_state[key] = st.session_state[wkey]

    value = widget(label, options, index=index, key=wkey, on_change=_remember, **kwargs)
    st.session_state[key] = value
    return value


def sticky_number(label: str, key: str, default: int, **kwargs) -> int:
    """``st.number_input`` whose value survives switching sections and languages (see ``sticky``)."""
    wkey = widget_key(key)

    def _remember() -> None:
        st.session_state[key] = st.session_state[wkey]

    value = st.number_input(label, value=st.session_state.get(wkey, st.session_state.get(key, default)), key=wkey,
                            on_change=_remember, **kwargs)
    st.session_state[key] = value
    return value

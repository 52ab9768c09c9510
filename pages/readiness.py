"""Smart-city readiness: scorecard, trend and evidence, three cities compared, indicator map,
gaps in words, data entry (form + validated file import) for signed-in editors.

Thin page: one section at a time, each drawn by a module beside it —
``readiness_scorecard`` (scorecard, trend via ``readiness_trend``, three cities),
``readiness_map``, ``readiness_entry`` (+ ``readiness_frameworks``); the sticky choices and
the cached computed values are ``readiness_choices``'.
"""
from __future__ import annotations

import streamlit as st

from geo.errors import AtlasError
from geo.frameworks import active_framework
from geo.i18n import t
from geo.store import Store
from geo.units import all_units
from pages.common import EDITOR_KEY, current_lang, end_page, ensure_app_entry, show_error, tr
from pages.readiness_entry import SEEN_KEY, TARGET_SEEN_KEY, entry_tab
from pages.readiness_map import map_tab
from pages.readiness_scorecard import compare_tab, scorecard_tab
from pages.sidebar import editor_sign_in

ensure_app_entry()

for _key, _default in ((EDITOR_KEY, None), (SEEN_KEY, {}), (TARGET_SEEN_KEY, {}), ("ind_section", "scorecard")):
    if _key not in st.session_state:
        st.session_state[_key] = _default

lang = current_lang()
SECTIONS = ("scorecard", "compare", "map", "entry")

st.title(tr("readiness.title"), anchor=False)
st.caption(tr("readiness.intro"))
try:
    framework = active_framework()          # the newest framework version loaded, else the shipped file
    store = Store(framework=framework)
    units = all_units()
except AtlasError as err:
    show_error(err)
    end_page()
editor = editor_sign_in("ind_sign_in_form")
with st.expander(tr("readiness.rule_title")):
    st.markdown(tr("readiness.rule"))
section = st.segmented_control(tr("readiness.section"), SECTIONS, key="ind_section", label_visibility="collapsed",
                               format_func=lambda sec, _l=lang: t(f"readiness.tab_{sec}", _l)) or "scorecard"
# one section at a time: only what is shown is computed, and the map is drawn in a visible container
try:
    if section == "scorecard":
        scorecard_tab(framework, store, units, editor)
    elif section == "compare":
        compare_tab(framework, store, units)
    elif section == "map":
        map_tab(framework)
    else:
        entry_tab(framework, store, units, editor)
except AtlasError as err:
    show_error(err)

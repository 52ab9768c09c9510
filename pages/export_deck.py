"""The export page's council deck tab: unit, format, language, how a city is shown (today's
2025 units or the city before 1-7-2025), the coverage page's suggestion, build."""
from __future__ import annotations

import streamlit as st

from geo.errors import AtlasError
from geo.units import TERRITORIES
from pages.common import choose_one, show_error, tr
from pages.present_views import unit_label, unit_options


def deck_tab(wanted: str | None, lang: str) -> None:
    """The deck's choices and its build button; the file lands in ``session_state["deck_file"]``.
    ``wanted``: the unit key of the view the page acts on (preselected when it can have a deck)."""
    units = unit_options()[:4]
    unit = choose_one(tr("present.choose_unit"), units, format_func=unit_label, key="deck_unit",
                      index=units.index(wanted) if wanted in units else 0)
    c1, c2 = st.columns(2)
    fmt = c1.radio(tr("present.deck_format"), ["pptx", "pdf"], horizontal=True, key="deck_fmt", format_func=str.upper)
    deck_lang = c2.radio(tr("present.deck_lang"), ["vi", "en"], horizontal=True, key="deck_lang",
                         index=0 if lang == "vi" else 1, format_func=lambda c: {"vi": "Tiếng Việt", "en": "English"}[c])
    territory = st.radio(tr("report.territory"), TERRITORIES, key="deck_territory",  # a city: today's units first
                         format_func=lambda v: tr(f"report.territory_{v}")) if unit != "province" else "2020"
    sug = (st.session_state.get("sug_result") or (None, None))[1]  # the coverage page's last suggestion
    with_sug = st.checkbox(tr("present.deck_suggestion", n=len(sug.sites)), value=True, key="deck_suggestion") \
        if sug is not None and len(sug.sites) else False
    if st.button(tr("present.build_deck"), key="deck_build", type="primary"):
        from geo.report import report_bytes

        try:
            with st.spinner(tr("present.build_deck")):
                st.session_state["deck_file"] = report_bytes(unit, fmt, deck_lang, suggestion=sug if with_sug else None,
                                                              territory=territory)
        except AtlasError as err:
            st.session_state["deck_file"] = None
            show_error(err)

"""Coverage page: the what-if — facilities proposed (clicked on the map or uploaded) or closed,
the clicks taken from the map, and the before/after summary of the answer."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from geo.errors import AtlasError
from geo.i18n import fmt_number, t
from geo.service import CoverageResult, capacity_columns
from pages.common import choose_many, choose_one, show_error, tr, uploader
from pages.coverage_question import digest, read_upload
from pages.coverage_tables import fmt_table, label_columns

SESSION_DEFAULTS = {"cov_added": [], "cov_closed": [], "cov_last_click": None, "cov_click_adds": False}


def clear_scenario() -> None:
    """Forget proposed/closed facilities and stop adding by click (else the next click would
    silently start a new scenario). The last click is kept: forgetting it would add it again."""
    st.session_state["cov_click_adds"] = False
    st.session_state["cov_added"], st.session_state["cov_closed"], st.session_state["cov_closed_pick"] = [], [], []


def facility_names(base: pd.DataFrame) -> pd.Series:
    """The facilities' names ("" where none), for the closed-facility list and the map."""
    return (base["name"] if "name" in base.columns else pd.Series("", index=base.index)).fillna("").astype(str)


def whatif_panel(q: dict, base: Any, names: pd.Series, show_2sfca: bool, lang: str) -> None:
    """The what-if expander (add by click, upload proposed sites, close facilities, clear) and,
    with the access ratio, the capacity column; fills the scenario into ``q``."""
    with st.expander(tr("coverage.whatif"),
                     expanded=bool(st.session_state["cov_added"] or st.session_state["cov_closed"])):
        st.caption(tr("coverage.whatif_help"))
        st.toggle(tr("coverage.whatif_add_click"), key="cov_click_adds")
        proposed_upload = uploader(tr("coverage.whatif_upload"), ["geojson", "json", "gpkg", "zip", "csv"],
                                   key="cov_proposed")
        st.session_state["cov_closed"] = list(choose_many(
            tr("coverage.whatif_closed"), list(base.index), default=[i for i in st.session_state["cov_closed"]
                                                                     if i in base.index],
            format_func=lambda i: f"{names.get(i) or '—'} (#{i})", key="cov_closed_pick",
            placeholder=tr("coverage.whatif_closed_placeholder")))
        st.button(tr("coverage.whatif_clear"), key="cov_clear", on_click=clear_scenario)
    try:
        if proposed_upload is not None:
            q.update(added_frame=read_upload(proposed_upload), added_key=digest(proposed_upload.getvalue()))
    except AtlasError as err:
        show_error(err)
    q.update(added=tuple(tuple(p) for p in st.session_state["cov_added"]),
             closed=tuple(st.session_state["cov_closed"]))
    if show_2sfca:
        q["capacity_col"] = choose_one(tr("coverage.capacity"), [""] + capacity_columns(base), key="cov_capacity",
                                       format_func=lambda c: str(c) or t("coverage.capacity_none", lang))


def take_click(out: dict | None, lang: str) -> None:
    """A new click on the map: remembered, and added as a proposed site when adding by click
    is on (then the page reruns); the last click's position is shown."""
    clicked = (out or {}).get("last_clicked")
    if clicked and clicked != st.session_state["cov_last_click"]:
        st.session_state["cov_last_click"] = clicked
        if st.session_state["cov_click_adds"]:
            st.session_state["cov_added"] = st.session_state["cov_added"] + [[float(clicked["lng"]),
                                                                              float(clicked["lat"])]]
            st.rerun()
    if st.session_state["cov_last_click"]:
        c = st.session_state["cov_last_click"]
        st.caption(tr("coverage.whatif_clicked", lat=fmt_number(round(c["lat"], 5), lang, 5),
                      lon=fmt_number(round(c["lng"], 5), lang, 5)))


def whatif_summary(result: CoverageResult, lang: str) -> None:
    """Sites added and closed, the total change, and the before/after table per unit."""
    if result.before is None:
        return
    st.markdown(f"#### {tr('coverage.whatif')}")
    st.caption(tr("coverage.whatif_count", added=result.added_count, closed=len(result.request.closed)))
    tb, ta = result.before_totals(), result.totals()
    st.write(tr("coverage.whatif_total_change", before=fmt_number(tb["covered_population"], lang),
                after=fmt_number(ta["covered_population"], lang),
                change=fmt_number(ta["covered_population"] - tb["covered_population"], lang)))
    st.dataframe(label_columns(fmt_table(result.comparison(), ("share_before", "share_after"), lang)),
                 hide_index=True, width="stretch")

"""Service coverage: who is within reach of a kind of facility, and what a change would do.

Thin page: widgets → one :class:`geo.service.CoverageRequest` → ``geo.service`` (cached
grids, labelled cells and per-cell costs: changing only the distance or the detour
re-thresholds instantly) → :mod:`layers.coverage_map` and tables. The parts, in page order:
``coverage_question`` (sidebar → request), ``coverage_whatif`` (proposed/closed sites, map
clicks, before/after), ``coverage_answer`` (answer, map, sentences, table),
``coverage_suggest`` (where to build next), ``coverage_downloads``.
"""
from __future__ import annotations

import streamlit as st

from geo import workspace
from geo.catalog import get_catalog
from geo.i18n import t
from geo.service import CoverageRequest
from pages import coverage_suggest
from pages.common import current_lang, ensure_app_entry, tr
from pages.coverage_answer import ask, headline, map_section, sentences_and_table
from pages.coverage_downloads import downloads
from pages.coverage_question import SavedLayers, ask_sidebar, build_request, read_upload
from pages.coverage_whatif import SESSION_DEFAULTS, facility_names, whatif_panel, whatif_summary
from pages.shared_data import coverage_service
from pages.sidebar import current_basemap

ensure_app_entry()

lang = current_lang()
catalog = get_catalog()
for key, value in SESSION_DEFAULTS.items():
    st.session_state.setdefault(key, value)

# ---- question -----------------------------------------------------------------------------
st.title(tr("coverage.title"), anchor=False)
st.caption(tr("coverage.intro"))
st.info(tr("coverage.rule"))
saved = SavedLayers.read()
choices = ask_sidebar(lang, catalog, saved)
q, graph, base = build_request(choices, catalog, saved)

# ---- what-if, answer, map -------------------------------------------------------------------
names = facility_names(base)
whatif_panel(q, base, names, choices.show_2sfca, lang)
result = ask(q)
headline(result, "grid" in q, lang)
map_section(result, q, names, graph, choices.unit_choice, lang)
whatif_summary(result, lang)

# ---- where to build next (pages/coverage_suggest.py) -------------------------------------
fac_source = choices.fac_source


def _category_points(category: str):
    """Another category's facilities from its authoritative source (e.g. the declared
    register of People's Committee seats as health-station sites)."""
    return coverage_service().facilities(CoverageRequest(category=category))[0]


_other = {c: (lambda c=c: _category_points(c)) for c in catalog.categories if c != fac_source}
_other.update({f"ws:{n}": (lambda n=n: workspace.read_layer(n)) for n in saved.of["points"]
               if f"ws:{n}" != fac_source})
if result.cells is not None:  # the page's own cells and per-cell costs (the service's answer)
    coverage_suggest.render(
        lang=lang, cells=result.cells, cost=result.cost, threshold=result.threshold, detour=float(choices.detour),
        graph=graph, metric=result.metric, fac_all=result.facilities, fac_label=result.facility_label(lang),
        fac_source=fac_source, units_gdf=result.units, grid=result.grid,
        context=(fac_source, choices.unit_choice, choices.pop_choice, choices.mode, choices.radius, choices.minutes,
                 float(choices.detour), choices.profile, tuple(st.session_state["cov_closed"])),
        candidate_layers=_other,
        candidate_labels={k: t("suggest.candidates_category", lang, category=catalog.categories[k].title(lang))
                          if k in catalog.categories else t("suggest.candidates_layer", lang, name=k[3:])
                          for k in _other},
        exclusion_layers={f"ws:{n}": (lambda n=n: workspace.read_layer(n)) for n in saved.of["polygons"]},
        exclusion_labels={f"ws:{n}": t("suggest.candidates_layer", lang, name=n) for n in saved.of["polygons"]},
        read_upload=read_upload, basemap=current_basemap())

sentences_and_table(result, lang)
downloads(result, fac_source, choices.unit_choice, lang)

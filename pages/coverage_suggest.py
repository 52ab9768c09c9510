"""Coverage page section "where to build next": suggested sites (geo.suggest), the curve of
covered share against the number of new sites, per-unit gain, one click into the what-if
scenario, downloads. Called by pages/coverage.py with the page's own cells and per-cell
costs, so the suggestion uses exactly the coverage the page shows."""
from __future__ import annotations

import re
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo import suggest as sg
from geo.catalog import get_catalog
from geo.coverage import CellSet, facility_xy
from geo.errors import AtlasError
from geo.i18n import fmt_number, fmt_percent, t
from geo.text import escape, spreadsheet_safe
from pages.common import choose_many, choose_one, current_lang, plain, show_error, tr, uploader

RESULT_KEY = "sug_result"
EXTRA_KEY = "sug_result_extra"  # candidates sentence, exclusions and scope of the stored answer
SCOPE_ALL = "__all__"
UPLOAD = "__upload__"
NONE = "__none__"
UPLOAD_TYPES = ["geojson", "json", "gpkg", "zip", "csv", "kml", "kmz", "xlsx"]


def _scope_cells(cells: CellSet, cost: np.ndarray, unit_pos: int | None) -> tuple[CellSet, np.ndarray]:
    """The cells (and costs) of one unit (position in ``cells.unit_ids``), or all."""
    if unit_pos is None:
        return cells, cost
    keep = cells.unit == unit_pos
    return replace(cells, rows=cells.rows[keep], cols=cells.cols[keep], xy=cells.xy[keep], pop=cells.pop[keep],
                   unit=np.zeros(int(keep.sum()), dtype=np.int64), unit_ids=cells.unit_ids[[unit_pos]],
                   unit_names=cells.unit_names[[unit_pos]]), cost[keep]


def _add_to_whatif(ranks: list[int], lonlat: list[tuple[float, float]], pick_key: str) -> None:
    """Add the sites whose rank is chosen (read at click time) to the what-if scenario."""
    chosen = set(st.session_state.get(pick_key, ranks))
    pts = [[x, y] for r, (x, y) in zip(ranks, lonlat) if r in chosen]
    st.session_state["cov_added"] = list(st.session_state.get("cov_added", [])) + pts
    st.session_state["sug_sent"] = len(pts)


def _solve(cells, cost, threshold, detour, graph, metric, fac_all, units_gdf, unit_pos, grid, cand_layer,
           exclusions, spacing, budget, model, target, time_limit) -> tuple[sg.Suggestion, str]:
    """Candidates (grid of the scope, or ``cand_layer`` inside it) minus exclusions and
    spacing → problem on the page's cells and costs → answer, and the candidates sentence."""
    scope_cells, scope_cost = _scope_cells(cells, cost, unit_pos)
    scope_units = units_gdf.iloc[[unit_pos]] if unit_pos is not None else units_gdf
    reach = sg.Reach(threshold, detour, graph=graph, metric=metric)
    fac_xy = facility_xy(fac_all, grid.crs)
    if cand_layer is None:
        cand = sg.grid_candidates(scope_units, grid.crs, sg.DEFAULT_CELL_M, grid=grid)
    else:
        cand = sg.candidates_within(sg.layer_candidates(cand_layer, grid.crs), scope_units)
    cand = sg.filter_candidates(cand, exclusions, fac_xy, spacing)
    note = tr("suggest.candidates_used", n=fmt_number(len(cand.xy), current_lang()),
              excluded=cand.dropped_excluded, spacing=cand.dropped_spacing)
    bar = st.progress(0.0)

    def progress(frac: float, stage: str) -> None:
        bar.progress(min(1.0, max(0.0, float(frac))), text=tr(stage))

    prob = sg.build_problem(scope_cells, scope_cost, reach, cand, spacing, progress=progress)
    s = sg.suggest(prob, budget, model=model, target_share=target, time_limit=time_limit, progress=progress)
    bar.empty()
    return s, note


def _layer_choice(choice: str, upload, layers: dict, read_upload, missing_key: str):
    """The layer behind a choice: an uploaded file (read by the page's reader, i.e.
    ``geo.io.read_any``), a loader of ``layers`` (saved layer, another category), or None."""
    if choice == UPLOAD:
        if upload is None:
            raise AtlasError(missing_key)
        return read_upload(upload)
    return layers[choice]() if choice in layers else None


def render(*, lang: str, cells: CellSet, cost: np.ndarray, threshold: float, detour: float, graph, metric: str,
           fac_all: gpd.GeoDataFrame, fac_label: str, fac_source: str, units_gdf: gpd.GeoDataFrame, grid,
           context: tuple, candidate_layers: dict, candidate_labels: dict[str, str],
           exclusion_layers: dict | None = None, exclusion_labels: dict[str, str] | None = None,
           read_upload=None, basemap: str = "none", credits=None) -> None:
    """Draw the section. ``cost`` is the page's per-cell cost to the existing facilities
    (aligned with ``cells``); ``context`` identifies the page's question (facilities, units,
    population, reach) so an answer to another question is not shown; ``candidate_layers``
    maps a choice key to a loader of a point layer (other categories, saved layers) and
    ``exclusion_layers`` one to a loader of a polygon layer (saved layers); ``read_upload``
    reads an uploaded file (``geo.io.read_any``); ``basemap`` is the app's choice."""
    exclusion_layers, exclusion_labels = exclusion_layers or {}, exclusion_labels or {}
    st.markdown(f"#### {tr('suggest.section')}")
    st.caption(tr("suggest.intro"))
    if graph is not None:
        st.caption(tr("suggest.network_slow"))
    names = [str(n) for n in cells.unit_names]
    uploads = read_upload is not None
    with st.form("sug_form"):
        c1, c2, c3 = st.columns(3)
        model = c1.radio(tr("suggest.model"), list(sg.MODELS), key="sug_model",
                         format_func=lambda m: t(f"suggest.model_{m}", lang))
        budget = c2.number_input(tr("suggest.budget"), min_value=1, max_value=50, value=3, step=1, key="sug_budget")
        target = c2.number_input(tr("suggest.target"), min_value=1, max_value=100, value=95, step=1,
                                 key="sug_target")
        scope = choose_one(tr("suggest.scope"), where=c3, options=[SCOPE_ALL] + list(range(len(names))), key="sug_scope",
                             format_func=lambda i: t("suggest.scope_all", lang) if i == SCOPE_ALL else names[i])
        cand_choice = choose_one(tr("suggest.candidates"), where=c3, options=["grid"] + list(candidate_layers)
                                   + ([UPLOAD] if uploads else []), key="sug_cand",
                                   format_func=lambda c: t("suggest.candidates_grid", lang) if c == "grid"
                                   else t("suggest.candidates_upload", lang) if c == UPLOAD
                                   else candidate_labels.get(c, c))
        c4, c5, c6 = st.columns(3)
        spacing = c4.number_input(tr("suggest.spacing"), min_value=0, max_value=50_000, value=0, step=100,
                                  key="sug_spacing")
        time_limit = c5.number_input(tr("suggest.time_limit"), min_value=1, max_value=600, value=20, step=5,
                                     key="sug_time")
        excl_choice = choose_one(tr("suggest.exclusions"), where=c6, options=[NONE] + list(exclusion_layers)
                                   + ([UPLOAD] if uploads else []), key="sug_excl",
                                   format_func=lambda c: t("suggest.exclusions_none", lang) if c == NONE
                                   else t("suggest.exclusions_upload", lang) if c == UPLOAD
                                   else exclusion_labels.get(c, c))
        cand_file = excl_file = None
        if uploads:  # a form cannot show an uploader only after a choice: both are always offered
            u1, u2 = st.columns(2)
            with u1:  # the house uploader: the reader's size cap, formats and help in the UI language
                cand_file = uploader(tr("suggest.candidates_file"), UPLOAD_TYPES, key="sug_cand_file")
            with u2:
                excl_file = uploader(tr("suggest.exclusions_file"), UPLOAD_TYPES, key="sug_excl_file")
        run = st.form_submit_button(tr("suggest.run"))
    if run:
        try:
            cand_layer = _layer_choice(cand_choice, cand_file, candidate_layers, read_upload,
                                       "suggest_errors.no_candidate_file")
            if cand_layer is not None and len(cand_layer) == 0:
                raise AtlasError("suggest_errors.bad_candidates", name=candidate_labels.get(cand_choice, cand_choice)
                                 if cand_choice != UPLOAD else cand_file.name)
            exclusions = _layer_choice(excl_choice, excl_file, exclusion_layers, read_upload,
                                       "suggest_errors.no_exclusion_file")
            if exclusions is not None:
                exclusions = sg.exclusion_polygons(exclusions, excl_file.name if excl_choice == UPLOAD
                                                   else exclusion_labels.get(excl_choice, excl_choice))
            s, note = _solve(cells, cost, threshold, detour, graph, metric, fac_all, units_gdf,
                             None if scope == SCOPE_ALL else int(scope), grid, cand_layer, exclusions,
                             float(spacing), int(budget) if model != "lscp" else max(int(budget), 50), model,
                             float(target) / 100 if model == "lscp" else None, float(time_limit))
            s.category = fac_source if fac_source in get_catalog().categories else None  # deck wording
            st.session_state[RESULT_KEY] = (context, s)
            st.session_state[EXTRA_KEY] = (note, exclusions, None if scope == SCOPE_ALL else int(scope))
        except AtlasError as err:
            show_error(err)
            return
    stored = st.session_state.get(RESULT_KEY)
    if not stored or stored[0] != context:
        return
    s: sg.Suggestion = stored[1]
    lines = sg.sentences(s, lang, fac_label)
    st.markdown("\n".join(f"- {plain(x)}" for x in lines))   # names of saved layers: literal
    if len(s.sites) == 0:
        return
    from layers.suggest_sites import suggestion_map
    from pages.map_component import show_map

    note, exclusions, unit_pos = st.session_state.get(EXTRA_KEY) or ("", None, None)
    if note:
        st.caption(note)
    scope_units = units_gdf.iloc[[unit_pos]] if unit_pos is not None else units_gdf
    scope_names = [names[unit_pos]] if unit_pos is not None else names
    show_map(suggestion_map(s.sites, scope_units, scope_names, fac_all, lang, basemap, exclusions),
             key="sug_map", height=420, returned_objects=())
    ranks = [int(r) for r in s.sites["rank"]]
    lonlat = sg.sites_lonlat(s)
    pick_key = f"sug_send_ranks_{abs(hash(tuple(lonlat)))}"  # a new answer starts with all its sites chosen
    chosen = choose_many(tr("suggest.send_which"), ranks, default=ranks, key=pick_key,
                         format_func=lambda r: f"#{r}")
    st.button(tr("suggest.send_whatif"), key="sug_send", on_click=_add_to_whatif, args=(ranks, lonlat, pick_key),
              type="primary", disabled=not chosen)
    if st.session_state.get("sug_sent"):
        st.success(tr("suggest.sent_whatif", n=st.session_state.pop("sug_sent")))
    left, right = st.columns(2)
    curve = pd.DataFrame({tr("suggest.curve_y"): 100 * s.curve["covered_share"].to_numpy(),
                          tr("suggest.curve_bound"): 100 * s.curve["bound_share"].to_numpy()},
                         index=pd.Index(s.curve["n_sites"].to_numpy(), name=tr("suggest.curve_x")))
    left.markdown(f"**{escape(tr('suggest.curve_title'))}**")
    left.line_chart(curve, x_label=tr("suggest.curve_x"), y_label=f"{tr('suggest.curve_y')} (%)")
    table = pd.DataFrame({
        tr("suggest.col_rank"): s.sites["rank"].to_numpy(),
        tr("suggest.col_marginal"): [fmt_number(round(float(x)), lang) for x in s.sites["marginal_people"]],
        tr("suggest.col_share"): [fmt_percent(float(x), lang) for x in s.sites["covered_share"]],
    })
    right.dataframe(table, hide_index=True, width="stretch")
    units = s.by_unit[s.by_unit["change"] > 0].sort_values("change", ascending=False)
    st.dataframe(pd.DataFrame({
        tr("suggest.col_unit"): units["unit_name"].astype(str).to_numpy(),
        tr("suggest.col_before"): [fmt_percent(float(x), lang) for x in units["share_before"]],
        tr("suggest.col_after"): [fmt_percent(float(x), lang) for x in units["share_after"]],
        tr("suggest.col_change"): [fmt_number(round(float(x)), lang) for x in units["change"]],
    }), hide_index=True, width="stretch")
    _downloads(s, lang, fac_source, credits)


def _downloads(s: sg.Suggestion, lang: str, fac_source: str, credits) -> None:
    stem = re.sub(r"[^\w.-]+", "_", f"suggested_sites_{fac_source}")
    frame = sg.export_frame(s, lang)
    gdf = gpd.GeoDataFrame(frame, geometry=s.sites.geometry.to_numpy(), crs=s.sites.crs)

    def geo_bytes(fmt: str) -> bytes:
        from geo.export import Credits, export_bytes

        cr = credits or Credits.combine(tr("suggest.section"), [])
        return export_bytes(gdf, fmt, credits=cr.with_notes(*sg.sentences(s, lang, "")[-1:]), lang=lang,
                            name=stem)[1]

    d1, d2, d3, d4, d5 = st.columns(5)
    d1.download_button(tr("suggest.download_csv"), spreadsheet_safe(frame).to_csv(index=False).encode("utf-8-sig"),
                       f"{stem}.csv", "text/csv", key="sug_dl_csv")
    d2.download_button(tr("suggest.download_geojson"), lambda: geo_bytes("geojson"), f"{stem}.geojson",
                       "application/geo+json", key="sug_dl_geojson")
    d3.download_button(tr("suggest.download_gpkg"), lambda: geo_bytes("gpkg"), f"{stem}.gpkg",
                       "application/geopackage+sqlite3", key="sug_dl_gpkg")
    d4.download_button(tr("suggest.download_units"), spreadsheet_safe(sg.units_export_frame(s)).to_csv(index=False)
                       .encode("utf-8-sig"), f"{stem}_units.csv", "text/csv", key="sug_dl_units")
    d5.download_button(tr("suggest.download_curve"), sg.curve_export_frame(s, lang).to_csv(index=False)
                       .encode("utf-8-sig"), f"{stem}_curve.csv", "text/csv", key="sug_dl_curve")

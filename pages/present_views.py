"""Saved map views and presentation mode of the Export & present page (pages/export.py):
the units offered, the default views (three smart cities + province), a view's name and
caption, its folium map (built once per view), and the full-width keyboard-driven presentation."""
from __future__ import annotations

import json
from typing import Any

import streamlit as st

from geo.errors import AtlasError
from pages.common import current_lang, plain, tr, tr_plain
from pages.shared_data import cached_layer
from pages.sidebar import current_basemap
from pages.url_codec import unit_key, unit_param
from pages.urlstate import write_state

STYLE_KEYS = ("scheme", "classes", "categories")  # how a view's layers are drawn (kept in views and links)


@st.cache_resource(show_spinner=False)
def units() -> dict[str, Any]:
    from geo.units import deck_units

    return deck_units()


def unit_options() -> list[str]:
    """Unit keys: the three smart cities, the province, then the other districts."""
    from geo.units import programme_cities

    all_units = units()
    first = [u.key for u in programme_cities() if u.key in all_units] + ["province"]
    return first + [k for k in all_units if k not in first]


def unit_label(key: str) -> str:
    return units()[key].label(current_lang())


def default_views() -> list[dict[str, Any]]:
    """One view per smart city and one for the province (boundaries + infrastructure)."""
    from geo.units import bounds_latlon

    views = []
    for key in unit_options()[:4]:
        unit = units()[key]
        views.append({"name": unit.label(current_lang()), "layers": ["districts", "communes", "infrastructure"],
                      "basemap": "none", "bounds": bounds_latlon(unit.geometry), "unit": key, "indicator": None,
                      "auto_name": True})
    return views


def view_name(view: dict[str, Any]) -> str:
    """A default view is named after its unit in the current language; saved views keep theirs."""
    if view.get("auto_name") and view.get("unit") in units():
        return unit_label(view["unit"])
    return str(view.get("name", ""))


def view_from_url(name: str, view_state: dict[str, Any]) -> dict[str, Any]:
    """A view (layers, basemap, extent, unit, indicator) of the map the page acts on, named ``name``."""
    from geo.catalog import get_catalog

    layers = view_state.get("layers") or [lid for lid, ly in get_catalog().layers.items() if ly.default]
    return {"name": name, "layers": layers, "basemap": view_state.get("basemap", "none"),
            "bounds": view_state.get("bounds"), "unit": unit_key(view_state.get("unit")),
            "indicator": view_state.get("indicator"), **{k: view_state[k] for k in STYLE_KEYS if k in view_state}}


def view_caption(view: dict[str, Any]) -> str:
    """Layers (catalog titles), indicator and extent of a view, for the page."""
    from geo.catalog import get_catalog

    catalog = get_catalog()
    parts = [", ".join(catalog.layers[lid].title(current_lang()) for lid in view.get("layers") or [] if lid in catalog.layers)]
    layer_id, _, column = str(view.get("indicator") or "").partition(":")
    if column and layer_id in catalog.layers:
        parts.append(f"{tr('present.indicator')}: {plain(catalog.field_label(column, current_lang()))}")  # URL text
    if view.get("bounds"):
        (s, w), (n, e) = view["bounds"]
        parts.append(f"{tr('present.extent')}: {w:.3f}, {s:.3f} – {e:.3f}, {n:.3f}")
    return " · ".join(p for p in parts if p)


def map_view(view: dict[str, Any]):  # layers.views.MapView
    from layers.views import MapView

    app_basemap = current_basemap()  # "none" in the sidebar means offline: no map fetches tiles
    basemap = "none" if app_basemap == "none" else (view.get("basemap") or app_basemap)
    mv = MapView(layers=list(view.get("layers") or []), basemap=basemap,
                 bounds=view.get("bounds"), lang=current_lang())
    mv.scheme, mv.k = view.get("scheme") or mv.scheme, int(view.get("classes") or mv.k)
    mv.categories = view.get("categories")
    indicator = view.get("indicator") or ""
    if ":" in indicator:
        layer_id, column = indicator.split(":", 1)
        if layer_id in mv.layers:
            mv.choropleth_layer, mv.choropleth_column = layer_id, column
    return mv


@st.cache_resource(show_spinner=False, max_entries=16)
def folium_map(key: str, _view: dict[str, Any]):  # folium.Map
    return build_map_of(_view)


def build_map_of(view: dict[str, Any]):  # folium.Map
    """The folium map of a view. Leaflet needs a maxZoom for clustered markers when no tile
    layer sets one (basemap "none"), so it is set here."""
    from layers.views import build_map

    m = build_map(map_view(view), loader=cached_layer)
    m.options.setdefault("max_zoom", 19)
    return m


def show_folium(m: Any, key: str, height: int) -> None:
    from pages.map_component import show_map

    show_map(m, key=key, height=height, returned_objects=())


# ---------------------------------------------------------------------------- presentation mode

_PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], footer { display: none !important; }
.block-container, [data-testid="stMainBlockContainer"] { padding: 0.6rem 1.2rem !important; max-width: 100% !important; }
h1 { font-size: 3rem !important; }
[data-testid="stCaptionContainer"], .stMarkdown p { font-size: 1.5rem !important; }
.stButton button p { font-size: 1.4rem !important; }
</style>
"""

_KEYS_JS = """
<script>
(function () {
  const doc = window.parent.document;
  doc.__atlasPresentLabels = %s;
  function press(e) {
    const tgt = e.target;
    if (tgt && (tgt.tagName === "INPUT" || tgt.tagName === "TEXTAREA")) return;
    const labels = doc.__atlasPresentLabels || {};
    let want = null;
    if (e.key === "ArrowRight" || e.key === "PageDown" || e.key === " ") want = labels.next;
    else if (e.key === "ArrowLeft" || e.key === "PageUp") want = labels.prev;
    else if (e.key === "Escape") want = labels.stop;
    if (!want) return;
    const btn = Array.from(doc.querySelectorAll("button")).find(b => b.innerText.trim() === want);
    if (btn) { e.preventDefault(); btn.click(); }
  }
  if (!doc.__atlasPresentKeys) { doc.__atlasPresentKeys = true; doc.addEventListener("keydown", press); }
  // keys pressed while the map has the focus
  for (const frame of doc.querySelectorAll("iframe")) {
    try {
      const inner = frame.contentDocument;
      if (inner && !inner.__atlasPresentKeys) { inner.__atlasPresentKeys = true; inner.addEventListener("keydown", press); }
    } catch (err) { /* another origin: skip */ }
  }
})();
</script>
"""


def present(views: list[dict[str, Any]]) -> None:
    """Full-width map of the current saved view; ←/→ PageUp/PageDown step, Esc leaves."""
    st.markdown(_PRESENT_CSS, unsafe_allow_html=True)
    if not views:
        st.info(tr("present.no_views"))
        return
    idx = min(max(int(st.session_state["present_index"]), 0), len(views) - 1)
    view = views[idx]
    prev_col, title_col, next_col, stop_col = st.columns([2, 9, 2, 3])
    if prev_col.button(tr("present.prev"), key="present_prev", disabled=idx == 0):
        st.session_state["present_index"] = idx - 1
        st.rerun()
    if next_col.button(tr("present.next"), key="present_next", disabled=idx >= len(views) - 1):
        st.session_state["present_index"] = idx + 1
        st.rerun()
    if stop_col.button(tr("present.stop"), key="present_stop"):
        st.session_state["present_on"] = False
        # the address stops carrying the presented view: the page acts on the map page's view again
        write_state(remember=False, present=None, view=None, layers=None, basemap=None, bounds=None, unit=None,
                    indicator=None, **dict.fromkeys(STYLE_KEYS))
        st.rerun()
    title_col.markdown(f"# {plain(view_name(view))}")
    st.caption(tr_plain("present.view_counter", n=idx + 1, total=len(views), name=view_name(view)) + " · "
               + tr("present.keys_hint"))
    write_state(remember=False, present=True, view=idx, layers=view.get("layers"), basemap=view.get("basemap"),
                bounds=view.get("bounds"), unit=unit_param(view.get("unit")), indicator=view.get("indicator"),
                **{k: view.get(k) for k in STYLE_KEYS})
    labels = {"next": tr("present.next"), "prev": tr("present.prev"), "stop": tr("present.stop")}
    keys_js = _KEYS_JS % json.dumps(labels, ensure_ascii=False)
    # our own script (labels from the string catalog), same-origin so it can listen on the page;
    # once before the map (keys work while the map still loads), once after it (keys pressed
    # with the focus inside the map's frame)
    st.iframe(keys_js, height=1)
    try:
        key = json.dumps({k: view.get(k) for k in ("layers", "basemap", "bounds", "indicator", *STYLE_KEYS)},
                         sort_keys=True)
        show_folium(folium_map(key + current_lang() + current_basemap(), view), key=f"present_map_{idx}", height=760)
    except AtlasError as err:
        st.warning(tr("present.render_missing", reason=err.message(current_lang())))
    st.iframe(keys_js, height=1)

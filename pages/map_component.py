"""Show a folium map through streamlit-folium's component, rendering each map only once.

``st_folium`` re-renders the whole folium tree 3–4 times on every rerun (and walks all
coordinates for the bounds) — ~250 ms for the default view. Our maps are cached objects,
so the rendered pieces are computed once per map object and reused on warm reruns.
The arguments passed to the component are the same as ``st_folium``'s (pinned
streamlit-folium 0.27.4).
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from typing import Any

import branca
import folium
import streamlit_folium as sf

_ATTR = "_atlas_rendered"


_RENDER_LOCK = threading.Lock()  # maps are shared by sessions: one renders, the others wait for it


def prepare_map(m: folium.Map) -> dict[str, Any]:
    """Render the map once into the strings the component needs (cached on the object)."""
    cached = getattr(m, _ATTR, None)
    if cached is not None:
        return cached
    with _RENDER_LOCK:
        cached = getattr(m, _ATTR, None)
        return cached if cached is not None else _render(m)


def _render(m: folium.Map) -> dict[str, Any]:
    m.get_root().render()
    m.render()
    html = sf._get_html(m)
    header = sf._get_header(m)
    leaflet = sf._get_map_string(m)
    try:
        (s, w), (n, e) = m.get_bounds()
    except (AttributeError, TypeError, ValueError):
        s = w = n = e = None
    css: list[str] = []
    js: list[str] = []
    stack: list[Any] = [m]
    while stack:
        elem = stack.pop(0)
        css.extend(href for _, href in getattr(elem, "default_css", []))
        js.extend(src for _, src in getattr(elem, "default_js", []))
        if isinstance(elem, branca.colormap.ColorMap):
            raise ValueError("branca colormaps load d3 from a CDN; use layers.render legends")
        stack.extend(getattr(elem, "_children", {}).values())
    parts = {
        "html": html, "header": header, "script": leaflet, "id": sf.get_full_id(m),
        "bounds": {"_southWest": {"lat": s, "lng": w}, "_northEast": {"lat": n, "lng": e}},
        "zoom": m.options.get("zoom"),
        "version": hashlib.sha1(leaflet.encode()).hexdigest()[:16],
        "css_links": list(dict.fromkeys(css)), "js_links": list(dict.fromkeys(js)),
    }
    setattr(m, _ATTR, parts)
    return parts


def _rebuild_js(version: str) -> str:
    """JS run by the frontend on each render: rebuild the Leaflet map when it changed.

    The streamlit-folium frontend creates the Leaflet map once per iframe and later only
    evaluates ``feature_group`` code (in a scope where the current ``script`` and ``html``
    arguments are visible). When the map id differs from the one drawn, this removes the
    old map, legends and credits, then runs the new script in the same container.
    """
    return (
        f'if (window.__atlas_map_id !== "{version}") {{'
        " var atlasView = null;"
        " try { atlasView = [window.map.getCenter(), window.map.getZoom()]; window.map.remove(); } catch (e) {}"
        " document.querySelectorAll('.atlas-legend, .atlas-credits').forEach(function (e) { e.remove(); });"
        " var atlasHolder = document.createElement('div'); atlasHolder.innerHTML = html;"
        " atlasHolder.querySelectorAll('.folium-map').forEach(function (e) { e.remove(); });"
        " document.body.appendChild(atlasHolder);"
        ' (0, eval)(script + ";window.map = map_div; window.initComponent(map_div, false);");'
        # keep where the user was looking (layers changed, not the place)
        " window.map.invalidateSize(); if (atlasView) { window.map.setView(atlasView[0], atlasView[1]); }"
        "}\n"
    )


DRAWN = "atlas_drawn"   # the value the map sets once drawn when asked to (show_map, report_drawn)

# Wraps the map's script (run once per frame by streamlit-folium): after the first frame with the
# map is painted (an animation frame, then a task), the component's value is set, which reruns the
# page. Also on a script error in the frame or after 4 s, so the page never waits for a map that
# cannot be drawn; not after a click (its own value reran the page and must stay the value).
_REPORT_BEFORE = (
    "(function () { var sent = false;"
    " window.__atlasDrawn = function () { var g = window.__GLOBAL_DATA__ || {};"
    # a click already sent (it reran the page): its value must stay the component's
    "  if (sent || !window.Streamlit || g.lat_lng_clicked || g.last_object_clicked) { return; } sent = true;"
    f" window.Streamlit.setComponentValue({{{DRAWN}: true}}); }};"
    " window.addEventListener('error', window.__atlasDrawn); setTimeout(window.__atlasDrawn, 4000); })();\n"
)
_REPORT_AFTER = "\nrequestAnimationFrame(function () { setTimeout(window.__atlasDrawn, 0); });\n"


def _ensure_registered() -> None:
    """Register streamlit-folium's component with the running server if it is not yet.

    The package declares its component when first imported, and Streamlit registers a
    declaration only inside a session's run; the server imports it earlier (start-up
    warm-up, ``pages.map_cache``), so the browser would get a 404 for the component.
    """
    from streamlit import runtime

    if runtime.exists():
        registry = runtime.get_instance().component_registry
        if registry.get_component(sf._component_func.name) is None:
            registry.register_component(sf._component_func)


def show_map(m: folium.Map, key: str, height: int = 620,
             returned_objects: Iterable[str] = ("last_clicked",),
             center: list[float] | None = None, zoom: int | None = None,
             report_drawn: bool = False) -> dict[str, Any]:
    """Display ``m`` full-width; returns only ``returned_objects`` (each change reruns the page).

    ``center``/``zoom`` move the drawn map without rebuilding it (applied when they change).
    ``report_drawn``: once the browser has painted the map, it sets the value ``{DRAWN: True}``
    (a rerun): a page can send its map first and the rest on that rerun.
    """
    _ensure_registered()
    parts = prepare_map(m)
    returned = list(returned_objects)
    all_defaults = {"last_clicked": None, "last_object_clicked": None, "last_object_clicked_tooltip": None,
                    "bounds": parts["bounds"], "zoom": parts["zoom"]}
    defaults = {k: all_defaults.get(k) for k in returned}
    version = parts["version"]
    script = parts["script"] + f'\nwindow.__atlas_map_id = "{version}";\n'
    if report_drawn:
        script = _REPORT_BEFORE + script + _REPORT_AFTER
    value = sf._component_func(
        script=script, header=parts["header"],
        html=parts["html"], id=parts["id"], key=key,
        height=height, width=None, returned_objects=returned, default=defaults, zoom=zoom, center=center,
        feature_group=_rebuild_js(version), return_on_hover=False, layer_control=None, pixelated=False,
        css_links=parts["css_links"], js_links=parts["js_links"], on_change=None, wrap_longitude=False,
    )
    return value or defaults

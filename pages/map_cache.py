"""The map explorer's maps: built once per view, shared by every session of the server.

A folium map of the default view takes seconds to build and render (four layers, the
compact canvas payload, the component's strings); ``cached_map`` keeps one per distinct
view (bounded), and ``warm_default_map`` builds the default view when the server starts,
so a new session's first map is a cache hit rather than a build.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import folium
import geopandas as gpd
import streamlit as st

from geo.catalog import get_catalog
from geo.errors import AtlasError
from geo.i18n import DEFAULT_LANG
from geo.units import UNIT_LAYERS, programme_cities
from layers.basemap import default_basemap
from layers.render import add_gdf_layer, geometry_kind
from layers.views import MapView, build_map, default_view
from pages.map_component import prepare_map
from pages.shared_data import cached_layer, layer_version

UserLayers = dict[str, Callable[[], gpd.GeoDataFrame]]  # name → loader (with ``saved_at``)


def view_key(view: MapView, user_layers: UserLayers) -> tuple:
    """Everything that makes two views draw differently (file versions included)."""
    return (view.lang, view.basemap, tuple(view.layers), view.choropleth_layer, view.choropleth_column,
            view.scheme, view.k, tuple(view.categories or ()),
            tuple((name, getattr(load, "saved_at", "")) for name, load in user_layers.items()),
            tuple(layer_version(lid) for lid in view.layers))


@st.cache_resource(max_entries=16, show_spinner=False)
def cached_map(key: tuple, _view: MapView, _user_layers: UserLayers) -> tuple[folium.Map, list]:
    """The folium map of a view and its layer failures (built once per ``key``)."""
    def add_user_layers(m: folium.Map) -> None:
        for name, load in _user_layers.items():
            gdf = load()
            add_gdf_layer(m, gdf, _view.lang, name, [c for c in gdf.columns if c != "geometry"][:4],
                          geometry_kind(gdf))

    m = build_map(_view, loader=cached_layer, catalog=get_catalog(), extra=add_user_layers)
    return m, list(_view.failures)


def default_map_view(lang: str = DEFAULT_LANG, basemap: str | None = None) -> MapView:
    """The view a new session of the map page starts with (as the page's widgets make it)."""
    catalog = get_catalog()
    view = default_view(lang, catalog)
    view.basemap = basemap or default_basemap()
    if "infrastructure" in view.layers:
        view.categories = catalog.default_categories()
    return view


def warm_imports() -> None:
    """Import the pages' helper modules and do once what the server's first session would
    otherwise pay for (cProfile / py-spy of that session): Pillow's format plugins (the
    favicon), the first DataFrame of text (pandas' Arrow strings: ~0.13 s once per process,
    the map page's credits table), Streamlit's "not run with streamlit run?" check on the
    first element a process sends (it walks the stack and resolves every module's path:
    ~0.3 s under cProfile; this module runs under ``streamlit run``, so it is answered here)."""
    import importlib
    from pathlib import Path

    import pandas as pd
    import PIL.Image
    import streamlit.delta_generator

    PIL.Image.preinit()  # st.set_page_config opens the favicon with Pillow: its format plugins, once
    pd.DataFrame({"text": ["x"]})
    streamlit.delta_generator._use_warning_has_been_displayed = True

    from pages import PAGES

    scripts = {name for name, *_ in PAGES}  # they draw when run; the rest are helpers
    here = Path(__file__).resolve().parent
    for path in sorted(here.glob("*.py")):
        if path.stem not in scripts and not path.stem.startswith("_"):
            importlib.import_module(f"pages.{path.stem}")


def warm_default_map(lang: str = DEFAULT_LANG) -> None:
    """Read the unit layers and build + render the default map (server start-up).

    Failures (a missing data file …) are left for the page to report; the server starts anyway.
    """
    import streamlit.emojis  # noqa: F401 — its 1 s regex compile would fall on the first st.info of a session

    warm_imports()
    try:
        for lid in UNIT_LAYERS:
            cached_layer(lid)
        programme_cities()  # the map page names the cities from the unit registry (a file read once)
        view = default_map_view(lang)
        m, _ = cached_map(view_key(view, {}), view, {})
        prepare_map(m)
    except (AtlasError, OSError, ValueError) as err:
        logging.getLogger(__name__).warning("default map not prepared at start-up: %s", err)

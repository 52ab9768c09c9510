"""A map view = which layers, how drawn, where. One builder for the page, the CLI and the bench."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import folium
import geopandas as gpd

from geo.catalog import Catalog, get_catalog, load_layer
from geo.errors import AtlasError
from geo.i18n import t
from layers.render import add_catalog_layer, finish_map, new_map

Loader = Callable[[str], gpd.GeoDataFrame]


@dataclass
class MapView:
    """Everything that decides what the map shows."""

    layers: list[str]
    basemap: str = "positron"
    choropleth_layer: str | None = None
    choropleth_column: str | None = None
    scheme: str = "quantiles"
    k: int = 5
    bounds: list[list[float]] | None = None
    categories: list[str] | None = None
    lang: str = "vi"
    failures: list[tuple[str, AtlasError]] = field(default_factory=list)


def default_view(lang: str = "vi", catalog: Catalog | None = None) -> MapView:
    """The view a planner sees on opening the app."""
    catalog = catalog or get_catalog()
    return MapView(layers=[lid for lid, layer in catalog.layers.items() if layer.default], lang=lang)


def credits_line(layer_ids: list[str], lang: str, catalog: Catalog | None = None) -> str:
    """Short source/licence credits for the layers on the map."""
    catalog = catalog or get_catalog()
    parts = []
    for lid in layer_ids:
        layer = catalog.layers.get(lid)
        if layer and layer.licence not in parts:
            parts.append(layer.licence.split(";")[0])
    return f"{t('common.source', lang)}: " + " · ".join(dict.fromkeys(parts)) if parts else ""


def build_map(view: MapView, loader: Loader = load_layer, catalog: Catalog | None = None,
              extra: Callable[[folium.Map], None] | None = None) -> folium.Map:
    """Build the folium map for ``view``; a layer that fails to load is recorded, not fatal.

    ``extra`` adds further layers (e.g. a user's) before the layer control is made, so the
    control lists them too.
    """
    catalog = catalog or get_catalog()
    m = new_map(view.lang, view.basemap, view.bounds)
    view.failures.clear()
    for lid in view.layers:
        layer = catalog.layer(lid)
        try:
            gdf = loader(lid)
        except AtlasError as err:
            view.failures.append((lid, err))
            continue
        choropleth = lid == view.choropleth_layer and view.choropleth_column in gdf.columns
        if lid == "infrastructure" and view.categories is not None:
            from layers.render import add_infrastructure
            add_infrastructure(m, gdf, view.lang, catalog, categories=view.categories)
            continue
        add_catalog_layer(m, layer, gdf, view.lang, mode="choropleth" if choropleth else "outline",
                          column=view.choropleth_column if choropleth else None,
                          scheme=view.scheme, k=view.k, catalog=catalog)
    if extra is not None:
        extra(m)
    return finish_map(m, view.lang, credits_line(view.layers, view.lang, catalog))

"""The declarative layer catalog (``layers/catalog.toml``) and loading of its layers."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd

from geo.errors import AtlasError
from geo.settings import CATALOG_FILE, DATA_DIR, STORE_CRS


@dataclass(frozen=True)
class Layer:
    """One catalog entry."""

    id: str
    title_vi: str
    title_en: str
    file: str
    kind: str
    category: str
    source: str
    licence: str
    vintage: str
    tooltip: tuple[str, ...] = ()
    choropleth: tuple[str, ...] = ()
    style: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    default: bool = False
    derived: bool = False
    unit_level: str = ""
    highlight_field: str = ""
    vintage_vi: str = ""
    source_vi: str = ""
    licence_vi: str = ""
    display_file: str = ""  # pre-simplified copy for drawing only (see for_display)
    key: str = ""  # column joining display_file to file

    def title(self, lang: str) -> str:
        """Title in ``lang``."""
        return self.title_en if lang == "en" else self.title_vi

    def vintage_text(self, lang: str) -> str:
        """Vintage in ``lang`` (the English text when no Vietnamese one is given)."""
        return self.vintage_vi if lang == "vi" and self.vintage_vi else self.vintage

    def source_text(self, lang: str) -> str:
        """Source in ``lang`` (the English text when no Vietnamese one is given)."""
        return self.source_vi if lang == "vi" and self.source_vi else self.source

    def licence_text(self, lang: str) -> str:
        """Licence in ``lang`` (the English text when no Vietnamese one is given)."""
        return self.licence_vi if lang == "vi" and self.licence_vi else self.licence

    @property
    def path(self) -> Path:
        """Absolute path of the layer's file (honours ``ATLAS_DATA_DIR``)."""
        return Path(DATA_DIR) / self.file


@dataclass(frozen=True)
class Category:
    """An infrastructure category with the OSM tags it takes."""

    id: str
    title_vi: str
    title_en: str
    icon: str
    color: str
    tags: tuple[str, ...]
    default: bool = True
    radius_m: float = 2000.0  # default service reach, straight-line metres
    minutes: float = 15.0  # default service reach, travel minutes on a road layer
    types: tuple[tuple[str, tuple[str, ...]], ...] = ()  # facility types within the category: (type, tags)

    def title(self, lang: str) -> str:
        """The category's title in ``lang`` (vi or en)."""
        return self.title_en if lang == "en" else self.title_vi


@dataclass(frozen=True)
class Catalog:
    """The layer catalog read from layers/catalog.toml: layers, facility categories, field labels."""

    layers: dict[str, Layer]
    categories: dict[str, Category]
    fields: dict[str, dict[str, str]]

    def layer(self, layer_id: str) -> Layer:
        """The layer ``layer_id`` or an ``AtlasError`` naming it."""
        try:
            return self.layers[layer_id]
        except KeyError:
            raise AtlasError("errors.unknown_layer", layer=layer_id) from None

    def default_categories(self) -> list[str]:
        """Infrastructure categories shown when the map opens."""
        return [cid for cid, c in self.categories.items() if c.default]

    def field_label(self, name: str, lang: str) -> str:
        """The display label of attribute ``name`` in ``lang``; the raw name when the catalog has none."""
        entry = self.fields.get(name)
        return entry.get(lang, name) if entry else name


def parse_catalog(text: str) -> Catalog:
    """Parse catalog TOML text; raises ValueError on a malformed entry."""
    data = tomllib.loads(text)
    layers: dict[str, Layer] = {}
    for entry in data.get("layer", []):
        entry = dict(entry)
        for key in ("tooltip", "choropleth"):
            entry[key] = tuple(entry.get(key, ()))
        layer = Layer(**entry)
        if layer.id in layers:
            raise ValueError(f"duplicate layer id {layer.id}")
        if layer.kind not in ("polygon", "point", "line"):
            raise ValueError(f"layer {layer.id}: unknown kind {layer.kind}")
        layers[layer.id] = layer
    categories = {cid: Category(id=cid, title_vi=c["title_vi"], title_en=c["title_en"], icon=c["icon"],
                                color=c["color"], tags=tuple(c.get("tags", ())), default=c.get("default", True),
                                radius_m=float(c["radius_m"]), minutes=float(c["minutes"]),
                                types=tuple((k, tuple(v)) for k, v in c.get("types", {}).items()))
                  for cid, c in data.get("categories", {}).items()}
    return Catalog(layers=layers, categories=categories, fields=data.get("fields", {}))


def service_reach(category: str) -> tuple[float, float]:
    """The default service reach of a facility category: ``(radius_m, minutes)``.

    Declared once per category in ``layers/catalog.toml`` (``radius_m``: straight-line
    metres; ``minutes``: travel time on a road layer). Every surface that asks a coverage
    question without a reach uses these.

    Raises
    ------
    AtlasError
        ``coverage_errors.unknown_category`` for a category the catalog does not have.
    """
    cats = get_catalog().categories
    if category not in cats:
        raise AtlasError("coverage_errors.unknown_category", category=category, categories=", ".join(cats))
    return cats[category].radius_m, cats[category].minutes


@lru_cache(maxsize=1)
def get_catalog(path: str | None = None) -> Catalog:
    """The project's catalog (cached)."""
    return parse_catalog(Path(path or CATALOG_FILE).read_text(encoding="utf-8"))


def load_layer(layer_id: str) -> gpd.GeoDataFrame:
    """Read a catalog layer from ``data/shapefiles`` in EPSG:4326.

    A missing or unreadable file raises ``AtlasError`` with a message saying how to fix it.
    """
    layer = get_catalog().layer(layer_id)
    if not layer.path.exists():
        raise AtlasError("errors.layer_missing", layer=layer_id, file=layer.file)
    try:
        gdf = gpd.read_file(layer.path, engine="pyogrio")
    except Exception:  # any read failure is a damaged file to the user
        raise AtlasError("errors.layer_corrupt", layer=layer_id, file=layer.file) from None
    if gdf.crs is None or gdf.geometry is None:
        raise AtlasError("errors.layer_corrupt", layer=layer_id, file=layer.file)
    return gdf.to_crs(STORE_CRS) if gdf.crs.to_epsg() != 4326 else gdf


@lru_cache(maxsize=8)
def _display_copy(path: str, mtime: float, key: str) -> gpd.GeoSeries:
    gdf = gpd.read_file(path, engine="pyogrio").to_crs(STORE_CRS)
    return gpd.GeoSeries(gdf.geometry.to_numpy(), index=gdf[key].astype(str).to_numpy(), crs=STORE_CRS)


def for_display(layer: Layer, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` with its geometry swapped for the layer's display copy, for drawing only.

    Parameters
    ----------
    layer : Layer
        A catalog layer; only one with ``display_file`` and ``key`` is changed.
    gdf : GeoDataFrame
        Rows of that layer (any subset, any order) carrying the ``key`` column, EPSG:4326.

    Returns
    -------
    A copy whose geometry is the coverage-simplified display geometry of each row matched by
    ``key`` (rows without a display geometry keep theirs). Never use it for areas, overlays
    or exports: those read the full geometry of ``layer.file``.
    """
    if not layer.display_file or not layer.key or layer.key not in gdf.columns:
        return gdf
    path = Path(DATA_DIR) / layer.display_file
    if not path.exists():
        return gdf
    light = _display_copy(str(path), path.stat().st_mtime, layer.key)
    keys = gdf[layer.key].astype(str)
    geoms = keys.map(light)
    swapped = gdf.copy()
    have = geoms.notna().to_numpy()
    new = gdf.geometry.to_numpy().copy()
    new[have] = geoms.to_numpy()[have]
    return swapped.set_geometry(gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs))

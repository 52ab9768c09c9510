"""Turn catalog layers (and any GeoDataFrame) into folium layers, the same for pages and CLI.

Everything drawn goes through here so that: assets are served locally (``layers.assets``),
geometry is simplified topology-safely and rounded, only tooltip properties are sent,
and every attribute value is HTML-escaped before it reaches the browser.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from geo.catalog import Catalog, Layer, for_display, get_catalog
from geo.classify import NO_DATA_COLOR, PALETTES, SCHEMES, Classification, classify  # noqa: F401 (re-exported for pages)
from geo.i18n import fmt_number, t
from geo.settings import STORE_CRS
from geo.text import escape
from layers import assets
from layers.compact import compact_layer, compact_style, is_big
from layers.literal import Literal
from layers.safejson import inert_dumps, jinja_inert_json


def _compact_json() -> None:
    """Embed GeoJSON compactly: UTF-8 text instead of \\u escapes, no spaces; Jinja-inert.

    Jinja's ``tojson`` still escapes ``< > & '`` so the output stays safe inside <script>.
    Vietnamese names shrink ~3x; applies to folium's shared template environment.
    """
    env = folium.Map._template.environment
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":")}
    env.policies["json.dumps_function"] = inert_dumps  # no "{{" from data (layers.safejson)


_compact_json()

BASEMAPS: dict[str, tuple[str | None, str]] = {
    "none": (None, ""),
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "&copy; OpenStreetMap contributors"),
    "positron": ("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
                 "&copy; OpenStreetMap contributors &copy; CARTO"),
    "esri": ("https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
             "Tiles &copy; Esri — Source: Esri, Maxar, Earthstar Geographics, and the GIS User Community"),
}

PROVINCE_BOUNDS = [[21.32, 105.47], [22.05, 106.24]]  # pre-2025 Thái Nguyên
LABEL_PANE = "atlasLabels"
SIMPLIFY_DEG = 0.0004  # ~40 m: invisible at province/city zoom, shared borders kept
ROUND_DECIMALS = 4  # ~11 m: finer than the 1:250K source geometry


def new_map(lang: str = "vi", basemap: str = "positron", bounds: list[list[float]] | None = None,
            height: int | None = None) -> folium.Map:
    """A folium map with local assets, the chosen basemap (``none`` = no tiles at all)."""
    tiles_url, attribution = BASEMAPS.get(basemap, BASEMAPS["none"])
    m = folium.Map(location=[21.6, 105.85], zoom_start=9, tiles=None, control_scale=False,
                   prefer_canvas=True, height=height or "100%", zoom_control=False)
    ControlTexts(lang).add_to(m)  # zoom buttons, layer button and Leaflet link in the UI language
    m.options["maxZoom"] = 19  # Leaflet needs it without a tile layer (MarkerCluster throws otherwise)
    if tiles_url:
        folium.TileLayer(tiles_url, attr=attribution, name=t(f"map.basemap_{basemap}", lang),
                         max_zoom=19, control=False).add_to(m)
    MetricScale().add_to(m)
    # place names above clustered markers (markerPane 600) and below tooltips (650); a click
    # on a name selects the named unit (_LabelClick)
    folium.map.CustomPane(LABEL_PANE, z_index=625, pointer_events=False).add_to(m)
    fit = folium.map.FitBounds(bounds or PROVINCE_BOUNDS)
    fit.options["animate"] = False  # the first frame shows the fitted view at once (no zoom animation
    m.add_child(fit)                 # from zoom_start, during which every layer would draw twice)
    m.atlas_bounds = bounds or PROVINCE_BOUNDS  # type: ignore[attr-defined] — the legend keeps clear of the data
    return m


class _LabelClick(MacroElement):
    """A click on a place name is a click on the map at that place's own point (inside it),
    so whatever listens to map clicks (the side panel) selects the named unit — even where
    a marker cluster lies under the name."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.on('click', function (e) {
            L.DomEvent.stop(e);
            e.target._map.fire('click', {latlng: e.target.getLatLng(), originalEvent: e.originalEvent,
                                        containerPoint: e.containerPoint, layerPoint: e.layerPoint});
        });
        {% endmacro %}
    """)


class ControlTexts(MacroElement):
    """Leaflet's own control texts (zoom buttons, the layer control's button, the title of its
    link in the attribution) in the UI language: titles are what a pointer's hover and a screen
    reader say. Leaflet writes them in English; its zoom control takes them as options, the
    layer control and the attribution prefix are set after they are built."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function (map) {
            L.control.zoom({zoomInTitle: {{ this.zoom_in }}, zoomOutTitle: {{ this.zoom_out }}}).addTo(map);
            var prefix = L.DomUtil.create("a");
            prefix.href = "https://leafletjs.com"; prefix.title = {{ this.leaflet }}; prefix.textContent = "Leaflet";
            if (map.attributionControl) map.attributionControl.setPrefix(prefix.outerHTML);
            if (L.Control.Layers && !L.Control.Layers.prototype._atlasTitle) {
                var layout = L.Control.Layers.prototype._initLayout;
                L.Control.Layers.prototype._initLayout = function () {
                    layout.call(this);
                    this._layersLink.title = this._atlasTitle || "";
                    this._layersLink.setAttribute("aria-label", this._atlasTitle || "");
                };
            }
            L.Control.Layers.prototype._atlasTitle = {{ this.layers }};
        })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, lang: str) -> None:
        super().__init__()
        self._name = "ControlTexts"
        self.zoom_in, self.zoom_out, self.layers, self.leaflet = (
            _script_string(t(f"map.control_{k}", lang)) for k in ("zoom_in", "zoom_out", "layers", "leaflet"))


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres/kilometres only (folium's ``control_scale`` adds miles)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


def center_zoom(bounds: list[list[float]], width_px: int = 800, height_px: int = 620) -> tuple[list[float], int]:
    """Centre and the largest Web-Mercator zoom at which ``bounds`` fit a map of that size."""
    (s, w), (n, e) = bounds
    merc = lambda lat: math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    zx = math.log2(width_px * 360.0 / (max(e - w, 1e-9) * 256))
    zy = math.log2(height_px * 2 * math.pi / (max(merc(n) - merc(s), 1e-12) * 256))
    zoom = int(max(1, min(18, math.floor(min(zx, zy)))))
    return [round((s + n) / 2, 6), round((w + e) / 2, 6)], zoom


def display_values(gdf: gpd.GeoDataFrame, fields: Iterable[str], lang: str) -> pd.DataFrame:
    """Tooltip-ready strings: numbers formatted for ``lang``, text HTML-escaped, NaN → no data."""
    out = pd.DataFrame(index=gdf.index)
    no_data = t("common.no_data", lang)
    for field in fields:
        if field not in gdf.columns:
            continue
        col = gdf[field]
        if pd.api.types.is_bool_dtype(col):
            out[field] = col.map({True: "✔", False: ""}).fillna("")
        elif pd.api.types.is_numeric_dtype(col):
            decimals = 0 if pd.api.types.is_integer_dtype(col) or col.abs().max() >= 1000 else 1
            out[field] = [fmt_number(v, lang, decimals) if pd.notna(v) else no_data for v in col.to_numpy()]
        else:
            out[field] = [escape(v) if v is not None and not (isinstance(v, float) and np.isnan(v)) else ""
                          for v in col.to_numpy(dtype=object)]
    return out


def light_geometry(geoms: gpd.GeoSeries, kind: str, tolerance: float = SIMPLIFY_DEG) -> np.ndarray:
    """Simplified, rounded geometry array (vectorised).

    Polygons are simplified as a coverage (shared borders stay shared, no slivers),
    then coordinates are rounded to ~1 m.
    """
    arr = np.asarray(geoms.values)
    if kind == "polygon" and tolerance > 0:
        try:
            arr = shapely.coverage_simplify(arr, tolerance)
        except shapely.errors.GEOSException:
            arr = shapely.simplify(arr, tolerance, preserve_topology=True)
    elif kind == "line" and tolerance > 0:
        arr = shapely.simplify(arr, tolerance / 2, preserve_topology=True)
    return shapely.transform(arr, lambda c: np.round(c, ROUND_DECIMALS))


def feature_collection(gdf: gpd.GeoDataFrame, props: pd.DataFrame, kind: str,
                       tolerance: float = SIMPLIFY_DEG) -> dict[str, Any]:
    """A GeoJSON dict with light geometry and only the given (already display-safe) properties."""
    geoms = light_geometry(gdf.geometry, kind, tolerance)
    gj = shapely.to_geojson(geoms)
    records = props.to_dict(orient="records") if len(props.columns) else [{} for _ in range(len(gdf))]
    # an explicit feature id: otherwise folium picks a property as identifier and writes
    # `feature.properties.<name>` into JavaScript, which breaks on names like "Đơn vị"
    features = [{"type": "Feature", "id": i, "properties": rec, "geometry": json.loads(g)}
                for i, (rec, g) in enumerate(zip(records, gj)) if g is not None and g != "null"]
    return {"type": "FeatureCollection", "features": features}


def _tooltip(fields: list[str], catalog: Catalog, lang: str) -> folium.GeoJsonTooltip | None:
    if not fields:
        return None
    return folium.GeoJsonTooltip(fields=fields, aliases=[escape(catalog.field_label(f, lang)) for f in fields],
                                 sticky=True, localize=False)


def legend_html(title: str, classes: Classification, lang: str, note: str = "", corner: str = "bottom_left") -> str:
    """A small HTML legend (plain HTML: branca colormaps would pull d3 from a CDN)."""
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:12px;background:{c};'
        f'border:1px solid #555;margin-right:6px"></span>{escape(lab)}</div>'
        for c, lab in zip(classes.colors, classes.labels))
    rows += (f'<div><span style="display:inline-block;width:14px;height:12px;background:{NO_DATA_COLOR};'
             f'border:1px solid #555;margin-right:6px"></span>{escape(t("common.no_data", lang))}</div>')
    note_html = f'<div style="margin-top:4px;font-style:italic">{escape(note)}</div>' if note else ""
    return (f'<div class="atlas-legend" data-corner="{corner}" style="position:absolute;{LEGEND_CORNERS[corner]};z-index:9999;'
            f'background:rgba(255,255,255,.92);padding:8px 10px;border-radius:6px;font:12px sans-serif;'
            f'box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:260px"><b>{escape(title)}</b>{rows}{note_html}</div>')


def add_legend(m: folium.Map, html: str) -> None:
    """Attach a legend to the map's HTML (kept by streamlit-folium and standalone pages)."""
    m.get_root().html.add_child(Literal(html))


def add_choropleth(m: folium.Map, gdf: gpd.GeoDataFrame, column: str, lang: str, title: str,
                   tooltip_fields: list[str] | None = None, scheme: str = "quantiles", k: int = 5,
                   legend_title: str | None = None, palette: str = "YlOrRd", kind: str = "polygon",
                   catalog: Catalog | None = None, note: str = "", show: bool = True,
                   tolerance: float = SIMPLIFY_DEG, avoid: gpd.GeoSeries | None = None) -> Classification:
    """Draw ``gdf`` coloured by ``column`` with a legend; returns the classification used.

    The legend goes in the corner of the map farthest from ``avoid`` (default: the features
    drawn), so it does not cover what the map is about (e.g. the three cities)."""
    catalog = catalog or get_catalog()
    fields = [f for f in (tooltip_fields or []) if f in gdf.columns]
    if column not in fields:
        fields.append(column)
    classes, idx = classify(gdf[column], scheme, k, palette, lang)
    props = display_values(gdf, fields, lang)
    props["_fill"] = [classes.colors[i] if i >= 0 else NO_DATA_COLOR for i in idx]
    corner = legend_corner(getattr(m, "atlas_bounds", PROVINCE_BOUNDS), avoid if avoid is not None else gdf.geometry)
    if is_big(gdf.geometry.to_numpy()):  # national size: compact payload on a canvas (layers.compact)
        g = gdf.to_crs(STORE_CRS) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
        compact_layer(g.geometry.to_numpy(), kind, escape(title), props,
                      [escape(catalog.field_label(f, lang)) for f in fields],
                      compact_style(kind, "#374151", 0.8, 0.75), fill=props["_fill"].tolist(), show=show).add_to(m)
        add_legend(m, legend_html(legend_title or title, classes, lang, note, corner))
        return classes
    data = feature_collection(gdf, props, kind, tolerance)
    folium.GeoJson(
        data, name=escape(title), show=show,
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#374151", "weight": 0.8,
                                  "fillOpacity": 0.75},
        highlight_function=lambda f: {"weight": 3, "color": "#111827"},
        tooltip=_tooltip(fields, catalog, lang),
    ).add_to(m)
    add_legend(m, legend_html(legend_title or title, classes, lang, note, corner))
    return classes


# CSS offsets of each corner: clear of the zoom buttons (top left), the layer control (top
# right), the scale bar (bottom left) and the credits line stacked on the attribution (bottom right)
LEGEND_CORNERS = {"top_left": "top:84px;left:10px", "top_right": "top:64px;right:10px",
                  "bottom_left": "bottom:52px;left:10px", "bottom_right": "bottom:52px;right:10px"}


def legend_corner(bounds: list[list[float]], avoid: gpd.GeoSeries | None) -> str:
    """The map corner whose quarter of ``bounds`` ([[S, W], [N, E]]) holds the least of
    ``avoid``'s area (points count by number), ties broken by distance from its centroid."""
    if avoid is None or len(avoid) == 0:
        return "bottom_left"
    (s, w), (n, e) = bounds
    mid_y, mid_x = (s + n) / 2, (w + e) / 2
    quarters = {"top_left": (w, mid_y, mid_x, n), "top_right": (mid_x, mid_y, e, n),
                "bottom_left": (w, s, mid_x, mid_y), "bottom_right": (mid_x, s, e, mid_y)}
    geoms = np.asarray(avoid.values)
    centre = shapely.centroid(shapely.union_all(geoms))
    polys = shapely.get_type_id(geoms) >= 3

    def load(box: tuple[float, float, float, float]) -> tuple[float, float]:
        q = shapely.box(*box)
        area = float(shapely.area(shapely.intersection(geoms[polys], q)).sum()) if polys.any() else 0.0
        points = float(shapely.intersects(geoms[~polys], q).sum()) if (~polys).any() else 0.0
        return (area + points, -float(shapely.distance(shapely.centroid(q), centre)))

    return min(quarters, key=lambda c: load(quarters[c]))


def add_catalog_layer(m: folium.Map, layer: Layer, gdf: gpd.GeoDataFrame, lang: str,
                      mode: str = "outline", column: str | None = None, scheme: str = "quantiles",
                      k: int = 5, show: bool = True, catalog: Catalog | None = None) -> None:
    """Add one catalog layer: outline/choropleth polygons, lines, or clustered points."""
    catalog = catalog or get_catalog()
    gdf = for_display(layer, gdf)  # the coverage-simplified copy, for drawing only
    title = layer.title(lang)
    if layer.derived:
        title += f" ({t('common.derived', lang)})"
    if layer.kind == "polygon" and mode == "choropleth" and column:
        hl = (gdf[layer.highlight_field].fillna(False).astype(bool).to_numpy()
              if layer.highlight_field and layer.highlight_field in gdf.columns else None)
        add_choropleth(m, gdf, column, lang, title, list(layer.tooltip), scheme, k,
                       legend_title=f"{catalog.field_label(column, lang)} — {layer.title(lang)}",
                       catalog=catalog, show=show,
                       note=t("map.derived_note", lang) if layer.derived else "",
                       tolerance=layer.style.get("simplify_deg", SIMPLIFY_DEG),
                       avoid=gdf.geometry[hl] if hl is not None and hl.any() else None)
        if hl is not None:  # the city names stay readable on the coloured map
            fields = [f for f in layer.tooltip if f in gdf.columns]
            add_labels(m, gdf[hl], fields[0] if fields else None)
        return
    if layer.id == "infrastructure" or (layer.kind == "point" and layer.style.get("cluster")):
        add_infrastructure(m, gdf, lang, catalog, show=show)
        return
    fields = [f for f in layer.tooltip if f in gdf.columns] if len(gdf) else []  # folium refuses tooltips on no features
    props = display_values(gdf, fields, lang)
    style = dict(layer.style)
    hl_field = layer.highlight_field if layer.highlight_field in gdf.columns else None
    if not hl_field and is_big(gdf.geometry.to_numpy()):
        # one style for every feature (no highlighted cities): the compact canvas payload, about
        # a quarter of the GeoJSON text (the default map's 302 communes: 533 → 125 kB)
        geoms = light_geometry(gdf.geometry, layer.kind, style.get("simplify_deg", SIMPLIFY_DEG))
        compact_layer(geoms, layer.kind, escape(title), props, [escape(catalog.field_label(f, lang)) for f in fields],
                      compact_style(layer.kind, style.get("color", "#333"), style.get("weight", 1),
                                    style.get("fill_opacity", 0.05)), show=show).add_to(m)
        return
    if hl_field:
        props["_hl"] = gdf[layer.highlight_field].fillna(False).astype(bool).to_numpy()
    data = feature_collection(gdf, props, layer.kind, style.get("simplify_deg", SIMPLIFY_DEG))
    if layer.kind == "point":
        folium.GeoJson(
            data, name=escape(title), show=show,
            marker=folium.CircleMarker(radius=style.get("radius", 4), color=style.get("color", "#333"),
                                       fill=True, fill_opacity=0.9, weight=1),
            tooltip=_tooltip(fields, catalog, lang),
        ).add_to(m)
        return

    def style_fn(feature: dict[str, Any]) -> dict[str, Any]:
        hl = feature["properties"].get("_hl", False)
        return {
            "color": style.get("highlight_color", style.get("color")) if hl else style.get("color", "#333"),
            "weight": style.get("weight", 1) * (2 if hl else 1),
            "fillColor": style.get("highlight_color", style.get("color")) if hl else style.get("color", "#333"),
            "fillOpacity": style.get("highlight_fill_opacity", 0.2) if hl else style.get("fill_opacity", 0.05),
            "dashArray": style.get("dash_array", ""),
        }

    geo_layer = folium.GeoJson(data, name=escape(title), show=show, style_function=style_fn,
                               highlight_function=(lambda f: {"weight": 3, "fillOpacity": 0.25})
                               if layer.kind == "polygon" else None,
                               tooltip=_tooltip(fields, catalog, lang)).add_to(m)
    if "_hl" in props:
        add_labels(geo_layer, gdf[props["_hl"].to_numpy()], fields[0] if fields else None)


def add_labels(parent: folium.MacroElement, gdf: gpd.GeoDataFrame, field: str | None) -> None:
    """Permanent text labels (escaped) at each feature's representative point."""
    if not field or gdf.empty:
        return
    points = shapely.point_on_surface(np.asarray(gdf.geometry.values))
    for pt, text in zip(points, gdf[field].to_numpy(dtype=object)):
        folium.Marker(
            [round(pt.y, 5), round(pt.x, 5)],
            icon=folium.DivIcon(html=f'<div class="atlas-label" style="font:bold 13px sans-serif;color:#991b1b;'
                                     f'display:inline-block;white-space:nowrap;text-shadow:0 0 3px #fff,0 0 3px #fff;'
                                     f'transform:translate(-50%,-50%)">{escape(text)}</div>',
                                icon_size=(0, 0)),
            pane=LABEL_PANE,
        ).add_to(parent).add_child(_LabelClick())


def add_infrastructure(m: folium.Map, gdf: gpd.GeoDataFrame, lang: str, catalog: Catalog | None = None,
                       categories: Iterable[str] | None = None, show: bool = True) -> None:
    """Infrastructure points: one clustered, toggleable group per category, distinct icons."""
    catalog = catalog or get_catalog()
    wanted = list(categories) if categories is not None else catalog.default_categories()
    fields = ["name", "osm_tag"]  # the category is the group (and icon) the marker sits in
    for cid in wanted:
        cat = catalog.categories[cid]
        sub = gdf[gdf["category"] == cid]
        if sub.empty:
            continue
        group = folium.FeatureGroup(name=escape(f"{cat.title(lang)} ({fmt_number(len(sub), lang)})"), show=show)
        cluster = folium.plugins.MarkerCluster(options={"disableClusteringAtZoom": 15, "showCoverageOnHover": False})
        data = feature_collection(sub, display_values(sub, fields, lang), "point")
        folium.GeoJson(data, marker=folium.Marker(icon=folium.Icon(color=cat.color, icon=cat.icon, prefix="fa")),
                       tooltip=_tooltip(fields, catalog, lang)).add_to(cluster)
        cluster.add_to(group)
        group.add_to(m)


def add_gdf_layer(m: folium.Map, gdf: gpd.GeoDataFrame, lang: str, name: str,
                  tooltip_fields: list[str] | None = None, kind: str | None = None,
                  color: str = "#0ea5e9", show: bool = True) -> None:
    """Draw any GeoDataFrame (e.g. a user's layer) with escaped tooltips."""
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(STORE_CRS)
    kind = kind or geometry_kind(gdf)
    fields = [f for f in (tooltip_fields or []) if f in gdf.columns]
    if is_big(gdf.geometry.to_numpy()):  # national size: compact payload on a canvas (layers.compact)
        style = compact_style(kind, color, 1 if kind == "polygon" else 2, 0.15 if kind == "polygon" else 0.9, radius=3)
        compact_layer(gdf.geometry.to_numpy(), kind, escape(name), display_values(gdf, fields, lang),
                      [escape(f) for f in fields], style, show=show).add_to(m)
        return
    data = feature_collection(gdf, display_values(gdf, fields, lang), kind, tolerance=0)
    tooltip = folium.GeoJsonTooltip(fields=fields, aliases=[escape(f) for f in fields]) if fields else None
    if kind == "point":
        folium.GeoJson(data, name=escape(name), show=show, tooltip=tooltip,
                       marker=folium.CircleMarker(radius=5, color=color, fill=True, fill_opacity=0.9)).add_to(m)
    else:
        folium.GeoJson(data, name=escape(name), show=show, tooltip=tooltip,
                       style_function=lambda f: {"color": color, "weight": 2, "fillOpacity": 0.15}).add_to(m)


def geometry_kind(gdf: gpd.GeoDataFrame) -> str:
    """Point / line / polygon from the dominant geometry type."""
    types = shapely.get_type_id(np.asarray(gdf.geometry.values))
    types = types[types >= 0]
    if len(types) == 0:
        return "polygon"
    dominant = np.bincount(types).argmax()
    return {0: "point", 4: "point", 1: "line", 2: "line", 5: "line"}.get(int(dominant), "polygon")


def _script_string(text: str) -> str:
    """``text`` as a JavaScript string literal that cannot end its ``<script>`` nor open a
    Jinja tag (``<``, ``>``, ``&`` and a Jinja ``{`` written as ``\\u`` escapes; same value)."""
    out = json.dumps(str(text)).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return jinja_inert_json(out)


class CreditsControl(MacroElement):
    """The sources line as a Leaflet control in the bottom-right corner: Leaflet stacks it
    above its own attribution (a control added later sits above in a bottom corner), so
    neither hides the other. The text is set as text (``textContent``), never as markup."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var credits = L.control({position: "bottomright"});
            credits.onAdd = function () {
                var box = L.DomUtil.create("div", "atlas-credits");
                box.style.cssText = "background:rgba(255,255,255,.8);font:10px sans-serif;padding:1px 4px;"
                    + "margin:0 0 2px 0;max-width:60vw;clear:both";
                box.textContent = {{ this.text_js }};
                return box;
            };
            credits.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "CreditsControl"
        self.text_js = _script_string(text)


def finish_map(m: folium.Map, lang: str, credits: str = "") -> folium.Map:
    """Layer control and (optional) credits line (above Leaflet's attribution); call last."""
    folium.LayerControl(collapsed=True).add_to(m)
    if credits:
        CreditsControl(credits).add_to(m)
    return m


def standalone_html(m: folium.Map) -> str:
    """The whole map as one HTML document with every JS/CSS asset inlined (offline)."""
    return assets.inline_assets(m.get_root().render())

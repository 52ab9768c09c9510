"""National-size layers on a Leaflet map: compact payload, canvas drawing, lazy tooltips.

A folium ``GeoJson`` layer writes every coordinate as JSON text (~20 bytes a vertex) plus
a style and a tooltip object per feature, and Leaflet builds SVG paths for all of them:
10,000 polygons of ~100 vertices + 50,000 points make a 32 MB page that does not paint.
:class:`CompactLayer` keeps folium/Leaflet but sends:

* coordinates quantised to ``QUANT`` degrees (1e-4° ≈ 11 m, the precision the atlas
  already rounds to), delta-coded per axis, zigzag + LEB128 varints, base64 — about
  2–3 bytes a vertex instead of ~20;
* the ring structure (parts per feature, rings per part, vertices per ring) the same way;
* two levels of detail for lines and polygons: the first frame draws geometry simplified
  to about a screen pixel of the whole layer's extent (``coarse_tolerance``); the full
  geometry is drawn once the user zooms past the level where that pixel matters (``zd``);
* tooltip values once per field (already HTML-escaped by ``layers.render.display_values``)
  and fill colours as an index into a palette.

The browser side (``layers/compact.js``, sent with each layer's script) makes each layer
one Leaflet layer drawing on its own canvas from typed arrays — no Leaflet object per
feature (60,000 ``L.circleMarker``/``L.polygon`` objects took 3.9 s to first paint idle and
30 s under load). Coordinates are decoded once into Web-Mercator zoom-0 pixels; a redraw
(after a pan or zoom) culls features by their box, drops vertices within a pixel of the
last one drawn, fills/strokes per colour in paths of ≤ 200 features (Chromium's canvas
slows down super-linearly on one huge path) and stamps many points as pixel disks into one
``ImageData``. Polygons are oriented (exteriors counter-clockwise) so grouped fills use the
non-zero rule. The full-detail level is decoded in the background after the first frame
and used past zoom ``zd``. Hover/click go through a spatial grid: the topmost compact
layer under the pointer shows its tooltip (built from the field arrays, values already
escaped) and outlines the feature; a click fires ``click`` on the layer with that tooltip.
Print and deck maps do not use this path: they draw full geometry with matplotlib.

Own code (no library): vector tiles (leaflet.vectorgrid) need a tile server or embedded
tiles, while the atlas must also work as one standalone HTML file opened from disk.
"""
from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from folium.map import FeatureGroup
from jinja2 import Template

from layers import literal  # noqa: F401 (rendered scripts are added as they are: no second Jinja compile)
from layers.safejson import jinja_inert_json

QUANT = 1e-4  # degrees per quantisation step
BIG_VERTICES = 20_000  # layers with more vertices (or features) take the compact path
BIG_FEATURES = 3_000


def coarse_tolerance(geoms: np.ndarray, px: int = 1600) -> float:
    """Simplification tolerance (degrees) for the first frame: about one screen pixel when
    the whole layer spans ``px`` pixels; 0 when that is finer than the quantisation."""
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    tol = max(x1 - x0, y1 - y0) / px
    return tol if tol > 2 * QUANT else 0.0


def is_big(geoms: np.ndarray) -> bool:
    """True when a layer is big enough for :class:`CompactLayer` (vertex or feature count)."""
    return len(geoms) > BIG_FEATURES or int(shapely.get_num_coordinates(geoms).sum()) > BIG_VERTICES


def varints(values: np.ndarray) -> str:
    """Signed integers → zigzag LEB128 varints → base64 text (vectorised)."""
    v = np.asarray(values, dtype=np.int64)
    z = ((v << 1) ^ (v >> 63)).astype(np.uint64)
    nbytes = np.ones(len(z), dtype=np.int64)
    for k in range(1, 10):
        nbytes += z >= np.uint64(1 << (7 * k))
    pos = np.cumsum(nbytes) - nbytes
    out = np.empty(int(nbytes.sum()), dtype=np.uint8)
    for k in range(int(nbytes.max()) if len(nbytes) else 0):
        sel = nbytes > k
        byte = ((z[sel] >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        byte |= np.where(nbytes[sel] > k + 1, 0x80, 0).astype(np.uint8)
        out[pos[sel] + k] = byte
    return base64.b64encode(out.tobytes()).decode("ascii")


def encode_geometry(geoms: np.ndarray, kind: str) -> dict:
    """Compact form of EPSG:4326 geometries: quantised, delta-coded coordinates + structure.

    Keys: ``n`` features, ``c`` coordinates (x, y interleaved), ``nc`` coordinate count and,
    for lines/polygons, ``p`` parts per feature, ``r`` rings per part (polygons), ``v``
    vertices per ring/line.
    """
    geoms = np.asarray(geoms, dtype=object)
    out: dict = {"n": int(len(geoms)), "q": QUANT}
    if kind == "point":
        plain = (shapely.get_type_id(geoms) == 0).all()  # points already: no point_on_surface (0.3 s / 50,000)
        pts = shapely.get_coordinates(geoms if plain else shapely.point_on_surface(geoms))
        seq = pts
    else:
        parts, _ = shapely.get_parts(geoms, return_index=True)
        out["p"] = varints(shapely.get_num_geometries(geoms))
        if kind == "polygon":
            rings, ring_of = shapely.get_rings(parts, return_index=True)
            out["r"] = varints(np.bincount(ring_of, minlength=len(parts)))
            lines = rings
        else:
            lines = parts
        out["v"] = varints(shapely.get_num_coordinates(lines))
        seq = shapely.get_coordinates(lines)
    q = np.round(seq / QUANT).astype(np.int64)
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    out["c"] = varints(d.ravel())
    out["nc"] = int(len(q))
    return out


_JS = (Path(__file__).with_name("compact.js")).read_text(encoding="utf-8")


class CompactLayer(FeatureGroup):
    """A toggleable (LayerControl) feature group filled from a compact payload (see module doc)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            {{ this.decoder_js }}
            var {{ this.get_name() }} = window.atlasCompact({{ this.payload }},
                                                           {});
        {% endmacro %}
    """)

    def __init__(self, payload: dict, name: str, show: bool = True) -> None:
        super().__init__(name=name, show=show)
        # json.dumps then '<' escaped: the payload sits inside <script> (values are already HTML-escaped)
        # and no "{{", "{%", "{#": branca compiles the rendered script as a Jinja template again
        self.payload = jinja_inert_json(json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
                                        .replace("<", "\\u003c"))

    # The decoder travels with each layer's own script (it defines itself once per page):
    # streamlit-folium sends only the map's script to the browser, not the figure's, so a
    # figure-level <script> never reached the app's map (``atlasCompact is not a function``).
    decoder_js = _JS


def compact_style(kind: str, color: str, weight: float, fill_opacity: float, radius: float = 4) -> dict:
    """The Leaflet path options a :class:`CompactLayer` draws with: stroke ``color``/``weight``,
    fill in the same colour (unless per-feature fills are given) except for lines, and the
    point ``radius`` (px)."""
    return {"color": color, "weight": weight, "opacity": 1.0, "fill": kind != "line", "fillColor": color,
            "fillOpacity": fill_opacity, "radius": radius}


def compact_layer(geoms: np.ndarray, kind: str, name: str, props: pd.DataFrame, aliases: list[str],
                  style: dict, fill: list[str] | None = None, show: bool = True) -> CompactLayer:
    """A :class:`CompactLayer` for EPSG:4326 ``geoms`` of ``kind`` (point|line|polygon).

    ``props`` columns are the tooltip fields, values already HTML-escaped (``aliases`` too);
    ``fill`` gives one fill colour per feature (e.g. a choropleth), else ``style['fillColor']``.
    """
    geoms = np.asarray(geoms, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = geoms[keep]
    if kind == "polygon":  # exteriors counter-clockwise, holes clockwise: the canvas fills colour groups "nonzero"
        geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    payload: dict = {"n": int(len(geoms)), "k": kind}
    coarse_tol = coarse_tolerance(geoms) if kind != "point" else 0.0
    if coarse_tol > 0:
        # plain Douglas-Peucker (12x faster than topology-preserving: 0.14 s vs 1.7 s for 10,000
        # polygons), drawn only; a feature it would erase (smaller than the tolerance) keeps a
        # topology-preserved outline, so nothing disappears from the first frame
        coarse = shapely.simplify(geoms, coarse_tol, preserve_topology=False)
        lost = shapely.is_empty(coarse) | shapely.is_missing(coarse)
        if lost.any():
            coarse[lost] = shapely.simplify(geoms[lost], coarse_tol, preserve_topology=True)
        payload["g"] = encode_geometry(coarse, kind)
        payload["detail"] = encode_geometry(geoms, kind)
        payload["zd"] = int(math.ceil(math.log2(360.0 / (256.0 * coarse_tol))))
    else:
        payload["g"] = encode_geometry(geoms, kind)
    payload["s"] = style
    cols = [c for c in props.columns if not str(c).startswith("_")]
    payload["t"] = {"a": list(aliases[:len(cols)]),
                    "v": [[str(v) for v in props[c].to_numpy(dtype=object)[keep]] for c in cols]}
    if fill is not None:
        pal, idx = np.unique(np.asarray(fill, dtype=object)[keep].astype(str), return_inverse=True)
        payload["pal"], payload["fc"] = pal.tolist(), idx.tolist()
    return CompactLayer(payload, name, show)

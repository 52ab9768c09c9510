"""National-size layers: the compact payload decodes to the same geometry, tooltips stay escaped."""
from __future__ import annotations

import base64
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.compact import BIG_FEATURES, QUANT, encode_geometry, varints
from layers.render import add_gdf_layer, new_map


def decode_varints(b64: str) -> list[int]:
    """Reference decoder (what the page's JavaScript does)."""
    out, v, shift = [], 0, 0
    for byte in base64.b64decode(b64):
        v |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            out.append((v >> 1) ^ -(v & 1))
            v, shift = 0, 0
    return out


def test_varints_round_trip_signed_values():
    rng = np.random.default_rng(0)
    vals = np.concatenate(([0, 1, -1, 63, -64, 64, -65, 2**31, -(2**31), 2**40], rng.integers(-10**6, 10**6, 500)))
    assert decode_varints(varints(vals)) == vals.tolist()


def test_polygon_payload_decodes_to_the_quantised_geometry():
    donut = shapely.box(105, 21, 105.1, 21.1).difference(shapely.box(105.02, 21.02, 105.05, 21.05))
    multi = shapely.MultiPolygon([shapely.box(106, 21, 106.01, 21.01), shapely.box(106.02, 21, 106.03, 21.01)])
    geoms = np.array([donut, multi], dtype=object)
    d = encode_geometry(geoms, "polygon")
    parts, rings, verts = (decode_varints(d[k]) for k in ("p", "r", "v"))
    assert parts == [1, 2] and rings == [2, 1, 1]
    c = np.cumsum(np.array(decode_varints(d["c"])).reshape(-1, 2), axis=0) * QUANT
    assert len(c) == d["nc"] == sum(verts)
    want = shapely.get_coordinates(shapely.get_rings(shapely.get_parts(geoms)))
    assert np.abs(c - want).max() <= QUANT / 2 + 1e-12


def test_a_big_layer_is_drawn_compactly_with_escaped_tooltips():
    n = BIG_FEATURES + 1
    xy = np.column_stack((np.linspace(102.5, 109, n), np.linspace(9, 23, n)))
    gdf = gpd.GeoDataFrame({"name": ["<img src=x onerror=alert(1)>"] + [f"T{i}" for i in range(n - 1)]},
                           geometry=shapely.points(xy), crs=4326)
    m = new_map("vi", "none")
    add_gdf_layer(m, gdf, "vi", "big <layer>", tooltip_fields=["name"], kind="point")
    html = m.get_root().render()
    assert "window.atlasCompact(" in html and '"type":"Feature"' not in html  # no per-feature GeoJSON
    assert "<img" not in html and "&lt;img src=x" in html
    payload = json.loads(re.search(r"window\.atlasCompact\((\{.*?\}),\n", html).group(1))
    assert payload["n"] == n and len(payload["t"]["v"][0]) == n
    small = new_map("vi", "none")
    add_gdf_layer(small, gdf.head(10), "vi", "small", tooltip_fields=["name"], kind="point")
    assert "window.atlasCompact(" not in small.get_root().render()  # small layers keep plain GeoJSON


def test_polygons_get_a_coarse_first_frame_and_full_detail_for_zooming_in():
    from layers.compact import compact_layer

    rng = np.random.default_rng(1)
    seeds = np.column_stack((rng.uniform(102, 109, 300), rng.uniform(9, 23, 300)))
    polys = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds)))
    polys = shapely.intersection(polys, shapely.box(102, 9, 109, 23))
    polys = shapely.segmentize(polys, 0.01)
    layer = compact_layer(polys, "polygon", "x", pd.DataFrame(index=range(len(polys))), [], {})
    d = json.loads(layer.payload)
    assert d["g"]["nc"] < d["detail"]["nc"] / 5  # the first frame carries far fewer vertices
    full = np.cumsum(np.array(decode_varints(d["detail"]["c"])).reshape(-1, 2), axis=0) * QUANT
    oriented = shapely.orient_polygons(polys, exterior_cw=False)  # the canvas fills "nonzero": rings oriented
    assert shapely.equals(oriented, polys).all()
    want = shapely.get_coordinates(shapely.get_rings(shapely.get_parts(oriented)))
    assert np.abs(full - want).max() <= QUANT / 2 + 1e-12  # zoomed in: every vertex is there
    assert 5 <= d["zd"] <= 10


def test_a_big_choropleth_keeps_its_classes_and_legend():
    from layers.render import add_choropleth

    rng = np.random.default_rng(2)
    seeds = np.column_stack((rng.uniform(102, 109, BIG_FEATURES + 50), rng.uniform(9, 23, BIG_FEATURES + 50)))
    polys = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds))),
                                 shapely.box(102, 9, 109, 23))
    gdf = gpd.GeoDataFrame({"name": [f"U{i}" for i in range(len(polys))], "v": rng.random(len(polys))},
                           geometry=polys, crs=4326)
    m = new_map("vi", "none")
    classes = add_choropleth(m, gdf, "v", "vi", "Tỷ lệ <x>", tooltip_fields=["name"], k=5)
    html = m.get_root().render()
    payload = json.loads(re.search(r"window\.atlasCompact\((\{.*?\}),\n", html).group(1))
    assert sorted(payload["pal"]) == sorted(set(classes.colors)) and len(payload["fc"]) == len(gdf)
    assert "atlas-legend" in html and "Tỷ lệ &lt;x&gt;" in html


def test_a_feature_smaller_than_the_first_frame_tolerance_is_still_drawn():
    from layers.compact import coarse_tolerance, compact_layer

    big = [shapely.box(102 + i, 9, 102.9 + i, 9.9) for i in range(7)]  # spread: tolerance ≈ 0.004°
    tiny = shapely.Polygon([(105.5, 21.5), (105.501, 21.5), (105.5005, 21.5012)])  # ~100 m across
    line = shapely.LineString([(109, 23), (109.0005, 23.0002)])
    geoms = np.array([*big, tiny, line.buffer(0.0001)], dtype=object)
    assert coarse_tolerance(geoms) > 0.003
    d = json.loads(compact_layer(geoms, "polygon", "x", pd.DataFrame(index=range(len(geoms))), [], {}).payload)
    rings_per_feature = decode_varints(d["g"]["r"])
    assert decode_varints(d["g"]["p"]) == [1] * len(geoms) and min(rings_per_feature) == 1
    assert min(decode_varints(d["g"]["v"])) >= 4  # every feature keeps a closed ring at the first frame

"""Page state ↔ URL query parameters, as pure functions (tested without a browser).

Parameters (all optional, short and readable):
    layers=communes,infrastructure   basemap=none   bbox=105.8,21.5,105.9,21.6 (W,S,E,N)
    center=21.59,105.84 (lat,lon)    zoom=12        unit=districts:165    indicator=districts:population_2019
    scheme=natural_breaks   classes=4 (the choropleth's class scheme and number of classes, 3–7)
    categories=health,education (infrastructure categories shown)    lang=en   view=2   present=1

Decoding is defensive: every parameter is validated and clamped (latitudes to the
Web-Mercator range, zoom 0–22, at most ``_MAX_LAYERS`` layers, identifiers of a plain form);
one that does not parse, is not finite or names an unknown layer is dropped, never raised.
``pages.urlstate`` binds these to ``st.query_params``.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from geo.catalog import get_catalog
from geo.errors import AtlasError
from geo.i18n import LANGS
from geo.units import normalise_id
from layers.render import BASEMAPS, SCHEMES

KEYS = ("layers", "basemap", "bbox", "center", "zoom", "unit", "indicator", "scheme", "classes", "categories", "lang",
        "view", "present")
CLASS_RANGE = (3, 7)  # number of choropleth classes a map offers
_MAX_LEN = 500  # longest value accepted from a URL
_MAX_LAYERS = 20  # more layers than the catalog offers is a crafted link
_MAX_VIEW = 999
_MAX_LAT = 85.0511  # Web-Mercator limit: beyond it a map projection gives infinities
_IDENT = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")  # layer ids, unit codes, layer:column


def _known_layers() -> set[str] | None:
    try:
        return set(get_catalog().layers)
    except AtlasError:  # catalog unreadable: accept any ids, let the page refuse
        return None


def _known_categories() -> set[str] | None:
    try:
        return set(get_catalog().categories)
    except AtlasError:
        return None


def _known_basemaps() -> set[str]:
    return set(BASEMAPS)


def _floats(text: str, n: int) -> list[float] | None:
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != n:
        return None
    try:
        vals = [float(p) for p in parts]
    except (ValueError, OverflowError):
        return None
    return vals if all(math.isfinite(v) for v in vals) else None


def _clamp(v: float, lo: float, hi: float) -> float:
    return min(max(v, lo), hi)


def _fmt(v: float) -> str:
    return f"{round(float(v), 5):.5f}".rstrip("0").rstrip(".")


def encode_state(state: Mapping[str, Any]) -> dict[str, str]:
    """Page state → query parameters (strings). ``None``/empty values are left out.

    ``bounds`` ([[south, west], [north, east]], Leaflet order) is accepted as well as ``bbox``.
    """
    out: dict[str, str] = {}
    layers = state.get("layers")
    if layers:
        out["layers"] = ",".join(str(x) for x in layers)
    elif layers is not None and "layers" in state:
        out["layers"] = ""  # "no layers" is a state too
    if state.get("basemap"):
        out["basemap"] = str(state["basemap"])
    bbox = state.get("bbox")
    if bbox is None and state.get("bounds"):
        (s, w), (n, e) = state["bounds"]
        bbox = (w, s, e, n)
    if bbox:
        out["bbox"] = ",".join(_fmt(v) for v in bbox)
    center = state.get("center")
    if center:
        out["center"] = ",".join(_fmt(v) for v in center)
    if state.get("zoom") is not None:
        out["zoom"] = str(int(state["zoom"]))
    for key in ("unit", "indicator", "scheme", "classes", "lang", "view"):
        if state.get(key) not in (None, ""):
            out[key] = str(state[key])
    if state.get("categories") is not None:
        out["categories"] = ",".join(str(x) for x in state["categories"])   # "" = none shown
    if state.get("present"):
        out["present"] = "1"
    return out


def _id_list(raw: str, known: set[str] | None, key: str, bad: list[str], ignored: dict[str, list[str]] | None,
             limit: int | None = None) -> list[str] | None:
    """The known ids of a comma list. ``None`` (→ the page's default) when the list names ids
    but none is known; "" stays "none". Unknown ids are noted in ``bad``/``ignored``."""
    ids = list(dict.fromkeys(x.strip() for x in raw.split(",") if x.strip()))
    kept = [x for x in ids if _IDENT.match(x) and (known is None or x in known)][:limit]
    if len(kept) < len(ids):
        bad.append(key)
        if ignored is not None:
            ignored[key] = [x for x in ids if x not in kept][:10]
    return kept if kept or not ids else None


def decode_state(params: Mapping[str, Any], dropped: list[str] | None = None,
                 ignored: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Query parameters → page state; only valid entries come back, clamped to sane ranges.

    Returns keys among: layers (list[str]), basemap, bbox (W,S,E,N floats), bounds
    ([[S,W],[N,E]] for Leaflet/folium), center ([lat, lon]), zoom (int), unit, indicator,
    scheme, classes (int, 3–7), categories (list[str]), lang, view (int), present (bool). The names of parameters that were given but invalid
    are appended to ``dropped`` (when given); unknown parameter names are ignored. A list
    (layers, categories) keeps its known ids; one naming no known id is left out, so the page
    uses its default; ``ignored`` (when given) gets ``{key: [unknown ids]}``.
    """
    bad: list[str] = []

    def get(key: str) -> str | None:
        v = params.get(key)
        if isinstance(v, (list, tuple)):
            v = v[-1] if v else None
        if v is None:
            return None
        v = str(v)
        if len(v) > _MAX_LEN:
            bad.append(key)
            return None
        return v

    out: dict[str, Any] = {}
    raw = get("layers")
    if raw is not None:
        kept = _id_list(raw, _known_layers(), "layers", bad, ignored, _MAX_LAYERS)
        if kept is not None:
            out["layers"] = kept
    def choice(key: str, allowed) -> None:
        """A value from a fixed set, kept as given."""
        raw = get(key)
        if raw:
            if raw in allowed:
                out[key] = raw
            else:
                bad.append(key)

    def whole(key: str, lo: int, hi: int) -> None:
        """A whole number, rounded and clamped to lo..hi."""
        raw = get(key)
        if raw:
            v = _floats(raw, 1)
            if v:
                out[key] = int(_clamp(round(v[0]), lo, hi))
            else:
                bad.append(key)

    choice("basemap", _known_basemaps())
    raw = get("bbox")
    if raw:
        v = _floats(raw, 4)
        if v:
            w, s, e, n = _clamp(v[0], -180, 180), _clamp(v[1], -_MAX_LAT, _MAX_LAT), \
                _clamp(v[2], -180, 180), _clamp(v[3], -_MAX_LAT, _MAX_LAT)
        if v and w < e and s < n:
            out["bbox"] = [w, s, e, n]
            out["bounds"] = [[s, w], [n, e]]
        else:
            bad.append("bbox")
    raw = get("center")
    if raw:
        v = _floats(raw, 2)
        if v and -90 <= v[0] <= 90 and -180 <= v[1] <= 180:
            out["center"] = [_clamp(v[0], -_MAX_LAT, _MAX_LAT), v[1]]
        else:
            bad.append("center")
    whole("zoom", 0, 22)
    for key in ("unit", "indicator"):
        raw = get(key)
        if raw:
            if _IDENT.match(raw.strip()):
                out[key] = raw.strip()
            else:
                bad.append(key)
    choice("scheme", SCHEMES)
    whole("classes", *CLASS_RANGE)
    raw = get("categories")
    if raw is not None:
        kept = _id_list(raw, _known_categories(), "categories", bad, ignored)
        if kept is not None:
            out["categories"] = kept
    raw = get("lang")
    if raw in LANGS:
        out["lang"] = raw
    elif raw is not None:
        bad.append("lang")
    raw = get("view")
    if raw:
        if raw.isascii() and raw.isdigit() and len(raw) <= 6:
            out["view"] = min(int(raw), _MAX_VIEW)
        else:
            bad.append("view")
    if get("present") in ("1", "true", "yes"):
        out["present"] = True
    if dropped is not None:
        dropped.extend(dict.fromkeys(bad))
    return out


def unit_key(code: Any) -> str | None:
    """The district/province key of a URL ``unit``: "districts:165" (or the old "district:165")
    and "165" → "165", "province" → "province"; other layers' codes (e.g.
    "wards_2025:05809") → None. Ids are those of ``geo.units``."""
    text = str(code or "").strip()
    if not text:
        return None
    if ":" not in text:
        return text
    layer, _, value = (normalise_id(text) or "").partition(":")
    return "province" if layer == "province" else value if layer == "districts" and value else None


def unit_param(key: Any) -> str | None:
    """The URL ``unit`` of a district/province key, in the map explorer's form
    ("165" → "districts:165"; "province" stays; codes with a layer are kept)."""
    text = str(key or "").strip()
    if not text:
        return None
    if text == "province":
        return text
    return (normalise_id(text) or text) if ":" in text else f"districts:{text}"


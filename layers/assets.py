"""Serve Leaflet & co. from the app itself: no CDN at run time.

Folium elements list their JS/CSS as CDN URLs in ``default_js``/``default_css``.
``localise_assets`` rewrites those class attributes to files vendored under
``static/vendor`` (npm packages, licences kept beside them), served by Streamlit at
``/app/static/vendor/...``. ``inline_assets`` turns a rendered page into a standalone
HTML file with every script, stylesheet and font embedded.
"""
from __future__ import annotations

import base64
import mimetypes
import re
from functools import lru_cache
from pathlib import Path

import folium
import folium.plugins

from geo.settings import STATIC_DIR

URL_PREFIX = "/app/static/vendor/"
VENDOR_DIR = Path(STATIC_DIR) / "vendor"

# The map's three scripts as one file (scripts/build_vendor_bundle.py writes it, a test keeps it
# equal to its sources): streamlit-folium's frame loads a map's scripts one after another,
# each waiting for the previous one — three requests in a row on the way to the first map.
BUNDLE = "atlas-map-bundle.js"
BUNDLE_SOURCES = (
    "leaflet/leaflet.js",
    "awesome-markers/leaflet.awesome-markers.js",
    "markercluster/leaflet.markercluster.js",
)

# folium asset name -> vendored file (None: not needed, dropped)
LOCAL_ASSETS: dict[str, str | None] = {
    "leaflet": BUNDLE,   # with Awesome Markers and MarkerCluster
    # no map script of the atlas uses jQuery or Bootstrap's JS (folium lists them for Popups'
    # old templates): two sequential script loads less before the first map
    "jquery": None,
    "bootstrap": None,
    "awesome_markers": None,   # in the bundle
    "leaflet_css": "leaflet/leaflet.css",
    "bootstrap_css": "bootstrap/bootstrap.min.css",
    "glyphicons_css": None,
    "awesome_markers_font_css": "fontawesome/css/all.min.css",
    "awesome_markers_css": "awesome-markers/leaflet.awesome-markers.css",
    "awesome_rotate_css": None,
    "markerclusterjs": None,   # in the bundle
    "markerclustercss": "markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "markercluster/MarkerCluster.Default.css",
}


def bundle_text() -> str:
    """``BUNDLE``'s content: ``BUNDLE_SOURCES`` in order, each headed by its path and licence file,
    source-map comments dropped (they would point beside the bundle), ``;`` between them.

    Why our own few lines and not a bundler: the sources are already built browser scripts
    (UMD / IIFE, each one global ``L`` plugin); putting them in one file in order is all there
    is to do."""
    parts = []
    for rel in BUNDLE_SOURCES:
        folder = (VENDOR_DIR / rel).parent
        licence = sorted(p.name for p in folder.iterdir() if "LICEN" in p.name.upper())
        text = re.sub(r"^//# sourceMappingURL=.*$", "", (VENDOR_DIR / rel).read_text(encoding="utf-8"), flags=re.M)
        parts.append(f"/* ---- {rel} (licence: {', '.join(f'{folder.name}/{n}' for n in licence)}) ---- */\n"
                     f"{text.rstrip()}\n;\n")
    return "".join(parts)


ELEMENT_CLASSES = (folium.Map, folium.plugins.MarkerCluster)


def _localise(entries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for name, url in entries:
        if url.startswith(URL_PREFIX):
            out.append((name, url))
            continue
        if name not in LOCAL_ASSETS:
            raise KeyError(f"asset {name} ({url}) is not vendored under static/vendor")
        local = LOCAL_ASSETS[name]
        if local is not None:
            out.append((name, URL_PREFIX + local))
    return out


def localise_assets() -> None:
    """Point every folium element class we use at the vendored files (idempotent)."""
    for cls in ELEMENT_CLASSES:
        for attr in ("default_js", "default_css"):
            if attr in vars(cls) or hasattr(cls, attr):
                setattr(cls, attr, _localise(list(getattr(cls, attr))))


@lru_cache(maxsize=64)
def _asset_text(rel: str) -> str:
    return (VENDOR_DIR / rel).read_text(encoding="utf-8")


def _css_with_embedded_urls(rel: str) -> str:
    """CSS text with relative ``url(...)`` references (fonts, images) turned into data URIs."""
    css = _asset_text(rel)
    base = (VENDOR_DIR / rel).parent

    def repl(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith(("data:", "http:", "https:", "#")):
            return match.group(0)
        target = (base / ref.split("?")[0].split("#")[0]).resolve()
        if not target.is_file() or VENDOR_DIR.resolve() not in target.parents:
            return "url()"
        mime = mimetypes.guess_type(target.name)[0] or (
            "font/woff2" if target.suffix == ".woff2" else "application/octet-stream")
        return f"url(data:{mime};base64,{base64.b64encode(target.read_bytes()).decode()})"

    return re.sub(r"url\(([^)]+)\)", repl, css)


def inline_assets(html: str) -> str:
    """Replace vendored ``<script src>``/``<link href>`` tags with their inlined content."""
    def script(match: re.Match[str]) -> str:
        rel = match.group(1)[len(URL_PREFIX):]
        return "<script>" + _asset_text(rel).replace("</script", "<\\/script") + "</script>"

    def link(match: re.Match[str]) -> str:
        rel = match.group(1)[len(URL_PREFIX):]
        return "<style>" + _css_with_embedded_urls(rel) + "</style>"

    prefix = re.escape(URL_PREFIX)
    html = re.sub(r'<script[^>]*src="(' + prefix + r'[^"]+)"[^>]*></script>', script, html)
    html = re.sub(r'<link[^>]*href="(' + prefix + r'[^"]+)"[^>]*/?>', link, html)
    return html


def leaflet_image_path() -> str:
    """Where Leaflet looks for its default marker images."""
    return URL_PREFIX + "leaflet/images/"


localise_assets()

"""KML/KMZ: Placemarks, folders, ExtendedData (defusedxml: no DTD, no entities)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.errors import AtlasError
from geo.io._report import _Raw


# --- KML ---------------------------------------------------------------------------
def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _kml_coords(el) -> np.ndarray:
    text = (el.text or "") if el is not None else ""
    rows = []
    for tup in text.split():
        parts = tup.split(",")
        vals = []
        for p in parts[:3]:
            try:
                vals.append(float(p))
            except ValueError:
                vals.append(math.nan)
        while len(vals) < 2:
            vals.append(math.nan)
        rows.append(vals)
    if not rows:
        return np.empty((0, 2))
    width = max(len(r) for r in rows)
    return np.array([r + [0.0] * (width - len(r)) for r in rows], dtype=float)


def _child(el, name: str):
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _kml_geom(el):
    name = _local(el.tag)
    try:
        if name == "Point":
            xy = _kml_coords(_child(el, "coordinates"))
            return shapely.points(xy[0]) if len(xy) else None
        if name in ("LineString", "LinearRing"):
            xy = _kml_coords(_child(el, "coordinates"))
            return shapely.linestrings(xy) if len(xy) >= 2 else None
        if name == "Polygon":
            rings = []
            for part in ("outerBoundaryIs", "innerBoundaryIs"):
                for b in el:
                    if _local(b.tag) == part:
                        ring = _child(b, "LinearRing")
                        if ring is not None:
                            rings.append(_kml_coords(_child(ring, "coordinates")))
            if not rings or len(rings[0]) < 3:
                return None
            return shapely.Polygon(rings[0], [r for r in rings[1:] if len(r) >= 3])
        if name == "Track":  # gx:Track: <gx:coord>lon lat alt</gx:coord> … → a line
            xy = np.array([[float(v) for v in (c.text or "").split()[:3]] + [0.0] * (3 - len((c.text or "").split()[:3]))
                           for c in el if _local(c.tag) == "coord"], dtype=float).reshape(-1, 3)
            return shapely.linestrings(xy) if len(xy) >= 2 else None
        if name in ("MultiGeometry", "MultiTrack"):
            parts = [g for g in (_kml_geom(c) for c in el) if g is not None]
            if not parts:
                return None
            return shapely.GeometryCollection(parts)
    except (ValueError, shapely.errors.GEOSException, IndexError):
        return None
    return None


_KML_GEOMS = {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry", "Track", "MultiTrack"}


def _parse_kml(data: bytes, fname: str) -> gpd.GeoDataFrame:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring
    if not data.strip():
        raise AtlasError("import_errors.empty_file", file=fname)
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise AtlasError("import_errors.xml_unsafe", file=fname) from None
    except (ParseError, ValueError):
        raise AtlasError("import_errors.kml_invalid", file=fname) from None
    rows: list[dict] = []
    geoms: list = []

    def walk(children, folder: str) -> None:
        for c in children:
            tag = _local(c.tag)
            if tag in ("Folder", "Document"):
                n = _child(c, "name")
                walk(list(c), (n.text or "").strip() if n is not None and tag == "Folder" else folder)
            elif tag == "Placemark":
                row: dict[str, Any] = {}
                for key in ("name", "description"):
                    n = _child(c, key)
                    row[key] = (n.text or "").strip() if n is not None else None
                if folder:
                    row["folder"] = folder
                ext = _child(c, "ExtendedData")
                if ext is not None:
                    for d in ext.iter():
                        lt = _local(d.tag)
                        if lt == "Data" and d.get("name"):
                            v = _child(d, "value")
                            row[d.get("name")] = (v.text or "") if v is not None else ""
                        elif lt == "SimpleData" and d.get("name"):
                            row[d.get("name")] = d.text or ""
                geom = None
                for g in c.iter():
                    if g is not c and _local(g.tag) in _KML_GEOMS:
                        geom = _kml_geom(g)
                        break
                rows.append(row)
                geoms.append(geom)
    if _local(root.tag) not in ("kml", "Document", "Folder", "Placemark"):
        raise AtlasError("import_errors.kml_invalid", file=fname)
    walk([root] if _local(root.tag) == "Placemark" else list(root), "")
    df = pd.DataFrame(rows)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index if len(df) else None), crs=None)


_LIBKML_HOUSEKEEPING = ("id", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility",
                        "drawOrder", "icon", "snippet")


def _read_libkml(path: Path, folders: set, fname: str | None = None) -> gpd.GeoDataFrame | None:
    """The Placemarks as GDAL's LIBKML driver reads them (one layer per folder; a
    MultiGeometry is one multi-part feature; gx:Track a line), or None when LIBKML is not
    there, fails or runs over the reader's limits. Only called after :func:`_parse_kml`
    passed the file (no DTD, no entities): libkml's own XML parser is not trusted with those.
    The read runs in a child process under the reader's wall-clock and memory limits."""
    from geo import cancel
    from geo.io import _isolate, _isolate_child
    try:
        return _isolate.call(_isolate_child.libkml_frame, str(path), folders, _LIBKML_HOUSEKEEPING,
                             fname=fname or Path(path).name,
                             fmt_label="KML", nbytes=_isolate.data_bytes(path))
    except cancel.Cancelled:
        raise
    except Exception:  # any LIBKML trouble (or its limits): our own parser's result stands
        return None


def _read_kml(path: Path, fname: str) -> _Raw:
    """KML through GDAL's LIBKML driver where it does the job, after our defusedxml pass
    (which refuses DTDs/entities and is the fallback reader when LIBKML is missing, fails
    or finds a different number of Placemarks)."""
    own = _parse_kml(path.read_bytes(), fname)
    folders = set(own["folder"].dropna()) if "folder" in own.columns else set()
    gdf = _read_libkml(path, folders, fname)
    if gdf is None or len(gdf) != len(own):
        gdf = own
    else:
        gdf = gdf.set_crs(None, allow_override=True) if gdf.crs is not None else gdf
    return _Raw(gdf, declared=CRS.from_epsg(4326), spec_crs=True)

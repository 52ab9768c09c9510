"""Reading planners' own files: any common format in, a normalised layer and a report out.

:func:`read_any` returns a GeoDataFrame in EPSG:4326 with Unicode NFC text and valid
geometry, plus an :class:`ImportReport` saying what was found and what was put right.
Everything a user can get wrong is refused with an :class:`~geo.errors.AtlasError`
(one sentence, vi/en, naming the file, the problem and what to do); the original file
is never modified and zip members are extracted only into a private temporary folder.

Formats: zipped Shapefile (``.zip``; ``.shp`` with its sidecars), GeoPackage, GeoJSON
(including the old ``crs`` member), KML/KMZ (parsed with defusedxml, no DTD/entities),
CSV/XLSX with coordinate columns, GeoTIFF (:func:`read_raster`).

>>> gdf, report = read_any("wards.zip")          # doctest: +SKIP
>>> print("\\n".join(report.lines("en")))       # doctest: +SKIP
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import tempfile
import unicodedata
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.crs import (BASIS_GUESS_DEGREES, CrsDecision, finite_bounds, median_center, parse_crs, resolve_crs)
from geo.encoding import ENCODINGS, fix_frame_text
from geo.errors import AtlasError
from geo.i18n import t
from geo.safezip import Limits, check_zip, safe_extract
from geo.text import fold

log = logging.getLogger(__name__)

VECTOR_EXT = {".zip": "zip", ".shp": "shapefile", ".gpkg": "geopackage", ".geojson": "geojson",
              ".json": "geojson", ".kml": "kml", ".kmz": "kmz", ".csv": "csv", ".txt": "csv",
              ".tsv": "csv", ".xlsx": "xlsx"}
RASTER_EXT = {".tif": "geotiff", ".tiff": "geotiff"}
KINDS = ("points", "lines", "polygons")
_DIM_KIND = {0: "points", 1: "lines", 2: "polygons"}
_RESERVED = {"fid", "ogc_fid", "geometry", "geom"}
# folded header names (see _norm_header) of coordinate columns
_LAT = {"lat", "latitude", "vi do", "vido", "vd", "lat dd", "y lat", "lat wgs84", "latitude wgs84"}
_LON = {"lon", "lng", "long", "longitude", "kinh do", "kinhdo", "kd", "lon dd", "x lon", "lon wgs84",
        "longitude wgs84"}
_EAST = {"easting", "east", "e", "dong", "toa do dong"}
_NORTH = {"northing", "north", "n", "bac", "toa do bac"}
_X = {"x", "toa do x", "x m", "coord x", "x coord", "xcoord", "point x", "x vn2000", "x vn 2000", "toa do x m", "xm"}
_Y = {"y", "toa do y", "y m", "coord y", "y coord", "ycoord", "point y", "y vn2000", "y vn 2000", "toa do y m", "ym"}
# annotations planners put after a coordinate header: "Vĩ độ (WGS84)", "Kinh độ [độ]", "X_m"
_HEADER_NOTE = re.compile(r"\s*[(\[{].*?[)\]}]\s*")
_UNIT_TOKENS = {"wgs84", "wgs", "84", "vn2000", "vn", "2000", "m", "met", "dd", "deg", "degree", "degrees", "do"}
_Z = {"z", "h", "cao do", "elevation", "altitude", "z m", "h m"}
_WKT = {"wkt", "geometry", "geom", "the geom", "shape", "hinh hoc"}
_ALL_NAMES = _LAT | _LON | _EAST | _NORTH | _X | _Y | _Z | _WKT
# 21°35'39.1"N, 105°50′39″ E, 21° 35.65' (degrees, minutes, seconds; B/Đ = Bắc/Đông)
_DMS = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*[°º]\s*(?:(\d+(?:[.,]\d+)?)\s*['′’]\s*)?"
                  r"(?:(\d+(?:[.,]\d+)?)\s*(?:\"|″|”|'')\s*)?([NSEWBĐnsewbđ])?\s*$")


@dataclass
class ImportReport:
    """What an import found and did; :meth:`lines` renders it in vi or en."""

    file: str
    format: str = ""
    layer: str | None = None
    layers: list[str] = field(default_factory=list)
    crs: str = ""
    crs_basis: str = ""
    crs_params: dict = field(default_factory=dict)
    encoding_basis: str = ""
    encodings: dict[str, str] = field(default_factory=dict)
    renamed_columns: dict[str, str] = field(default_factory=dict)
    features_in: int = 0
    features: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    kind: str = ""
    left_out: dict[str, int] = field(default_factory=dict)
    has_z: bool = False
    repaired: int = 0
    dropped_empty: int = 0
    dropped_nonfinite: int = 0
    dropped_bad_coords: int = 0
    dropped_out_of_range: int = 0
    out_of_range_rows: list[int] = field(default_factory=list)
    swapped: bool = False
    surveyor_xy: bool = False
    truncated_values: int = 0
    warnings: list[tuple[str, dict]] = field(default_factory=list)
    raster: dict[str, Any] = field(default_factory=dict)

    def warn(self, key: str, **params: Any) -> None:
        """Add a warning (a key in ``[import_report]``)."""
        self.warnings.append((key, params))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serialisable) for storing with a saved layer."""
        d = asdict(self)
        d["warnings"] = [[k, p] for k, p in self.warnings]
        return d

    def warning_texts(self, lang: str = "vi") -> list[str]:
        """The warnings as sentences in ``lang``."""
        return [t(f"import_report.{k}", lang, file=self.file, **p) for k, p in self.warnings]

    def lines(self, lang: str = "vi", warnings: bool = True) -> list[str]:
        """The report as short lines of text in ``lang`` (``warnings=False``: without the
        warning sentences, for a page that shows them separately)."""
        tr = lambda key, **p: t(f"import_report.{key}", lang, **p)  # noqa: E731
        out = [tr("file", file=self.file), tr("format", format=tr(f"fmt_{self.format}"))]
        if self.layer:
            out.append(tr("layer", layer=self.layer, count=len(self.layers) or 1))
        if self.crs:
            params = {k: v.replace(".", ",") if lang == "vi" and k in ("x", "y") and isinstance(v, str) else v
                      for k, v in self.crs_params.items()}  # vi decimal comma: x 105,710–105,874
            out.append(tr("crs", crs=self.crs, basis=tr(self.crs_basis, **params)))
        if self.encoding_basis:
            out.append(tr("encoding", basis=tr(f"enc_{self.encoding_basis}")))
        for col, enc in self.encodings.items():
            out.append(tr("converted", column=col, encoding=tr(f"encname_{enc}")))
        if self.renamed_columns:
            out.append(tr("renamed", count=len(self.renamed_columns),
                          names=", ".join(self.renamed_columns.values())))
        if self.raster:
            r = self.raster
            out.append(tr("raster", width=r["width"], height=r["height"], bands=r["count"], dtype=r["dtype"]))
            if r.get("total") is not None:
                out.append(tr("raster_total", total=_n(r["total"], lang)))
            return out + (self.warning_texts(lang) if warnings else [])
        out.append(tr("features", features=self.features, read=self.features_in))
        if self.kinds:
            out.append(tr("kinds", kinds=", ".join(f"{tr('kind_' + k)} ({_n(v, lang)})" for k, v in self.kinds.items())))
        if self.left_out:
            out.append(tr("split", kind=tr("kind_" + self.kind),
                          others=", ".join(f"{tr('kind_' + k)} ({_n(v, lang)})" for k, v in self.left_out.items())))
        if self.has_z:
            out.append(tr("has_z"))
        if self.repaired:
            out.append(tr("repaired", count=self.repaired))
        if self.dropped_empty:
            out.append(tr("dropped_empty", count=self.dropped_empty))
        if self.dropped_nonfinite:
            out.append(tr("dropped_nonfinite", count=self.dropped_nonfinite))
        if self.dropped_bad_coords:
            out.append(tr("dropped_bad_coords", count=self.dropped_bad_coords))
        if self.dropped_out_of_range:
            out.append(tr("dropped_out_of_range", count=self.dropped_out_of_range,
                          rows=", ".join(str(r) for r in self.out_of_range_rows[:10])))
        if self.truncated_values:
            out.append(tr("truncated", count=self.truncated_values))
        return out + (self.warning_texts(lang) if warnings else [])


def _n(v: Any, lang: str) -> str:
    from geo.i18n import fmt_number
    return fmt_number(v, lang)


@dataclass
class _Raw:
    """A layer as read, before normalisation."""

    gdf: gpd.GeoDataFrame
    declared: CRS | None = None
    spec_crs: bool = False
    spec_default: CRS | None = None  # what the format implies when the file names no CRS
    raw_text: bool = False  # text read as Latin-1 bytes (no .cpg)
    encoding_basis: str = "auto"


# --------------------------------------------------------------------------- helpers
def _unreadable(fname: str, fmt: str) -> AtlasError:
    return AtlasError("import_errors.unreadable", file=fname, format=fmt)


def sniff_format(path: Path) -> str:
    """The format of ``path`` from its extension, else its first bytes."""
    ext = path.suffix.lower()
    if ext in VECTOR_EXT:
        return VECTOR_EXT[ext]
    if ext in RASTER_EXT:
        return RASTER_EXT[ext]
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head.startswith(b"PK"):
        return "zip"
    if head.startswith(b"SQLite format 3\x00"):
        return "geopackage"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "geotiff"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "geojson"
    if text.startswith(b"<"):
        return "kml"
    raise AtlasError("import_errors.unknown_format", file=path.name)


def is_raster(path: str | Path) -> bool:
    """True when ``path`` is a GeoTIFF (by extension or magic bytes)."""
    try:
        return sniff_format(Path(path)) == "geotiff"
    except (AtlasError, OSError):
        return False


def list_layers_in(path: str | Path, limits: Limits | None = None) -> list[str]:
    """Names of the layers a file offers (GeoPackage layers, shapefiles in a zip, sheets)."""
    path = Path(path)
    limits = limits or Limits.from_env()
    if not path.is_file():
        raise AtlasError("import_errors.not_found", file=path.name)
    fmt = sniff_format(path)
    if fmt == "geopackage":
        return _gpkg_layers(path, path.name)
    if fmt == "zip":
        names = [Path(i.filename).stem for i in check_zip(path, limits) if i.filename.lower().endswith(".shp")]
        return sorted(names)
    if fmt == "xlsx":
        check_zip(path, limits)
        import openpyxl
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            names = list(wb.sheetnames)
            wb.close()
            return names
        except Exception:  # noqa: BLE001 - damaged workbook
            raise _unreadable(path.name, "XLSX") from None
    if fmt == "geotiff":
        return []
    return [path.stem]


# --------------------------------------------------------------------------- readers
def _check_magic(path: Path, magic: bytes, fname: str, fmt_label: str) -> None:
    """Refuse a file whose first bytes are not those of its format before GDAL sees it.

    GDAL picks its driver from the content, not the name: an upload named ``x.gpkg`` or
    ``x.shp`` holding a VRT (``<OGRVRTDataSource>``) would make GDAL read any local file
    it names (``/etc/passwd`` as CSV) into the layer."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(magic))
    except OSError:
        raise _unreadable(fname, fmt_label) from None
    if head != magic:
        raise _unreadable(fname, fmt_label)


_SQLITE_MAGIC = b"SQLite format 3\x00"
_SHP_MAGIC = b"\x00\x00\x27\x0a"  # file code 9994 (big-endian) of .shp and .shx


def _gpkg_layers(path: Path, fname: str) -> list[str]:
    import pyogrio
    _check_magic(path, _SQLITE_MAGIC, fname, "GeoPackage")
    try:
        info = pyogrio.list_layers(path)
    except Exception:  # noqa: BLE001 - pyogrio raises several types for damaged files
        raise _unreadable(fname, "GeoPackage") from None
    return [str(name) for name, gtype in info if gtype is not None]


def _read_ogr(path: Path, fname: str, fmt_label: str, **kw: Any) -> gpd.GeoDataFrame:
    import pyogrio
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pyogrio.read_dataframe(path, on_invalid="ignore", **kw)
    except AtlasError:
        raise
    except Exception:  # noqa: BLE001 - GDAL errors of every kind mean "cannot read"
        log.debug("GDAL could not read %s", path, exc_info=True)
        raise _unreadable(fname, fmt_label) from None


_CPG = {"utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8", "1258": "cp1258", "cp1258": "cp1258",
        "windows-1258": "cp1258", "ansi 1258": "cp1258", "1252": "cp1252", "cp1252": "cp1252",
        "ansi 1252": "cp1252", "windows-1252": "cp1252", "iso-8859-1": "latin-1", "8859-1": "latin-1",
        "iso88591": "latin-1", "latin1": "latin-1", "latin-1": "latin-1", "88591": "latin-1"}


def _head_text(path: Path, limit: int) -> str:
    """The first ``limit`` bytes of a small sidecar (.prj/.cpg) as Latin-1 text: a
    hostile archive's giant .prj is never read whole."""
    with open(path, "rb") as fh:
        return fh.read(limit).decode("latin-1")


def _sidecar(shp: Path, ext: str) -> Path | None:
    for cand in shp.parent.iterdir():
        if cand.stem == shp.stem and cand.suffix.lower() == ext:
            return cand
    return None


def _read_shapefile(shp: Path, fname: str, encoding: str, report: ImportReport, tmp: Path,
                    label: str | None = None) -> _Raw:
    parts = {}
    stem = label or shp.stem
    for ext in (".shx", ".dbf"):
        parts[ext] = _sidecar(shp, ext)
        if parts[ext] is None:
            raise AtlasError("import_errors.shp_missing_part", file=fname, shp=stem + ".shp", part=stem + ext)
    declared = None
    prj = _sidecar(shp, ".prj")
    if prj is not None:
        try:
            declared = CRS.from_user_input(_head_text(prj, 64 * 1024).strip())
        except Exception:  # noqa: BLE001 - unreadable .prj: fall back to a guess, say so
            report.warn("prj_unreadable", prj=prj.name)
    # GDAL reads only .shp/.shx/.dbf copied to a private folder: the .prj is ours to
    # interpret (GDAL's own lookup of a non-EPSG .prj costs ~0.3 s and guesses nothing)
    _check_magic(shp, _SHP_MAGIC, fname, "Shapefile")
    _check_magic(parts[".shx"], _SHP_MAGIC, fname, "Shapefile")
    work = Path(tempfile.mkdtemp(prefix="shp_", dir=tmp))
    for src in (shp, parts[".shx"], parts[".dbf"]):
        shutil.copyfile(src, work / ("layer" + src.suffix.lower()))
    gdf = _read_ogr(work / "layer.shp", fname, "Shapefile", encoding="latin1")
    gdf = gdf.set_crs(None, allow_override=True) if gdf.crs is not None else gdf
    cpg = _sidecar(shp, ".cpg")
    raw = _Raw(gdf, declared=declared, raw_text=True)
    if encoding != "auto":
        raw.encoding_basis = "override"
        return raw
    if cpg is not None:
        code = _head_text(cpg, 256).strip().lower()
        pyenc = _CPG.get(code)
        if pyenc is None:
            report.warn("cpg_unknown", cpg=code[:30])
            return raw
        raw.gdf = _decode_frame(gdf, pyenc)
        raw.raw_text = False
        raw.encoding_basis = "cpg"
    return raw


def _decode_frame(gdf: gpd.GeoDataFrame, pyenc: str) -> gpd.GeoDataFrame:
    """Re-decode Latin-1-read text (and column names) with ``pyenc``."""
    def dec(v: Any) -> Any:
        if isinstance(v, str):
            try:
                return v.encode("latin-1").decode(pyenc, errors="replace")
            except UnicodeEncodeError:
                return v
        return v
    out = gdf.copy()
    for col in out.columns:
        if col != out.geometry.name and _is_text(out[col]):
            out[col] = out[col].map(dec)
    return out.rename(columns={c: dec(c) for c in out.columns if c != out.geometry.name})


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def _geojson_crs(member: Any) -> CRS | None:
    if not isinstance(member, dict):
        return None
    props = member.get("properties") or {}
    name = props.get("name") or props.get("code")
    if name is None:
        return None
    text = str(name)
    if text.isdigit():
        text = f"EPSG:{text}"
    if "CRS84" in text.upper():
        return CRS.from_epsg(4326)
    return CRS.from_user_input(text)


_JSON_FULL_CHECK = 32 * 1024 * 1024  # parse with json up to this size; GDAL alone beyond


def _read_geojson(path: Path, fname: str, report: ImportReport) -> _Raw:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(min(size, _JSON_FULL_CHECK) if size <= _JSON_FULL_CHECK else 1 << 16)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise AtlasError("import_errors.empty_file", file=fname)
    if size <= _JSON_FULL_CHECK:
        try:
            data = json.loads(head.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise AtlasError("import_errors.json_invalid", file=fname) from None
        del head
    else:  # big file: GDAL streams it; the (old) crs member sits before the features
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):  # GDAL would pick any driver by content
            raise AtlasError("import_errors.json_invalid", file=fname)
        match = re.search(rb'"crs"\s*:\s*(\{[^{}]*(\{[^{}]*\})?[^{}]*\})', head)
        data = {"type": "FeatureCollection"}
        if match:
            try:
                data["crs"] = json.loads(match.group(1))
            except ValueError:
                data["crs"] = {}
    if not isinstance(data, dict) or data.get("type") not in (
            "FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString",
            "Polygon", "MultiPolygon", "GeometryCollection"):
        raise AtlasError("import_errors.json_not_geojson", file=fname)
    declared = None
    if "crs" in data and data["crs"] is not None:
        try:
            declared = _geojson_crs(data["crs"])
        except Exception:  # noqa: BLE001
            report.warn("crs_member_unreadable")
    del data
    gdf = _read_ogr(path, fname, "GeoJSON")
    if gdf.crs is not None:
        gdf = gdf.set_crs(None, allow_override=True)
    return _Raw(gdf, declared=declared, spec_default=CRS.from_epsg(4326))


def _read_geopackage(path: Path, fname: str, layer: str | None, report: ImportReport) -> _Raw:
    names = _gpkg_layers(path, fname)
    report.layers = names
    if not names:
        raise AtlasError("import_errors.no_layers", file=fname)
    if layer is None:
        if len(names) > 1:
            raise AtlasError("import_errors.choose_layer", file=fname, layers=", ".join(names[:20]))
        layer = names[0]
    elif layer not in names:
        raise AtlasError("import_errors.layer_not_found", file=fname, layer=layer, layers=", ".join(names[:20]))
    report.layer = layer
    gdf = _read_ogr(path, fname, "GeoPackage", layer=layer)
    declared = gdf.crs
    if declared is not None:
        gdf = gdf.set_crs(None, allow_override=True)
    return _Raw(gdf, declared=declared)


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
        if name == "MultiGeometry":
            parts = [g for g in (_kml_geom(c) for c in el) if g is not None]
            if not parts:
                return None
            return shapely.GeometryCollection(parts)
    except (ValueError, shapely.errors.GEOSException, IndexError):
        return None
    return None


_KML_GEOMS = {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"}


def _parse_kml(data: bytes, fname: str) -> gpd.GeoDataFrame:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring
    from xml.etree.ElementTree import ParseError
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


def _read_kml(path: Path, fname: str) -> _Raw:
    gdf = _parse_kml(path.read_bytes(), fname)
    return _Raw(gdf, declared=CRS.from_epsg(4326), spec_crs=True)


# --- tables ------------------------------------------------------------------------
def _norm_header(h: Any) -> str:
    return re.sub(r"[^a-z0-9]+", " ", fold(h)).strip()


def _header_variants(h: Any) -> list[str]:
    """``h`` folded, then without bracketed notes and trailing unit/CRS words:
    ``"Vĩ độ (WGS84)"`` → ``["vi do wgs84", "vi do"]``, ``"Kinh độ [độ]"`` → ``[..., "kinh do"]``."""
    full = _norm_header(h)
    out = [full]
    bare = _norm_header(_HEADER_NOTE.sub(" ", str(h)))
    words = bare.split()
    while len(words) > 1 and words[-1] in _UNIT_TOKENS and " ".join(words) not in _ALL_NAMES:
        words.pop()
    for v in (bare, " ".join(words)):
        if v and v not in out:
            out.append(v)
    return out


def _to_number(series: pd.Series, dms: bool = False) -> pd.Series:
    """Numbers from text the way Vietnamese sheets write them (``21,59``, ``2.398.123,4``);
    ``dms=True`` (coordinate columns) also reads ``21°35'39"N``."""
    if pd.api.types.is_numeric_dtype(series):
        return pd.to_numeric(series, errors="coerce").astype(float)
    obj = series.astype(object)
    fast = pd.to_numeric(obj, errors="coerce").astype(float)
    todo = fast.isna() & obj.notna()
    if not todo.any():
        return fast
    s = obj[todo].astype(str).str.strip().str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
    s = s[s != ""]
    if s.empty:
        return fast
    both = s.str.contains(",", regex=False) & s.str.contains(".", regex=False)
    comma_last = s.str.rfind(",") > s.str.rfind(".")
    # 2.398.123,45 → 2398123.45 ; 2,398,123.45 → 2398123.45
    s = s.mask(both & comma_last, s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    s = s.mask(both & ~comma_last, s.str.replace(",", "", regex=False))
    s = s.mask(s.str.count(",") > 1, s.str.replace(",", "", regex=False))
    s = s.str.replace(",", ".", regex=False)
    s = s.mask(s.str.count(r"\.") > 1, s.str.replace(".", "", regex=False))
    fast.loc[s.index] = pd.to_numeric(s, errors="coerce").astype(float)
    left = fast.isna() & obj.notna()
    if dms and left.any():
        fast.loc[left[left].index] = _dms(obj[left].astype(str))
    return fast


def _dms(text: pd.Series) -> pd.Series:
    """Degrees-minutes-seconds text as decimal degrees (NaN when it is not DMS)."""
    parts = text.str.extract(_DMS)
    num = [pd.to_numeric(parts[i].str.replace(",", ".", regex=False), errors="coerce") for i in range(3)]
    deg = num[0].abs() + num[1].fillna(0) / 60 + num[2].fillna(0) / 3600
    bad = (num[1].fillna(0) >= 60) | (num[2].fillna(0) >= 60)
    neg = num[0].lt(0) | parts[3].str.upper().isin(["S", "W"])
    return deg.where(~neg, -deg).where(~bad).astype(float)


def _numeric_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns whose every value is a number become numbers (codes with a leading 0 stay text)."""
    for col in df.columns:
        s = df[col]
        if not _is_text(s):
            continue
        vals = s.dropna().astype(str).str.strip()
        vals = vals[vals != ""]
        if vals.empty or _to_number(vals.head(50)).isna().any() or vals.str.match(r"^[+-]?0\d").any():
            continue
        nums = _to_number(vals)
        if nums.notna().all():
            full = pd.Series(np.nan, index=s.index)
            full.loc[nums.index] = nums
            if full.notna().all() and (full % 1 == 0).all() and (full.abs() < 2**53).all():
                full = full.astype("int64")
            df[col] = full
    return df


def _find(cols: dict[str, str], names: set[str]) -> str | None:
    for norm, orig in cols.items():
        if norm in names:
            return orig
    return None


def _table_to_points(df: pd.DataFrame, fname: str, report: ImportReport, override) -> _Raw:
    if df.empty:
        raise AtlasError("import_errors.empty_file", file=fname)
    cols = {_norm_header(c): c for c in df.columns}  # exact names first, then their variants
    for c in df.columns:
        for v in _header_variants(c)[1:]:
            cols.setdefault(v, c)
    lat, lon = _find(cols, _LAT), _find(cols, _LON)
    east, north = _find(cols, _EAST), _find(cols, _NORTH)
    xcol, ycol = _find(cols, _X), _find(cols, _Y)
    zcol = _find(cols, _Z)
    mode = None
    if lat and lon:
        mode, a, b = "lonlat", lon, lat
    elif east and north:
        mode, a, b = "en", east, north
    elif xcol and ycol:
        mode, a, b = "xy", xcol, ycol
    else:
        wkt = _find(cols, _WKT)
        if wkt is not None:
            return _wkt_table(df, wkt, fname, report)
        raise AtlasError("import_errors.no_coord_columns", file=fname, columns=", ".join(map(str, df.columns[:12])))
    x, y = _to_number(df[a], dms=True), _to_number(df[b], dms=True)
    ok = x.notna() & y.notna() & np.isfinite(x) & np.isfinite(y)
    report.dropped_bad_coords = int((~ok).sum())
    if not ok.any():
        raise AtlasError("import_errors.no_valid_coords", file=fname, x=str(a), y=str(b))
    xv, yv = x[ok].to_numpy(), y[ok].to_numpy()
    degrees = bool(np.nanmedian(np.abs(xv)) <= 180 and np.nanmedian(np.abs(yv)) <= 180)
    if override is not None:  # the user's CRS says whether these are degrees or metres
        geographic = bool(override.is_geographic)
    else:
        geographic = degrees
        if mode == "lonlat" and not degrees:  # "lat/lon" columns holding VN-2000 metres
            report.warn("latlon_metres", x=str(a), y=str(b))
    if geographic:
        # latitude column holding longitudes (|lat| > 90) while the other fits: swapped
        lat_bad = np.mean(np.abs(yv) > 90)
        lon_as_lat_ok = np.mean(np.abs(xv) <= 90)
        if lat_bad > 0.5 and lon_as_lat_ok > 0.5:
            x, y = y, x
            report.swapped = True
            report.warn("swapped_latlon", x=str(a), y=str(b))
        out = ok & ((x.abs() > 180) | (y.abs() > 90))
        if out.any():
            report.dropped_out_of_range = int(out.sum())
            report.out_of_range_rows = [int(i) + 2 for i in np.flatnonzero(out.to_numpy())[:50]]
        ok &= ~out
    elif np.nanmedian(xv) > 1_000_000 > np.nanmedian(yv):
        x, y = y, x
        if mode == "xy":  # Vietnamese surveyors: X = northing, Y = easting
            report.surveyor_xy = True
            report.warn("surveyor_xy", x=str(a), y=str(b))
        else:  # easting/northing (or lat/lon holding metres) the wrong way round
            report.swapped = True
            report.warn("swapped_en", x=str(a), y=str(b))
    if not ok.any():
        raise AtlasError("import_errors.no_valid_coords", file=fname, x=str(a), y=str(b))
    z = _to_number(df[zcol]) if zcol is not None else None
    keep = _numeric_columns(df.loc[ok].copy())
    xs, ys = x[ok].to_numpy(), y[ok].to_numpy()
    if z is not None:
        zs = z[ok].fillna(0.0).to_numpy()
        geom = gpd.points_from_xy(xs, ys, zs)
    else:
        geom = gpd.points_from_xy(xs, ys)
    keep = keep.rename(columns={c: f"{c}_1" for c in keep.columns if str(c).lower() in _RESERVED})
    gdf = gpd.GeoDataFrame(keep.reset_index(drop=True), geometry=geom)
    return _Raw(gdf, declared=None, raw_text=True)


def _wkt_table(df: pd.DataFrame, col: str, fname: str, report: ImportReport) -> _Raw:
    """A table whose geometry is a WKT column (QGIS/GDAL CSV exports)."""
    text = df[col].astype("string").fillna("").str.strip()
    geoms = shapely.from_wkt(text.to_numpy(dtype=object), on_invalid="ignore")
    ok = ~pd.isna(geoms)
    report.dropped_bad_coords = int((~ok).sum())
    if not ok.any():
        raise AtlasError("import_errors.no_valid_coords", file=fname, x=str(col), y=str(col))
    keep = _numeric_columns(df.loc[ok].drop(columns=[col]).copy())
    keep = keep.rename(columns={c: f"{c}_1" for c in keep.columns if str(c).lower() in _RESERVED})
    gdf = gpd.GeoDataFrame(keep.reset_index(drop=True), geometry=list(geoms[ok]))
    return _Raw(gdf, declared=None, raw_text=True)


def _read_csv(path: Path, fname: str, report: ImportReport, override) -> _Raw:
    data = path.read_bytes()
    if not data.strip():
        raise AtlasError("import_errors.empty_file", file=fname)
    basis = "auto"
    if data.startswith(b"\xef\xbb\xbf"):
        text, basis = data[3:].decode("utf-8", errors="replace"), "bom"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, basis = data.decode("utf-16", errors="replace"), "bom"
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    del data
    first = text.split("\n", 1)[0]
    sep = max((",", ";", "\t", "|"), key=first.count)
    import io as _io
    try:
        df = pd.read_csv(_io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                         engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        raise AtlasError("import_errors.csv_invalid", file=fname) from None
    raw = _table_to_points(df, fname, report, override)
    raw.raw_text = basis == "auto"
    raw.encoding_basis = basis
    return raw


def _caused_by(exc: BaseException, kind: type) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _read_xlsx(path: Path, fname: str, layer: str | None, report: ImportReport, override,
               limits: Limits) -> _Raw:
    check_zip(path, limits, fname)
    import openpyxl
    from defusedxml import DefusedXmlException
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - damaged or hostile workbook
        if _caused_by(exc, DefusedXmlException):
            raise AtlasError("import_errors.xml_unsafe", file=fname) from None
        raise _unreadable(fname, "XLSX") from None
    try:
        report.layers = list(wb.sheetnames)
        if layer is not None and layer not in wb.sheetnames:
            raise AtlasError("import_errors.layer_not_found", file=fname, layer=layer,
                             layers=", ".join(wb.sheetnames[:20]))
        sheet = wb[layer] if layer else wb[wb.sheetnames[0]]
        report.layer = sheet.title
        if layer is None and len(wb.sheetnames) > 1:
            report.warn("first_sheet", sheet=sheet.title, count=len(wb.sheetnames))
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(row)
    except AtlasError:
        raise
    except Exception as exc:  # noqa: BLE001
        if _caused_by(exc, DefusedXmlException):
            raise AtlasError("import_errors.xml_unsafe", file=fname) from None
        raise _unreadable(fname, "XLSX") from None
    finally:
        wb.close()
    rows = [r for r in rows if r is not None and any(v not in (None, "") for v in r)]
    if len(rows) < 2:
        raise AtlasError("import_errors.empty_file", file=fname)
    header = [str(h).strip() if h not in (None, "") else f"column_{i + 1}" for i, h in enumerate(rows[0])]
    width = len(header)
    body = [list(r[:width]) + [None] * (width - len(r)) for r in rows[1:]]
    df = pd.DataFrame(body, columns=header)
    raw = _table_to_points(df, fname, report, override)
    raw.raw_text = False
    raw.encoding_basis = "auto"
    return raw


# --------------------------------------------------------------------------- normalise
def _explode_collections(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.values
    types = shapely.get_type_id(np.asarray(geoms))
    gc = types == 7
    if not gc.any():
        return gdf
    parts, idx = shapely.get_parts(np.asarray(geoms)[gc], return_index=True)
    rows = np.flatnonzero(gc)[idx]
    exploded = gdf.iloc[rows].copy()
    exploded[gdf.geometry.name] = parts
    out = pd.concat([gdf.iloc[np.flatnonzero(~gc)], exploded])
    return gpd.GeoDataFrame(out.sort_index(kind="stable").reset_index(drop=True),
                            geometry=gdf.geometry.name, crs=gdf.crs)


def _drop_nonfinite(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    geoms = np.asarray(gdf.geometry.values)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if not bad.any():
        return gdf, 0
    rows = np.zeros(len(gdf), dtype=bool)
    rows[np.unique(idx[bad])] = True
    return gdf.loc[~rows], int(rows.sum())


def _repair(geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """Make invalid geometries valid, keeping the parts of their own dimension."""
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return geoms, 0
    out = geoms.copy()
    dims = shapely.get_dimensions(geoms[invalid])
    fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    for j, (g, dim) in enumerate(zip(fixed, dims)):
        if g is not None and shapely.get_type_id(g) == 7:
            parts = [p for p in shapely.get_parts(g) if shapely.get_dimensions(p) == dim]
            g = shapely.union_all(parts) if parts else shapely.Polygon()
        fixed[j] = g
    out[invalid] = fixed
    return out, int(invalid.sum())


def _clean_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geom = gdf.geometry.name
    seen: set[str] = set()
    mapping = {}
    for i, c in enumerate(gdf.columns):
        if c == geom:
            continue
        name = unicodedata.normalize("NFC", "".join(ch for ch in str(c) if ch.isprintable()).strip())[:63]
        if not name:
            name = f"field_{i + 1}"
        base = name
        k = 1
        while name.lower() in seen or name.lower() in _RESERVED:
            name = f"{base}_{k}"
            k += 1
        seen.add(name.lower())
        mapping[c] = name
    out = gdf.rename(columns=mapping)
    if geom != "geometry":
        out = out.rename_geometry("geometry")
    return out


def _truncate(gdf: gpd.GeoDataFrame, cap: int) -> tuple[gpd.GeoDataFrame, int]:
    n = 0
    for col in gdf.columns:
        if col == gdf.geometry.name or not _is_text(gdf[col]):
            continue
        long = (gdf[col].astype(object).str.len() > cap).fillna(False).astype(bool)
        if long.any():
            n += int(long.sum())
            gdf[col] = gdf[col].astype(object).where(~long, gdf[col].map(
                lambda v: v[:cap] + "…" if isinstance(v, str) else v))
    return gdf, n


def _normalise(raw: _Raw, report: ImportReport, *, override, encoding: str, kind: str | None,
               limits: Limits) -> gpd.GeoDataFrame:
    gdf = raw.gdf
    fname = report.file
    report.features_in = report.features_in or len(gdf)
    if len(gdf) == 0 and report.features_in == 0:
        raise AtlasError("import_errors.no_features", file=fname)
    gdf = _explode_collections(gdf)
    empty = gdf.geometry.isna().to_numpy() | shapely.is_empty(np.asarray(gdf.geometry.values))
    report.dropped_empty += int(empty.sum())
    gdf = gdf.loc[~empty]
    gdf, bad = _drop_nonfinite(gdf)
    report.dropped_nonfinite += bad
    if len(gdf) == 0:
        raise AtlasError("import_errors.no_usable_geometry", file=fname, count=report.features_in)
    # text
    df_text, converted, renamed = fix_frame_text(gdf, encoding, raw=raw.raw_text)
    gdf = gpd.GeoDataFrame(df_text, geometry=gdf.geometry.name, crs=None)
    report.encodings = converted
    report.renamed_columns = renamed
    report.encoding_basis = "override" if encoding != "auto" else raw.encoding_basis
    gdf, report.truncated_values = _truncate(gdf, limits.max_text_chars)
    # CRS
    all_xy = shapely.get_coordinates(np.asarray(gdf.geometry.values))
    decision: CrsDecision = resolve_crs(raw.declared, finite_bounds(all_xy), override=override, file=fname,
                                        spec_crs=raw.spec_crs, spec_default=raw.spec_default,
                                        center=median_center(all_xy))
    del all_xy
    report.crs = decision.label
    report.crs_basis = decision.basis
    report.crs_params = decision.params
    if decision.basis == BASIS_GUESS_DEGREES:
        report.warn("assumed_wgs84")
    gdf = gdf.set_crs(decision.crs, allow_override=True)
    if not decision.crs.equals(CRS.from_epsg(4326)):
        try:
            gdf = gdf.to_crs(4326)
        except Exception:  # noqa: BLE001 - PROJ failures: wrong CRS for these coordinates
            raise AtlasError("import_errors.crs_transform", file=fname, crs=decision.label) from None
        gdf, bad = _drop_nonfinite(gdf)
        report.dropped_nonfinite += bad
    coords = shapely.get_coordinates(np.asarray(gdf.geometry.values), return_index=True)
    xy, idx = coords
    out_rows = np.zeros(len(gdf), dtype=bool)
    oor = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    if oor.any():
        out_rows[np.unique(idx[oor])] = True
        report.dropped_out_of_range += int(out_rows.sum())
        report.out_of_range_rows += [int(i) + 1 for i in gdf.index[out_rows][:50]]
        gdf = gdf.loc[~out_rows]
    if len(gdf) == 0:
        raise AtlasError("import_errors.no_usable_geometry", file=fname, count=report.features_in)
    b = gdf.total_bounds
    if b[2] < 101.5 or b[0] > 110.0 or b[3] < 7.5 or b[1] > 23.6:
        report.warn("outside_vietnam", crs=decision.label)
    else:  # a few stray features (a row in other units, a typo) are reported, not hidden
        fb = shapely.bounds(np.asarray(gdf.geometry.values))
        stray = (fb[:, 2] < 101.0) | (fb[:, 0] > 110.5) | (fb[:, 3] < 7.0) | (fb[:, 1] > 24.1)
        if stray.any():
            report.warn("some_outside_vietnam", count=int(stray.sum()), features=len(gdf))
    # geometry
    geoms, report.repaired = _repair(np.asarray(gdf.geometry.values))
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=4326))
    empty = shapely.is_empty(geoms) | pd.isna(geoms)
    if empty.any():
        report.dropped_empty += int(empty.sum())
        gdf = gdf.loc[~empty]
    dims = shapely.get_dimensions(np.asarray(gdf.geometry.values))
    kinds = {_DIM_KIND[d]: int((dims == d).sum()) for d in (0, 1, 2) if (dims == d).any()}
    report.kinds = kinds
    if len(kinds) > 1:
        counts = {k: kinds.get(k, 0) for k in KINDS}
        if kind is None:
            raise AtlasError("import_errors.mixed_geometry", file=fname, **counts)
        if kind not in kinds:
            raise AtlasError("import_errors.kind_absent", file=fname, **counts)
        keep = dims == {v: k for k, v in _DIM_KIND.items()}[kind]
        report.left_out = {k: v for k, v in kinds.items() if k != kind}
        gdf = gdf.loc[keep]
        report.kind = kind
    elif kinds:
        report.kind = next(iter(kinds))
        if kind is not None and kind != report.kind:
            raise AtlasError("import_errors.kind_absent", file=fname, **{k: kinds.get(k, 0) for k in KINDS})
    report.has_z = bool(shapely.has_z(np.asarray(gdf.geometry.values)).any())
    gdf = _clean_columns(gdf).reset_index(drop=True)
    report.features = len(gdf)
    return gdf


# --------------------------------------------------------------------------- public
def _prepare(path: str | Path, encoding: str, crs, limits: Limits | None,
             display_name: str | None) -> tuple[Path, Limits, Any]:
    path = Path(path)
    name = display_name or path.name
    if not path.is_file():
        raise AtlasError("import_errors.not_found", file=name)
    if encoding not in ENCODINGS:
        raise AtlasError("import_errors.bad_encoding", file=name, encoding=str(encoding)[:30],
                         choices="|".join(ENCODINGS))
    limits = limits or Limits.from_env()
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise AtlasError("import_errors.too_big", file=name, size_mb=round(size / 1048576, 1),
                         cap_mb=round(limits.max_file_bytes / 1048576, 1))
    override = parse_crs(crs, name) if crs not in (None, "") else None
    return path, limits, override


def read_any(path: str | Path, layer: str | None = None, crs: Any = None, encoding: str = "auto",
             kind: str | None = None, limits: Limits | None = None,
             display_name: str | None = None) -> tuple[gpd.GeoDataFrame, ImportReport]:
    """Read any supported vector file into a normalised GeoDataFrame and a report.

    ``layer`` picks a GeoPackage layer, a shapefile inside a zip or an XLSX sheet;
    ``crs`` overrides whatever the file says; ``encoding`` is ``auto`` or one of
    ``utf-8|tcvn3|vni|cp1258``; ``kind`` (``points|lines|polygons``) keeps one kind of
    a mixed layer. ``display_name`` names the file in messages (uploads live in temp files).
    Raises :class:`AtlasError` when the file is refused.
    """
    path, limits, override = _prepare(path, encoding, crs, limits, display_name)
    fname = display_name or path.name
    if kind is not None and kind not in KINDS:
        raise AtlasError("import_errors.bad_kind", file=fname, kind=str(kind)[:20], choices="|".join(KINDS))
    report = ImportReport(file=fname)
    try:
        with tempfile.TemporaryDirectory(prefix="atlas_import_") as tmp:
            raw = _read_vector(path, fname, layer, encoding, override, report, limits, Path(tmp))
            gdf = _normalise(raw, report, override=override, encoding=encoding, kind=kind, limits=limits)
    except AtlasError:
        raise
    except MemoryError:
        raise AtlasError("import_errors.too_big", file=fname, size_mb=round(path.stat().st_size / 1048576, 1),
                         cap_mb=round(limits.max_file_bytes / 1048576, 1)) from None
    except Exception:  # noqa: BLE001 - never a traceback for a user's file
        log.warning("import of %s failed", fname, exc_info=True)
        raise _unreadable(fname, report.format or path.suffix.lstrip(".").upper() or "?") from None
    return gdf, report


def _read_vector(path: Path, fname: str, layer: str | None, encoding: str, override, report: ImportReport,
                 limits: Limits, tmp: Path) -> _Raw:
    fmt = sniff_format(path)
    report.format = fmt
    if fmt == "geotiff":
        raise AtlasError("import_errors.is_raster", file=fname)
    if fmt in ("zip", "kmz"):
        folder = safe_extract(path, tmp / "x", limits, fname)
        files = [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")
                 and "__MACOSX" not in p.parts]
        if fmt == "kmz":
            kmls = [p for p in files if p.suffix.lower() == ".kml"]
            if not kmls:
                raise AtlasError("import_errors.zip_no_data", file=fname)
            doc = next((p for p in kmls if p.name.lower() == "doc.kml"), kmls[0])
            return _read_kml(doc, fname)
        shps = [p for p in files if p.suffix.lower() == ".shp"]
        if shps:
            report.format = "shapefile"
            report.layers = [p.stem for p in shps]
            if layer is not None:
                chosen = [p for p in shps if p.stem == layer]
                if not chosen:
                    raise AtlasError("import_errors.layer_not_found", file=fname, layer=layer,
                                     layers=", ".join(report.layers[:20]))
                shp = chosen[0]
            elif len(shps) > 1:
                raise AtlasError("import_errors.choose_layer", file=fname, layers=", ".join(report.layers[:20]))
            else:
                shp = shps[0]
            report.layer = shp.stem
            return _read_shapefile(shp, fname, encoding, report, tmp)
        if any(p.suffix.lower() in (".dbf", ".shx", ".prj") for p in files):
            stem = next(p.stem for p in files if p.suffix.lower() in (".dbf", ".shx", ".prj"))
            raise AtlasError("import_errors.shp_missing_part", file=fname, shp=stem + ".shp", part=stem + ".shp")
        inner = [p for p in files if p.suffix.lower() in VECTOR_EXT and p.suffix.lower() not in (".zip", ".kmz")]
        if len(inner) != 1:
            raise AtlasError("import_errors.zip_no_data", file=fname)
        inner_fmt = VECTOR_EXT[inner[0].suffix.lower()]
        report.format = inner_fmt
        return _read_plain(inner[0], inner_fmt, fname, layer, encoding, override, report, limits, tmp)
    return _read_plain(path, fmt, fname, layer, encoding, override, report, limits, tmp)


def _read_plain(path: Path, fmt: str, fname: str, layer, encoding, override, report: ImportReport,
                limits: Limits, tmp: Path) -> _Raw:
    if fmt == "shapefile":
        report.layer = Path(fname).stem
        return _read_shapefile(path, fname, encoding, report, tmp, label=Path(fname).stem)
    if fmt == "geopackage":
        return _read_geopackage(path, fname, layer, report)
    if fmt == "geojson":
        return _read_geojson(path, fname, report)
    if fmt == "kml":
        return _read_kml(path, fname)
    if fmt == "csv":
        return _read_csv(path, fname, report, override)
    if fmt == "xlsx":
        return _read_xlsx(path, fname, layer, report, override, limits)
    raise AtlasError("import_errors.unknown_format", file=fname)


# --------------------------------------------------------------------------- rasters
@dataclass
class RasterImport:
    """A checked raster: where it is and what it holds (values stay on disk)."""

    path: Path
    crs: CRS
    width: int
    height: int
    count: int
    dtype: str
    nodata: float | None
    bounds_lonlat: tuple[float, float, float, float]
    total: float | None


def read_raster(path: str | Path, crs: Any = None, limits: Limits | None = None,
                display_name: str | None = None) -> tuple[RasterImport, ImportReport]:
    """Check a GeoTIFF (CRS honoured, guessed or overridden; band 1 summed in blocks)."""
    path, limits, override = _prepare(path, "auto", crs, limits, display_name)
    fname = display_name or path.name
    report = ImportReport(file=fname, format="geotiff")
    import rasterio
    from rasterio.errors import RasterioError
    from rasterio.warp import transform_bounds
    max_cells = int(float(os.environ.get("ATLAS_MAX_RASTER_CELLS", 200_000_000)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.open(path) as ds:
                if ds.driver != "GTiff":
                    raise AtlasError("import_errors.unknown_format", file=fname)
                if ds.width * ds.height > max_cells:
                    raise AtlasError("import_errors.raster_too_big", file=fname, cells=ds.width * ds.height,
                                     cap=max_cells)
                declared = CRS.from_user_input(ds.crs.to_wkt()) if ds.crs else None
                b = ds.bounds
                decision = resolve_crs(declared, (b.left, b.bottom, b.right, b.top), override=override, file=fname)
                total = 0.0
                nodata = ds.nodata
                for _, window in ds.block_windows(1):
                    arr = ds.read(1, window=window, masked=True).astype("float64")
                    vals = arr.compressed() if np.ma.isMaskedArray(arr) else arr.ravel()
                    vals = vals[np.isfinite(vals)]
                    total += float(vals.sum())
                lonlat = transform_bounds(decision.crs.to_wkt(), "EPSG:4326", b.left, b.bottom, b.right, b.top)
                info = RasterImport(path=path, crs=decision.crs, width=ds.width, height=ds.height, count=ds.count,
                                    dtype=str(ds.dtypes[0]), nodata=nodata, bounds_lonlat=tuple(lonlat), total=total)
    except AtlasError:
        raise
    except (RasterioError, OSError, ValueError, MemoryError):
        raise _unreadable(fname, "GeoTIFF") from None
    report.crs, report.crs_basis, report.crs_params = decision.label, decision.basis, decision.params
    report.raster = {"width": info.width, "height": info.height, "count": info.count, "dtype": info.dtype,
                     "nodata": info.nodata, "total": info.total, "bounds": list(info.bounds_lonlat)}
    return info, report


def write_normalised(gdf: gpd.GeoDataFrame, out: str | Path, layer: str | None = None) -> Path:
    """Write a normalised layer (EPSG:4326, UTF-8) to a new GeoPackage ``out``."""
    import pyogrio
    out = Path(out)
    try:
        pyogrio.write_dataframe(gdf, out, layer=layer or out.stem, driver="GPKG", encoding="utf-8")
    except Exception as exc:  # noqa: BLE001
        raise AtlasError("errors.unwritable", path=str(out), reason=type(exc).__name__) from None
    return out

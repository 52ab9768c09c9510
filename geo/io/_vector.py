"""GDAL-backed vector formats: Shapefile, GeoJSON, GeoPackage."""
from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
from pyproj import CRS

from geo.errors import AtlasError
from geo.io._report import ImportReport, _Raw
from geo.io._common import _CPG, _SHP_MAGIC, _check_magic, _gpkg_layers, _head_text, _is_text, _read_ogr


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
        decoded = _decode_frame(gdf, pyenc)
        if decoded is None:  # a declared encoding is not proof: the bytes say otherwise
            report.warn("cpg_wrong", cpg=code[:30])
            raw.declared_failed = True
            raw.encoding_basis = "detected"
            return raw
        raw.gdf = decoded
        raw.raw_text = False
        raw.encoding_basis = "cpg"
    return raw


def _decode_frame(gdf: gpd.GeoDataFrame, pyenc: str) -> gpd.GeoDataFrame | None:
    """Re-decode Latin-1-read text (and column names) with ``pyenc``; None when some
    value's bytes are not valid in ``pyenc`` (the declaration is wrong)."""
    class _Bad(Exception):
        pass

    def dec(v: Any) -> Any:
        if isinstance(v, str):
            try:
                return v.encode("latin-1").decode(pyenc)
            except UnicodeEncodeError:
                return v
            except UnicodeDecodeError:
                raise _Bad from None
        return v
    out = gdf.copy()
    try:
        for col in out.columns:
            if col != out.geometry.name and _is_text(out[col]):
                out[col] = out[col].map(dec)
        return out.rename(columns={c: dec(c) for c in out.columns if c != out.geometry.name})
    except _Bad:
        return None


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

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
from geo.io._common import _CPG, _SHP_MAGIC, _check_magic, _gpkg_layers, _head_text, _is_text, _read_ogr
from geo.io._report import ImportReport, _Raw


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
        except Exception:  # unreadable .prj: fall back to a guess, say so
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
        declared_or_detected(raw, pyenc, report, "cpg", "cpg_wrong", cpg=code[:30])
        return raw
    _apply_ldid(raw, parts[".dbf"], report)
    return raw


def declared_or_detected(raw: _Raw, pyenc: str, report: ImportReport, basis: str, warn_key: str,
                         **params: Any) -> None:
    """Decode ``raw``'s Latin-1-read text with a file's declared encoding ``pyenc`` (a
    ``.cpg``, a DBF language byte, a MapInfo ``Charset``) — unless the bytes say otherwise:
    they do not decode in ``pyenc``, or the whole file's text reads as Vietnamese in another
    encoding (TCVN3, VNI, Windows-1258, UTF-8; a Western or Asian code page decodes such
    bytes into wrong letters without an error). Then the content decides and the report
    says the declaration was wrong (``warn_key``)."""
    from geo.encoding import DECODERS, detect_file
    decoded = _decode_frame(raw.gdf, pyenc)
    detected = detect_file(raw.gdf)
    if decoded is None or (detected in DECODERS and detected != pyenc):
        report.warn(warn_key, **params)
        raw.declared_failed = decoded is None
        raw.encoding_basis = "detected"
        return
    raw.gdf, raw.raw_text, raw.encoding_basis = decoded, False, basis


# DBF language driver id (byte 29) → code page, as GDAL's shapefile driver maps them; 0x57
# ("ANSI", GDAL: ISO-8859-1) names no code page: on a Vietnamese Windows it is Windows-1258,
# TCVN3 or VNI, so it is left to detection like 0 (none)
_LDID = {0x01: "cp437", 0x02: "cp850", 0x03: "cp1252", 0x08: "cp865", 0x0A: "cp850", 0x0B: "cp437",
         0x0D: "cp437", 0x0E: "cp850", 0x0F: "cp437", 0x10: "cp850", 0x11: "cp437", 0x12: "cp850",
         0x13: "cp932", 0x14: "cp850", 0x15: "cp437", 0x16: "cp850", 0x17: "cp865", 0x18: "cp437",
         0x19: "cp437", 0x1A: "cp850", 0x1B: "cp437", 0x1C: "cp863", 0x1D: "cp850", 0x1F: "cp852",
         0x22: "cp852", 0x23: "cp852", 0x24: "cp860", 0x25: "cp850", 0x26: "cp866", 0x37: "cp850",
         0x40: "cp852", 0x4D: "cp936", 0x4E: "cp949", 0x4F: "cp950", 0x50: "cp874", 0x58: "cp1252",
         0x59: "cp1252", 0x64: "cp852", 0x65: "cp866", 0x66: "cp865", 0x67: "cp861", 0x6A: "cp737",
         0x6B: "cp857", 0x6C: "cp863", 0x78: "cp950", 0x79: "cp949", 0x7A: "cp936", 0x7B: "cp932",
         0x7C: "cp874", 0x86: "cp737", 0x87: "cp852", 0x88: "cp857", 0xC8: "cp1250", 0xC9: "cp1251",
         0xCA: "cp1254", 0xCB: "cp1253", 0xCC: "cp1257"}


def dbf_ldid(dbf: Path) -> int:
    """The language driver id of a DBF header (byte 29; 0 when absent or unreadable)."""
    try:
        with open(dbf, "rb") as fh:
            head = fh.read(32)
    except OSError:
        return 0
    return head[29] if len(head) >= 32 else 0


def _apply_ldid(raw: _Raw, dbf: Path, report: ImportReport) -> None:
    """Use the DBF language byte as an encoding declaration when there is no ``.cpg`` — but
    not blindly, as for a ``.cpg``: bytes that do not decode in its code page, or that read
    as Vietnamese in a legacy encoding (TCVN3, VNI, Windows-1258, UTF-8: what a declared
    Western or Asian code page would turn into wrong letters), make the content decide, and
    the report says so. No language byte (or 0x57 "ANSI"): detection, as before."""
    ldid = dbf_ldid(dbf)
    pyenc = _LDID.get(ldid)
    if pyenc is not None:
        declared_or_detected(raw, pyenc, report, "ldid", "ldid_wrong", ldid=f"0x{ldid:02X} ({pyenc})")


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
        except Exception:
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

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

import logging
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd

from geo.errors import AtlasError
from geo.io._common import (
    KINDS,
    RASTER_EXT,
    VECTOR_EXT,
    _gpkg_layers,
    _prepare,
    _unreadable,
    is_raster,
    refuse_unless_file,
    sniff_format,
)
from geo.io._formats import LABELS, read_gdal_format
from geo.io._kml import _read_kml
from geo.io._limits import check_raster_size
from geo.io._normalise import _normalise
from geo.io._raster import RasterImport, read_raster
from geo.io._report import ImportReport, _Raw
from geo.io._tables import _read_csv, _read_xlsx
from geo.io._vector import _read_geojson, _read_geopackage, _read_shapefile
from geo.safezip import Limits, check_zip, safe_extract

log = logging.getLogger(__name__)


def read_any(path: str | Path, layer: str | None = None, crs: Any = None, encoding: str = "auto",
             kind: str | None = None, limits: Limits | None = None,
             display_name: str | None = None,
             header_row: int | None = None) -> tuple[gpd.GeoDataFrame, ImportReport]:
    """Read any supported vector file into a normalised GeoDataFrame and a report.

    ``layer`` picks a GeoPackage layer, a shapefile inside a zip or an XLSX sheet;
    ``crs`` overrides whatever the file says; ``encoding`` is ``auto`` or one of
    ``utf-8|tcvn3|vni|cp1258``; ``kind`` (``points|lines|polygons``) keeps one kind of
    a mixed layer; ``header_row`` (1-based) names the header row of a CSV/XLSX table (found
    by itself otherwise: title rows, two-row headers). ``display_name`` names the file in messages (uploads live in temp files).
    Raises :class:`AtlasError` when the file is refused.
    """
    path, limits, override = _prepare(path, encoding, crs, limits, display_name)
    fname = display_name or path.name
    if kind is not None and kind not in KINDS:
        raise AtlasError("import_errors.bad_kind", file=fname, kind=str(kind)[:20], choices="|".join(KINDS))
    report = ImportReport(file=fname)
    try:
        with tempfile.TemporaryDirectory(prefix="atlas_import_") as tmp:
            raw = _read_vector(path, fname, layer, encoding, override, report, limits, Path(tmp), header_row)
            gdf = _normalise(raw, report, override=override, encoding=encoding, kind=kind, limits=limits)
    except AtlasError:
        raise
    except MemoryError:
        raise AtlasError("import_errors.too_big", file=fname, size_mb=round(path.stat().st_size / 1048576, 1),
                         cap_mb=round(limits.max_file_bytes / 1048576, 1)) from None
    except Exception:  # never a traceback for a user's file
        log.warning("import of %s failed", fname, exc_info=True)
        raise _unreadable(fname, report.format or path.suffix.lstrip(".").upper() or "?") from None
    return gdf, report


def _read_vector(path: Path, fname: str, layer: str | None, encoding: str, override, report: ImportReport,
                 limits: Limits, tmp: Path, header_row: int | None = None) -> _Raw:
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
        cands = _data_files(files, folder, fname)
        report.layers = [n for n, _, _ in cands]
        sub = layer
        if layer is not None and any(c[0] == layer for c in cands):
            name, inner, inner_fmt = next(c for c in cands if c[0] == layer)
            sub = None
        elif layer is not None and not (len(cands) == 1 and cands[0][2] in ("filegdb", "geopackage", "gpx", "xlsx")):
            raise AtlasError("import_errors.layer_not_found", file=fname, layer=layer,
                             layers=", ".join(report.layers[:20]))
        elif len(cands) > 1:
            raise AtlasError("import_errors.choose_layer", file=fname, layers=", ".join(report.layers[:20]))
        else:
            name, inner, inner_fmt = cands[0]
        report.format = inner_fmt
        if inner_fmt == "shapefile":
            report.layer = name
            return _read_shapefile(inner, fname, encoding, report, tmp)
        if inner_fmt in LABELS:
            return read_gdal_format(inner, inner_fmt, fname, sub, encoding, report)
        return _read_plain(inner, inner_fmt, fname, sub, encoding, override, report,
                           limits, tmp, header_row)
    return _read_plain(path, fmt, fname, layer, encoding, override, report, limits, tmp, header_row)


# side files a zip may carry next to its data: credits, readmes, styles, sidecars, parts
_SIDE_FILES = {".txt", ".md", ".pdf", ".html", ".htm", ".xml", ".qml", ".sld", ".lyr", ".lyrx", ".csvt", ".prj",
               ".cpg", ".qpj", ".sbn", ".sbx", ".dbf", ".shx", ".dat", ".map", ".id", ".ind", ".mid", ".jpg",
               ".jpeg", ".png", ".aux", ".ovr", ".rtf", ".doc", ".docx", ".qix", ".fix", ".atx"}


def _data_files(files: list[Path], folder: Path, fname: str) -> list[tuple[str, Path, str]]:
    """The data files of an unpacked zip, picked by format (side files such as CREDITS.txt,
    README, .csvt, .prj, .cpg or styles are not data): ``[(layer name, path, format)]``."""
    out: list[tuple[str, Path, str]] = []
    gdbs = sorted({p.parent for p in files if p.parent.name.lower().endswith(".gdb")})
    out += [(g.stem, g, "filegdb") for g in gdbs]
    for p in files:
        if any(par.name.lower().endswith(".gdb") for par in p.parents):
            continue
        ext = p.suffix.lower()
        if ext == ".shp":
            out.append((p.stem, p, "shapefile"))
        elif ext in VECTOR_EXT and ext not in (".zip", ".kmz", ".txt") and ext not in _SIDE_FILES:
            if ext == ".mif" and any(q.suffix.lower() == ".tab" and q.stem == p.stem for q in files):
                continue
            out.append((p.stem if ext in (".tab", ".mif") else p.name, p, VECTOR_EXT[ext]))
        elif ext in RASTER_EXT:
            raise AtlasError("import_errors.is_raster", file=fname)
    if not out:
        txt = [p for p in files if p.suffix.lower() in (".txt",) and p.stem.lower() not in ("credits", "readme",
                                                                                            "license", "licence")]
        if len(txt) == 1:
            return [(txt[0].name, txt[0], "csv")]
        exts = {p.suffix.lower(): p for p in files}
        for part, need, key in ((".dbf", ".shp", "shp_no_shp"), (".shx", ".shp", "shp_no_shp"),
                                (".dat", ".tab", "mapinfo_no_tab"), (".map", ".tab", "mapinfo_no_tab"),
                                (".mid", ".mif", "mapinfo_no_tab")):
            if part in exts:
                raise AtlasError(f"import_errors.{key}", file=fname, part=exts[part].name,
                                 missing=exts[part].stem + need)
        raise AtlasError("import_errors.zip_no_data", file=fname)
    return out


def _read_plain(path: Path, fmt: str, fname: str, layer, encoding, override, report: ImportReport,
                limits: Limits, tmp: Path, header_row: int | None = None) -> _Raw:
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
        return _read_csv(path, fname, report, override, header_row, limits)
    if fmt in LABELS:
        return read_gdal_format(path, fmt, fname, layer, encoding, report)
    if fmt == "xlsx":
        return _read_xlsx(path, fname, layer, report, override, limits, header_row)
    raise AtlasError("import_errors.unknown_format", file=fname)


def write_normalised(gdf: gpd.GeoDataFrame, out: str | Path, layer: str | None = None) -> Path:
    """Write a normalised layer (EPSG:4326, UTF-8) to a new GeoPackage ``out``."""
    import pyogrio
    out = Path(out)
    try:
        pyogrio.write_dataframe(gdf, out, layer=layer or out.stem, driver="GPKG", encoding="utf-8")
    except Exception as exc:
        raise AtlasError("errors.unwritable", path=str(out), reason=type(exc).__name__) from None
    return out


def list_layers_in(path: str | Path, limits: Limits | None = None) -> list[str]:
    """Names of the layers a file offers (GeoPackage layers, shapefiles in a zip, sheets)."""
    path = Path(path)
    limits = limits or Limits.from_env()
    refuse_unless_file(path, path.name)
    fmt = sniff_format(path)
    if fmt == "geopackage":
        return _gpkg_layers(path, path.name)
    if fmt == "zip":
        names = set()
        for i in check_zip(path, limits):
            member = Path(i.filename)
            ext = member.suffix.lower()
            if any(par.name.lower().endswith(".gdb") for par in member.parents):
                names.add(next(par.stem for par in member.parents if par.name.lower().endswith(".gdb")))
            elif ext in (".shp", ".tab", ".mif"):
                names.add(member.stem)
            elif ext in VECTOR_EXT and ext not in _SIDE_FILES and ext not in (".zip", ".kmz", ".txt"):
                names.add(member.name)
        return sorted(names)
    if fmt == "xlsx":
        check_zip(path, limits)
        import openpyxl
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            names = list(wb.sheetnames)
            wb.close()
            return names
        except Exception:  # damaged workbook
            raise _unreadable(path.name, "XLSX") from None
    if fmt == "geotiff":
        return []
    return [path.stem]


__all__ = ["ImportReport", "KINDS", "check_raster_size", "RASTER_EXT", "RasterImport", "VECTOR_EXT", "is_raster", "list_layers_in",
           "read_any", "read_raster", "sniff_format", "write_normalised"]

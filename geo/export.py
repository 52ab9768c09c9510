"""Exports that leave the atlas unchanged: vector formats, GeoTIFF, and their credits.

Every export carries its source/licence credits: embedded as metadata where the format
can hold it (GeoJSON foreign member + description, GeoPackage layer metadata, KML
document description, GeoTIFF tags) and always as a UTF-8 sidecar text
(``<file>.credits.txt``, or ``CREDITS.txt`` inside a zip). Vietnamese text is written as
UTF-8 everywhere (Shapefile with ``.cpg``, MapInfo with ``Charset "UTF-8"``).

>>> from geo.catalog import load_layer
>>> res = export_vector(load_layer("districts"), "gpkg", "/tmp/d.gpkg",
...                     credits=layer_credits("districts"), crs=9213)  # doctest: +SKIP
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from geo.errors import AtlasError, os_reason
from geo.i18n import DEFAULT_LANG, t
from geo.paths import check_writable
from geo.settings import STORE_CRS
from geo.text import spreadsheet_safe

# ---------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class FormatSpec:
    """One output format."""

    id: str
    driver: str
    ext: str
    kind: str  # "vector" | "raster"
    wgs84_only: bool = False
    zipped: bool = False  # download/bundle as a zip (several files or no metadata slot)
    mime: str = "application/octet-stream"


FORMATS: dict[str, FormatSpec] = {
    "geojson": FormatSpec("geojson", "GeoJSON", ".geojson", "vector", wgs84_only=True, mime="application/geo+json"),
    "gpkg": FormatSpec("gpkg", "GPKG", ".gpkg", "vector", mime="application/geopackage+sqlite3"),
    "shp": FormatSpec("shp", "ESRI Shapefile", ".zip", "vector", zipped=True, mime="application/zip"),
    "kml": FormatSpec("kml", "LIBKML", ".kml", "vector", wgs84_only=True, mime="application/vnd.google-earth.kml+xml"),
    "csv": FormatSpec("csv", "CSV", ".csv", "vector", zipped=True, mime="text/csv"),
    "tab": FormatSpec("tab", "MapInfo File", ".zip", "vector", zipped=True, mime="application/zip"),
    "tif": FormatSpec("tif", "GTiff", ".tif", "raster", mime="image/tiff"),
}
VECTOR_FORMATS = tuple(k for k, v in FORMATS.items() if v.kind == "vector")
RASTER_FORMATS = tuple(k for k, v in FORMATS.items() if v.kind == "raster")

VN2000_TOWGS84 = "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"
"""EPSG:6960 (VN-2000 → WGS 84) in the position-vector convention of ``+towgs84``."""


def format_spec(fmt: str) -> FormatSpec:
    """The spec of ``fmt`` or an ``AtlasError`` listing the choices."""
    spec = FORMATS.get(str(fmt).lower().lstrip("."))
    if spec is None:
        raise AtlasError("export.unknown_format", fmt=fmt, choices=", ".join(FORMATS))
    return spec


def parse_crs(crs: Any) -> pyproj.CRS | None:
    """``None``/"" → None (keep EPSG:4326); ``9213``/"EPSG:9213"/WKT → CRS; else AtlasError."""
    if crs is None or (isinstance(crs, str) and not crs.strip()):
        return None
    text = str(crs).strip()
    if re.fullmatch(r"\d{4,6}", text):
        text = f"EPSG:{text}"
    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        raise AtlasError("export.bad_crs", crs=crs) from None


def crs_label(crs: Any) -> str:
    """"EPSG:9213 — VN-2000 / TM-3 106-30" style label."""
    c = pyproj.CRS.from_user_input(crs)
    code = c.to_epsg()
    return f"EPSG:{code} — {c.name}" if code else c.name


def _is_wgs84(crs: pyproj.CRS | None) -> bool:
    return crs is None or crs.to_epsg() == 4326


# ---------------------------------------------------------------------------- credits


@dataclass(frozen=True)
class Credits:
    """Where an exported dataset comes from and under which terms it may be reused."""

    title: str
    source: str
    licence: str
    vintage: str = ""
    derived: bool = False
    modelled: bool = False
    notes: tuple[str, ...] = ()
    parts: tuple[Credits, ...] = field(default=(), compare=False)

    def with_notes(self, *notes: str) -> Credits:
        """A copy with ``notes`` appended."""
        return replace(self, notes=self.notes + tuple(n for n in notes if n))

    def text(self, lang: str = DEFAULT_LANG, crs: Any = None, fmt: str | None = None,
             n_features: int | None = None) -> str:
        """The sidecar text (UTF-8, one fact per line)."""
        lines = [t("export.atlas", lang), ""]
        if self.parts:
            lines += [f"{t('export.layer', lang)}: {self.title}", ""]
        blocks = self.parts or (self,)
        for c in blocks:
            lines.append(f"{t('export.layer', lang)}: {c.title}")
            lines.append(f"{t('export.source', lang)}: {c.source or t('export.unknown', lang)}")
            lines.append(f"{t('export.licence', lang)}: {c.licence or t('export.unknown', lang)}")
            lines.append(f"{t('export.vintage', lang)}: {c.vintage or t('export.unknown', lang)}")
            if c.derived:
                lines.append(t("export.derived_note", lang))
            if c.modelled:
                lines.append(t("export.modelled_note", lang))
            if "openstreetmap" in (c.source + c.licence).lower():
                lines.append(t("export.osm_attribution", lang))
            lines.append("")
        if self.parts and self.modelled and not any(c.modelled for c in self.parts):
            lines.append(t("export.modelled_note", lang))
        if crs is not None:
            lines.append(f"{t('export.crs', lang)}: {crs_label(crs)}")
        if fmt:
            lines.append(f"{t('export.format', lang)}: {t('export.fmt_' + fmt, lang)}")
        if n_features is not None:
            lines.append(f"{t('export.features', lang)}: {n_features}")
        lines.append(f"{t('export.exported', lang)}: {_dt.date.today().isoformat()}")
        lines.extend(self.notes)
        return "\n".join(lines).rstrip() + "\n"

    def short(self, lang: str = DEFAULT_LANG) -> str:
        """One line for a map or slide footer: "source (licence, vintage)"; parts joined by "; "."""
        out = []
        for c in self.parts or (self,):
            extra = ", ".join(x for x in (c.licence, c.vintage) if x)
            mark = f" [{t('common.derived', lang)}]" if c.derived else ""
            out.append(f"{c.title}: {c.source}" + (f" ({extra})" if extra else "") + mark)
        return "; ".join(out)

    def metadata(self) -> dict[str, str]:
        """Flat key → value metadata (ASCII keys) for formats that hold it."""
        return {
            "title": self.title, "source": self.source, "licence": self.licence,
            "vintage": self.vintage, "derived": "yes" if self.derived else "no",
            "modelled": "yes" if self.modelled else "no",
            "producer": t("export.atlas", "en"),
        }

    @staticmethod
    def combine(title: str, parts: Iterable[Credits]) -> Credits:
        """Credits for a product built from several layers (a map, a deck, a coverage layer)."""
        uniq: list[Credits] = []
        for p in parts:
            for q in p.parts or (p,):
                if q not in uniq:
                    uniq.append(q)
        return Credits(title=title, source="; ".join(p.source for p in uniq),
                       licence="; ".join(dict.fromkeys(p.licence for p in uniq)),
                       vintage="; ".join(dict.fromkeys(p.vintage for p in uniq if p.vintage)),
                       derived=any(p.derived for p in uniq), modelled=any(p.modelled for p in uniq),
                       parts=tuple(uniq))


def layer_credits(layer_id: str, lang: str = DEFAULT_LANG) -> Credits:
    """Credits of a shipped catalog layer (from ``layers/catalog.toml``)."""
    from geo.catalog import get_catalog

    layer = get_catalog().layer(layer_id)
    return Credits(title=layer.title(lang), source=layer.source_text(lang), licence=layer.licence_text(lang),
                   vintage=layer.vintage_text(lang), derived=layer.derived)


def user_credits(name: str, lang: str = DEFAULT_LANG, source: str = "", licence: str = "",
                 vintage: str = "") -> Credits:
    """Credits of a layer a user imported or pointed at (what we know about it)."""
    return Credits(title=name, source=source or t("export.user_source", lang, name=name),
                   licence=licence or t("export.user_licence", lang), vintage=vintage)


# ---------------------------------------------------------------------------- rasters


@dataclass
class RasterData:
    """A single-band raster in memory."""

    array: np.ndarray
    transform: Any  # affine.Affine
    crs: Any
    nodata: float | None = None
    name: str = "raster"


def as_raster(obj: Any, name: str = "raster") -> RasterData:
    """Accept ``RasterData``, a raster file path, or any object with an array, ``transform``
    and ``crs`` (e.g. ``geo.population.PopulationGrid``)."""
    if isinstance(obj, RasterData):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        import rasterio

        with rasterio.open(obj) as src:
            return RasterData(src.read(1), src.transform, src.crs, src.nodata, Path(obj).stem)
    arr = None
    for attr in ("array", "values", "data", "population", "grid"):
        val = getattr(obj, attr, None)
        if isinstance(val, np.ndarray) and val.ndim >= 2:
            arr = val
            break
    transform = getattr(obj, "transform", None)
    crs = getattr(obj, "crs", None)
    if arr is None or transform is None or crs is None:
        raise TypeError(f"not a raster: {type(obj).__name__}")
    if arr.ndim == 3:
        arr = arr[0]
    return RasterData(arr, transform, crs, getattr(obj, "nodata", None), name)


# ---------------------------------------------------------------------------- helpers


@dataclass
class ExportResult:
    """What an export wrote."""

    path: Path  # the main file (or the zip)
    files: list[Path]  # everything written, sidecar included
    credits_path: Path | None = None
    renamed_fields: dict[str, str] = field(default_factory=dict)
    replaced: bool = False  # an existing file at ``path`` was replaced


def shapefile_field_names(columns: Iterable[str], limit: int = 10) -> dict[str, str]:
    """Unique DBF field names (≤ ``limit`` bytes) for ``columns``: only the changed ones.

    >>> shapefile_field_names(["population_2019", "population_2025", "name"])
    {'population_2019': 'population', 'population_2025': 'populati_1'}
    """
    cols = [str(c) for c in columns]
    used = {c.lower() for c in cols if len(c.encode("utf-8")) <= limit}
    out: dict[str, str] = {}
    for c in cols:
        if len(c.encode("utf-8")) <= limit:
            continue
        base = c.encode("utf-8")[:limit].decode("utf-8", "ignore")
        cand, n = base, 0
        while cand.lower() in used:
            n += 1
            suffix = f"_{n}"
            cand = base.encode("utf-8")[: limit - len(suffix)].decode("utf-8", "ignore") + suffix
        used.add(cand.lower())
        out[c] = cand
    return out


def _prepare(gdf: gpd.GeoDataFrame, crs: pyproj.CRS | None) -> gpd.GeoDataFrame:
    """Copy with a valid geometry column, object columns made writable, reprojected."""
    if gdf.crs is None:
        gdf = gdf.set_crs(STORE_CRS)
    out = gdf.to_crs(crs) if crs is not None and not gdf.crs.equals(crs) else gdf.copy()
    if crs is None and gdf.crs.to_epsg() != 4326:
        out = out.to_crs(STORE_CRS)
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if s.dtype == object:
            # lists/dicts (e.g. from JSON sources) → JSON text, so every driver can write them
            if s.map(lambda v: isinstance(v, (list, dict, tuple))).any():
                out[col] = s.map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict, tuple)) else v)
    return out


def _mapinfo_crs(crs: pyproj.CRS) -> Any:
    """MapInfo has no VN-2000 datum: write VN-2000 as WGS84 ellipsoid + the EPSG:6960 shift."""
    try:
        datum = crs.geodetic_crs.datum.name if crs.geodetic_crs else ""
    except Exception:
        datum = ""
    if "2000" in datum and "viet" in datum.lower():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            proj4 = crs.to_proj4()
        if "+towgs84" not in proj4:
            proj4 = proj4.replace("+no_defs", "").strip() + f" +towgs84={VN2000_TOWGS84} +no_defs"
        return proj4
    return crs


def _ext(base: Path, ext: str) -> Path:
    """``base`` + ``ext`` (never ``with_suffix``: 'co_so_30.11.2026' keeps its dots)."""
    return base.with_name(base.name + ext)


def has_extension(path: Path) -> bool:
    """True when the name ends in a real extension ('.geojson', '.gpkg'), not '.2026'."""
    return bool(re.fullmatch(r"\.[A-Za-z][A-Za-z0-9_]{0,9}", path.suffix))


def _write_vector_files(gdf: gpd.GeoDataFrame, spec: FormatSpec, base: Path, credits: Credits,
                        layer_name: str, csv_geometry: str, lang: str) -> tuple[list[Path], dict[str, str], list[str]]:
    """Write ``gdf`` (already in the output CRS) as ``base`` + format extension(s).

    Returns (files, renamed fields, extra notes).
    """
    import pyogrio

    meta = credits.metadata()
    notes: list[str] = []
    renamed: dict[str, str] = {}
    if spec.id == "geojson":
        path = _ext(base, ".geojson")
        pyogrio.write_dataframe(
            gdf, path, driver="GeoJSON", layer=layer_name,
            layer_options={"RFC7946": "YES", "WRITE_NAME": "YES", "DESCRIPTION": credits.short(lang),
                           "FOREIGN_MEMBERS_COLLECTION": json.dumps({"credits": meta}, ensure_ascii=False)})
        return [path], renamed, notes
    if spec.id == "gpkg":
        path = _ext(base, ".gpkg")
        pyogrio.write_dataframe(gdf, path, driver="GPKG", layer=layer_name,
                                layer_metadata={"DESCRIPTION": credits.short(lang), **meta},
                                layer_options={"DESCRIPTION": credits.short(lang), "IDENTIFIER": credits.title})
        return [path], renamed, notes
    if spec.id == "kml":
        path = _ext(base, ".kml")
        out = gdf
        name_col = next((c for c in ("name_full", "name", "commune_vn", "ten") if c in gdf.columns), None)
        if name_col and not any(str(c).lower() == "name" for c in gdf.columns):
            out = gdf.assign(Name=gdf[name_col])
        pyogrio.write_dataframe(out, path, driver="LIBKML", layer=layer_name,
                                dataset_options={"NAME": credits.title, "DESCRIPTION": credits.text(lang, 4326)})
        return [path], renamed, notes
    if spec.id == "csv":
        path = _ext(base, ".csv")
        if csv_geometry == "latlon":
            if not gdf.geom_type.dropna().isin(["Point"]).all():
                raise AtlasError("export.latlon_points_only")
            table = spreadsheet_safe(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
            table["lon"] = gdf.geometry.x.round(7)
            table["lat"] = gdf.geometry.y.round(7)
            pyogrio.write_dataframe(table, path, driver="CSV",
                                    layer_options={"CREATE_CSVT": "YES", "WRITE_BOM": "YES"})
        else:
            pyogrio.write_dataframe(spreadsheet_safe(gdf), path, driver="CSV",
                                    layer_options={"GEOMETRY": "AS_WKT", "CREATE_CSVT": "YES", "WRITE_BOM": "YES"})
        files = [path]
        csvt = _ext(base, ".csvt")
        if csvt.exists():
            files.append(csvt)
        prj = _ext(base, ".prj")
        if csv_geometry != "latlon":
            prj.write_text(gdf.crs.to_wkt("WKT1_GDAL"), encoding="utf-8")
            files.append(prj)
        return files, renamed, notes
    if spec.id == "shp":
        path = _ext(base, ".shp")
        renamed = shapefile_field_names([c for c in gdf.columns if c != gdf.geometry.name])
        out = gdf.rename(columns=renamed)
        long_text = [renamed.get(c, c) for c in gdf.columns if c != gdf.geometry.name
                     and gdf[c].dtype != bool and pd.api.types.is_string_dtype(gdf[c])
                     and gdf[c].dropna().map(lambda v: len(str(v).encode("utf-8"))).gt(254).any()]
        pyogrio.write_dataframe(out, path, driver="ESRI Shapefile", layer=layer_name, encoding="UTF-8",
                                promote_to_multi=True)
        if renamed:
            notes.append(t("export.truncated_title", lang))
            notes.extend(f"  {k} → {v}" for k, v in renamed.items())
        if long_text:
            notes.append(t("export.long_text_note", lang, fields=", ".join(long_text)))
        files = [_ext(base, e) for e in (".shp", ".shx", ".dbf", ".prj", ".cpg")]
        return [f for f in files if f.exists()], renamed, notes
    if spec.id == "tab":
        path = _ext(base, ".tab")
        mi_crs = _mapinfo_crs(gdf.crs)
        if isinstance(mi_crs, str):  # VN-2000 written as WGS 84 ellipsoid + the EPSG:6960 shift
            notes.append(t("export.mapinfo_vn2000", lang))
        out = gdf.set_crs(mi_crs, allow_override=True)
        pyogrio.write_dataframe(out, path, driver="MapInfo File", layer=layer_name,
                                layer_options={"ENCODING": "UTF-8"})
        files = [_ext(base, e) for e in (".tab", ".dat", ".map", ".id", ".ind")]
        return [f for f in files if f.exists()], renamed, notes
    raise AtlasError("export.unknown_format", fmt=spec.id, choices=", ".join(VECTOR_FORMATS))


def _safe_layer_name(name: str) -> str:
    from geo.text import fold

    s = re.sub(r"[^a-z0-9_]+", "_", fold(name)).strip("_")
    return s[:40] or "layer"


def _zip(files: list[Path], out: Path, extra: dict[str, str]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            zf.write(f, arcname=f.name)
        for name, text in extra.items():
            zf.writestr(name, text.encode("utf-8"))


# ---------------------------------------------------------------------------- public


def export_vector(gdf: gpd.GeoDataFrame, fmt: str, out: str | os.PathLike, *, credits: Credits,
                  crs: Any = None, lang: str = DEFAULT_LANG, layer_name: str | None = None,
                  csv_geometry: str = "wkt") -> ExportResult:
    """Write ``gdf`` to ``out`` as ``fmt`` (geojson|gpkg|shp|kml|csv|tab), with credits.

    ``crs``: ``None`` keeps EPSG:4326; e.g. ``9213`` reprojects to VN-2000 / TM-3 106°30′
    (refused for GeoJSON and KML, which are WGS 84 by definition). ``shp``/``tab``: ``out``
    ending in ``.zip`` gives one zip holding every file plus ``CREDITS.txt`` (and for
    Shapefile ``FIELDS.txt`` when names were truncated); otherwise the files are written
    side by side with ``<name>.credits.txt``.
    """
    spec = format_spec(fmt)
    if spec.kind != "vector":
        raise AtlasError("export.vector_not_tif", name=credits.title)
    target = parse_crs(crs)
    if spec.wgs84_only and not _is_wgs84(target):
        raise AtlasError("export.wgs84_only", fmt=t(f"export.fmt_{spec.id}", lang))
    if gdf is None or len(gdf) == 0:
        raise AtlasError("export.empty_layer", name=credits.title)
    out = Path(out)
    if out.is_dir():
        out = out / (_safe_layer_name(credits.title) + spec.ext)
    elif not has_extension(out):  # written exactly as given; an extension only when there is none
        out = _ext(out, spec.ext)
    check_writable(out, create_parents=True)
    replaced = out.exists()
    data = _prepare(gdf, target)
    stem = out.name[: -len(out.suffix)] if has_extension(out) else out.name
    layer = layer_name or _safe_layer_name(stem)
    zipped = out.suffix.lower() == ".zip"
    if zipped:
        out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="atlas_export_") as tmp:
        workdir = Path(tmp) if zipped else out.parent
        base = workdir / stem
        if not zipped:
            _clear_targets(spec, base, csv_geometry)
        try:
            files, renamed, notes = _write_vector_files(data, spec, base, credits, layer, csv_geometry, lang)
        except AtlasError:
            raise
        except OSError as exc:
            raise AtlasError("errors.unwritable", path=str(out), reason=os_reason(exc)) from None
        sidecar_text = credits.with_notes(*notes).text(lang, data.crs, spec.id, len(data))
        if zipped:
            extra = {"CREDITS.txt": sidecar_text}
            if renamed:
                extra["FIELDS.txt"] = "\n".join(f"{k}\t{v}" for k, v in renamed.items()) + "\n"
            _zip(files, out, extra)
            return ExportResult(out, [out], None, renamed, replaced)
        main = files[0]
        if main != out and len(files) == 1:  # 'x.json' for GeoJSON: the name given, not ours
            os.replace(main, out)
            files = [main := out]
        sidecar = main.with_name(main.name + ".credits.txt")
        sidecar.write_text(sidecar_text, encoding="utf-8")
        written = files + [sidecar]
        if renamed:
            fields = main.with_name(main.stem + ".fields.txt")
            fields.write_text("\n".join(f"{k}\t{v}" for k, v in renamed.items()) + "\n", encoding="utf-8")
            written.append(fields)
        return ExportResult(main, written, sidecar, renamed, replaced)


def _clear_targets(spec: FormatSpec, base: Path, csv_geometry: str) -> None:
    """Remove an earlier export at the same place (drivers refuse to overwrite some files)."""
    exts = {"shp": (".shp", ".shx", ".dbf", ".prj", ".cpg"), "tab": (".tab", ".dat", ".map", ".id", ".ind"),
            "csv": (".csv", ".csvt", ".prj"), "geojson": (".geojson",), "gpkg": (".gpkg",), "kml": (".kml",)}
    for e in exts.get(spec.id, ()):
        _ext(base, e).unlink(missing_ok=True)


def export_raster(raster: Any, out: str | os.PathLike, *, credits: Credits, crs: Any = None,
                  lang: str = DEFAULT_LANG, resampling: str = "nearest") -> ExportResult:
    """Write a raster (``RasterData``, a raster file, or a grid object) as a GeoTIFF.

    Optional reprojection (e.g. ``crs=9213``); ``resampling="sum"`` keeps totals of count
    rasters such as population (GDAL sum resampling), "nearest" suits classes/distances. Credits go into the TIFF tags
    (``TIFFTAG_COPYRIGHT``, ``TIFFTAG_IMAGEDESCRIPTION`` and per-key tags) and a sidecar.
    """
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.warp import calculate_default_transform, reproject

    rd = as_raster(raster)
    target = parse_crs(crs)
    out = Path(out)
    if out.is_dir():
        out = out / (_safe_layer_name(credits.title) + ".tif")
    elif not has_extension(out):
        out = _ext(out, ".tif")
    check_writable(out, create_parents=True)
    replaced = out.exists()
    arr = np.asarray(rd.array)
    if arr.dtype == np.float16 or arr.dtype.kind == "b":
        arr = arr.astype("float32")
    src_crs = rasterio.crs.CRS.from_user_input(pyproj.CRS.from_user_input(rd.crs).to_wkt())
    nodata = rd.nodata
    if nodata is None and arr.dtype.kind == "f":
        nodata = float("nan")
    transform, dst_crs = rd.transform, src_crs
    if target is not None and not pyproj.CRS.from_user_input(rd.crs).equals(target):
        dst_crs = rasterio.crs.CRS.from_user_input(target.to_wkt())
        h, w = arr.shape
        from rasterio.transform import array_bounds

        west, south, east, north = array_bounds(h, w, rd.transform)
        transform, width, height = calculate_default_transform(src_crs, dst_crs, w, h, left=west, bottom=south,
                                                               right=east, top=north)
        dst = np.full((height, width), nodata if nodata is not None else 0, dtype=arr.dtype)
        reproject(arr, dst, src_transform=rd.transform, src_crs=src_crs, dst_transform=transform,
                  dst_crs=dst_crs, src_nodata=nodata, dst_nodata=nodata,
                  resampling=getattr(Resampling, resampling))
        arr = dst
    profile = {"driver": "GTiff", "height": arr.shape[0], "width": arr.shape[1], "count": 1,
               "dtype": arr.dtype.name, "crs": dst_crs, "transform": transform, "compress": "deflate",
               "tiled": arr.shape[0] >= 256 and arr.shape[1] >= 256}
    if nodata is not None:
        profile["nodata"] = nodata
    try:
        with rasterio.open(out, "w", **profile) as dst_ds:
            dst_ds.write(arr, 1)
            dst_ds.update_tags(TIFFTAG_COPYRIGHT=credits.licence, TIFFTAG_IMAGEDESCRIPTION=credits.short(lang),
                               TIFFTAG_SOFTWARE=t("export.atlas", "en"), **credits.metadata())
            dst_ds.set_band_description(1, credits.title)
    except OSError as exc:
        raise AtlasError("errors.unwritable", path=str(out), reason=str(exc)) from None
    sidecar = out.with_name(out.name + ".credits.txt")
    sidecar.write_text(credits.text(lang, pyproj.CRS.from_user_input(dst_crs.to_wkt()), "tif"), encoding="utf-8")
    return ExportResult(out, [out, sidecar], sidecar, replaced=replaced)


def export_bytes(data: Any, fmt: str, *, credits: Credits, crs: Any = None, lang: str = DEFAULT_LANG,
                 name: str = "layer", csv_geometry: str = "wkt", resampling: str = "nearest") -> tuple[str, bytes, str]:
    """Export to memory for a download button: ``(file name, bytes, MIME type)``.

    GeoJSON, GeoPackage, KML and GeoTIFF come as the single file (credits embedded);
    CSV, Shapefile and MapInfo come as a zip with ``CREDITS.txt`` inside.
    """
    spec = format_spec(fmt)
    stem = _safe_layer_name(name)
    with tempfile.TemporaryDirectory(prefix="atlas_dl_") as tmp:
        if spec.kind == "raster":
            res = export_raster(data, Path(tmp) / f"{stem}.tif", credits=credits, crs=crs, lang=lang,
                                resampling=resampling)
            return res.path.name, res.path.read_bytes(), spec.mime
        if not isinstance(data, gpd.GeoDataFrame):
            raise AtlasError("export.raster_needs_tif", name=credits.title)
        if spec.zipped:
            res = export_vector(data, fmt, Path(tmp) / f"{stem}_{spec.id}.zip", credits=credits, crs=crs,
                                lang=lang, layer_name=stem, csv_geometry=csv_geometry)
            return res.path.name, res.path.read_bytes(), "application/zip"
        res = export_vector(data, fmt, Path(tmp) / f"{stem}{spec.ext}", credits=credits, crs=crs,
                            lang=lang, layer_name=stem)
        return res.path.name, res.path.read_bytes(), spec.mime


# ---------------------------------------------------------------------------- sources


@dataclass
class Source:
    """Something exportable: a vector layer or a raster, with its credits."""

    name: str
    credits: Credits
    gdf: gpd.GeoDataFrame | None = None
    raster: RasterData | None = None
    resampling: str = "nearest"  # "sum" for counts (population) so totals survive reprojection

    @property
    def is_raster(self) -> bool:
        """Whether the layer is a raster (population grid) rather than vector features."""
        return self.raster is not None


RASTER_EXTS = (".tif", ".tiff", ".vrt", ".img", ".asc")


def computed_sources() -> dict[str, str]:
    """Names of computed layers the CLI can export → i18n key of their title.

    Besides these, ``coverage:<category>[:<radius_m>]`` (per-ward coverage polygons),
    ``covered:<category>[:<radius_m>]`` (covered-cells raster) and ``distance:<category>``
    (distance raster) are computed on request.
    """
    return {"population_grid": "export.population_grid"}


def source_choices(lang: str, workspace: dict[str, str] | None = None) -> dict[str, tuple[str, bool]]:
    """Everything exportable, for a picker: id → (title in ``lang``, is a raster).

    Catalog layers, the saved workspace layers (``workspace``: name → kind, offered as
    ``workspace:<name>``), the computed layers and, per facility category, the coverage
    polygons and covered-cells raster at the category's catalog radius and the distance
    raster (computed on request by :func:`resolve_source`; radius from ``layers/catalog.toml``).
    """
    from geo.catalog import get_catalog

    catalog = get_catalog()
    out = {lid: (layer.title(lang), False) for lid, layer in catalog.layers.items()}
    out.update({f"workspace:{name}": (f"📁 {name}", kind == "raster") for name, kind in (workspace or {}).items()})
    out.update({cid: (t(key, lang), True) for cid, key in computed_sources().items()})
    for cat, category in catalog.categories.items():
        if cat == "other":
            continue
        radius, service = int(category.radius_m), category.title(lang).lower()
        out[f"coverage:{cat}:{radius}"] = (t("export.coverage_layer", lang, service=service, radius=radius), False)
        out[f"covered:{cat}:{radius}"] = (t("export.covered_layer", lang, service=service, radius=radius), True)
        out[f"distance:{cat}"] = (t("export.distance_layer", lang, service=service), True)
    return out


def _category(name: str) -> str:
    from geo.catalog import get_catalog

    cats = get_catalog().categories
    if name not in cats:
        raise AtlasError("export.unknown_category", category=name, choices=", ".join(cats))
    return name


def _computed_source(name: str, lang: str) -> Source | None:
    """``coverage:<category>[:<radius_m>]`` (per-ward polygons), ``covered:<category>[:<radius_m>]``
    (raster: 1 covered, 0 not, 255 nobody lives there) or ``distance:<category>`` (raster, m).

    The question goes through :mod:`geo.service` (2025 wards, their 2025 figures, the
    category's radius from the catalog unless given), so the file holds the number every
    other surface shows; its credits say when the figures are a lower bound.
    """
    kind, _, rest = name.partition(":")
    if kind not in ("coverage", "covered", "distance") or not rest:
        return None
    from geo import coverage as cov
    from geo.catalog import get_catalog
    from geo.service import CoverageRequest, default_service

    parts = rest.split(":")
    category = _category(parts[0])
    service = get_catalog().categories[category].title(lang).lower()
    radius = None  # the category's default, as on every other surface
    if len(parts) > 1:
        try:
            radius = float(parts[1])
        except ValueError:
            radius = -1.0
        if not radius > 0 or not np.isfinite(radius):
            raise AtlasError("export.bad_radius", radius=parts[1])
    req = CoverageRequest(category=category, units="wards_2025", population="wards_2025", radius_m=radius)
    if kind == "distance":
        title = t("export.distance_layer", lang, service=service)
        grid, _ = default_service().grid(req)
        facilities, _ = default_service().facilities(req)
        base = [layer_credits("wards_2025", lang), layer_credits("infrastructure", lang)]
        cred = replace(Credits.combine(title, base), title=title, modelled=True)
        arr = cov.distance_raster(facilities, grid)
        return Source(name.replace(":", "_"), cred, raster=RasterData(arr, grid.transform, grid.crs, None, name))
    result = default_service().ask(req)
    radius = result.threshold
    if kind == "covered":
        title = t("export.covered_layer", lang, service=service, radius=radius)
        grid = result.grid
        dist = cov.distance_raster(result.facilities, grid)
        people = np.nan_to_num(np.asarray(grid.values, dtype="float64"), nan=0.0)
        arr = np.where(people > 0, (dist <= radius).astype("uint8"), np.uint8(255)).astype("uint8")
        cred = replace(result.credits(lang, title), title=title)
        return Source(name.replace(":", "_"), cred, raster=RasterData(arr, grid.transform, grid.crs, 255, name))
    title = t("export.coverage_layer", lang, service=service, radius=radius)
    cred = replace(result.credits(lang, title), title=title)
    return Source(name.replace(":", "_"), cred, gdf=result.geo_frame(lang).drop(columns=["rule"]))


def _population_grid(lang: str) -> Source:
    """The census-derived population grid (geo.population, #3) as a raster source."""
    from geo.catalog import load_layer
    from geo.population import census_grid

    units = load_layer("communes")
    units = units[units["population_2019"].notna()]
    grid = census_grid(units, "population_2019", cell_m=100.0)
    base = layer_credits("communes", lang)
    cred = Credits(title=t("export.population_grid", lang), source=base.source, licence=base.licence,
                   vintage=base.vintage, modelled=True)
    return Source("population_grid", cred, raster=as_raster(grid, "population_grid"), resampling="sum")


def resolve_source(name_or_path: str, lang: str = DEFAULT_LANG) -> Source:
    """A catalog layer id, a computed layer, a workspace layer, or a file path → ``Source``."""
    from geo.catalog import get_catalog, load_layer

    if name_or_path in get_catalog().layers:
        return Source(name_or_path, layer_credits(name_or_path, lang), gdf=load_layer(name_or_path))
    if name_or_path in computed_sources():
        return _population_grid(lang)
    computed = _computed_source(name_or_path, lang)
    if computed is not None:
        return computed
    ws = _workspace_source(name_or_path, lang)
    if ws is not None:
        return ws
    path = Path(name_or_path)
    if path.exists():
        from geo import io as gio  # the one reading path: same checks, limits and repairs as 'geo check'
        if gio.is_raster(path):
            gio.read_raster(path)  # size, CRS and limits checked before any pixel is read
            try:
                rd = as_raster(path)
            except Exception as exc:  # any read failure is the user's file
                raise AtlasError("export.unreadable", path=str(path), reason=type(exc).__name__) from None
            return Source(path.stem, user_credits(path.name, lang), raster=rd)
        gdf, _report = gio.read_any(path)
        cred = user_credits(path.name, lang)
        side = path.with_name(path.name + ".credits.txt")
        if side.exists():
            cred = cred.with_notes(side.read_text(encoding="utf-8"))
        return Source(path.stem, cred, gdf=gdf)
    raise AtlasError("export.not_found", name=name_or_path)


def workspace_source(name: str, lang: str = DEFAULT_LANG) -> Source | None:
    """A workspace layer (vector or raster) with its credits, or None when there is none."""
    return _workspace_source(name, lang)


def _workspace_source(name: str, lang: str) -> Source | None:
    """A user layer from ``geo.workspace`` (#5) if it knows ``name``, else None."""
    from geo import workspace

    try:
        entries = workspace.list_layers()
    except AtlasError:  # a damaged or locked workspace has no layer to offer
        return None
    info = next((e for e in entries if e.get("name") == name), None)
    if info is None:
        return None
    meta = info.get("meta") or {}
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            meta = {}
    source = str(meta.get("source_description") or info.get("source") or meta.get("source") or "")
    cred = user_credits(name, lang, source=t("export.user_source", lang, name=source) if source else "",
                        licence=str(meta.get("licence") or meta.get("license") or ""),
                        vintage=str(meta.get("vintage") or info.get("saved_at") or ""))
    if info.get("kind") == "raster":
        return Source(name, cred, raster=as_raster(workspace.raster_path(name), name))
    return Source(name, cred, gdf=workspace.read_layer(name))


def export_source(src: Source, fmt: str, out: str | os.PathLike, *, crs: Any = None,
                  lang: str = DEFAULT_LANG, csv_geometry: str = "wkt") -> ExportResult:
    """Export a resolved ``Source``, refusing a raster to a vector format and vice versa."""
    spec = format_spec(fmt)
    if src.is_raster:
        if spec.kind != "raster":
            raise AtlasError("export.raster_needs_tif", name=src.name)
        return export_raster(src.raster, out, credits=src.credits, crs=crs, lang=lang, resampling=src.resampling)
    if spec.kind == "raster":
        raise AtlasError("export.vector_not_tif", name=src.name)
    return export_vector(src.gdf, fmt, out, credits=src.credits, crs=crs, lang=lang,
                         layer_name=_safe_layer_name(src.name), csv_geometry=csv_geometry)


__all__ = [
    "FORMATS", "VECTOR_FORMATS", "RASTER_FORMATS", "FormatSpec", "Credits", "RasterData", "ExportResult",
    "Source", "format_spec", "parse_crs", "crs_label", "layer_credits", "user_credits", "as_raster",
    "shapefile_field_names", "export_vector", "export_raster", "export_bytes", "resolve_source",
    "export_source", "computed_sources", "workspace_source",
]

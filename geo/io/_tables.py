"""CSV and XLSX tables with coordinate or WKT columns."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import AtlasError
from geo.safezip import Limits, check_zip
from geo.text import fold
from geo.io._report import ImportReport, _Raw
from geo.io._common import _RESERVED, _is_text, _unreadable


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
            report.out_of_range_rows = [int(i) for i in out.index[out.to_numpy()][:50]]  # sheet row numbers
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
                         engine="c", skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        raise AtlasError("import_errors.csv_invalid", file=fname) from None
    df.index = pd.RangeIndex(2, len(df) + 2)  # row numbers as a spreadsheet shows them (header = row 1)
    df = df.dropna(how="all")  # blank lines: no data, but they keep their place in the numbering
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
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if r is not None and any(v not in (None, "") for v in r)]
    if len(numbered) < 2:
        raise AtlasError("import_errors.empty_file", file=fname)
    header = [str(h).strip() if h not in (None, "") else f"column_{i + 1}" for i, h in enumerate(numbered[0][1])]
    width = len(header)
    body = [list(r[:width]) + [None] * (width - len(r)) for _, r in numbered[1:]]
    # index = the row number Excel shows (blank rows and title rows above the header counted)
    df = pd.DataFrame(body, columns=header, index=[n for n, _ in numbered[1:]])
    raw = _table_to_points(df, fname, report, override)
    raw.raw_text = False
    raw.encoding_basis = "auto"
    return raw

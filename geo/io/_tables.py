"""CSV and XLSX tables with coordinate or WKT columns."""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import AtlasError
from geo.io._common import _RESERVED, _is_text, _unreadable
from geo.io._report import ImportReport, _Raw
from geo.safezip import Limits, check_zip
from geo.text import fold

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
# Coordinates as people write them: 21°35'39.1"N, 105°50′39″ E, 21° 35.65', N21 35.583
# (handheld GPS "hddd mm.mmm"), 21 35 39,1 B, Đ105°50.641' — degrees, optional minutes and
# seconds (decimal point or comma), hemisphere letter in front or after: N/S/E/W, or
# B/N/Đ/T (Bắc/Nam/Đông/Tây). A bare "N" is read as North: Vietnam lies north of the
# equator, so "Nam" would put every point in the wrong hemisphere anyway.
_HEMI = "NSEWBĐTnsewbđt"
_NUM = r"\d+(?:[.,]\d+)?"
_DMS = re.compile(
    rf"^\s*(?P<h1>[{_HEMI}])?\s*(?P<d>[+-]?{_NUM})\s*(?P<deg>[°º])?\s*"
    rf"(?:(?P<m>{_NUM})\s*['′’]?\s*)?(?:(?P<s>{_NUM})\s*(?:\"|″|”|''|)\s*)?(?P<h2>[{_HEMI}])?\s*$")
_NEGATIVE_HEMI = {"S", "W", "T"}
# handheld GPS without hemisphere letters: "21 35.583", "105 50.641" (degrees, a space,
# minutes[, a space, seconds]); read so only in a latitude/longitude column pair (as a number
# with a space, 2135.583, it is no degree) — elsewhere "21 35" is a number with a space in it
_BARE_DDM = re.compile(r"^\s*[+-]?\d{1,3}\s+\d{1,2}(?:[.,]\d+)?(?:\s+\d{1,2}(?:[.,]\d+)?)?\s*$")


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


def _bare_ddm_share(series: pd.Series) -> float:
    """Share of the non-blank text values of ``series`` written "deg min.mmm" without marks."""
    if pd.api.types.is_numeric_dtype(series):
        return 0.0
    text = series.dropna().astype(str).str.strip()
    text = text[text != ""]
    return float(text.str.match(_BARE_DDM).mean()) if len(text) else 0.0


def _to_number(series: pd.Series, dms: bool = False, bare: bool = False) -> pd.Series:
    """Numbers from text the way Vietnamese sheets write them (``21,59``, ``2.398.123,4``);
    ``dms=True`` (coordinate columns) also reads ``21°35'39"N``; ``bare=True`` reads
    ``21 35.583`` as degrees and minutes (never as 2135.583)."""
    if pd.api.types.is_numeric_dtype(series):
        return pd.to_numeric(series, errors="coerce").astype(float)
    obj = series.astype(object)
    fast = pd.to_numeric(obj, errors="coerce").astype(float)
    if bare:
        is_bare = obj.notna() & obj.astype(str).str.match(_BARE_DDM)
        if is_bare.any():
            fast.loc[is_bare[is_bare].index] = _dms(obj[is_bare].astype(str), bare=True)
            obj = obj.mask(is_bare, None)
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


def _dms_parts(text: pd.Series, bare: bool = False):
    parts = text.str.extract(_DMS)
    num = [pd.to_numeric(parts[k].str.replace(",", ".", regex=False), errors="coerce") for k in ("d", "m", "s")]
    hemi = parts["h1"].fillna(parts["h2"]).str.upper()
    marked = parts["deg"].notna() | hemi.notna()  # "21 35" alone stays a number with a space
    if bare:
        marked = marked | text.str.match(_BARE_DDM)
    return parts, num, hemi, marked


def _dms_out_of_range(text: pd.Series, bare: bool = False) -> pd.Series:
    """True where ``text`` is written as a coordinate in degrees and minutes/seconds but its
    minutes or seconds are 60 or more (``N21 61.000``)."""
    parts, num, _, marked = _dms_parts(text.astype(str), bare)
    return (marked & ((num[1].fillna(0) >= 60) | (num[2].fillna(0) >= 60))).fillna(False).astype(bool)


def _dms(text: pd.Series, bare: bool = False) -> pd.Series:
    """Degrees[-minutes[-seconds]] text with a degree sign or a hemisphere letter as decimal
    degrees (NaN when it is not such a coordinate); see ``_DMS`` for the forms read.
    ``bare``: "21 35.583" without marks counts too (see ``_BARE_DDM``)."""
    parts, num, hemi, marked = _dms_parts(text, bare)
    deg = num[0].abs() + num[1].fillna(0) / 60 + num[2].fillna(0) / 3600
    bad = (num[1].fillna(0) >= 60) | (num[2].fillna(0) >= 60) | (parts["h1"].notna() & parts["h2"].notna())
    bad |= num[2].notna() & num[1].isna()
    bad |= (num[1].notna() & (num[0] % 1 != 0)) | (num[2].notna() & (num[1] % 1 != 0))  # 21.5° 30' is no coordinate
    neg = num[0].lt(0) | hemi.isin(list(_NEGATIVE_HEMI))
    return deg.where(~neg, -deg).where(~bad & marked).astype(float)


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


def _coord_columns(headers: list) -> bool:
    """True when ``headers`` name a coordinate pair (lat/lon, E/N, X/Y) or a WKT column."""
    cols: dict[str, str] = {}
    for c in headers:
        for v in _header_variants(c):
            cols.setdefault(v, c)
    return bool((_find(cols, _LAT) and _find(cols, _LON)) or (_find(cols, _EAST) and _find(cols, _NORTH))
                or (_find(cols, _X) and _find(cols, _Y)) or _find(cols, _WKT))


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _is_label(v: Any) -> bool:
    if _blank(v) or not isinstance(v, str):
        return False
    return bool(_to_number(pd.Series([v])).isna().iloc[0])


def _merge_header(top: list, sub: list) -> list | None:
    """A two-row header ("Tọa độ" over "X (m)" / "Y (m)"): one name per column, or None
    when ``sub`` is not a header row (it holds numbers)."""
    if not any(_is_label(v) for v in sub) or any(not _blank(v) and not _is_label(v) for v in sub):
        return None
    out, parent = [], None
    for i, (t_, s_) in enumerate(zip(top, sub)):
        if not _blank(t_):
            parent = str(t_).strip()
        elif _blank(s_):
            parent = None
        if _blank(s_):
            out.append(None if _blank(t_) else str(t_).strip())
        elif parent is not None and (not _blank(t_) or (i > 0 and not _blank(sub[i - 1]))):
            out.append(f"{parent} {str(s_).strip()}")  # the group label over merged cells
        else:
            out.append(str(s_).strip())
    return out


def find_table(rows: list[tuple], header_row: int | None = None,
               fname: str = "") -> tuple[list[str], list[list], list[int], int]:
    """Find the table in a sheet as provinces make them: title rows above, blank rows, a
    one- or two-row header, signature rows below.

    ``rows`` are the sheet's rows (first row = 1). The header is row ``header_row`` when
    given (1-based, as the spreadsheet shows it), else the first of the first 30 rows whose
    names (alone or merged with the row under them) include a coordinate pair, else the
    first row with two or more labels. Returns the column names, the body rows and their
    row numbers in the sheet (blank rows left out) and the header's row number. Own code: pandas/openpyxl read a
    rectangle from the first row and know nothing of title or signature rows.
    """
    width = max((len(r) for r in rows), default=0)
    grid = [list(r) + [None] * (width - len(r)) for r in rows]
    filled = [i for i, r in enumerate(grid) if any(not _blank(v) for v in r)]
    if not filled:
        raise AtlasError("import_errors.empty_file", file=fname)

    def header_at(i: int) -> tuple[list, int]:
        top = grid[i]
        nxt = grid[i + 1] if i + 1 < len(grid) else None
        merged = _merge_header(top, nxt) if nxt is not None else None
        if merged is not None and _coord_columns([m for m in merged if m]) and not _coord_columns(
                [str(v) for v in top if not _blank(v)]):
            return merged, i + 2
        return [None if _blank(v) else str(v).strip() for v in top], i + 1

    if header_row is not None:
        if not 1 <= header_row <= len(grid):
            raise AtlasError("import_errors.bad_header_row", file=fname, row=header_row, rows=len(grid))
        head, start = header_at(header_row - 1)
    else:
        chosen = None
        for i in filled[:30]:
            if sum(_is_label(v) for v in grid[i]) < 2:
                continue
            head, start = header_at(i)
            if _coord_columns([h for h in head if h]):
                chosen = (head, start)
                break
            chosen = chosen or (head, start)
        if chosen is None:
            i = filled[0]
            chosen = header_at(i)
        head, start = chosen
    first = start - (2 if start >= 2 and head != [None if _blank(v) else str(v).strip() for v in grid[start - 1]]
                      else 1)
    names = [h if h else f"column_{j + 1}" for j, h in enumerate(head)]
    body, numbers = [], []
    for i in range(start, len(grid)):
        if any(not _blank(v) for v in grid[i]):
            body.append(grid[i])
            numbers.append(i + 1)
    return names, body, numbers, first + 1



def _repair_headers(df: pd.DataFrame, report: ImportReport) -> pd.DataFrame:
    """Header names in a legacy encoding ("Tªn", "Kinh ®é") are repaired BEFORE coordinate
    and name columns are looked for; the encoding is decided from all text of the file."""
    from geo.encoding import DECODERS, convert_value, detect_file
    enc = detect_file(df)
    if enc not in DECODERS:
        return df
    renamed = {c: convert_value(str(c), enc) for c in df.columns if isinstance(c, str)}
    renamed = {k: v for k, v in renamed.items() if k != v and "\ufffd" not in v}
    return df.rename(columns=renamed) if renamed else df


def _table_to_points(df: pd.DataFrame, fname: str, report: ImportReport, override,
                     rows: list[int] | None = None, legacy: bool = False) -> _Raw:
    """Points from coordinate columns. ``rows``: each row's number in the user's file (for
    the report); ``legacy``: text was read as Latin-1 bytes, so headers are repaired first."""
    from geo.io._normalise import ROW, note_dropped
    if df.empty:
        raise AtlasError("import_errors.empty_file", file=fname)
    if legacy:
        df = _repair_headers(df, report)
    df = df.copy()
    df[ROW] = rows if rows is not None else np.arange(2, len(df) + 2)
    cols = {_norm_header(c): c for c in df.columns if c != ROW}  # exact names first, then their variants
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
        raise AtlasError("import_errors.no_coord_columns", file=fname,
                         columns=", ".join(map(str, [c for c in df.columns if c != ROW][:12])))
    # "21 35.583" / "105 50.641" in a latitude/longitude pair: degrees and minutes (as a
    # number with a space, 2135.583, it could never be degrees)
    bare = mode == "lonlat"
    x, y = _to_number(df[a], dms=True, bare=bare), _to_number(df[b], dms=True, bare=bare)
    ok = x.notna() & y.notna() & np.isfinite(x) & np.isfinite(y)
    if ok.any():  # rows under the table with no coordinates at all: signatures, notes
        last = int(np.flatnonzero(ok.to_numpy())[-1])
        tail = np.zeros(len(df), dtype=bool)
        tail[last + 1:] = True
        footer = tail & df[a].map(_blank).to_numpy() & df[b].map(_blank).to_numpy()
        nums = df[ROW].to_numpy()
        # the table ends at a blank row: coordinate-less rows right under the data are lost rows
        if footer.any() and not (footer[last + 1:].all() and nums[last + 1] > nums[last] + 1):
            footer[:] = False
        if footer.any():
            report.warn("table_footer", count=int(footer.sum()), row=int(df[ROW].iloc[last]))
            df, x, y, ok = df.loc[~footer], x[~footer], y[~footer], ok[~footer]
    report.features_in = len(df)
    # minutes or seconds of 60 or more: said as such, not as "non-numeric" (only the rows that
    # were not read are parsed again)
    unread = (~ok).to_numpy()
    dms_range = pd.Series(False, index=df.index)
    if unread.any():
        bad = df.loc[unread]
        dms_range[unread] = (_dms_out_of_range(bad[a].where(bad[a].notna(), ""), bare)
                             | _dms_out_of_range(bad[b].where(bad[b].notna(), ""), bare)).to_numpy()
    report.dropped_dms_range = int(dms_range.sum())
    note_dropped(report, df, dms_range.to_numpy(), "dms_range")
    report.dropped_dms_range_rows = [int(r) for r in df[ROW].to_numpy()[dms_range.to_numpy()][:10]]
    report.dropped_bad_coords = int((~ok & ~dms_range).sum())
    note_dropped(report, df, (~ok & ~dms_range).to_numpy(), "bad_coords")
    if not ok.any():
        if dms_range.all():
            raise AtlasError("import_errors.dms_range", file=fname, x=str(a), y=str(b))
        if bare and max(_bare_ddm_share(df[a]), _bare_ddm_share(df[b])) > 0:
            raise AtlasError("import_errors.coord_format", file=fname, x=str(a), y=str(b))
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
            report.out_of_range_rows = [int(i) for i in df[ROW].to_numpy()[out.to_numpy()][:50]]
            note_dropped(report, df, out.to_numpy(), "out_of_range")
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
    report.features_in = len(df)
    report.dropped_bad_coords = int((~ok).sum())
    from geo.io._normalise import note_dropped
    note_dropped(report, df, ~ok, "bad_coords")
    if not ok.any():
        raise AtlasError("import_errors.no_valid_coords", file=fname, x=str(col), y=str(col))
    keep = _numeric_columns(df.loc[ok].drop(columns=[col]).copy())
    keep = keep.rename(columns={c: f"{c}_1" for c in keep.columns if str(c).lower() in _RESERVED})
    gdf = gpd.GeoDataFrame(keep.reset_index(drop=True), geometry=list(geoms[ok]))
    return _Raw(gdf, declared=None, raw_text=True)


def _read_csv(path: Path, fname: str, report: ImportReport, override, header_row: int | None = None,
              limits: Limits | None = None) -> _Raw:
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
    lines = text.splitlines()
    sample = [ln for ln in lines[:40] if ln.strip()]
    first = lines[0] if lines else ""
    sep = max((",", ";", "\t", "|"), key=lambda c: (first.count(c), max((ln.count(c) for ln in sample), default=0)))
    import io as _io
    rows = None
    if header_row is None and (first.count(sep) >= 1 and _coord_columns(_split_line(first, sep))):
        try:
            df = pd.read_csv(_io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                             engine="c", skip_blank_lines=False, nrows=limits.max_rows + 1 if limits else None)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
            raise AtlasError("import_errors.csv_invalid", file=fname) from None
        df.index = pd.RangeIndex(2, len(df) + 2)  # row numbers as a spreadsheet shows them (header = row 1)
        df = df.dropna(how="all")  # blank lines: no data, but they keep their place in the numbering
        rows = df.index.to_numpy()
        df = df.reset_index(drop=True)
    else:  # title rows above the table, or a header row chosen by the user
        import csv
        grid = []
        for i, r in enumerate(csv.reader(_io.StringIO(text), delimiter=sep)):
            if limits and i > limits.max_rows + 60:
                break
            grid.append(tuple(v if v != "" else None for v in r))
        names, body, rows, hrow = find_table(grid, header_row, fname)
        if hrow > 1:
            report.warn("header_row", row=hrow)
        width = len(names)
        if any(len(r) > width and any(not _blank(v) for v in r[width:]) for r in body):
            raise AtlasError("import_errors.csv_invalid", file=fname)
        df = pd.DataFrame([list(r[:width]) + [None] * (width - len(r)) for r in body], columns=names, dtype=object)
    if limits and len(df) > limits.max_rows:
        raise AtlasError("import_errors.too_many_rows", file=fname, cap=limits.max_rows)
    raw = _table_to_points(df, fname, report, override, rows=rows, legacy=basis == "auto")
    raw.raw_text = basis == "auto"
    raw.encoding_basis = basis
    return raw


def _split_line(line: str, sep: str) -> list[str]:
    import csv
    return next(csv.reader([line], delimiter=sep), [])


def _caused_by(exc: BaseException, kind: type) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _read_xlsx(path: Path, fname: str, layer: str | None, report: ImportReport, override,
               limits: Limits, header_row: int | None = None) -> _Raw:
    check_zip(path, limits, fname)
    import openpyxl
    from defusedxml import DefusedXmlException
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # damaged or hostile workbook
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
            if len(rows) > limits.max_rows + 60:  # a sheet of a million rows is refused, not read on
                raise AtlasError("import_errors.too_many_rows", file=fname, cap=limits.max_rows)
    except AtlasError:
        raise
    except Exception as exc:
        if _caused_by(exc, DefusedXmlException):
            raise AtlasError("import_errors.xml_unsafe", file=fname) from None
        raise _unreadable(fname, "XLSX") from None
    finally:
        wb.close()
    rows = [r if r is not None else () for r in rows]
    if sum(1 for r in rows if any(not _blank(v) for v in r)) < 2:
        raise AtlasError("import_errors.empty_file", file=fname)
    header, body, numbers, hrow = find_table(rows, header_row, fname)
    if hrow > 1:
        report.warn("header_row", row=hrow)
    width = len(header)
    df = pd.DataFrame([list(r[:width]) + [None] * (width - len(r)) for r in body], columns=header)
    raw = _table_to_points(df, fname, report, override, rows=numbers, legacy=True)  # .VnTime sheets: TCVN3 headers
    raw.raw_text = False
    raw.encoding_basis = "auto"
    return raw

"""Coordinate reference systems of imported data: honour, recognise, guess, override.

* An override (``--crs`` / the page's choice) always wins.
* A declared CRS (``.prj``, GeoPackage, GeoJSON ``crs`` member) is honoured, except that a
  locally written Transverse Mercator with central meridian 106°30′, k = 0.9999,
  x0 = 500 000 (often on a "WGS84" datum) is recognised as VN-2000 / TM-3 106-30
  (EPSG:9213): the coordinates are VN-2000, and reading them as WGS84 puts them ~224 m off.
  The same holds for the other VN-2000 TM-3 central meridians (neighbouring provinces'
  files: 105°45′ → EPSG:9210, 107°00′ → EPSG:9214 …).
* With no CRS (or a geographic CRS whose coordinates are plainly metres) the CRS is
  guessed from the coordinates and the basis of the guess is reported.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo.errors import AtlasError

VN2000_TM3_TN = 9213  # VN-2000 / TM-3 106-30: Thái Nguyên and Bắc Kạn
# Thái Nguyên + Bắc Kạn, generously (lon/lat)
REGION = (105.0, 21.0, 106.6, 23.0)
VIETNAM = (101.5, 7.5, 110.0, 23.6)
# VN-2000 TM-3 zones by central meridian (EPSG 5896–5899, 9205–9218)
TM3_ZONES = {102.0: 5896, 105.0: 5897, 108.0: 5898, 107.75: 5899, 103.0: 9205, 104.0: 9206, 104.5: 9207,
             104.75: 9208, 105.5: 9209, 105.75: 9210, 106.0: 9211, 106.25: 9212, 106.5: 9213, 107.0: 9214,
             107.25: 9215, 107.5: 9216, 108.25: 9217, 108.5: 9218}
# candidates for metric coordinates without a CRS, in order of preference
METRIC_CANDIDATES = (9213, 3405, 9210, 9211, 5897, 9205, 5899, 9212, 3406, 9218)

# basis keys (strings in geo/i18n/data.toml [import_report])
BASIS_OVERRIDE = "crs_override"
BASIS_DECLARED = "crs_declared"
BASIS_LOCAL_TM3 = "crs_local_tm3"
BASIS_LOCAL_TM3_OTHER = "crs_local_tm3_other"
BASIS_SPEC = "crs_spec"
BASIS_GUESS_DEGREES = "crs_guess_degrees"
BASIS_GUESS_METRIC = "crs_guess_metric"
BASIS_DECLARED_MISMATCH = "crs_declared_mismatch"


@dataclass
class CrsDecision:
    """The CRS chosen for a layer and why."""

    crs: CRS
    basis: str
    params: dict

    @property
    def label(self) -> str:
        """``EPSG:9213 VN-2000 / TM-3 106-30`` style label."""
        code = self.crs.to_epsg()
        return f"EPSG:{code} {self.crs.name}" if code else self.crs.name


def parse_crs(value, file: str = "") -> CRS:
    """A user's CRS choice (``9213``, ``"EPSG:9213"``, WKT, proj string) or ``AtlasError``."""
    text = str(value).strip()
    try:
        if text.isdigit():
            return CRS.from_epsg(int(text))
        return CRS.from_user_input(text)
    except (CRSError, ValueError, TypeError):
        raise AtlasError("import_errors.bad_crs", file=file or "-", crs=text[:60]) from None


def is_local_tm3_106_30(crs: CRS | None) -> bool:
    """True for any Transverse Mercator 106°30′ / k 0.9999 / x0 500 000 / y0 0 in metres."""
    return _tm3_lon0(crs) == 106.5


def local_tm3_zone(crs: CRS | None) -> int | None:
    """The VN-2000 TM-3 EPSG code whose parameters a (locally written) CRS repeats:
    Transverse Mercator, k 0.9999, x0 500 000, in metres, central meridian of a VN-2000
    TM-3 zone (106°30′ → 9213; 105°45′ → 9210, 107°00′ → 9214 …). ``None`` otherwise."""
    lon0 = _tm3_lon0(crs)
    return TM3_ZONES.get(lon0) if lon0 is not None else None


def _tm3_lon0(crs: CRS | None) -> float | None:
    """The central meridian of a TM-3-like CRS (k 0.9999, x0 500 000, y0 0, metres), else None."""
    if crs is not None and crs.is_bound:
        crs = crs.source_crs
    if crs is None or not crs.is_projected:
        return None
    try:
        op = crs.coordinate_operation
        if op is None or "transverse mercator" not in op.method_name.lower():
            return None
        params = {p.name.lower(): p.value for p in op.params}
    except Exception:  # odd CRS definitions: not ours
        return None

    def get(*names: str) -> float | None:
        for n in names:
            if n in params:
                return float(params[n])
        return None

    lon0 = get("longitude of natural origin", "central_meridian")
    k = get("scale factor at natural origin", "scale_factor")
    x0 = get("false easting")
    y0 = get("false northing")
    lat0 = get("latitude of natural origin")
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    if (lon0 is not None and k is not None and abs(k - 0.9999) < 1e-9 and x0 is not None
            and abs(x0 - 500000) < 1e-3 and (y0 or 0.0) == 0.0 and (lat0 or 0.0) == 0.0 and abs(unit - 1.0) < 1e-9):
        return round(lon0 * 4) / 4 if abs(lon0 * 4 - round(lon0 * 4)) < 1e-6 else lon0
    return None


def looks_geographic(bounds: tuple[float, float, float, float]) -> bool:
    """Coordinates that can only be degrees (|x| <= 180, |y| <= 90)."""
    minx, miny, maxx, maxy = bounds
    return -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def _inside(lon: float, lat: float, box) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def _to_lonlat(code: int, x: float, y: float) -> tuple[float, float]:
    tr = Transformer.from_crs(CRS.from_epsg(code), CRS.from_epsg(4326), always_xy=True)
    lon, lat = tr.transform(x, y)
    return float(lon), float(lat)


def guess_crs(bounds: tuple[float, float, float, float],
              center: tuple[float, float] | None = None) -> CrsDecision | None:
    """Guess a CRS from the data extent, or ``None`` when nothing fits.

    ``center`` (the median coordinate) is where candidates are tested; a few stray rows
    (a degree value among metres) then cannot pull the guess to another zone."""
    minx, miny, maxx, maxy = bounds
    if not all(math.isfinite(v) for v in bounds):
        return None
    if looks_geographic(bounds):
        return CrsDecision(CRS.from_epsg(4326), BASIS_GUESS_DEGREES,
                           {"x": f"{minx:.3f}–{maxx:.3f}", "y": f"{miny:.3f}–{maxy:.3f}"})
    cx, cy = center if center is not None and all(math.isfinite(v) for v in center) else \
        ((minx + maxx) / 2, (miny + maxy) / 2)
    if not (0 <= minx and maxx <= 1_000_000 and 0 <= miny and maxy <= 3_000_000):
        return None
    fallback = None
    for code in METRIC_CANDIDATES:
        lon, lat = _to_lonlat(code, cx, cy)
        if not (math.isfinite(lon) and math.isfinite(lat)):
            continue
        crs = CRS.from_epsg(code)
        params = {"e": f"{minx / 1000:.0f}–{maxx / 1000:.0f}", "n": f"{miny / 1000:.0f}–{maxy / 1000:.0f}",
                  "name": crs.name, "code": code}
        if _inside(lon, lat, REGION):
            return CrsDecision(crs, BASIS_GUESS_METRIC, params)
        aou = crs.area_of_use
        if fallback is None and aou and _inside(lon, lat, aou.bounds) and _inside(lon, lat, VIETNAM):
            fallback = CrsDecision(crs, BASIS_GUESS_METRIC, params)
    return fallback


def resolve_crs(declared: CRS | None, bounds: tuple[float, float, float, float], *,
                override=None, file: str = "", spec_crs: bool = False,
                spec_default: CRS | None = None, center: tuple[float, float] | None = None) -> CrsDecision:
    """Decide the CRS of a layer (see module docstring); raises ``AtlasError`` if unknown.

    ``spec_crs`` marks formats whose CRS is fixed by their specification (KML: WGS84);
    ``spec_default`` is the CRS a format implies when the file names none (GeoJSON,
    RFC 7946: WGS84) — used only when the coordinates are degrees.
    """
    if override not in (None, ""):
        crs = override if isinstance(override, CRS) else parse_crs(override, file)
        return CrsDecision(crs, BASIS_OVERRIDE, {})
    if declared is None and spec_default is not None and looks_geographic(bounds):
        return CrsDecision(spec_default, BASIS_SPEC, {})
    if declared is not None:
        zone = local_tm3_zone(declared)
        if zone is not None and not declared.equals(CRS.from_epsg(zone)):
            if zone == VN2000_TM3_TN:
                return CrsDecision(CRS.from_epsg(VN2000_TM3_TN), BASIS_LOCAL_TM3, {})
            zone_crs = CRS.from_epsg(zone)
            return CrsDecision(zone_crs, BASIS_LOCAL_TM3_OTHER, {"name": zone_crs.name, "code": str(zone)})
        if declared.is_geographic and not looks_geographic(bounds):
            guess = guess_crs(bounds, center)
            if guess is None:
                raise AtlasError("import_errors.crs_unknown", file=file, **_range_params(bounds))
            guess.basis = BASIS_DECLARED_MISMATCH
            return guess
        return CrsDecision(declared, BASIS_SPEC if spec_crs else BASIS_DECLARED, {})
    guess = guess_crs(bounds, center)
    if guess is None:
        raise AtlasError("import_errors.crs_unknown", file=file, **_range_params(bounds))
    return guess


def _range_params(bounds) -> dict[str, str]:
    """``x``/``y`` ranges for a message (the coordinates the user can check)."""
    def fmt(a: float, b: float) -> str:
        return "?" if not (math.isfinite(a) and math.isfinite(b)) else f"{a:.6g}–{b:.6g}"
    return {"x": fmt(bounds[0], bounds[2]), "y": fmt(bounds[1], bounds[3])}


def median_center(xy: np.ndarray) -> tuple[float, float] | None:
    """The median of the finite rows of an (n, 2+) coordinate array (``None`` if none)."""
    if xy.size == 0:
        return None
    ok = np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1])
    if not ok.any():
        return None
    return float(np.median(xy[ok, 0])), float(np.median(xy[ok, 1]))


def finite_bounds(xy: np.ndarray) -> tuple[float, float, float, float]:
    """Bounds of the finite rows of an (n, 2+) coordinate array (NaN if none)."""
    if xy.size == 0:
        return (math.nan,) * 4
    ok = np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1])
    if not ok.any():
        return (math.nan,) * 4
    x, y = xy[ok, 0], xy[ok, 1]
    return float(x.min()), float(y.min()), float(x.max()), float(y.max())

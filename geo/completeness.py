"""How complete the facility data is: known facilities per unit and category vs a national norm.

A coverage figure computed on a facility layer that misses facilities is a lower bound of
real access. This module counts, per planning unit and category, the facilities a layer
holds and, where a national norm gives the number to expect, compares the two; every
surface (coverage page, map side panel, readiness, deck, CLI, exports) says the result in
the same words through :meth:`Completeness.summary`.

Public API (stable; used by ``geo.service``):

- :data:`NORMS` — category → :class:`Norm` (only categories with a national norm);
- :func:`facility_counts` — long table of known/expected counts per unit and category;
- :func:`completeness` — one category's :class:`Completeness` (totals, per unit, summary).
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.i18n import t

FACILITY_TYPE_COLUMN = "facility_type"


@dataclass(frozen=True)
class Norm:
    """A national norm: at least ``per_unit`` facilities of ``facility_type`` per unit.

    ``facility_type`` is the value of the ``facility_type`` column the norm counts (the
    catalog's ``types`` of the category say which OSM tags give it); a layer without that
    column (an official register of that very type) counts all its points.
    """

    category: str
    facility_type: str
    per_unit: int
    unit_layer: str
    source_vi: str
    source_en: str

    def source(self, lang: str) -> str:
        """Where the norm comes from, in ``lang``."""
        return self.source_en if lang == "en" else self.source_vi


NORMS: dict[str, Norm] = {
    "health": Norm(
        category="health", facility_type="health_station", per_unit=1, unit_layer="wards_2025",
        source_vi=("Mỗi xã, phường có một trạm y tế trực thuộc UBND xã (Thông tư 43/2025/TT-BYT của Bộ Y tế, "
                   "hiệu lực 1-1-2026, theo báo chí; ví dụ baophutho.vn 17-10-2025: “thành lập 1 trạm y tế "
                   "trực thuộc UBND xã, phường”, các trạm cũ thành điểm y tế)"),
        source_en=("Every commune/ward has one health station under its People's Committee (Ministry of Health "
                   "Circular 43/2025/TT-BYT, in force 1-1-2026, as reported in the press; e.g. baophutho.vn "
                   "17-10-2025: one station per commune/ward, former stations become health points)"),
    ),
    "public_admin": Norm(
        category="public_admin", facility_type="people_committee", per_unit=1, unit_layer="wards_2025",
        source_vi=("Mỗi đơn vị hành chính cấp xã có Ủy ban nhân dân và trụ sở của nó (Luật Tổ chức chính quyền "
                   "địa phương 2025); địa chỉ trụ sở của 92 đơn vị có trong danh sách sapnhap.bando.com.vn"),
        source_en=("Every commune-level unit has a People's Committee with its seat (Law on the Organisation of "
                   "Local Government 2025); the seats' addresses of the 92 units are listed by sapnhap.bando.com.vn"),
    ),
}


def _unit_index(units: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> np.ndarray:
    """Position of the unit containing each facility point (-1 outside all units)."""
    pts = np.asarray(facilities.to_crs(units.crs).geometry.values)
    pts = shapely.point_on_surface(pts)  # lines/polygons of a register count at one point
    tree = shapely.STRtree(np.asarray(units.geometry.values))
    p_idx, u_idx = tree.query(pts, predicate="within")
    where = np.full(len(pts), -1, dtype=np.int64)
    where[p_idx[::-1]] = u_idx[::-1]  # a point on a shared border goes to the first unit
    return where


def facility_counts(units: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, unit_id: str,
                    categories: list[str] | None = None, category_col: str = "category",
                    norms: dict[str, Norm] | None = None) -> pd.DataFrame:
    """Known facilities per unit and category, next to the count a national norm expects.

    Parameters
    ----------
    units : GeoDataFrame
        Planning units (polygons, any CRS; EPSG:4326 as shipped) with an id column.
    facilities : GeoDataFrame
        Points with ``category_col`` (and optionally ``facility_type``), any CRS.
    unit_id : str
        Column of ``units`` used as the id in the result.
    categories : list of str, optional
        Categories to count (default: those present in ``facilities``). A category with no
        point still gets its rows (known = 0).
    category_col : str
        Column naming each facility's category (``category`` in the infrastructure layer).
    norms : dict, optional
        Norms to compare with (default :data:`NORMS`).

    Returns
    -------
    DataFrame with one row per unit × category: ``unit_id`` (values of ``units[unit_id]``),
    ``category``, ``known`` (int: points of the category inside the unit),
    ``known_norm_type`` (int: of those, the norm's facility type; equals ``known`` when the
    layer has no ``facility_type`` column; NaN without a norm), ``expected`` (float: the
    norm's minimum; NaN without a norm), ``missing`` (float: expected − known_norm_type,
    floored at 0; NaN without a norm). Vectorised: one STRtree query and ``np.bincount``.

    Notes
    -----
    Points outside every unit are not counted. Norm sources: :data:`NORMS`.
    """
    norms = NORMS if norms is None else norms
    cats = list(categories) if categories is not None else sorted(facilities[category_col].dropna().unique())
    where = _unit_index(units, facilities)
    n = len(units)
    cat_values = facilities[category_col].astype("string").fillna("").to_numpy()
    has_type = FACILITY_TYPE_COLUMN in facilities.columns
    types = facilities[FACILITY_TYPE_COLUMN].astype("string").fillna("").to_numpy() if has_type else None
    inside = where >= 0
    frames = []
    for cat in cats:  # a handful of categories; each is one bincount over all points
        sel = inside & (cat_values == cat)
        known = np.bincount(where[sel], minlength=n)
        norm = norms.get(cat)
        if norm is None:
            norm_known = np.full(n, np.nan)
            expected = np.full(n, np.nan)
        else:
            typed = sel & (types == norm.facility_type) if has_type else sel
            norm_known = np.bincount(where[typed], minlength=n).astype(float)
            expected = np.full(n, float(norm.per_unit))
        frames.append(pd.DataFrame({
            "unit_id": units[unit_id].to_numpy(), "category": cat, "known": known.astype(int),
            "known_norm_type": norm_known, "expected": expected,
            "missing": np.maximum(expected - norm_known, 0),
        }))
    if not frames:
        return pd.DataFrame(columns=["unit_id", "category", "known", "known_norm_type", "expected", "missing"])
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Completeness:
    """One category's facility completeness over a set of units.

    Attributes
    ----------
    category : str
    norm : Norm or None
        The national norm compared with, if any.
    known : int
        Facilities of the category inside the units.
    known_norm_type : int or None
        Of those, the norm's type, counting at most ``per_unit`` per unit (so "1 of 92").
    expected : int or None
        Units × the norm's ``per_unit`` (None without a norm).
    units : int
        Number of units.
    units_without : int
        Units holding no facility of the category ("no facility data" there).
    authoritative : bool
        The facilities come from a source declared authoritative (geo.register).
    per_unit : DataFrame
        :func:`facility_counts` rows of this category plus ``no_facility_data`` (bool).
    scope : str
        What the "k of N" is about, said in the summary: ``"province"`` (the province's 2025
        units today), ``"area"`` (the 2025 units of a selected area), ``""`` (not stated).
    """

    category: str
    norm: Norm | None
    known: int
    known_norm_type: int | None
    expected: int | None
    units: int
    units_without: int
    authoritative: bool
    per_unit: pd.DataFrame
    scope: str = ""

    @property
    def complete(self) -> bool:
        """True when the norm is met in every unit, or the source is declared authoritative
        and no norm says otherwise."""
        if self.norm is not None:
            return self.known_norm_type is not None and self.known_norm_type >= (self.expected or 0)
        return self.authoritative

    @property
    def lower_bound(self) -> bool:
        """Whether a coverage figure computed on these facilities is only a lower bound."""
        return not self.complete

    def summary(self, lang: str) -> str:
        """One line: "Facility data: 1 of 92 commune health stations known" (vi/en); with a
        ``scope``, what the count is about: "Facility data, whole province (92 communes/wards
        today): 1 of 92 …" or "…, selected area (55 of today's communes/wards in it): 1 of 55 …"
        — so the province's figure never reads as one unit's own."""
        what = t(f"completeness.type_{self.norm.facility_type}" if self.norm else
                 f"completeness.category_{self.category}", lang)
        if self.norm is not None:
            key = f"completeness.summary_norm_{self.scope}" if self.scope else "completeness.summary_norm"
            return t(key, lang, known=self.known_norm_type or 0, expected=self.expected or 0, what=what,
                     units=self.units)
        key = "completeness.summary_authoritative" if self.authoritative else "completeness.summary_no_norm"
        return t(key, lang, known=self.known, what=what)

    def reason(self, lang: str) -> str:
        """Why figures are a lower bound ("" when complete), for captions, CLI and credits."""
        if self.complete:
            return ""
        return t("completeness.lower_bound_reason", lang, summary=self.summary(lang))


def completeness(category: str, units: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, unit_id: str,
                 category_col: str = "category", authoritative: bool = False,
                 norms: dict[str, Norm] | None = None, scope: str = "") -> Completeness:
    """Completeness of ``category`` in ``facilities`` over ``units``.

    Parameters
    ----------
    category : str
        A catalog category id (``health``, ``education``, ...).
    units : GeoDataFrame
        Planning units with ``unit_id``; the norms count per 2025 unit (``wards_2025``),
        so pass those units for a "k of 92" figure; other unit sets still get counts.
    facilities : GeoDataFrame
        The facility points (the infrastructure layer, or a register layer whose
        ``category`` column is set; see :func:`geo.register.authoritative_source`).
    unit_id : str
        Id column of ``units``.
    category_col : str
        Category column of ``facilities``.
    authoritative : bool
        True when ``facilities`` is the category's declared authoritative source.
    norms : dict, optional
        Default :data:`NORMS`.
    scope : str
        ``"province"`` (``units`` are all the province's 2025 units) or ``"area"`` (those of a
        selected area): stated in :meth:`Completeness.summary`.

    Returns
    -------
    Completeness
    """
    norms = NORMS if norms is None else norms
    rows = facility_counts(units, facilities, unit_id, [category], category_col, norms)
    rows = rows.assign(no_facility_data=rows["known"] == 0)
    norm = norms.get(category)
    known_norm = expected = None
    if norm is not None:
        known_norm = int(np.minimum(rows["known_norm_type"].to_numpy(), norm.per_unit).sum())
        expected = int(norm.per_unit * len(units))
    return Completeness(category=category, norm=norm, known=int(rows["known"].sum()),
                        known_norm_type=known_norm, expected=expected, units=len(units),
                        units_without=int(rows["no_facility_data"].sum()), authoritative=authoritative,
                        per_unit=rows, scope=scope)


def province_summaries(lang: str) -> list[str]:
    """One line per category with a national norm over the 92 units of the province
    ("Facility data: 1 of 92 commune health stations known"), on the facilities every
    surface uses by default (the declared register, else the OSM layer; see
    :func:`geo.register.facilities_for`).
    """
    from geo.catalog import load_layer
    from geo.register import facilities_for

    wards = load_layer("wards_2025")
    lines = []
    for category in NORMS:
        facilities, source = facilities_for(category)
        lines.append(completeness(category, wards, facilities, "gso_code", authoritative=source.authoritative,
                                  scope="province").summary(lang))
    return lines

"""The 92 post-2025 units and the pre-2025 districts built from the official sources.

Run by ``scripts/build_data.py``. Sources (``../shared/data/SOURCES.md``):

- item 13: official polygons of the 92 units (sapnhap.bando.com.vn via
  thanglequoc/vietnamese-provinces-database), full resolution, GSO 2025 codes;
- item 14: official 2025 area and population per unit (sapnhap.bando.com.vn per-unit
  pages via lamngockhuong/vietnam-3d-map), summing to the official province figures;
- item 15: the national list of 3,321 GSO 2025 codes (sunshine-tech/VietnamProvinces);
- item 6: official label points, ``admin_center`` and ``merged_from`` (sapnhap bulk list);
- item 7: the old → new crosswalk (dvhcvn/20250701), carrying the 2019 census across.

Every step reports what it changed or could not match, so the shipped files can be
checked against the sources by anyone (``BUILD_REPORT.md`` and ``python -m geo audit``).
"""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.settings import METRIC_CRS
from geo.text import join_key, nfc

#: Official province figures from 1-7-2025 (item 14; the official province totals).
OFFICIAL_POPULATION_2025 = 1_799_489
OFFICIAL_AREA_KM2_2025 = 8_375.27
#: Official 2019 census totals (item 9): Thái Nguyên and former Bắc Kạn.
CENSUS_2019_TN = 1_286_751
CENSUS_2019_BK = 313_905
#: Tolerance of the display geometry (degrees, ≈ 20 m), simplified as a coverage.
DISPLAY_TOLERANCE_DEG = 0.0002


def read_official_figures(path: Path) -> pd.DataFrame:
    """Official 2025 area (km²) and population per unit, indexed by 5-digit GSO code.

    Parameters
    ----------
    path : Path
        Item 14 (``{wards: [{id, name, type, area, population, ...}]}``). One id is
        written without its leading zero upstream ("5665"): codes are zero-padded.

    Returns
    -------
    DataFrame indexed by ``gso_code`` (str, 5 digits) with ``name``, ``type``,
    ``area_km2`` (float, km²) and ``population_2025`` (int).
    """
    wards = pd.DataFrame(json.loads(path.read_text(encoding="utf-8"))["wards"])
    out = pd.DataFrame({
        "gso_code": wards["id"].astype(str).str.zfill(5),
        "name": wards["name"], "type": wards["type"],
        "area_km2": wards["area"].astype(float), "population_2025": wards["population"].astype(int),
    })
    return out.set_index("gso_code")


def read_code_list(path: Path, province_codename: str = "thai_nguyen") -> pd.Series:
    """Official names by 5-digit GSO 2025 code for one province (item 15)."""
    codes = pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))
    codes = codes[codes["province_codename"] == province_codename]
    return pd.Series(codes["name"].to_numpy(), index=codes["code"].astype(int).astype(str).str.zfill(5))


def correct_point_codes(points: gpd.GeoDataFrame, code_names: pd.Series) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Official codes for the label points (item 6), matched by full name to item 15.

    Item 6 took its codes from an older ``vietnam-provinces`` release (Xã Phú Lạc carried
    05794, the old Phục Linh code). Returns the points with ``gso_code`` (5-digit text)
    and one note per corrected code; a name absent from the list raises ``ValueError``.
    """
    key = lambda s: nfc(s).lower()  # diacritics kept: Xã Văn Lang ≠ Xã Văn Lăng
    by_name = pd.Series(code_names.index, index=code_names.map(key))
    pts = points.copy()
    old = pts["gso_code_2025"].astype(int).astype(str).str.zfill(5)
    new = pts["name_full"].map(key).map(by_name)
    if new.isna().any():
        raise ValueError(f"label points not in the official code list: {sorted(pts.loc[new.isna(), 'name_full'])}")
    pts["gso_code"] = new.astype(str)
    notes = [f"{n}: code {o} in the points file corrected to the official {c} (item 15)"
             for n, o, c in zip(pts["name_full"], old, new) if o != c]
    return pts.drop(columns=["gso_code_2025"]), notes


def census_by_new_unit(census: pd.DataFrame, crosswalk: pd.DataFrame, communes_2009: gpd.GeoDataFrame,
                       wards: gpd.GeoDataFrame) -> tuple[pd.Series, list[str]]:
    """Census 2019 population carried onto the 2025 units (people, float; NaN if unknown).

    Rule (deterministic, reported line by line):

    1. Each census unit (2019 structure) is joined by name within its old district to the
       crosswalk's pre-2025 communes; its 2025 target(s) come from the crosswalk.
    2. A census unit with one target gives it its whole population.
    3. A census unit split between targets (3 communes in 2025), or one merged away
       before 2025 and so absent from the crosswalk, is placed with its 2009 polygon
       (item 5): population is shared in proportion to the area of that polygon falling
       in each candidate 2025 unit (candidates: the crosswalk targets; all units when it
       is not in the crosswalk).
    A census unit that cannot be placed is reported and carried nowhere, so a carried
    figure is never invented (``population_2019_carried`` then undercounts; the report
    names the unit).

    Parameters
    ----------
    census : DataFrame
        Item 9 (``city``, ``district``, ``ward``, ``ward_title``, ``total``).
    crosswalk : DataFrame
        Item 7 (``old_province``, ``old_district``, ``old_commune``, ``new_commune_id``).
    communes_2009 : GeoDataFrame
        The 2009 polygons with ``census_2019_unit`` and ``district_2019`` from
        :func:`geo.derive.join_census_2019` (EPSG:4326).
    wards : GeoDataFrame
        The official 2025 polygons with ``gso_code`` (EPSG:4326).

    Returns
    -------
    (Series indexed by gso_code, notes)
    """
    from geo.derive import _keys, match_names, unit_kind

    notes: list[str] = []
    olds = crosswalk.drop_duplicates("old_commune_id").reset_index(drop=True)
    right = _keys(olds["old_province"], olds["old_district"], olds["old_commune"], olds["old_commune"].map(unit_kind))
    right["label"] = olds["old_commune"] + " (" + olds["old_district"] + ")"
    cen = census.reset_index(drop=True)
    left = _keys(cen["city"], cen["district"], cen["ward"], cen["ward_title"].map(unit_kind))
    left["label"] = cen["ward_title"] + " " + cen["ward"] + " (" + cen["district"] + ")"
    match, report = match_names(left, right)
    notes += [f"census → crosswalk join: {line}" for line in report.lines()]
    targets = crosswalk.groupby("old_commune_id")["new_commune_id"].agg(lambda s: sorted(set(s)))

    wm = wards.to_crs(METRIC_CRS).set_index("gso_code")
    cm = communes_2009.to_crs(METRIC_CRS)
    poly_key = cm["district_2019"].map(join_key) + "|" + cm["census_2019_unit"].map(join_key)
    cen_key = cen["district"].map(join_key) + "|" + cen["ward"].map(join_key)
    total = pd.Series(0.0, index=wm.index)
    for i, row in cen.iterrows():  # 302 rows, build time only
        m = match.iloc[i]
        cands = targets[olds["old_commune_id"].iloc[int(m)]] if not np.isnan(m) else list(wm.index)
        pop = float(row["total"])
        if len(cands) == 1:
            total[cands[0]] += pop
            continue
        polys = cm.geometry[(poly_key == cen_key.iloc[i]).to_numpy()]
        if polys.empty:
            notes.append(f"census unit {left['label'].iloc[i]} ({int(pop):,}): no 2009 polygon to place it, not carried")
            continue
        geom = shapely.union_all(polys.to_numpy())
        share = wm.geometry.loc[cands].intersection(geom).area
        if share.sum() <= 0:
            notes.append(f"census unit {left['label'].iloc[i]} ({int(pop):,}): 2009 polygon outside its targets, not carried")
            continue
        share = share[share > 0] / share.sum()
        total.loc[share.index] += pop * share
        why = "split in 2025" if not np.isnan(m) else "merged away before 2025 (not in crosswalk)"
        notes.append(f"census unit {left['label'].iloc[i]} ({int(pop):,}, {why}) shared by area of its 2009 "
                     f"polygon: " + ", ".join(f"{wm.loc[c, 'name_full'] if 'name_full' in wm else c} "
                                                f"{v:.0%}" for c, v in share.sort_values(ascending=False).items()))
    return total.round(0), notes


def build_wards_2025(polygons: gpd.GeoDataFrame, figures: pd.DataFrame, code_names: pd.Series,
                     points: gpd.GeoDataFrame, crosswalk: pd.DataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The 92 units: official polygons (item 13) + official figures (item 14) + points' text.

    Parameters
    ----------
    polygons : GeoDataFrame
        Item 13 (``gso_code``, ``name_bando``, geometry, EPSG:4326).
    figures : DataFrame
        :func:`read_official_figures`.
    code_names : Series
        :func:`read_code_list` for Thái Nguyên.
    points : GeoDataFrame
        Label points with corrected ``gso_code`` (:func:`correct_point_codes`).
    crosswalk : DataFrame
        Item 7, for ``old_districts``.

    Returns
    -------
    GeoDataFrame (EPSG:4326, full geometry) with ``gso_code``, ``name_full``, ``name``,
    ``unit_type``, ``area_km2``, ``population_2025``, ``density_2025``, ``admin_center``,
    ``merged_from``, ``old_districts``; and notes. Raises ``ValueError`` when the code
    sets of the sources differ (a wrong code must stop the build, not drop a unit).
    """
    notes: list[str] = []
    poly = polygons.copy()
    poly["gso_code"] = poly["gso_code"].astype(str).str.zfill(5)
    sets = {"polygons (item 13)": set(poly["gso_code"]), "figures (item 14)": set(figures.index),
            "code list (item 15)": set(code_names.index), "label points (item 6)": set(points["gso_code"])}
    first = next(iter(sets.values()))
    for name, s in sets.items():
        if s != first:
            raise ValueError(f"GSO codes differ: {name} vs polygons: {sorted(s ^ first)}")
    notes.append(f"GSO codes identical in items 13, 14, 15 and the corrected points: {len(first)} units")
    names = poly["gso_code"].map(code_names)
    bad = poly.loc[names.map(nfc).str.lower() != poly["name_bando"].map(nfc).str.lower(), ["gso_code", "name_bando"]]
    notes += [f"name differs for {r.gso_code}: polygon '{r.name_bando}', code list '{code_names[r.gso_code]}'"
              for r in bad.itertuples()]
    pts = points.set_index("gso_code")
    out = gpd.GeoDataFrame({
        "gso_code": poly["gso_code"].to_numpy(),
        "name_full": names.to_numpy(),
    }, geometry=poly.geometry.to_numpy(), crs=polygons.crs)
    out["name"] = out["gso_code"].map(figures["name"])
    out["unit_type"] = out["gso_code"].map(figures["type"]).str.lower()
    out["area_km2"] = out["gso_code"].map(figures["area_km2"])
    out["population_2025"] = out["gso_code"].map(figures["population_2025"]).astype(int)
    out["density_2025"] = out["population_2025"] / out["area_km2"]
    out["admin_center"] = out["gso_code"].map(pts["admin_center"])
    out["merged_from"] = out["gso_code"].map(pts["merged_from"])
    out["old_districts"] = out["gso_code"].map(crosswalk.groupby("new_commune_id")["old_district"].agg(
        lambda s: ", ".join(sorted(set(s)))))
    measured = out.to_crs(METRIC_CRS).area / 1e6
    rel = (measured - out["area_km2"]).abs() / out["area_km2"]
    notes.append(f"polygon area (EPSG:9213) vs official area: median difference {rel.median():.2%}, "
                 f"largest {rel.max():.2%} ({out.loc[rel.idxmax(), 'name_full']})")
    out = out.sort_values("gso_code").reset_index(drop=True)
    return out, notes


def display_geometry(geoms: gpd.GeoSeries, tolerance: float = DISPLAY_TOLERANCE_DEG) -> gpd.GeoSeries:
    """A lighter copy for drawing only: the units simplified together as a coverage.

    ``shapely.coverage_simplify`` (GEOS CoverageSimplifier) simplifies each shared border
    once, so neighbours keep a common edge: no slivers or overlaps appear between them.
    Give it an exact coverage (:func:`clean_coverage`). Analysis and exports use the full geometry.

    Parameters
    ----------
    geoms : GeoSeries
        A polygon coverage in EPSG:4326.
    tolerance : float
        Simplification tolerance in degrees (default ≈ 20 m).
    """
    arr = shapely.coverage_simplify(np.asarray(geoms.values), tolerance)
    return gpd.GeoSeries(arr, index=geoms.index, crs=geoms.crs)


def clean_coverage(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Remove overlaps between polygons (each one keeps what an earlier one has not taken).

    Used to turn the official units (overlaps totalling ≈ 0.006 km²) into an exact
    partition before dissolving them into districts and outlines.
    """
    arr = np.asarray(geoms.values)
    taken = None
    out = []
    for g in arr:  # 92 polygons, build time only
        piece = g if taken is None else shapely.difference(g, taken)
        out.append(_polygonal(piece))
        taken = g if taken is None else shapely.union(taken, g)
    return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs)


def districts_from_wards(wards: gpd.GeoDataFrame, crosswalk: pd.DataFrame,
                         communes_2009: gpd.GeoDataFrame) -> tuple[gpd.GeoSeries, list[str]]:
    """Pre-2025 districts as an exact partition of the official 2025 units.

    A 2025 unit whose predecessors all lay in one pre-2025 district goes to it whole
    (its official edge is the district edge). A unit formed across a district border (5
    in the province) is cut with the 2009 commune polygons grouped by their 2019 district;
    what those coarse polygons leave inside the unit goes to the candidate district whose piece shares the longest border with it (else the largest piece).

    Parameters
    ----------
    wards : GeoDataFrame
        Official 2025 units (``gso_code``), EPSG:4326, without overlaps (:func:`clean_coverage`).
    crosswalk : DataFrame
        Item 7 (``old_district``, ``old_commune``, ``new_commune_id``).
    communes_2009 : GeoDataFrame
        Item 5 polygons with ``district_2019`` (:func:`geo.derive.join_census_2019`).

    Returns
    -------
    GeoSeries indexed by ``join_key`` of the old district name (EPSG:4326), and notes.
    """
    notes: list[str] = []
    wm = wards.to_crs(METRIC_CRS).set_index("gso_code")
    cm = communes_2009.to_crs(METRIC_CRS)
    cm_key = cm["district_2019"].map(join_key)
    x = crosswalk.assign(dkey=crosswalk["old_district"].map(join_key))
    by_unit = x.groupby("new_commune_id")["dkey"].agg(lambda s: sorted(set(s)))
    pieces: dict[str, list] = {}
    for code, dkeys in by_unit.items():
        unit = wm.geometry[code]
        if len(dkeys) == 1:
            pieces.setdefault(dkeys[0], []).append(unit)
            continue
        parts: dict[str, shapely.Geometry] = {}
        taken = shapely.Polygon()
        for d in dkeys:
            src = cm.geometry[(cm_key == d).to_numpy()]
            got = shapely.difference(shapely.intersection(unit, shapely.union_all(src.to_numpy())), taken)
            parts[d] = _polygonal(got)
            taken = shapely.union(taken, got)
        _give_leftovers(parts, shapely.difference(unit, taken))
        for d, p in parts.items():
            pieces.setdefault(d, []).append(p)
        notes.append(f"{wm.loc[code, 'name_full']} lies across old districts; cut with the 2009 "
                     "district polygons: " + ", ".join(f"{d} {parts[d].area / 1e6:.1f} km²" for d in dkeys))
    geoms = {d: shapely.make_valid(shapely.union_all(p)) for d, p in pieces.items()}
    out = gpd.GeoSeries(geoms, crs=METRIC_CRS).to_crs(wards.crs)
    return out, notes


def nest_communes_in_districts(communes: gpd.GeoDataFrame, districts: gpd.GeoSeries,
                               grid_size: float = 1e-7) -> tuple[gpd.GeoSeries, list[str]]:
    """The 2009 commune polygons fitted to the district partition, so communes nest in districts.

    The district edges follow the official 2025 units (:func:`districts_from_wards`) while the
    2009 commune polygons are coarser, so a cell of the census population grid could fall in
    one district by its commune and in another by the district polygon: a city's grid
    population then differs from its census total. Here each commune is clipped to its own
    2019 district, overlaps go to the commune listed first, and what the communes leave
    uncovered inside the district goes to the commune sharing the longest border with it
    (else the largest). Afterwards the union of a district's communes is its polygon, so
    population grids built from communes give every district its census total (the three
    programme cities exactly; other districts within a few people where a projected edge
    moves by millimetres). Communes without a known district keep their geometry.

    Written here (not with a library) because it is a rule of this data set: which
    district owns a sliver is decided by the census's district, not by geometry alone.

    Parameters
    ----------
    communes : GeoDataFrame
        2009 commune polygons with ``district_2019`` (any CRS).
    districts : GeoSeries
        District polygons indexed by ``join_key`` of the district name.
    grid_size : float
        Precision of the written file in the communes' CRS units (1e-7° for the shipped
        GeoJSON): fitted polygons are snapped to it so rounding on writing cannot make them
        invalid.

    Returns
    -------
    GeoSeries aligned with ``communes`` (its CRS), and notes for the build report.
    """
    # clipped in the layers' own CRS so a commune's outer edge reuses the district's vertices
    # exactly (a round trip through metres would move them, and a grid cell centre on the
    # edge could then fall in one district by its commune and in another by the district)
    cm = communes.set_geometry(shapely.make_valid(communes.geometry.to_numpy()))
    dm = gpd.GeoSeries(shapely.make_valid(districts.to_crs(communes.crs).to_numpy()), index=districts.index)
    keys = cm["district_2019"].map(lambda v: join_key(v) if isinstance(v, str) else "")
    out = cm.geometry.copy()
    moved = 0.0
    for key, district in dm.items():
        rows = np.flatnonzero((keys == key).to_numpy())
        if not len(rows):
            continue
        taken = shapely.Polygon()
        fitted: dict[int, shapely.Geometry] = {}
        for r in rows:
            g = _polygonal(shapely.difference(shapely.intersection(cm.geometry.iloc[r], district), taken))
            fitted[r] = g
            taken = shapely.union(taken, g)
        _give_leftovers(fitted, shapely.difference(district, taken))
        for r, g in fitted.items():
            out.iloc[r] = _polygonal(shapely.set_precision(g, grid_size))
    before = communes.to_crs(METRIC_CRS).geometry.to_numpy()
    after = gpd.GeoSeries(out.to_numpy(), crs=communes.crs).to_crs(METRIC_CRS).to_numpy()
    moved = float(shapely.area(shapely.symmetric_difference(shapely.make_valid(before), shapely.make_valid(after))).sum()) / 2
    notes = [f"2009 commune polygons fitted to the district partition (clipped to their 2019 district, "
             f"uncovered slivers to the neighbour with the longest shared border): {moved / 1e6:.1f} km² "
             "reassigned; the census population grid now gives each district its census total to within a "
             "few people on edge cells (`python -m geo audit` prints the figure)"]
    return gpd.GeoSeries(out.to_numpy(), index=communes.index, crs=communes.crs), notes


def _give_leftovers(parts: dict, leftover: shapely.Geometry) -> None:
    """Add each polygon of ``leftover`` to the piece of ``parts`` sharing the longest border
    with it (else the largest piece), in place: the one sliver rule of districts and communes."""
    rest = _polygonal(leftover)
    for part in getattr(rest, "geoms", [rest]):
        if part.is_empty or part.area == 0:
            continue
        border = {k: shapely.length(shapely.intersection(shapely.boundary(g), shapely.boundary(part)))
                  if not g.is_empty else 0.0 for k, g in parts.items()}
        best = max(border, key=border.get) if max(border.values()) > 0 else max(parts, key=lambda k: parts[k].area)
        parts[best] = shapely.union(parts[best], part)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygon parts of a (valid) geometry, as one (Multi)Polygon (may be empty)."""
    parts = shapely.get_parts(shapely.make_valid(geom))
    parts = [p for p in parts if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def outline(geoms: gpd.GeoSeries) -> shapely.Geometry:
    """The union of a partition, without the pinholes left by rounding (< 100 m²)."""
    u = shapely.union_all(np.asarray(geoms.to_crs(METRIC_CRS).values))
    polys = [shapely.Polygon(p.exterior, [r for r in p.interiors if shapely.Polygon(r).area >= 100])
             for p in getattr(u, "geoms", [u])]
    return gpd.GeoSeries([shapely.union_all(polys)], crs=METRIC_CRS).to_crs(geoms.crs).iloc[0]

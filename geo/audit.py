"""A data audit anyone can run: the invariants of the shipped data, each with its figure.

``python -m geo audit`` prints every check (pass/fail and the figure behind it) and exits
non-zero when one fails; ``tests/test_audit.py`` runs it on the shipped files, so a shipped
file that breaks an invariant fails the tests.

The official figures checked against are those of the sources (``../shared/data``), shipped
with the data so the audit needs nothing else: ``official_units_2025.csv`` (the 92 GSO 2025
codes and names of item 15 with the official area and population of item 14) and the
province totals in :mod:`geo.official_units`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.settings import METRIC_CRS
from geo.text import join_key

OFFICIAL_UNITS_FILE = "official_units_2025.csv"
MAX_OVERLAP_KM2 = 0.01  # per pair of units
MAX_GAP_KM2 = 0.01  # holes inside the union of the units
MAX_GRID_DIFF_PEOPLE = 10  # census grid vs census per district (cells on edges, by centre)


@dataclass(frozen=True)
class Check:
    """One invariant: its i18n key, whether it holds, and the figures shown with it."""

    key: str
    ok: bool
    figures: dict = field(default_factory=dict)
    decimals: dict = field(default_factory=dict)  # figure name → decimals shown

    def text(self, lang: str) -> str:
        """The check's sentence with its figures formatted for ``lang``."""
        from geo.i18n import fmt_number, t

        shown = {k: fmt_number(v, lang, self.decimals.get(k)) if isinstance(v, (int, float)) and
                 not isinstance(v, bool) else v for k, v in self.figures.items()}
        return t(self.key, lang, **shown)


def _read(data_dir: Path, name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(data_dir / name, engine="pyogrio")


def _layer_file(layer_id: str) -> str:
    from geo.catalog import get_catalog

    return get_catalog().layer(layer_id).file


def overlaps_and_gaps(geoms: gpd.GeoSeries) -> tuple[float, float, float]:
    """(total overlap km², largest pairwise overlap km², holes inside the union km²).

    Parameters
    ----------
    geoms : GeoSeries
        Polygons in any CRS; measured in EPSG:9213. Vectorised (one STRtree query).
    """
    arr = np.asarray(geoms.to_crs(METRIC_CRS).values)
    a, b = shapely.STRtree(arr).query(arr, predicate="intersects")
    keep = a < b
    areas = shapely.area(shapely.intersection(arr[a[keep]], arr[b[keep]])) / 1e6
    union = shapely.union_all(arr)
    holes = sum(shapely.area(shapely.polygons(r)) for p in shapely.get_parts(union)
                for r in shapely.get_interior_ring(p, np.arange(shapely.get_num_interior_rings(p)))) / 1e6
    return float(areas.sum()), float(areas.max() if len(areas) else 0.0), float(holes)


def check_units(data_dir: Path) -> list[Check]:
    """The 92 units: official codes, official sums, overlaps, gaps and label points."""
    from geo.official_units import OFFICIAL_AREA_KM2_2025, OFFICIAL_POPULATION_2025

    wards = _read(data_dir, _layer_file("wards_2025"))
    official = pd.read_csv(data_dir / OFFICIAL_UNITS_FILE, dtype={"gso_code": str}).set_index("gso_code")
    codes = set(wards["gso_code"].astype(str))
    same_codes = codes == set(official.index) and wards["gso_code"].is_unique
    names_ok = same_codes and (wards.set_index("gso_code")["name_full"].reindex(official.index)
                               == official["name_full"]).all()
    out = [Check("audit.units_codes", bool(same_codes and names_ok and len(wards) == len(official)),
                 {"n": len(wards), "official": len(official), "matching": len(codes & set(official.index))})]
    pop = int(wards["population_2025"].sum())
    area = round(float(wards["area_km2"].sum()), 2)
    per_unit = wards.set_index("gso_code")[["population_2025", "area_km2"]].reindex(official.index)
    differ = int(((per_unit["population_2025"] != official["population_2025"])
                  | ((per_unit["area_km2"] - official["area_km2"]).abs() > 0.005)).sum())
    out.append(Check("audit.population_sum", pop == OFFICIAL_POPULATION_2025 and differ == 0,
                     {"value": pop, "official": OFFICIAL_POPULATION_2025, "differ": differ}))
    out.append(Check("audit.area_sum", abs(area - OFFICIAL_AREA_KM2_2025) < 0.005,
                     {"value": area, "official": OFFICIAL_AREA_KM2_2025}, {"value": 2, "official": 2}))
    total, largest, holes = overlaps_and_gaps(wards.geometry)
    out.append(Check("audit.overlaps", largest <= MAX_OVERLAP_KM2,
                     {"total": total, "largest": largest, "limit": MAX_OVERLAP_KM2},
                     {"total": 4, "largest": 4, "limit": 2}))
    out.append(Check("audit.gaps", holes <= MAX_GAP_KM2, {"value": holes, "limit": MAX_GAP_KM2},
                     {"value": 4, "limit": 2}))
    pts = _read(data_dir, _layer_file("wards_2025_points"))
    pts_code = pts["gso_code"].astype(str) if "gso_code" in pts else pts["gso_code_2025"].astype(int).astype(str).str.zfill(5)
    poly = wards.set_index(wards["gso_code"].astype(str)).geometry.reindex(pts_code.to_numpy())
    inside = shapely.contains(np.asarray(poly.values), np.asarray(pts.geometry.values))
    inside = np.where(pd.isna(poly.values), False, inside)
    out.append(Check("audit.label_points", bool(inside.all() and len(pts) == len(wards)),
                     {"inside": int(inside.sum()), "n": len(pts)}))
    return out


def check_districts(data_dir: Path) -> list[Check]:
    """Pre-2025 districts: census totals exact, one per district, and a clean partition."""
    from geo.official_units import CENSUS_2019_BK, CENSUS_2019_TN

    communes = _read(data_dir, _layer_file("communes"))
    by_district = communes.groupby([communes["province_vn"].map(join_key),
                                    communes["district_2019"].map(join_key)])["population_2019"].sum()
    out = []
    for layer_id, province_key, official in (("districts", "thainguyen", CENSUS_2019_TN),
                                             ("districts_bac_kan", "backan", CENSUS_2019_BK)):
        d = _read(data_dir, _layer_file(layer_id))
        total = int(d["population_2019"].sum())
        want = d["name"].map(lambda n, key=province_key: by_district.get((key, join_key(n)), np.nan))
        differ = int((want != d["population_2019"]).sum())
        out.append(Check("audit.district_census", total == official and differ == 0,
                         {"layer": layer_id, "value": total, "official": official, "differ": differ}))
        total_ov, largest, holes = overlaps_and_gaps(d.geometry)
        out.append(Check("audit.district_partition", largest <= MAX_OVERLAP_KM2 and holes <= MAX_GAP_KM2,
                         {"layer": layer_id, "overlap": total_ov, "gaps": holes}, {"overlap": 4, "gaps": 4}))
    d = _read(data_dir, _layer_file("districts")).to_crs(METRIC_CRS)
    province = _read(data_dir, _layer_file("province_pre2025")).to_crs(METRIC_CRS).geometry.union_all()
    outside = shapely.difference(shapely.union_all(np.asarray(d.geometry.values)), province).area / 1e6
    uncovered = shapely.difference(province, shapely.union_all(np.asarray(d.geometry.values))).area / 1e6
    out.append(Check("audit.district_outline", outside <= MAX_GAP_KM2 and uncovered <= MAX_GAP_KM2,
                     {"outside": outside, "uncovered": uncovered}, {"outside": 4, "uncovered": 4}))
    out.append(check_census_grid(communes, d))
    return out


def check_census_grid(communes: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> Check:
    """The census population grid (the coverage default) gives each programme city its
    census total exactly and every district within ``MAX_GRID_DIFF_PEOPLE``: communes nest in
    districts, so a city's coverage population is its census figure on every surface."""
    from geo.coverage import unit_labels
    from geo.derive import SMART_CITY_DISTRICT_IDS
    from geo.population import census_grid

    grid = census_grid(communes, "population_2019")
    labels = unit_labels(grid, np.asarray(districts.to_crs(grid.crs).geometry.values))
    got = np.bincount(labels.ravel(), weights=grid.values.ravel(), minlength=len(districts) + 1)[1:]
    want = districts["population_2019"].to_numpy(dtype=float)
    diff = np.abs(np.round(got) - want)
    cities = districts["level2_id"].astype(str).isin(SMART_CITY_DISTRICT_IDS).to_numpy()
    return Check("audit.census_grid", bool(diff[cities].max() == 0 and diff.max() <= MAX_GRID_DIFF_PEOPLE),
                 {"cities": int(diff[cities].max()), "largest": int(diff.max()), "limit": MAX_GRID_DIFF_PEOPLE})


def check_catalog() -> list[Check]:
    """Every layer of the catalog states its source, licence and vintage."""
    from geo.catalog import get_catalog

    layers = get_catalog().layers.values()
    missing = [lyr.id for lyr in layers if not (lyr.source.strip() and lyr.licence.strip() and lyr.vintage.strip())]
    return [Check("audit.layer_credits", not missing,
                  {"n": len(list(layers)), "missing": ", ".join(missing) or "-"})]


def check_indicators() -> list[Check]:
    """Every known indicator value of the framework has a source that resolves to text."""
    from geo.indicators import load_framework

    fw = load_framework()
    bad = [f"{v.indicator_id}/{v.period}" for v in fw.values
           if not (v.source and fw.source_text(v.source, "en").strip())]
    return [Check("audit.indicator_sources", not bad, {"n": len(fw.values), "missing": ", ".join(bad) or "-"})]


def run_audit(data_dir: str | Path | None = None) -> list[Check]:
    """All checks on the data in ``data_dir`` (default: the shipped ``data/shapefiles``).

    Returns
    -------
    list of Check, in the order printed by ``python -m geo audit``.
    """
    from geo.settings import DATA_DIR

    data_dir = Path(data_dir or DATA_DIR)
    return check_units(data_dir) + check_districts(data_dir) + check_catalog() + check_indicators()

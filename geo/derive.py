"""Derived layers built from the shipped sources (run by ``scripts/build_data.py``).

Every function here is deterministic and reports what it could not match, so the
derived files can be rebuilt by anyone and their caveats shown to users.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.paths import METRIC_CRS
from geo.text import UNIT_TYPE_NAMES, fold, join_key

SMART_CITY_DISTRICT_IDS = ("164", "165", "172")  # TP Thái Nguyên, TP Sông Công, Phổ Yên


def unit_kind(name: str) -> str:
    """Administrative kind from a (possibly space-stripped) prefix: phuong / thitran / xa / ''."""
    f = fold(name).replace(" ", "")
    kinds = (fold(t).replace(" ", "") for t in UNIT_TYPE_NAMES)  # longest-first order matters
    return next((kind for kind in kinds if f.startswith(kind)), "")


def _keys(province: pd.Series, district: pd.Series, commune: pd.Series, kind: pd.Series) -> pd.DataFrame:
    base = province.map(join_key) + "|" + district.map(join_key) + "|" + commune.map(join_key)
    return pd.DataFrame({
        "k_kind": base + "|" + kind,
        "k_district": base,
        "k_province": province.map(join_key) + "|" + commune.map(join_key),
    })


@dataclass
class JoinReport:
    """How a name join went: rows matched at each step and what was left over."""

    matched_exact: int = 0
    matched_district: int = 0
    matched_province: int = 0
    unmatched_left: list[str] = field(default_factory=list)
    unmatched_right: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"matched with unit type within district: {self.matched_exact}",
            f"matched by name within district: {self.matched_district}",
            f"matched by unique name within province (moved district): {self.matched_province}",
            f"left side unmatched ({len(self.unmatched_left)}): {', '.join(self.unmatched_left) or '-'}",
            f"right side unmatched ({len(self.unmatched_right)}): {', '.join(self.unmatched_right) or '-'}",
        ]
        return out


def match_names(left: pd.DataFrame, right: pd.DataFrame) -> tuple[pd.Series, JoinReport]:
    """Match rows of ``left`` to rows of ``right`` by normalised names.

    Both frames carry ``k_kind``, ``k_district``, ``k_province`` (see ``_keys``) and a
    ``label``. Steps: same kind+name within district, same name within district, then
    a name unique within the province (communes that moved district). Each right row is
    used once. Returns the matched right index per left row (NaN when none).
    """
    report = JoinReport()
    result = pd.Series(np.nan, index=left.index, dtype="float64")
    used: set = set()
    for step, col in (("matched_exact", "k_kind"), ("matched_district", "k_district"),
                      ("matched_province", "k_province")):
        free_r = right.loc[~right.index.isin(used)]
        uniq_r = free_r[~free_r[col].duplicated(keep=False)]
        lookup = pd.Series(uniq_r.index, index=uniq_r[col])
        todo = left.loc[result.isna()]
        todo = todo[~todo[col].duplicated(keep=False)]
        hits = todo[col].map(lookup).dropna()
        result.loc[hits.index] = hits.astype(float)
        used.update(hits.astype(int).tolist() if hits.dtype != object else hits.tolist())
        setattr(report, step, int(len(hits)))
    report.unmatched_left = sorted(left.loc[result.isna(), "label"].tolist())
    report.unmatched_right = sorted(right.loc[~right.index.isin(used), "label"].tolist())
    return result, report


def commune_keys_2009(communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Join keys for the 2009 commune polygons (censusVN2009 columns)."""
    k = _keys(communes["province_vn"], communes["district_vn"], communes["commune_vn"],
              communes["commune_vn"].map(unit_kind))
    k["label"] = communes["commune_vn"] + " (" + communes["district_vn"] + ")"
    return k


def join_census_2019(communes: gpd.GeoDataFrame, census: pd.DataFrame) -> tuple[gpd.GeoDataFrame, JoinReport]:
    """Attach 2019 census population to 2009 commune polygons; area and density in metres.

    Unmatched polygons keep ``population_2019`` empty (shown as "no data"), never a guess.
    """
    left = commune_keys_2009(communes)
    right = _keys(census["city"], census["district"], census["ward"], census["ward_title"].map(unit_kind))
    right["label"] = census["ward_title"] + " " + census["ward"] + " (" + census["district"] + ")"
    match, report = match_names(left, right)
    out = communes.copy()
    pop = census["total"].astype("float64")
    out["population_2019"] = match.map(lambda i: pop.iloc[int(i)] if not np.isnan(i) else np.nan)
    out["census_2019_unit"] = match.map(lambda i: str(census["ward"].iloc[int(i)]) if not np.isnan(i) else None)
    # the district the commune belonged to in 2019 (some moved after the 2009 geometry)
    out["district_2019"] = match.map(lambda i: str(census["district"].iloc[int(i)]) if not np.isnan(i) else None)
    out["district_2019"] = out["district_2019"].fillna(out["district_vn"])
    out["area_km2"] = out.to_crs(METRIC_CRS).area.to_numpy() / 1e6
    out["density_2019"] = out["population_2019"] / out["area_km2"]
    return out, report


def fill_small_holes(geoms: gpd.GeoSeries, max_hole_km2: float) -> gpd.GeoSeries:
    """Remove interior rings smaller than ``max_hole_km2`` (slivers between simplified
    neighbouring communes become holes when they are dissolved)."""
    metric = geoms.to_crs(METRIC_CRS)
    limit = max_hole_km2 * 1e6

    def fill(poly: shapely.Polygon) -> shapely.Polygon:
        keep = [r for r in poly.interiors if shapely.Polygon(r).area >= limit]
        return shapely.Polygon(poly.exterior, keep)

    out = []
    for geom in metric:
        parts = getattr(geom, "geoms", [geom])
        filled = [fill(p) for p in parts if isinstance(p, shapely.Polygon)]
        out.append(shapely.union_all(filled) if len(filled) > 1 else filled[0])
    return gpd.GeoSeries(out, index=geoms.index, crs=METRIC_CRS).to_crs(geoms.crs)


def districts_from_communes(districts: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """District polygons of the 2019 structure, dissolved from commune polygons.

    The dvhcvn district outlines predate the 2017 transfers of Sơn Cẩm, Chùa Hang, Linh
    Sơn, Huống Thượng and Đồng Liên into TP Thái Nguyên, while the census counts them
    there. Dissolving communes by their 2019 district keeps geometry, population and the
    commune layer consistent (shared borders coincide). Attributes stay from ``districts``.
    """
    key = communes["district_2019"].map(join_key)
    dissolved = communes.assign(_key=key).dissolve(by="_key")[["geometry"]]
    dissolved["geometry"] = fill_small_holes(dissolved.geometry, max_hole_km2=1.0)
    out = districts.copy()
    keys = out["name"].map(join_key)
    missing = sorted(out.loc[~keys.isin(dissolved.index), "name"])
    geoms = keys.map(dissolved["geometry"])
    out["geometry"] = [g if g is not None and not (isinstance(g, float)) else old
                       for g, old in zip(geoms, out.geometry)]
    out = out.set_geometry("geometry").set_crs(communes.crs, allow_override=True)
    moved = communes[communes["district_2019"].map(join_key) != communes["district_vn"].map(join_key)]
    notes = [f"{r.commune_vn}: in {r.district_vn} in the 2009 geometry, in {r.district_2019} in 2019"
             for r in moved.itertuples()]
    notes += [f"no communes for district {n}: dvhcvn outline kept" for n in missing]
    return out, notes


def crosswalk_targets(communes: gpd.GeoDataFrame, crosswalk: pd.DataFrame) -> tuple[pd.DataFrame, JoinReport]:
    """For each 2009 polygon, its post-2025 unit(s) via the official old→new crosswalk."""
    olds = crosswalk.drop_duplicates("old_commune_id").reset_index(drop=True)
    right = _keys(olds["old_province"], olds["old_district"], olds["old_commune"],
                  olds["old_commune"].map(unit_kind))
    right["label"] = olds["old_commune"] + " (" + olds["old_district"] + ")"
    match, report = match_names(commune_keys_2009(communes), right)
    rows = []
    for idx, m in match.items():
        if np.isnan(m):
            continue
        old_id = olds["old_commune_id"].iloc[int(m)]
        for new_id in crosswalk.loc[crosswalk["old_commune_id"] == old_id, "new_commune_id"]:
            rows.append((idx, old_id, new_id))
    return pd.DataFrame(rows, columns=["poly_idx", "old_commune_id", "new_commune_id"]), report


def derive_wards_2025(communes: gpd.GeoDataFrame, crosswalk: pd.DataFrame,
                      points: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Post-2025 ward polygons dissolved from 2009 commune polygons through the crosswalk.

    - A polygon whose old commune maps to one new unit goes to it.
    - An old commune split between units goes whole to the target whose official point
      is nearest; every target of a split is flagged ``split_predecessor``.
    - A polygon missing from the crosswalk (merged away 2019–2024) joins the unit with
      which it shares the longest border among polygons of the same old district.
    Units left without any polygon are returned by name in the notes.
    """
    notes: list[str] = []
    links, report = crosswalk_targets(communes, crosswalk)
    notes += [f"crosswalk join: {line}" for line in report.lines()]
    pts = points.copy()
    pts["gso_code"] = pts["gso_code_2025"].astype(int).astype(str).str.zfill(5)
    pts_m = pts.to_crs(METRIC_CRS).set_index("gso_code")
    cm = communes.to_crs(METRIC_CRS)

    counts = links.groupby("poly_idx")["new_commune_id"].nunique()
    assign = pd.Series(index=communes.index, dtype=object)
    split_targets: set[str] = set()
    for idx, group in links.groupby("poly_idx"):
        targets = group["new_commune_id"].unique().tolist()
        if counts[idx] == 1:
            assign[idx] = targets[0]
            continue
        split_targets.update(targets)
        cen = cm.geometry.loc[idx].centroid
        d = pts_m.loc[targets].distance(cen)
        assign[idx] = d.idxmin()
        notes.append(f"split predecessor {communes.loc[idx, 'commune_vn']}: polygon given whole to "
                     f"{pts_m.loc[d.idxmin(), 'name_full']}; targets {', '.join(pts_m.loc[targets, 'name_full'])}")

    method = pd.Series("crosswalk", index=communes.index)
    orphans = assign[assign.isna()].index.tolist()
    for _ in range(3):  # orphans next to orphans resolve on a later pass
        still = []
        for idx in orphans:
            geom = cm.geometry.loc[idx]
            same = cm[(cm["district_vn"] == cm.loc[idx, "district_vn"]) & assign.notna()]
            shared = same.geometry.intersection(geom.boundary).length
            if len(shared) == 0 or shared.max() <= 0:
                still.append(idx)
                continue
            assign[idx] = assign[shared.idxmax()]
            method[idx] = "longest_shared_border"
            notes.append(f"{communes.loc[idx, 'commune_vn']} ({communes.loc[idx, 'district_vn']}) not in the "
                         f"crosswalk: joined to {pts_m.loc[assign[idx], 'name_full']} by longest shared border")
        orphans = still
    for idx in orphans:
        notes.append(f"{communes.loc[idx, 'commune_vn']} ({communes.loc[idx, 'district_vn']}): no unit found, dropped")

    cm = cm.assign(gso_code=assign, method=method).dropna(subset=["gso_code"])
    agg: dict = {"method": lambda s: ",".join(sorted(set(s)))}
    if "population_2019" in cm.columns:  # carry census 2019 across the reform (NaN if any part unknown)
        agg["population_2019"] = lambda s: s.sum() if s.notna().all() else np.nan
    dissolved = cm.dissolve(by="gso_code", aggfunc=agg).rename(columns={"population_2019": "population_2019_carried"})
    # pre-2025 districts of each new unit, from the official crosswalk (not the 2009 polygons)
    dissolved["old_districts"] = crosswalk.groupby("new_commune_id")["old_district"].agg(
        lambda s: ", ".join(sorted(set(s)))).reindex(dissolved.index)
    dissolved["geometry"] = shapely.make_valid(dissolved.geometry.values, method="structure", keep_collapsed=False)
    dissolved = dissolved.to_crs(points.crs)
    keep = ["name_full", "name", "unit_type", "area_km2", "population_2025", "merged_from"]
    carried = [c for c in ("old_districts", "population_2019_carried") if c in dissolved.columns]
    out = pts.set_index("gso_code")[keep].join(dissolved[["geometry", "method", *carried]], how="inner")
    out = gpd.GeoDataFrame(out.reset_index(), geometry="geometry", crs=points.crs)
    out["split_predecessor"] = out["gso_code"].isin(split_targets)
    out["polygon_derived"] = True
    out["density_2025"] = out["population_2025"] / out["area_km2"]
    missing = sorted(set(pts["gso_code"]) - set(out["gso_code"]))
    for code in missing:
        notes.append(f"no polygon could be derived for {pts.set_index('gso_code').loc[code, 'name_full']}")
    return out, notes


POI_TAG_COLUMNS = ("amenity", "healthcare", "shop", "man_made", "tourism", "office")


def categorise_pois(pois: gpd.GeoDataFrame, categories: dict[str, list[str]]) -> pd.Series:
    """Category per point from OSM tags; ``categories`` maps name → ["key=value", ...].

    The first category (in catalog order) whose tag list matches wins; else "other".
    """
    cat = pd.Series("other", index=pois.index, dtype=object)
    done = pd.Series(False, index=pois.index)
    for name, tags in categories.items():
        hit = pd.Series(False, index=pois.index)
        for tag in tags:
            key, _, value = tag.partition("=")
            if key in pois.columns:
                col = pois[key].astype("string")
                hit |= (col == value).fillna(False) if value != "*" else col.notna()
        hit &= ~done
        cat[hit] = name
        done |= hit
    return cat

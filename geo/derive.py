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

from geo.settings import METRIC_CRS
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
        """The match counts and unmatched names as report lines."""
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


POI_TAG_COLUMNS = ("amenity", "healthcare", "shop", "man_made", "tourism", "office")


def tag_match(pois: gpd.GeoDataFrame, tag: str) -> pd.Series:
    """Which points carry ``tag``: ``key=value``, ``key=*`` (any value) or ``name~text``
    (the name contains ``text``, ignoring case and diacritics: "name~tram y te")."""
    if "~" in tag:
        key, _, text = tag.partition("~")
        if key not in pois.columns:
            return pd.Series(False, index=pois.index)
        return pois[key].map(fold).str.contains(fold(text), regex=False).fillna(False).astype(bool)
    key, _, value = tag.partition("=")
    if key not in pois.columns:
        return pd.Series(False, index=pois.index)
    col = pois[key].astype("string")
    return ((col == value) if value != "*" else col.notna()).fillna(False).astype(bool)


def categorise_pois(pois: gpd.GeoDataFrame, categories: dict[str, list[str]]) -> pd.Series:
    """Category per point from OSM tags; ``categories`` maps name → ["key=value", ...].

    The first category (in catalog order) whose tag list matches wins; else "other".
    Tags are ``key=value``, ``key=*`` or ``name~text`` (see :func:`tag_match`).
    """
    cat = pd.Series("other", index=pois.index, dtype=object)
    done = pd.Series(False, index=pois.index)
    for name, tags in categories.items():
        hit = pd.Series(False, index=pois.index)
        for tag in tags:
            hit |= tag_match(pois, tag)
        hit &= ~done
        cat[hit] = name
        done |= hit
    return cat


def facility_types(pois: gpd.GeoDataFrame, category: pd.Series, types: dict[str, dict[str, list[str]]]) -> pd.Series:
    """Facility type within each point's category (``health_station``, ``hospital``...), "" if none.

    ``types`` maps category → {type: [tags]} (the catalog's ``types``); the first type whose
    tags match wins. Used by geo.completeness to count what a national norm counts.
    """
    out = pd.Series("", index=pois.index, dtype=object)
    for cat, by_type in types.items():
        in_cat = category == cat
        for name, tags in by_type.items():
            hit = in_cat & (out == "")
            m = pd.Series(False, index=pois.index)
            for tag in tags:
                m |= tag_match(pois, tag)
            out[hit & m] = name
    return out


#: 2009 polygons counted in another census row. Thị trấn Đại Từ was merged into Thị trấn
#: Hùng Sơn in 2020 (resolution of the National Assembly Standing Committee); the census table (item 9, keyed to GADM
#: units) has no Đại Từ row and its Hùng Sơn row covers both towns (its GADM area, 14.0 km²,
#: equals the two 2009 polygons together). (district_vn, polygon) → polygon holding the row.
CENSUS_MERGED_POLYGONS = {("Huyện Đại Từ", "Thị trấn Đại Từ"): "Xã Hùng Sơn"}


def merge_census_towns(communes: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Join each polygon in ``CENSUS_MERGED_POLYGONS`` to the polygon holding its census row.

    Rule: when the census counts two 2009 polygons in one row, the atlas shows them as
    one unit carrying that row's figure exactly (named after the census unit, with a
    ``merged_note``), instead of "no data" on one and the whole figure on the other.
    No figure is split or estimated. Returns the communes and one note per merge.
    """
    out = communes.copy()
    out["merged_note"] = ""
    notes: list[str] = []
    for (district, town), holder in CENSUS_MERGED_POLYGONS.items():
        t = out.index[(out["district_vn"] == district) & (out["commune_vn"] == town)]
        h = out.index[(out["district_vn"] == district) & (out["commune_vn"] == holder)]
        if len(t) != 1 or len(h) != 1 or pd.notna(out.loc[t[0], "population_2019"]):
            notes.append(f"{town} ({district}): merge rule not applicable, left as is")
            continue
        t, h = t[0], h[0]
        area = float(out.loc[[t, h], "area_km2"].sum())
        out.loc[h, "geometry"] = shapely.union(out.loc[h, "geometry"], out.loc[t, "geometry"])
        unit = str(out.loc[h, "census_2019_unit"])
        out.loc[h, "commune_vn"] = f"Thị trấn {strip_name(out.loc[h, 'commune_vn'])}"
        out.loc[h, "merged_note"] = f"gồm {town} (sáp nhập 2020) / includes {town} (merged 2020)"
        out.loc[h, "area_km2"] = area
        out.loc[h, "density_2019"] = out.loc[h, "population_2019"] / area
        out = out.drop(index=t)
        notes.append(f"{town} ({district}) has no row in the census table; the row '{unit}' "
                     f"({int(out.loc[h, 'population_2019']):,}) covers it and {holder}: shown as one unit "
                     f"'{out.loc[h, 'commune_vn']}' of {area:.2f} km² with that exact figure")
    return out.reset_index(drop=True), notes


def strip_name(name: str) -> str:
    """A unit name without its type prefix, keeping diacritics ("Xã Hùng Sơn" → "Hùng Sơn")."""
    for prefix in sorted(UNIT_TYPE_NAMES, key=len, reverse=True):
        if fold(name).startswith(fold(prefix) + " "):
            return name[len(prefix) + 1:]
    return name

"""Administrative units: search by name, zoom targets, per-unit facts for the side panel."""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.text import fold, unit_type_of

# (layer id, name column, population column, year, density column, type column)
UNIT_LAYERS = {
    "districts": ("name", "population_2019", 2019, "density_2019", "unit_type"),
    "communes": ("commune_vn", "population_2019", 2019, "density_2019", None),
    "wards_2025": ("name_full", "population_2025", 2025, "density_2025", "unit_type"),
}
UNIT_CODE_COLUMNS = {"districts": "level2_id", "communes": "commune_id", "wards_2025": "gso_code"}
ZOOM_TARGETS = {  # id -> (layer, filter column, value)
    "tp_thai_nguyen": ("districts", "level2_id", "164"),
    "tp_song_cong": ("districts", "level2_id", "165"),
    "pho_yen": ("districts", "level2_id", "172"),
}


@dataclass(frozen=True)
class UnitHit:
    layer: str
    index: int
    name: str


def search_units(query: str, frames: dict[str, gpd.GeoDataFrame], limit: int = 20) -> list[UnitHit]:
    """Units whose name contains ``query``, ignoring diacritics and case ("pho yen" → Phổ Yên)."""
    q = fold(query)
    if not q:
        return []
    hits: list[UnitHit] = []
    for layer, gdf in frames.items():
        name_col = UNIT_LAYERS[layer][0]
        folded = gdf[name_col].map(fold)
        exact_first = folded.str.contains(q, regex=False) & gdf[name_col].notna()
        for idx in gdf.index[exact_first.to_numpy()]:
            hits.append(UnitHit(layer, int(idx), str(gdf.at[idx, name_col])))
    hits.sort(key=lambda h: (not fold(h.name).endswith(q), len(h.name)))
    return hits[:limit]


def bounds_latlon(geom: shapely.Geometry, pad: float = 0.01) -> list[list[float]]:
    """[[south, west], [north, east]] of a geometry in EPSG:4326, padded."""
    minx, miny, maxx, maxy = shapely.bounds(geom)
    return [[miny - pad, minx - pad], [maxy + pad, maxx + pad]]


def unit_at(gdf: gpd.GeoDataFrame, lon: float, lat: float) -> int | None:
    """Index of the polygon containing (lon, lat), or None."""
    inside = shapely.contains_xy(np.asarray(gdf.geometry.values), lon, lat)
    where = np.flatnonzero(inside)
    return int(gdf.index[where[0]]) if len(where) else None


def facilities_by_category(geom: shapely.Geometry, points: gpd.GeoDataFrame) -> pd.Series:
    """Count of points per ``category`` inside ``geom`` (vectorised point-in-polygon)."""
    shapely.prepare(geom)
    xy = shapely.get_coordinates(np.asarray(points.geometry.values))
    inside = shapely.contains_xy(geom, xy[:, 0], xy[:, 1])
    return points.loc[inside, "category"].value_counts()


def unit_facts(layer: str, row: pd.Series, points: gpd.GeoDataFrame | None) -> dict:
    """Name, type, area, population, density and facility counts of one unit."""
    name_col, pop_col, year, dens_col, type_col = UNIT_LAYERS[layer]
    area = float(row["area_km2"]) if pd.notna(row.get("area_km2")) else np.nan
    pop = float(row[pop_col]) if pd.notna(row.get(pop_col)) else np.nan
    facts = {
        "name": row[name_col],
        "type": row[type_col] if type_col else unit_type_of(row[name_col]),
        "area_km2": area,
        "population": pop,
        "population_year": year,
        "density": pop / area if area and not np.isnan(pop) else np.nan,
        "facilities": facilities_by_category(row.geometry, points) if points is not None else pd.Series(dtype=int),
    }
    return facts


def missing_ward_polygons(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> list[str]:
    """Names of post-2025 units (official points) that have no derived polygon."""
    have = set(polygons["gso_code"].astype(str).str.zfill(5))
    codes = points["gso_code_2025"].astype(int).astype(str).str.zfill(5)
    return sorted(points.loc[~codes.isin(have), "name_full"].astype(str))


def unit_code(selected: tuple[str, int] | None, frames: dict[str, gpd.GeoDataFrame]) -> str | None:
    """A stable code for a selected unit, for links: ``districts:165``, ``wards_2025:05809``."""
    if not selected or selected[0] not in frames:
        return None
    layer, idx = selected
    return f"{layer}:{frames[layer].at[idx, UNIT_CODE_COLUMNS[layer]]}"


def unit_from_code(code: str | None, frames: dict[str, gpd.GeoDataFrame]) -> tuple[str, int] | None:
    """Inverse of ``unit_code``; None when the code names no known unit."""
    layer, _, value = str(code or "").partition(":")
    if layer not in frames or not value:
        return None
    col = frames[layer][UNIT_CODE_COLUMNS[layer]].astype(str)
    hits = frames[layer].index[(col == value).to_numpy()]
    return (layer, int(hits[0])) if len(hits) else None

"""Rebuild every shipped and derived file in data/shapefiles/ from ../shared/data.

Usage: python scripts/build_data.py [--sources DIR]
Writes GeoJSON in EPSG:4326 plus data/shapefiles/BUILD_REPORT.md (what matched, what not).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.catalog import get_catalog
from geo.derive import SMART_CITY_DISTRICT_IDS, categorise_pois, facility_types, join_census_2019, merge_census_towns
from geo.official_units import (
    DISPLAY_TOLERANCE_DEG,
    OFFICIAL_AREA_KM2_2025,
    OFFICIAL_POPULATION_2025,
    build_wards_2025,
    census_by_new_unit,
    clean_coverage,
    correct_point_codes,
    display_geometry,
    districts_from_wards,
    nest_communes_in_districts,
    outline,
    read_code_list,
    read_official_figures,
)
from geo.settings import DATA_DIR, METRIC_CRS, SHARED_SOURCES, STORE_CRS
from geo.text import join_key

SRC = {
    "province_pre": "vnm_adm1_thai_nguyen_pre2025_dvhcvn.geojson",
    "province_post": "vnm_adm1_thai_nguyen_post2025_derived_dvhcvn.geojson",
    "districts": "vnm_adm2_thai_nguyen_pre2025_dvhcvn.geojson",
    "districts_bk": "vnm_adm2_bac_kan_pre2025_dvhcvn.geojson",
    "communes": "vnm_adm3_communes_2009_thai_nguyen_bac_kan_censusVN2009.geojson",
    "points": "vnm_communes_post2025_thai_nguyen_sapnhap_points.geojson",
    "crosswalk": "thai_nguyen_bac_kan_commune_mapping_pre2025_to_post2025_dvhcvn.csv",
    "census": "thai_nguyen_bac_kan_population_census2019_by_commune_vn-demographic.csv",
    "pois": "osm_poi_thai_nguyen_post2025_hotosm.geojson",
    "hospitals": "osm_hospitals_thai_nguyen_south_overpass2024_lbs.geojson",
    "roads": "roads_rail_national_provincial_thai_nguyen_legocity.geojson",
    "polygons": "vnm_communes_post2025_thai_nguyen_bando_polygons.geojson",
    "figures": "vnm_communes_post2025_thai_nguyen_population_area_vietnam3dmap.json",
    "codes": "vn_admin_units_2025_codes_vietnamprovinces.json",
}
GEOMETRY_SOURCE = ("union of the official 2025 unit polygons (sapnhap.bando.com.vn) of the district's "
                   "communes; units formed across a district border cut with the 2009 commune polygons")


def write(gdf: gpd.GeoDataFrame, name: str, out: Path, precision: int = 7) -> None:
    path = out / name
    if path.exists():
        path.unlink()
    gdf = gdf.to_crs(STORE_CRS)
    gdf = gdf.set_geometry(shapely.make_valid(gdf.geometry.values, method="structure", keep_collapsed=False))
    gdf.to_file(path, driver="GeoJSON", engine="pyogrio", COORDINATE_PRECISION=precision)
    print(f"wrote {path.name}: {len(gdf)} features")


def build(src: Path, out: Path) -> list[str]:
    """Build all files; returns the report lines."""
    out.mkdir(parents=True, exist_ok=True)
    report: list[str] = []
    read = lambda key: gpd.read_file(src / SRC[key])

    # --- the 92 official units (items 13, 14, 15; label points item 6) -------------------
    figures = read_official_figures(src / SRC["figures"])
    code_names = read_code_list(src / SRC["codes"])
    points, code_notes = correct_point_codes(read("points"), code_names)
    crosswalk = pd.read_csv(src / SRC["crosswalk"], dtype=str)
    wards, notes = build_wards_2025(read("polygons"), figures, code_names, points, crosswalk)
    report += ["## Post-2025 units: official polygons (item 13) and figures (item 14)"] + code_notes + notes
    report.append(f"population 2025: {int(wards['population_2025'].sum()):,} (official {OFFICIAL_POPULATION_2025:,}); "
                  f"area {wards['area_km2'].sum():,.2f} km² (official {OFFICIAL_AREA_KM2_2025:,.2f})")

    census = pd.read_csv(src / SRC["census"])
    communes, join_report = join_census_2019(read("communes"), census)
    communes, merge_notes = merge_census_towns(communes)
    report += ["## Census 2019 → 2009 commune polygons"] + join_report.lines() + merge_notes

    carried, carry_notes = census_by_new_unit(census, crosswalk, communes, wards)
    wards["population_2019_carried"] = wards["gso_code"].map(carried)
    report += ["## Census 2019 carried onto the 2025 units"] + carry_notes
    report.append(f"carried total {int(carried.sum()):,} of census {int(census['total'].sum()):,}")

    # --- pre-2025 districts: an exact partition of the official units ---------------------
    clean = wards.assign(geometry=clean_coverage(wards.geometry))
    district_geoms, cut_notes = districts_from_wards(clean, crosswalk, communes)
    report += ["## Pre-2025 districts dissolved from the official 2025 units",
               "each district = the official 2025 polygons of the units formed from its own communes, so district "
               "edges (and those of the 3 programme cities TP Thái Nguyên, TP Sông Công, Phổ Yên) follow the official "
               "2025 boundaries, replacing the 2009 commune dissolve (which left overlaps, gaps and area outside the "
               "province); only the units below lie across an old border and are cut"] + cut_notes
    by_district = census.groupby([census["city"].map(join_key), census["district"].map(join_key)])["total"].sum()

    def districts_layer(key: str, province_key: str) -> gpd.GeoDataFrame:
        d = read(key)
        k = d["name"].map(join_key)
        d = d.set_geometry(k.map(district_geoms).to_numpy()).set_crs(STORE_CRS, allow_override=True)
        d["area_km2"] = d.to_crs(METRIC_CRS).area.to_numpy() / 1e6
        d["population_2019"] = [by_district.get((province_key, kk), np.nan) for kk in k]
        d["density_2019"] = d["population_2019"] / d["area_km2"]
        d["geometry_source"] = GEOMETRY_SOURCE
        report.append(f"{province_key}: census 2019 joined for {d['population_2019'].notna().sum()}/{len(d)} "
                      f"districts; total {int(d['population_2019'].sum()):,}")
        return d

    nested, nest_notes = nest_communes_in_districts(communes, gpd.GeoSeries(district_geoms))
    communes = communes.set_geometry(nested.to_numpy()).set_crs(communes.crs, allow_override=True)
    communes["area_km2"] = communes.to_crs(METRIC_CRS).area.to_numpy() / 1e6
    communes["density_2019"] = communes["population_2019"] / communes["area_km2"]
    report += nest_notes
    write(communes, "communes_pre2025.geojson", out)

    districts = districts_layer("districts", "thainguyen")
    districts["smart_city"] = districts["level2_id"].isin(SMART_CITY_DISTRICT_IDS)
    districts["smart_city_label"] = districts["smart_city"].map({True: "✔", False: ""})
    write(districts, "districts_pre2025.geojson", out)
    write(districts_layer("districts_bk", "backan"), "districts_bac_kan_pre2025.geojson", out)

    province_pre = read("province_pre")
    province_pre["geometry"] = [outline(districts.geometry)]
    province_pre["geometry_source"] = GEOMETRY_SOURCE
    write(province_pre, "province_pre2025.geojson", out)
    province_post = read("province_post")
    province_post["geometry"] = [outline(wards.geometry)]
    province_post["derivation"] = "union of the 92 official 2025 unit polygons (sapnhap.bando.com.vn)"
    write(province_post, "province_post2025.geojson", out)

    smart = set(districts.loc[districts["smart_city"], "name"].map(join_key))
    wards["in_smart_city_2020"] = wards["old_districts"].map(
        lambda s: all(join_key(d) in smart for d in s.split(", ")))
    write(wards, "wards_2025.geojson", out)
    display = wards[["gso_code", "geometry"]].copy()
    display["geometry"] = display_geometry(clean.geometry)
    write(display, "wards_2025_display.geojson", out)
    n_full = int(shapely.get_num_coordinates(wards.geometry.values).sum())
    n_disp = int(shapely.get_num_coordinates(display.geometry.values).sum())
    report.append(f"display geometry (coverage-simplified, {DISPLAY_TOLERANCE_DEG}°): {n_disp:,} vertices "
                  f"of {n_full:,} ({n_disp / n_full:.1%}); analysis and exports use the full geometry")

    official = pd.DataFrame({"gso_code": figures.index, "name_full": figures.index.map(code_names),
                             "area_km2": figures["area_km2"].to_numpy(),
                             "population_2025": figures["population_2025"].to_numpy()}).sort_values("gso_code")
    official.to_csv(out / "official_units_2025.csv", index=False)
    report.append("official_units_2025.csv: the 92 codes and names of the national list (item 15) with the "
                  "official area and population (item 14), for `python -m geo audit`")

    pts = points.copy()
    pts["gso_code_2025"] = pts["gso_code"].astype(int)
    for col in ("area_km2", "population_2025"):
        pts[col] = pts["gso_code"].map(figures[col])
    pts["figures_source"] = "official 2025 figures (item 14); label point from sapnhap bulk list (item 6)"
    write(pts, "wards_2025_points.geojson", out)

    cats = {cid: list(c.tags) for cid, c in get_catalog().categories.items()}
    pois = read("pois")
    hosp = read("hospitals")
    hosp = hosp[~hosp["in_item10_poi_file"].astype(bool)].rename(columns={"addr_full": "addr:full"})
    hosp["source_dataset"] = "osm_overpass_2024"
    pois["source_dataset"] = "hotosm_2026"
    infra = pd.concat([pois, hosp], ignore_index=True)
    infra = gpd.GeoDataFrame(infra, geometry="geometry", crs=STORE_CRS)
    infra["category"] = categorise_pois(infra, cats)
    types = {cid: {k: list(v) for k, v in c.types} for cid, c in get_catalog().categories.items() if c.types}
    infra["facility_type"] = facility_types(infra, infra["category"], types)
    tagcols = [c for c in ("amenity", "healthcare", "shop", "man_made", "tourism") if c in infra.columns]
    infra["osm_tag"] = infra[tagcols].apply(
        lambda r: next((f"{k}={r[k]}" for k in tagcols if isinstance(r[k], str)), ""), axis=1)
    keep = ["name", "category", "facility_type", "osm_tag", "amenity", "healthcare", "shop", "man_made", "beds", "osm_id",
            "osm_type", "source_dataset", "geometry"]
    infra = infra[[c for c in keep if c in infra.columns]]
    report.append("## Infrastructure categories")
    report += [f"{k}: {v}" for k, v in infra["category"].value_counts().items()]
    report += [f"{c} / {k}: {v}" for (c, k), v in
               infra.loc[infra["facility_type"] != ""].groupby(["category", "facility_type"]).size().items()]
    write(infra, "infrastructure.geojson", out)

    write(read("roads"), "roads_national.geojson", out)
    (out / "BUILD_REPORT.md").write_text("# Build report (scripts/build_data.py)\n\n" +
                                         "\n".join(f"- {line}" if not line.startswith("#") else f"\n{line}\n"
                                                   for line in report) + "\n", encoding="utf-8")
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sources", type=Path, default=SHARED_SOURCES)
    ap.add_argument("--out", type=Path, default=DATA_DIR)
    args = ap.parse_args()
    for line in build(args.sources, args.out):
        print(line)


if __name__ == "__main__":
    main()

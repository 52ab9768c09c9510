"""Rebuild every shipped and derived file in data/shapefiles/ from ../shared/data.

Usage: python scripts/build_data.py [--sources DIR]
Writes GeoJSON in EPSG:4326 plus data/shapefiles/BUILD_REPORT.md (what matched, what not).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.derive import (SMART_CITY_DISTRICT_IDS, categorise_pois, derive_wards_2025,  # noqa: E402
                        districts_from_communes, join_census_2019)
from geo.paths import DATA_DIR, METRIC_CRS, SHARED_SOURCES  # noqa: E402
from geo.text import join_key  # noqa: E402
from geo.catalog import get_catalog  # noqa: E402

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
}


def write(gdf: gpd.GeoDataFrame, name: str, out: Path) -> None:
    path = out / name
    if path.exists():
        path.unlink()
    gdf = gdf.to_crs(4326)
    gdf = gdf.set_geometry(shapely.make_valid(gdf.geometry.values, method="structure", keep_collapsed=False))
    gdf.to_file(path, driver="GeoJSON", engine="pyogrio", COORDINATE_PRECISION=7)
    print(f"wrote {path.name}: {len(gdf)} features")


def build(src: Path, out: Path) -> list[str]:
    """Build all files; returns the report lines."""
    out.mkdir(parents=True, exist_ok=True)
    report: list[str] = []
    read = lambda key: gpd.read_file(src / SRC[key])  # noqa: E731

    write(read("province_pre"), "province_pre2025.geojson", out)
    write(read("province_post"), "province_post2025.geojson", out)

    census = pd.read_csv(src / SRC["census"])
    tn_census = census[census["city"].map(join_key) == "thainguyen"]
    by_district = tn_census.groupby(tn_census["district"].map(join_key))["total"].sum()

    communes, join_report = join_census_2019(read("communes"), census)
    report += ["## Census 2019 → 2009 commune polygons"] + join_report.lines()
    write(communes, "communes_pre2025.geojson", out)

    districts, moved = districts_from_communes(read("districts"), communes[communes["province_vn"] == "Thái Nguyên"])
    report += ["## District polygons (2019 structure) dissolved from communes"] + moved
    districts["smart_city"] = districts["level2_id"].isin(SMART_CITY_DISTRICT_IDS)
    districts["smart_city_label"] = districts["smart_city"].map({True: "✔", False: ""})
    districts["area_km2"] = districts.to_crs(METRIC_CRS).area / 1e6
    districts["population_2019"] = districts["name"].map(join_key).map(by_district)
    districts["density_2019"] = districts["population_2019"] / districts["area_km2"]
    districts["geometry_source"] = "2009 commune polygons dissolved by 2019 district (derived)"
    report.append(f"district population 2019 joined for {districts['population_2019'].notna().sum()}/9 "
                  f"districts; total {int(districts['population_2019'].sum()):,}")
    write(districts, "districts_pre2025.geojson", out)
    bk = read("districts_bk")
    bk["area_km2"] = bk.to_crs(METRIC_CRS).area / 1e6
    write(bk, "districts_bac_kan_pre2025.geojson", out)

    points = read("points")
    write(points, "wards_2025_points.geojson", out)
    crosswalk = pd.read_csv(src / SRC["crosswalk"], dtype=str)
    wards, notes = derive_wards_2025(communes, crosswalk, points)
    smart_names = set(districts.loc[districts["smart_city"], "name"].map(join_key))
    wards["in_smart_city_2020"] = wards["old_districts"].map(
        lambda s: all(join_key(d) in smart_names for d in s.split(", ")))
    wards["split_note"] = wards["split_predecessor"].map(
        {True: "một xã cũ bị chia — ranh giới xấp xỉ / a predecessor was split — approximate boundary", False: ""})
    report += ["## Post-2025 wards derived from 2009 polygons"] + notes
    report.append(f"derived polygons: {len(wards)}/{len(points)}; units with a split predecessor: "
                  f"{', '.join(wards.loc[wards['split_predecessor'], 'name_full']) or '-'}")
    write(wards, "wards_2025_derived.geojson", out)

    cats = {cid: list(c.tags) for cid, c in get_catalog().categories.items()}
    pois = read("pois")
    hosp = read("hospitals")
    hosp = hosp[~hosp["in_item10_poi_file"].astype(bool)].rename(columns={"addr_full": "addr:full"})
    hosp["source_dataset"] = "osm_overpass_2024"
    pois["source_dataset"] = "hotosm_2026"
    infra = pd.concat([pois, hosp], ignore_index=True)
    infra = gpd.GeoDataFrame(infra, geometry="geometry", crs=4326)
    infra["category"] = categorise_pois(infra, cats)
    tagcols = [c for c in ("amenity", "healthcare", "shop", "man_made", "tourism") if c in infra.columns]
    infra["osm_tag"] = infra[tagcols].apply(
        lambda r: next((f"{k}={r[k]}" for k in tagcols if isinstance(r[k], str)), ""), axis=1)
    keep = ["name", "category", "osm_tag", "amenity", "healthcare", "shop", "man_made", "beds", "osm_id",
            "osm_type", "source_dataset", "geometry"]
    infra = infra[[c for c in keep if c in infra.columns]]
    report.append("## Infrastructure categories")
    report += [f"{k}: {v}" for k, v in infra["category"].value_counts().items()]
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

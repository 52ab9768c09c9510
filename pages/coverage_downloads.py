"""Coverage page: the answer's downloads — table (CSV), units (GeoJSON, GeoPackage), the cost
surface (GeoTIFF) and the hotspots with the covered area (GeoJSON), each with its credits."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import streamlit as st

from geo.export import export_bytes
from geo.numbers import whole_people
from geo.service import CoverageResult
from geo.text import spreadsheet_safe
from pages.common import tr


def downloads(result: CoverageResult, fac_source: str, unit_choice: str, lang: str) -> None:
    """Five download buttons (files built only when clicked, except the CSV)."""
    st.markdown(f"#### {tr('coverage.downloads')}")
    stem = re.sub(r"[^\w.-]+", "_", f"coverage_{fac_source}_{unit_choice.split('|')[0]}")
    euclidean = result.request.mode == "euclidean"

    def geo_bytes(fmt: str) -> bytes:
        return export_bytes(result.geo_frame(lang), fmt, credits=result.credits(lang), lang=lang, name=stem)[1]

    def tif_bytes() -> bytes:
        """Euclidean: distance from every cell; network: travel cost of the populated cells."""
        with tempfile.TemporaryDirectory(prefix="atlas_dl_") as tmp:
            path = Path(tmp) / "distance.tif"
            result.write_cost_geotiff(path)
            return path.read_bytes()

    def hotspots_bytes() -> bytes:
        return export_bytes(result.hotspot_layers(top=200), "geojson", credits=result.credits(lang), lang=lang,
                            name=f"{stem}_hotspots")[1]

    d1, d2, d3, d4, d5 = st.columns(5)
    d1.download_button(tr("coverage.dl_csv"), spreadsheet_safe(whole_people(result.export_frame(lang)))
                       .to_csv(index=False).encode("utf-8-sig"), f"{stem}.csv", "text/csv", key="cov_dl_csv")
    d2.download_button(tr("coverage.dl_geojson"), lambda: geo_bytes("geojson"), f"{stem}.geojson",
                       "application/geo+json", key="cov_dl_geojson")
    d3.download_button(tr("coverage.dl_gpkg"), lambda: geo_bytes("gpkg"), f"{stem}.gpkg",
                       "application/geopackage+sqlite3", key="cov_dl_gpkg")
    d4.download_button(tr("coverage.dl_tif") if euclidean else tr(f"coverage.dl_tif_{result.metric}"), tif_bytes,
                       f"{stem}_{'distance' if result.metric == 'distance' else 'minutes'}.tif", "image/tiff",
                       key="cov_dl_tif")
    d5.download_button(tr("coverage.dl_hotspots"), hotspots_bytes, f"{stem}_hotspots.geojson",
                       "application/geo+json", key="cov_dl_hotspots")

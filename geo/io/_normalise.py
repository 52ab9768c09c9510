"""One normalisation for every format: encodings, CRS, geometry repair, kinds, columns."""
from __future__ import annotations

import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.crs import BASIS_GUESS_DEGREES, CrsDecision, finite_bounds, median_center, resolve_crs
from geo.encoding import fix_frame_text
from geo.errors import AtlasError
from geo.safezip import Limits
from geo.io._report import ImportReport, _Raw
from geo.io._common import KINDS, _DIM_KIND, _RESERVED, _is_text


# --------------------------------------------------------------------------- normalise
def _explode_collections(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.values
    types = shapely.get_type_id(np.asarray(geoms))
    gc = types == 7
    if not gc.any():
        return gdf
    parts, idx = shapely.get_parts(np.asarray(geoms)[gc], return_index=True)
    rows = np.flatnonzero(gc)[idx]
    exploded = gdf.iloc[rows].copy()
    exploded[gdf.geometry.name] = parts
    out = pd.concat([gdf.iloc[np.flatnonzero(~gc)], exploded])
    return gpd.GeoDataFrame(out.sort_index(kind="stable").reset_index(drop=True),
                            geometry=gdf.geometry.name, crs=gdf.crs)


def _drop_nonfinite(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    geoms = np.asarray(gdf.geometry.values)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if not bad.any():
        return gdf, 0
    rows = np.zeros(len(gdf), dtype=bool)
    rows[np.unique(idx[bad])] = True
    return gdf.loc[~rows], int(rows.sum())


def _repair(geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """Make invalid geometries valid, keeping the parts of their own dimension."""
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return geoms, 0
    out = geoms.copy()
    dims = shapely.get_dimensions(geoms[invalid])
    fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    for j, (g, dim) in enumerate(zip(fixed, dims)):
        if g is not None and shapely.get_type_id(g) == 7:
            parts = [p for p in shapely.get_parts(g) if shapely.get_dimensions(p) == dim]
            g = shapely.union_all(parts) if parts else shapely.Polygon()
        fixed[j] = g
    out[invalid] = fixed
    return out, int(invalid.sum())


def _clean_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geom = gdf.geometry.name
    seen: set[str] = set()
    mapping = {}
    for i, c in enumerate(gdf.columns):
        if c == geom:
            continue
        name = unicodedata.normalize("NFC", "".join(ch for ch in str(c) if ch.isprintable()).strip())[:63]
        if not name:
            name = f"field_{i + 1}"
        base = name
        k = 1
        while name.lower() in seen or name.lower() in _RESERVED:
            name = f"{base}_{k}"
            k += 1
        seen.add(name.lower())
        mapping[c] = name
    out = gdf.rename(columns=mapping)
    if geom != "geometry":
        out = out.rename_geometry("geometry")
    return out


def _truncate(gdf: gpd.GeoDataFrame, cap: int) -> tuple[gpd.GeoDataFrame, int]:
    n = 0
    for col in gdf.columns:
        if col == gdf.geometry.name or not _is_text(gdf[col]):
            continue
        long = (gdf[col].astype(object).str.len() > cap).fillna(False).astype(bool)
        if long.any():
            n += int(long.sum())
            gdf[col] = gdf[col].astype(object).where(~long, gdf[col].map(
                lambda v: v[:cap] + "…" if isinstance(v, str) else v))
    return gdf, n


def _normalise(raw: _Raw, report: ImportReport, *, override, encoding: str, kind: str | None,
               limits: Limits) -> gpd.GeoDataFrame:
    gdf = raw.gdf
    fname = report.file
    report.features_in = report.features_in or len(gdf)
    if len(gdf) == 0 and report.features_in == 0:
        raise AtlasError("import_errors.no_features", file=fname)
    gdf = _explode_collections(gdf)
    empty = gdf.geometry.isna().to_numpy() | shapely.is_empty(np.asarray(gdf.geometry.values))
    report.dropped_empty += int(empty.sum())
    gdf = gdf.loc[~empty]
    gdf, bad = _drop_nonfinite(gdf)
    report.dropped_nonfinite += bad
    if len(gdf) == 0:
        raise AtlasError("import_errors.no_usable_geometry", file=fname, count=report.features_in)
    # text
    df_text, converted, renamed = fix_frame_text(gdf, encoding, raw=raw.raw_text)
    gdf = gpd.GeoDataFrame(df_text, geometry=gdf.geometry.name, crs=None)
    report.encodings = converted
    report.renamed_columns = renamed
    report.encoding_basis = "override" if encoding != "auto" else raw.encoding_basis
    gdf, report.truncated_values = _truncate(gdf, limits.max_text_chars)
    # CRS
    all_xy = shapely.get_coordinates(np.asarray(gdf.geometry.values))
    decision: CrsDecision = resolve_crs(raw.declared, finite_bounds(all_xy), override=override, file=fname,
                                        spec_crs=raw.spec_crs, spec_default=raw.spec_default,
                                        center=median_center(all_xy))
    del all_xy
    report.crs = decision.label
    report.crs_basis = decision.basis
    report.crs_params = decision.params
    if decision.basis == BASIS_GUESS_DEGREES:
        report.warn("assumed_wgs84")
    gdf = gdf.set_crs(decision.crs, allow_override=True)
    if not decision.crs.equals(CRS.from_epsg(4326)):
        try:
            gdf = gdf.to_crs(4326)
        except Exception:  # noqa: BLE001 - PROJ failures: wrong CRS for these coordinates
            raise AtlasError("import_errors.crs_transform", file=fname, crs=decision.label) from None
        gdf, bad = _drop_nonfinite(gdf)
        report.dropped_nonfinite += bad
    coords = shapely.get_coordinates(np.asarray(gdf.geometry.values), return_index=True)
    xy, idx = coords
    out_rows = np.zeros(len(gdf), dtype=bool)
    oor = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    if oor.any():
        out_rows[np.unique(idx[oor])] = True
        report.dropped_out_of_range += int(out_rows.sum())
        report.out_of_range_rows += [int(i) + 1 for i in gdf.index[out_rows][:50]]
        gdf = gdf.loc[~out_rows]
    if len(gdf) == 0:
        raise AtlasError("import_errors.no_usable_geometry", file=fname, count=report.features_in)
    b = gdf.total_bounds
    if b[2] < 101.5 or b[0] > 110.0 or b[3] < 7.5 or b[1] > 23.6:
        report.warn("outside_vietnam", crs=decision.label)
    else:  # a few stray features (a row in other units, a typo) are reported, not hidden
        fb = shapely.bounds(np.asarray(gdf.geometry.values))
        stray = (fb[:, 2] < 101.0) | (fb[:, 0] > 110.5) | (fb[:, 3] < 7.0) | (fb[:, 1] > 24.1)
        if stray.any():
            report.warn("some_outside_vietnam", count=int(stray.sum()), features=len(gdf))
    # geometry
    geoms, report.repaired = _repair(np.asarray(gdf.geometry.values))
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=4326))
    empty = shapely.is_empty(geoms) | pd.isna(geoms)
    if empty.any():
        report.dropped_empty += int(empty.sum())
        gdf = gdf.loc[~empty]
    dims = shapely.get_dimensions(np.asarray(gdf.geometry.values))
    kinds = {_DIM_KIND[d]: int((dims == d).sum()) for d in (0, 1, 2) if (dims == d).any()}
    report.kinds = kinds
    if len(kinds) > 1:
        counts = {k: kinds.get(k, 0) for k in KINDS}
        if kind is None:
            raise AtlasError("import_errors.mixed_geometry", file=fname, **counts)
        if kind not in kinds:
            raise AtlasError("import_errors.kind_absent", file=fname, **counts)
        keep = dims == {v: k for k, v in _DIM_KIND.items()}[kind]
        report.left_out = {k: v for k, v in kinds.items() if k != kind}
        gdf = gdf.loc[keep]
        report.kind = kind
    elif kinds:
        report.kind = next(iter(kinds))
        if kind is not None and kind != report.kind:
            raise AtlasError("import_errors.kind_absent", file=fname, **{k: kinds.get(k, 0) for k in KINDS})
    report.has_z = bool(shapely.has_z(np.asarray(gdf.geometry.values)).any())
    gdf = _clean_columns(gdf).reset_index(drop=True)
    report.features = len(gdf)
    return gdf

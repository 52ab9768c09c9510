"""One normalisation for every format: encodings, CRS, geometry repair, kinds, columns."""
from __future__ import annotations

import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.crs import BASIS_GUESS_DEGREES, CrsDecision, finite_bounds, median_center, resolve_crs
from geo.encoding import EncodingUnknown, fix_frame_text
from geo.errors import AtlasError
from geo.io._common import _DIM_KIND, _RESERVED, KINDS, _is_text
from geo.io._report import ImportReport, _Raw
from geo.safezip import Limits
from geo.settings import STORE_CRS


# --------------------------------------------------------------------------- normalise
def _flatten_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single parts of ``geoms`` (nested collections and multi-parts opened) and their row."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    while True:
        nested = np.isin(shapely.get_type_id(parts), (4, 5, 6, 7))
        if not nested.any():
            return parts, idx
        sub, j = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], sub])
        idx = np.concatenate([idx[~nested], idx[nested][j]])
        order = np.argsort(idx, kind="stable")
        parts, idx = parts[order], idx[order]


_MULTI = {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}


def _explode_collections(gdf: gpd.GeoDataFrame, report: ImportReport | None = None) -> gpd.GeoDataFrame:
    """A geometry collection (KML ``MultiGeometry``, GeoJSON ``GeometryCollection``) is ONE
    feature: parts of one kind become one multi-part geometry (a facility drawn as two
    polygons stays one facility); parts of several kinds are split into one feature per
    kind, and the report says so."""
    geoms = np.asarray(gdf.geometry.values)
    gc = shapely.get_type_id(geoms) == 7
    if not gc.any():
        return gdf
    parts, idx = _flatten_parts(geoms[gc])
    keep = ~shapely.is_empty(parts)
    parts, idx = parts[keep], idx[keep]
    dims = shapely.get_dimensions(parts)
    key = idx * 3 + dims
    uniq, inverse = np.unique(key, return_inverse=True)
    multi = np.empty(len(uniq), dtype=object)
    for d, make in _MULTI.items():
        sel = (uniq % 3) == d
        if sel.any():
            member = np.isin(inverse, np.flatnonzero(sel))
            built = make(parts[member], indices=np.searchsorted(uniq[sel], key[member]))
            multi[np.flatnonzero(sel)] = built
    rows = np.flatnonzero(gc)[uniq // 3]
    split = int((np.bincount(uniq // 3) > 1).sum()) if len(uniq) else 0
    if split and report is not None:
        report.warn("collection_split", count=split)
    empty_gc = np.setdiff1d(np.flatnonzero(gc), rows)
    exploded = gdf.iloc[np.concatenate([rows, empty_gc])].copy()
    exploded[gdf.geometry.name] = np.concatenate([multi, np.full(len(empty_gc), None, dtype=object)])
    out = pd.concat([gdf.iloc[np.flatnonzero(~gc)], exploded])
    return gpd.GeoDataFrame(out.sort_index(kind="stable").reset_index(drop=True),
                            geometry=gdf.geometry.name, crs=gdf.crs)


def _drop_nonfinite(gdf: gpd.GeoDataFrame, report: ImportReport) -> tuple[gpd.GeoDataFrame, int]:
    geoms = np.asarray(gdf.geometry.values)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if not bad.any():
        return gdf, 0
    rows = np.zeros(len(gdf), dtype=bool)
    rows[np.unique(idx[bad])] = True
    note_dropped(report, gdf, rows, "nonfinite")
    return gdf.loc[~rows], int(rows.sum())


def _renest(geom):
    """Rebuild a polygon from its rings by nesting alone, whatever their orientation.

    Exporters write shells counter-clockwise and holes clockwise (the reverse of the
    shapefile rule), and GDAL then takes the pond for the parcel. Own code because GEOS
    ``make_valid`` keeps the roles the reader gave the rings: every ring is a candidate,
    a ring inside an odd number of others is a hole of the smallest one around it.
    """
    rings = []
    for poly in shapely.get_parts(geom):
        if shapely.get_type_id(poly) != 3 or poly.is_empty:
            continue
        rings.append(poly.exterior)
        rings.extend(poly.interiors)
    ring_polys = np.array([shapely.Polygon(r) for r in rings if len(r.coords) >= 4], dtype=object)
    if len(ring_polys) < 2:
        return geom
    ring_polys = ring_polys[np.argsort(-shapely.area(ring_polys), kind="stable")]
    probe = shapely.point_on_surface(shapely.make_valid(ring_polys))
    inside = shapely.contains(ring_polys[:, None], probe[None, :])  # inside[j, i]: ring i lies in ring j
    np.fill_diagonal(inside, False)
    inside &= np.triu(np.ones_like(inside, dtype=bool), 1)  # only a bigger ring can hold a smaller one
    depth = inside.sum(axis=0)
    holes: dict[int, list] = {}
    for i in np.flatnonzero(depth % 2 == 1):
        parent = np.flatnonzero(inside[:, i])[-1]  # the smallest ring around it
        holes.setdefault(int(parent), []).append(ring_polys[i].exterior)
    shells = [shapely.Polygon(ring_polys[i].exterior, holes.get(int(i), [])) for i in np.flatnonzero(depth % 2 == 0)]
    return shells[0] if len(shells) == 1 else shapely.MultiPolygon(shells)


def _repair(geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """Make invalid geometries valid, keeping the parts of their own dimension.

    Polygons first get their rings re-nested by containment (:func:`_renest`), then
    GEOS ``make_valid`` (structure method) mends self-intersections; only the parts of
    the geometry's own dimension are kept (a bow-tie stays an area)."""
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return geoms, 0
    out = geoms.copy()
    poly = invalid & np.isin(shapely.get_type_id(geoms), (3, 6))
    for i in np.flatnonzero(poly):  # invalid polygons only: rare, small
        out[i] = _renest(out[i])
    still = invalid & ~shapely.is_valid(out)
    if still.any():
        dims = shapely.get_dimensions(out[still])
        fixed = shapely.make_valid(out[still], method="structure", keep_collapsed=False)
        for j, (g, dim) in enumerate(zip(fixed, dims)):
            if g is not None and shapely.get_type_id(g) == 7:
                parts = [p for p in shapely.get_parts(g) if shapely.get_dimensions(p) == dim]
                g = shapely.union_all(parts) if parts else shapely.Polygon()
            fixed[j] = g
        out[still] = fixed
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


def _swap_latlon(gdf: gpd.GeoDataFrame, report: ImportReport) -> gpd.GeoDataFrame:
    """Degrees written (lat, lon) — GeoJSON [lat, lon], a shapefile or KML from a tool that
    swapped them: when most second values cannot be latitudes (|y| > 90) and the first
    ones can, swap and say so (the same rule as the CSV reader's)."""
    geoms = np.asarray(gdf.geometry.values)
    xy = shapely.get_coordinates(geoms)
    xy = xy[np.isfinite(xy).all(axis=1)]
    if not len(xy):
        return gdf
    if np.mean(np.abs(xy[:, 1]) > 90) > 0.5 and np.mean(np.abs(xy[:, 0]) <= 90) > 0.5 \
            and np.mean(np.abs(xy[:, 1]) <= 180) > 0.5:
        swapped = shapely.transform(geoms, lambda c: c[:, ::-1])
        gdf = gdf.set_geometry(gpd.GeoSeries(swapped, index=gdf.index))
        report.swapped = True
        report.warn("swapped_order")
    return gdf


ROW = "__atlas_row"  # private column: the row/feature number in the user's file, for the report
_NAME_HINTS = ("ten", "name", "ten co so", "ten don vi", "ho ten", "tieu de", "title", "label")


def _name_column(gdf: gpd.GeoDataFrame) -> str | None:
    """The column that names the features (``ten``, ``name``, ``Tên cơ sở`` …), else the first text column."""
    from geo.text import fold
    geom = getattr(gdf, "_geometry_column_name", None)
    cols = [c for c in gdf.columns if c not in (geom, ROW) and _is_text(gdf[c])]
    folded = {c: " ".join(fold(str(c)).replace("_", " ").split()) for c in cols}
    for hint in _NAME_HINTS:
        for c in cols:
            if folded[c] == hint:
                return c
    for c in cols:
        if folded[c].startswith(("ten", "name")) or folded[c].endswith("name"):
            return c
    return cols[0] if cols else None


def note_dropped(report: ImportReport, gdf: pd.DataFrame, mask: np.ndarray, reason: str) -> None:
    """Name the rows of ``gdf`` under ``mask`` in the report (number in the file + name value)."""
    if not mask.any():
        return
    sub = gdf.loc[mask] if mask.dtype == bool else gdf.iloc[mask]
    report.dropped_count += len(sub)
    col = _name_column(sub)
    rows = sub[ROW].to_numpy() if ROW in sub.columns else np.arange(1, len(sub) + 1)
    names = sub[col].to_numpy(dtype=object) if col is not None else [None] * len(sub)
    for r, n in list(zip(rows, names))[:200]:
        report.dropped_rows.append([int(r), None if n is None or pd.isna(n) else str(n)[:60], reason])


def _drop(gdf: gpd.GeoDataFrame, mask: np.ndarray, report: ImportReport, reason: str) -> gpd.GeoDataFrame:
    note_dropped(report, gdf, mask, reason)
    return gdf.loc[~mask]


def _normalise(raw: _Raw, report: ImportReport, *, override, encoding: str, kind: str | None,
               limits: Limits) -> gpd.GeoDataFrame:
    gdf = raw.gdf
    fname = report.file
    report.features_in = report.features_in or len(gdf)
    if len(gdf) == 0 and report.features_in == 0:
        raise AtlasError("import_errors.no_features", file=fname)
    if ROW not in gdf.columns:
        gdf[ROW] = np.arange(1, len(gdf) + 1)
    # text first, so that a dropped row is named in readable text
    partial: dict = {}
    try:
        df_text, converted, renamed = fix_frame_text(gdf, encoding, raw=raw.raw_text, strict=raw.declared_failed,
                                                     partial=partial)
    except EncodingUnknown as exc:
        raise AtlasError("import_errors.encoding_unknown", file=fname, column=exc.column) from None
    gdf = gpd.GeoDataFrame(df_text, geometry=gdf.geometry.name, crs=None)
    report.encodings = converted
    report.partial_encodings = partial
    report.renamed_columns = renamed
    report.encoding_basis = "override" if encoding != "auto" else raw.encoding_basis
    gdf, report.truncated_values = _truncate(gdf, limits.max_text_chars)
    n_read = len(gdf)
    gdf = _explode_collections(gdf, report)
    if len(gdf) > n_read:  # mixed-kind features split: counts below are of the parts
        report.parts = report.features_in + len(gdf) - n_read
    empty = gdf.geometry.isna().to_numpy() | shapely.is_empty(np.asarray(gdf.geometry.values))
    report.dropped_empty += int(empty.sum())
    gdf = _drop(gdf, empty, report, "empty")
    gdf, bad = _drop_nonfinite(gdf, report)
    report.dropped_nonfinite += bad
    if len(gdf) == 0:
        raise AtlasError("import_errors.no_usable_geometry", file=fname, count=report.features_in)
    # CRS
    if (raw.declared is None or raw.declared.is_geographic) and (override is None or override.is_geographic) \
            and not report.swapped:
        gdf = _swap_latlon(gdf, report)
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
            gdf = gdf.to_crs(STORE_CRS)
        except Exception:  # PROJ failures: wrong CRS for these coordinates
            raise AtlasError("import_errors.crs_transform", file=fname, crs=decision.label) from None
        gdf, bad = _drop_nonfinite(gdf, report)
        report.dropped_nonfinite += bad
    coords = shapely.get_coordinates(np.asarray(gdf.geometry.values), return_index=True)
    xy, idx = coords
    out_rows = np.zeros(len(gdf), dtype=bool)
    oor = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    if oor.any():
        out_rows[np.unique(idx[oor])] = True
        report.dropped_out_of_range += int(out_rows.sum())
        report.out_of_range_rows += [int(i) for i in gdf[ROW].to_numpy()[out_rows][:50]]
        gdf = _drop(gdf, out_rows, report, "out_of_range")
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
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=STORE_CRS))
    empty = shapely.is_empty(geoms) | pd.isna(geoms)
    if empty.any():  # repair left nothing: a degenerate shape (all points on one line, one point)
        report.dropped_empty += int(empty.sum())
        gdf = _drop(gdf, np.asarray(empty), report, "degenerate")
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
        gdf = _drop(gdf, ~keep, report, "other_kind")  # named, like every feature not imported
        report.kind = kind
    elif kinds:
        report.kind = next(iter(kinds))
        if kind is not None and kind != report.kind:
            raise AtlasError("import_errors.kind_absent", file=fname, **{k: kinds.get(k, 0) for k in KINDS})
    report.has_z = bool(shapely.has_z(np.asarray(gdf.geometry.values)).any())
    gdf = _clean_columns(gdf.drop(columns=[ROW])).reset_index(drop=True)
    report.features = len(gdf)
    return gdf

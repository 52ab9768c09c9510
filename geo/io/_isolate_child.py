"""What a reader's child process runs (:mod:`geo.io._isolate`): plain GDAL calls through
pyogrio, imported once by the forkserver so that every fork starts with them loaded."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio


def read_frame(path: str | Path, kw: dict[str, Any]) -> gpd.GeoDataFrame:
    """``pyogrio.read_dataframe(path, on_invalid="fix", **kw)`` with GDAL's warnings muted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pyogrio.read_dataframe(path, on_invalid="fix", **kw)


def layer_names(path: str | Path) -> list[str]:
    """Names of the layers of ``path`` that have a geometry type."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [str(n) for n, g in pyogrio.list_layers(path) if g is not None]


def gpx_layers(path: str | Path, order: tuple[str, ...]) -> list[str]:
    """GPX layers in ``order`` that hold features (else the first layer)."""
    names = layer_names(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = [n for n in order if n in names and pyogrio.read_info(path, layer=n).get("features", 0) not in (0,)]
    return kept or names[:1]


def libkml_frame(path: str | Path, folders: set, housekeeping: tuple[str, ...]) -> gpd.GeoDataFrame | None:
    """Every layer (folder) of a KML as GDAL's LIBKML driver reads it, in one frame (a
    ``folder`` column for the named folders), without LIBKML's housekeeping columns; None
    when LIBKML is missing or finds nothing."""
    if "LIBKML" not in pyogrio.list_drivers():
        return None
    frames = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, _ in pyogrio.list_layers(path):
            df = pyogrio.read_dataframe(path, layer=name, on_invalid="fix")
            df = df.rename(columns={"Name": "name"})
            drop = [c for c in housekeeping if c in df.columns
                    and (df[c].isna().all() or c in ("tessellate", "extrude", "visibility"))]
            df = df.drop(columns=drop)
            if str(name) in folders:
                df["folder"] = str(name)
            frames.append(df)
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=None)


def warm_up() -> None:
    """Initialise GDAL's PROJ context once in the process that forks the readers (the
    forkserver imports this module): a child then inherits it instead of opening proj.db
    and building its EPSG lookups again for every file with a coordinate system (about a
    second of CPU per MapInfo file otherwise)."""
    import tempfile

    import shapely
    try:
        with tempfile.TemporaryDirectory(prefix="atlas_warm_") as tmp:
            p = Path(tmp) / "warm.gpkg"
            gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(431000, 2377000)], crs=9213)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pyogrio.write_dataframe(gdf, p, layer="w", driver="GPKG")
                pyogrio.read_dataframe(p)
    except Exception:
        pass

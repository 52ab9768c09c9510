"""Benchmark: per-unit service coverage (geo.coverage) against a naive geopandas baseline.

    python bench/bench_coverage.py            # full run (national + Vietnam-size + app)
    python bench/bench_coverage.py --quick    # 1/10 sizes, a minute or so

Parts (each runs in its own process so peak memory is measured cleanly):

national  synthetic, fixed seed: ≥ 10,000 Voronoi unit polygons, ≥ 50,000 facilities,
          ≥ 5 M population cells (100 m). Our method (KD-tree / lattice distances +
          rasterize + bincount) vs the naive baseline (buffer every facility, union,
          overlay with units, area-weighted population). The baseline runs on a window
          of the domain when the full run would take too long (said in the printout);
          both methods are timed on that same window for the ratio. Exactness: our
          covered population is checked against an independent nearest-neighbour
          computation (scikit-learn BallTree, else brute force) on the window's cells.
vietnam   ~33 M cells (whole of Vietnam at 100 m, synthetic) with 50,000 facilities and
          10,000 units, chunked: time and peak memory (RSS).
app       the real province data as the Coverage page uses it: cold start (grid + cells
          + distances) vs a warm rerun that changes only the radius.
"""
from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from affine import Affine  # noqa: E402

from geo import coverage as cov  # noqa: E402
from geo.population import PopulationGrid  # noqa: E402

SEED = 20251126
CRS = "EPSG:9213"
RADIUS = 1000.0  # walking reach; keeps coverage partial at these facility densities


class Timer:
    """Wall and CPU time (CPU = this process, all threads: less sensitive to a busy machine)."""

    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0

    def __str__(self) -> str:
        return f"{self.wall:.2f} s wall / {self.cpu:.2f} s CPU"


def load_note() -> str:
    la = os.getloadavg()[0]
    return f"load average {la:.1f} on {os.cpu_count()} CPUs" + (" — machine busy, wall times inflated" if la > (os.cpu_count() or 1) else "")


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic(ncols: int, nrows: int, n_units: int, n_fac: int, seed: int = SEED, cell: float = 100.0):
    """Units (Voronoi polygons), a clustered population grid and clustered facilities."""
    rng = np.random.default_rng(seed)
    W, H = ncols * cell, nrows * cell
    x0, y0 = 200_000.0, 1_000_000.0
    frame = shapely.box(x0, y0, x0 + W, y0 + H)
    seeds = np.column_stack((x0 + rng.random(n_units) * W, y0 + rng.random(n_units) * H))
    vor = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame))
    polys = shapely.intersection(np.asarray(vor), frame)
    units = gpd.GeoDataFrame({"uid": np.arange(len(polys)), "uname": [f"U{i}" for i in range(len(polys))]},
                             geometry=polys, crs=CRS)
    # population: smooth "towns" (sum of Gaussian bumps on a coarse grid) × noise
    n_towns = max(20, n_units // 20)
    tx, ty = rng.random(n_towns) * ncols, rng.random(n_towns) * nrows
    coarse = 25
    cy, cx = np.mgrid[0:nrows:coarse, 0:ncols:coarse]
    dens = np.full(cx.shape, 0.5, dtype=np.float64)
    for x, y, s in zip(tx, ty, rng.uniform(10, 60, n_towns)):
        dens += 40 * np.exp(-((cx - x) ** 2 + (cy - y) ** 2) / (2 * s * s))
    dens = dens.astype(np.float32).repeat(coarse, axis=0)[:nrows].repeat(coarse, axis=1)[:, :ncols]
    values = rng.standard_gamma(0.8, size=(nrows, ncols), dtype=np.float32)  # float32 throughout: low peak
    values *= 1.25
    values *= dens
    del dens
    grid = PopulationGrid(values=values, transform=Affine(cell, 0, x0, 0, -cell, y0 + H), crs=CRS)
    # facilities: 85 % near towns, 15 % anywhere
    n_near = int(0.85 * n_fac)
    pick = rng.integers(0, n_towns, n_near)
    fx = np.concatenate((x0 + (tx[pick] + rng.normal(0, 30, n_near)) * cell, x0 + rng.random(n_fac - n_near) * W))
    fy = np.concatenate((y0 + H - (ty[pick] + rng.normal(0, 30, n_near)) * cell, y0 + rng.random(n_fac - n_near) * H))
    fx, fy = np.clip(fx, x0, x0 + W), np.clip(fy, y0, y0 + H)
    fac = gpd.GeoDataFrame(geometry=shapely.points(np.column_stack((fx, fy))), crs=CRS)
    return units, grid, fac


def naive(fac: gpd.GeoDataFrame, units: gpd.GeoDataFrame, unit_pop: np.ndarray, radius: float) -> pd.DataFrame:
    """The naive GIS way: buffer, union, overlay, area-weighted population."""
    covered = gpd.GeoDataFrame(geometry=[fac.buffer(radius).union_all()], crs=fac.crs)
    u = units.assign(unit_area=units.area, unit_pop=unit_pop)
    inter = gpd.overlay(u, covered, how="intersection", keep_geom_type=True)
    inter["cov_area"] = inter.area
    by = inter.groupby("uid")["cov_area"].sum()
    share = (by.reindex(units["uid"]).fillna(0.0).to_numpy() / u["unit_area"].to_numpy()).clip(0, 1)
    return pd.DataFrame({"unit_id": units["uid"].to_numpy(), "population": unit_pop,
                         "covered_population": unit_pop * share, "covered_share": share})


def window(units, grid, fac, frac: float, radius: float):
    """A sub-problem: the grid rows/cols of a window holding ~``frac`` of the domain, the
    units whose representative point is inside it, the facilities within reach of it."""
    nrows, ncols = grid.shape
    side = math.sqrt(frac)
    wr, wc = max(1, int(nrows * side)), max(1, int(ncols * side))
    r0, c0 = (nrows - wr) // 2, (ncols - wc) // 2
    t = grid.transform
    sub_t = t @ Affine.translation(c0, r0)
    sub = PopulationGrid(values=grid.values[r0:r0 + wr, c0:c0 + wc].copy(), transform=sub_t, crs=grid.crs)
    minx, miny, maxx, maxy = sub.bounds
    box = shapely.box(minx, miny, maxx, maxy)
    rp = shapely.point_on_surface(units.geometry.to_numpy())
    u = units[shapely.contains(box, rp)].reset_index(drop=True)
    u = u.assign(geometry=shapely.intersection(u.geometry.to_numpy(), box))  # clip to the window
    f = fac[shapely.dwithin(fac.geometry.to_numpy(), box, radius)]
    return u, sub, f


def independent_covered(fac_xy: np.ndarray, cells: cov.CellSet, radius: float) -> np.ndarray:
    """Covered population per unit from an independent nearest-neighbour search."""
    try:
        from sklearn.neighbors import BallTree

        d, _ = BallTree(fac_xy).query(cells.xy, k=1)
        d = d[:, 0]
        how = "scikit-learn BallTree"
    except ImportError:  # pragma: no cover
        d = np.array([np.sqrt(((fac_xy - p) ** 2).sum(axis=1)).min() for p in cells.xy])
        how = "brute force"
    covered = np.bincount(cells.unit, weights=np.where(d <= radius, cells.pop, 0.0), minlength=cells.n_units)
    return covered, how


def part_national(quick: bool, full_baseline: bool) -> None:
    scale = 0.1 if quick else 1.0
    ncols, nrows = int(2500 * math.sqrt(scale)), int(2000 * math.sqrt(scale))
    n_units, n_fac = int(10_000 * scale), int(50_000 * scale)
    t0 = time.perf_counter()
    units, grid, fac = synthetic(ncols, nrows, n_units, n_fac)
    print(f"[national] synthetic data (seed {SEED}): {len(units):,} units, {len(fac):,} facilities, "
          f"{grid.values.size / 1e6:.2f} M cells ({nrows}×{ncols} at 100 m), {grid.total():,.0f} people; "
          f"generated in {time.perf_counter() - t0:.1f} s (not timed below)")
    print(f"[national] {load_note()}")
    with Timer() as tm:
        ours = cov.coverage_by_unit(fac, units, grid, RADIUS, "uid", "uname")
    t_ours = tm.wall
    print(f"[national] ours (cKDTree/lattice distances + rasterize + bincount, chunked): {tm} "
          f"— {grid.values.size / 1e6 / t_ours:.1f} M cells/s; covered {ours.covered_population.sum():,.0f} "
          f"of {ours.population.sum():,.0f} people ({ours.covered_population.sum() / ours.population.sum():.1%})")

    frac = 1.0 if full_baseline else 0.25
    if frac < 1.0:
        u, sub, f = window(units, grid, fac, frac, RADIUS)
        print(f"[national] naive baseline would take too long on the whole domain: it runs on a central "
              f"window of {frac:.0%} of the area ({len(u):,} units, {len(f):,} facilities, "
              f"{sub.values.size / 1e6:.2f} M cells); ours is timed on the same window for the ratio")
    else:
        u, sub, f = units, grid, fac
    with Timer() as tw:
        ours_w = cov.coverage_by_unit(f, u, sub, RADIUS, "uid", "uname")
    t_ours_w = tw.wall
    unit_pop = ours_w["population"].to_numpy()  # handed to the baseline for free (not timed)
    with Timer() as tn:
        base = naive(f, u, unit_pop, RADIUS)
    t_naive = tn.wall
    print(f"[national] naive (buffer + union + overlay + area-weighted): {tn}; ours on the same "
          f"data: {tw} → ours is {t_naive / t_ours_w:.1f}× faster (wall), {tn.cpu / tw.cpu:.1f}× (CPU)")
    if frac < 1.0:
        est = t_naive / frac
        print(f"[national] naive on the whole domain, extrapolated linearly from the window: ≥ ~{est:.0f} s "
              f"vs ours {t_ours:.2f} s measured → ≥ ~{est / t_ours:.0f}× (a LOWER BOUND, not a measurement: "
              f"union/overlay cost grows faster than linearly; run with --full-baseline to measure it)")
    # exactness on the grid, and the baseline's error
    cells = cov.prepare_cells(sub, u, "uid", "uname")
    check, how = independent_covered(cov.facility_xy(f, sub.crs), cells, RADIUS)
    diff = np.abs(check - ours_w["covered_population"].to_numpy())
    print(f"[national] exactness on the grid: max |ours − {how}| covered population per unit = "
          f"{diff.max():.3g} people (of {ours_w.population.sum():,.0f})")
    ok = ours_w["population"].to_numpy() > 0
    err = np.abs(base["covered_share"].to_numpy()[ok] - ours_w["covered_share"].to_numpy()[ok])
    print(f"[national] naive area-weighting vs the grid: mean |Δ covered share| = {err.mean():.1%}, "
          f"max {err.max():.1%} (it assumes people are spread evenly within each unit)")
    print(f"[national] peak RSS {peak_rss_mb():,.0f} MB")


def part_vietnam(quick: bool) -> None:
    scale = 0.1 if quick else 1.0
    ncols, nrows = int(6000 * math.sqrt(scale)), int(5500 * math.sqrt(scale))
    n_units, n_fac = int(10_000 * scale), int(50_000 * scale)
    units, grid, fac = synthetic(ncols, nrows, n_units, n_fac, seed=SEED + 1)
    rss_data = peak_rss_mb()
    print(f"[vietnam] synthetic whole-country grid: {grid.values.size / 1e6:.1f} M cells ({nrows}×{ncols} at 100 m, "
          f"float32 = {grid.values.nbytes / 2**20:,.0f} MB), {len(units):,} units, {len(fac):,} facilities; "
          f"peak RSS after generating data: {rss_data:,.0f} MB")
    print(f"[vietnam] {load_note()}")
    with Timer() as tm:
        df = cov.coverage_by_unit(fac, units, grid, RADIUS, "uid", "uname", chunk_cells=2_000_000)
    t = tm.wall
    print(f"[vietnam] ours, chunked by 2 M cells (histogram quantiles, exact covered counts): {tm} "
          f"(target ≤ 20 s on 2 cores) — {grid.values.size / 1e6 / t:.1f} M cells/s; covered "
          f"{df.covered_population.sum() / df.population.sum():.1%} of {df.population.sum():,.0f} people")
    print(f"[vietnam] peak RSS {peak_rss_mb():,.0f} MB (data alone {rss_data:,.0f} MB → computation added "
          f"{peak_rss_mb() - rss_data:,.0f} MB)")


def part_app(quick: bool) -> None:
    from geo.population import census_grid
    from geo.catalog import load_layer

    t0 = time.perf_counter()
    communes = load_layer("communes")
    districts = load_layer("districts")
    infra = load_layer("infrastructure")
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    grid = census_grid(communes, "population_2019")
    t_grid = time.perf_counter() - t0
    t0 = time.perf_counter()
    cells = cov.prepare_cells(grid, districts, "level2_id", "name")
    t_cells = time.perf_counter() - t0
    fac = infra[infra["category"] == "education"]
    t0 = time.perf_counter()
    d = cov.nearest_distance(cells, cov.facility_xy(fac, grid.crs))
    t_dist = time.perf_counter() - t0
    t0 = time.perf_counter()
    q = cov.cost_quantiles(cells, d)
    cov.coverage_from_costs(cells, d, 2000, q)
    t_first = time.perf_counter() - t0
    warm = []
    for r in (1000, 3000, 5000):
        t0 = time.perf_counter()
        cov.coverage_from_costs(cells, d, r, q)
        warm.append(time.perf_counter() - t0)
    cold = t_load + t_grid + t_cells + t_dist + t_first
    print(f"[app] province ({grid.values.size / 1e6:.2f} M cells, {len(cells.pop) / 1e6:.2f} M populated, "
          f"{len(fac)} schools): cold = load {t_load:.2f} + grid {t_grid:.2f} + cells {t_cells:.2f} + distances "
          f"{t_dist:.2f} + table {t_first:.2f} = {cold:.2f} s; warm rerun changing only the radius "
          f"(cached grid/cells/distances): {np.mean(warm) * 1000:.0f} ms → {cold / np.mean(warm):.0f}× faster")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1/10 sizes (smoke run)")
    ap.add_argument("--part", choices=("all", "national", "vietnam", "app"), default="all")
    ap.add_argument("--full-baseline", action="store_true", help="run the naive baseline on the whole domain")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; radius {RADIUS:.0f} m"
          + (" — QUICK (1/10 sizes)" if args.quick else "")) if args.part == "all" else None
    if args.part == "all":
        for part in ("national", "vietnam", "app"):
            cmd = [sys.executable, __file__, "--part", part] + (["--quick"] if args.quick else []) \
                + (["--full-baseline"] if args.full_baseline else [])
            rc = subprocess.run(cmd).returncode
            if rc:
                return rc
        return 0
    {"national": lambda: part_national(args.quick, args.full_baseline),
     "vietnam": lambda: part_vietnam(args.quick),
     "app": lambda: part_app(args.quick)}[args.part]()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

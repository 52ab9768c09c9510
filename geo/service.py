"""One coverage question → one answer, for every surface (page, CLI, deck, indicators, exports).

A :class:`CoverageRequest` names the question: which facilities (a catalog category, or a
layer the caller gives), how far (metres, or minutes on a road layer, with a detour factor
for straight lines), which population surface, which planning units, and what-if changes
(facilities added or closed). :class:`CoverageService` answers it with a
:class:`CoverageResult`: the per-unit table, the totals, the planner sentences, the
facility completeness (and whether the figures are a lower bound), and the credits.

Rules (the same on every surface, stated in ``coverage.rule``):

* population is modelled on a grid (100 m by default): the census of each commune (or the
  2025 figure of each ward) spread uniformly over its cells, or a population raster;
* a cell belongs to the unit containing its centre. The unit set only chooses which units
  are *reported*: "the 3 programme cities" are the rows of the districts, labelled on the
  whole district layer, so a city's figure does not depend on the unit set asked;
* a cell is covered when its centre is within reach of a facility: straight line × detour
  ≤ radius, or the road-network cost ≤ the limit (:mod:`geo.network`);
* people are whole persons in every table, file and slide (the rule of :mod:`geo.numbers`:
  ``whole_people``; sentences use its ``round_people``); shares come from unrounded figures.

The service keeps, per population surface × unit layer, the populated cells labelled with
their unit, and per facility set the per-cell cost (distance or minutes) with its per-unit
quantiles, so asking again with another radius or detour only re-thresholds (instant on
a page). Grids above ``SESSION_CELLS`` cells are streamed in blocks instead (bounded memory,
no cache; the CLI at national scale).

Sources of method and figures: the census (GSO 2019, ``SOURCES.md``), the 2025 unit
figures, the facility layer's source (OpenStreetMap or a register), 2SFCA after Luo & Wang
(2003), *Measures of spatial accessibility to health care in a GIS environment*,
Environment and Planning B 30(6).
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import completeness as official_completeness
from geo import coverage as cov
from geo import register, settings
from geo.catalog import get_catalog, load_layer, service_reach
from geo.errors import AtlasError
from geo.export import Credits, layer_credits, user_credits
from geo.i18n import fmt_number, t
from geo.population import PopulationGrid, census_grid, write_grid_geotiff
from geo.settings import STORE_CRS
from geo.units import SMART_CITIES, UNIT_LAYERS, unit_set_layer

SESSION_CELLS = 8_000_000  # above: stream in blocks (no per-cell cache), ~50 B per cached cell
PEOPLE_COLUMNS = ("population", "covered_population", "beyond_population")
POPULATION_SOURCES = ("communes", "wards_2025")  # census-modelled surfaces: the unit layer spread
Progress = Callable[[float], None]


_NOT_CAPACITY = re.compile(r"(^|_)(id|fid|code|ma)$|^osm_|^(lon|lng|long|lat|longitude|latitude|x|y|kinh_?do|vi_?do)$")


def capacity_columns(facilities: gpd.GeoDataFrame) -> list[str]:
    """Numeric columns of a facility layer that can be a 2SFCA capacity (beds, staff …):
    identifiers (``*_id``, ``code``, ``ma``, ``osm_*``) and coordinates are not."""
    return [c for c in facilities.columns if c != facilities.geometry.name and not _NOT_CAPACITY.search(str(c).lower())
            and pd.to_numeric(facilities[c], errors="coerce").notna().any()]


# ------------------------------------------------------------------------------ request


@dataclass(frozen=True)
class CoverageRequest:
    """A coverage question.

    Parameters
    ----------
    category
        Infrastructure category of ``layers/catalog.toml`` (``health`` …). Its facilities
        come from the category's authoritative source and its reach is the default.
    facilities, facilities_key
        Instead of a category: a facility layer (any CRS; points, or shapes taken at a point
        on them) and a key naming it for the cache (e.g. a content digest).
    radius_m
        Straight-line (or network) distance in metres; default the category's radius.
    minutes
        Network mode: travel-time limit in minutes (then ``radius_m`` is not used).
    mode
        ``"euclidean"`` (straight line × ``detour``) or ``"network"`` (``roads`` needed).
    detour
        Factor ≥ 1 applied to straight-line distances (euclidean mode).
    population, grid, grid_key
        ``"communes"`` (2019 census by commune) or ``"wards_2025"`` (2025 figures by ward),
        spread on a ``cell_m`` grid; or a :class:`~geo.population.PopulationGrid` with its key.
    units, units_frame, unit_id, unit_name
        A unit set of :mod:`geo.units` (``districts``, ``smart_cities``, ``communes``,
        ``wards_2025``) or a polygon layer with its id/name columns (key in ``units``).
    roads, roads_key, profile
        Network mode: a built :class:`geo.network.RoadGraph` and its key; speed profile.
    added, added_frame, added_key, closed
        What-if: facilities added at (lon, lat) points or from a layer, and indices of
        ``facilities`` (or of the category's points) closed.
    capacity_col
        2SFCA (euclidean only): capacity column of the facilities; ``None`` = no 2SFCA,
        ``""`` = 2SFCA with capacity 1 per facility.
    """

    category: str | None = None
    facilities: gpd.GeoDataFrame | None = field(default=None, compare=False, hash=False, repr=False)
    facilities_key: str | None = None
    radius_m: float | None = None
    minutes: float | None = None
    mode: str = "euclidean"
    detour: float = 1.0
    population: str = "communes"
    cell_m: float = 100.0
    grid: PopulationGrid | None = field(default=None, compare=False, hash=False, repr=False)
    grid_key: str | None = None
    units: str = "districts"
    units_frame: gpd.GeoDataFrame | None = field(default=None, compare=False, hash=False, repr=False)
    unit_id: str | None = None
    unit_name: str | None = None
    roads: Any = field(default=None, compare=False, hash=False, repr=False)
    roads_key: str | None = None
    profile: str = "walk"
    added: tuple[tuple[float, float], ...] = ()
    added_frame: gpd.GeoDataFrame | None = field(default=None, compare=False, hash=False, repr=False)
    added_key: str | None = None
    closed: tuple[Hashable, ...] = ()
    capacity_col: str | None = None

    @property
    def metric(self) -> str:
        """``"time"`` (minutes on a road layer) or ``"distance"`` (metres)."""
        return "time" if self.mode == "network" and self.minutes is not None else "distance"

    @property
    def threshold(self) -> float:
        """The reach: minutes for a time limit, else metres (the category's default if not given)."""
        if self.metric == "time":
            return float(self.minutes)
        if self.radius_m is not None:
            return float(self.radius_m)
        if self.category:
            return service_reach(self.category)[0]
        raise AtlasError("coverage_errors.no_radius")

    @property
    def scenario(self) -> bool:
        """Whether facilities are added or closed."""
        return bool(self.added or self.closed or (self.added_frame is not None and len(self.added_frame)))


# ------------------------------------------------------------------------------ completeness


# categories a national norm expects in every commune/ward (Vietnam keeps a health station,
# a primary school, a People's Committee seat and a commune post office in practically every
# commune): a 2025 unit without a known one means the facility layer is incomplete there
COMMUNE_NORM = ("health", "education", "public_admin", "post")


@dataclass(frozen=True)
class Completeness:
    """What the facility layer holds per unit, and whether figures built on it are a lower bound.

    ``known``: facilities of the category inside each reported unit (aligned with the
    result's rows). ``wards_without``/``wards``: 2025 communes/wards of the reported area
    without a known facility of a category the national norm expects in each (0/0 when
    the category has no such norm). ``lower_bound``: coverage computed on these points can
    only grow with more complete data.
    """

    category: str
    known: np.ndarray
    wards_without: int = 0
    wards: int = 0
    official: official_completeness.Completeness | None = None  # national norm over the area's 2025 units
    source: register.FacilitySource | None = None  # OSM layer or the declared register

    @property
    def no_data(self) -> np.ndarray:
        """Reported units where no facility of the category is known ("no facility data")."""
        return self.known == 0

    @property
    def lower_bound(self) -> bool:
        """Incomplete by the national norm (:mod:`geo.completeness`; without a norm: not a
        declared register), or a reported unit holds no known facility."""
        incomplete = self.official.lower_bound if self.official is not None else self.wards_without > 0
        return bool(incomplete or self.no_data.any())

    def reason(self, lang: str) -> str:
        """Why the figures are a lower bound, in ``lang`` ("" when they are not)."""
        if not self.lower_bound:
            return ""
        if self.official is not None and self.official.lower_bound and not self.wards_without:
            return self.official.reason(lang)
        facility = cov.facility_label(self.category, lang)
        if self.wards_without:
            return t("coverage.lower_bound_wards", lang, facility=facility,
                     empty=fmt_number(self.wards_without, lang), units=fmt_number(self.wards, lang))
        return t("coverage.lower_bound_units", lang, facility=facility,
                 empty=fmt_number(int(self.no_data.sum()), lang), units=fmt_number(len(self.known), lang))


def _count_within(points_xy: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """How many of the points lie in each polygon (a point on a shared border counts once)."""
    known = np.zeros(len(geoms), dtype=np.int64)
    if len(points_xy) and len(geoms):
        pairs = shapely.STRtree(geoms).query(shapely.points(points_xy), predicate="within")
        if pairs.shape[1]:
            _, first = np.unique(pairs[0], return_index=True)
            known = np.bincount(pairs[1][first], minlength=len(geoms))
    return known


def _inside_union(geoms: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``contains(union_all(geoms), points)`` without the union (2 s for the 92 wards' 177,000
    vertices, on every question): a point inside one unit is inside the union; only points on
    some unit's boundary (none, in practice) are tested against the union itself."""
    tree = shapely.STRtree(geoms)
    inside = np.zeros(len(points), dtype=bool)
    inside[tree.query(points, predicate="within")[0]] = True
    edge = np.zeros(len(points), dtype=bool)
    edge[tree.query(points, predicate="intersects")[0]] = True
    edge &= ~inside
    if edge.any():
        inside[edge] = shapely.contains(shapely.union_all(geoms), points[edge])
    return inside


def facility_completeness(category: str | None, facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame,
                          wards: gpd.GeoDataFrame | None = None,
                          source: register.FacilitySource | None = None) -> Completeness | None:
    """Per-unit count of a category's known facilities, and the lower-bound judgement.

    ``None`` for facilities of no catalog category (a planner's own list is taken as it
    is). For a category of ``COMMUNE_NORM`` the 2025 units (``wards``, EPSG any) whose
    representative point lies in ``units`` are checked too: one without a known facility
    makes every figure a lower bound. The national-norm judgement ("1 of 92 commune health
    stations known") is :func:`geo.completeness.completeness` over the 2025 units whose
    representative point lies in ``units``; a category's declared register (``source``)
    without a norm counts as complete.
    """
    if not category or category not in get_catalog().categories:
        return None
    xy = cov.facility_xy(facilities, STORE_CRS)
    geoms = units.to_crs(STORE_CRS).geometry.to_numpy()
    known = _count_within(xy, geoms)
    without = n_wards = 0
    official = None
    if wards is not None and len(wards) and len(geoms):
        w = wards.to_crs(STORE_CRS)
        inside = _inside_union(geoms, shapely.point_on_surface(w.geometry.to_numpy()))
        per_ward = _count_within(xy, w.geometry.to_numpy()[inside])
        n_wards, without = int(inside.sum()), int((per_ward == 0).sum())
        official = official_completeness.completeness(
            category, w[inside].reset_index(drop=True), facilities.assign(category=category), "gso_code",
            authoritative=bool(source is not None and source.authoritative),
            scope="province" if n_wards == len(w) else "area")    # say what the "k of N" is about
    if category not in COMMUNE_NORM:
        without = n_wards = 0
    return Completeness(category=category, known=known, wards_without=without, wards=n_wards,
                        official=official, source=source)


# ------------------------------------------------------------------------------ result


@dataclass
class CoverageResult:
    """The answer to a :class:`CoverageRequest`.

    ``table``: one row per reported unit (order of the unit layer) with ``unit_id``,
    ``unit_name``, ``population``, ``covered_population``, ``beyond_population`` (whole
    people, :func:`_whole`), ``covered_share`` (0–1, from unrounded figures; NaN
    where nobody lives), ``median_distance_m``/``p90_distance_m`` (metres) or
    ``median_minutes``/``p90_minutes`` (time limit), ``facilities_known`` (category
    facilities inside the unit, when a category is asked), ``access_ratio`` (2SFCA). With a
    what-if, ``before`` holds the table without the changes.
    """

    request: CoverageRequest
    table: pd.DataFrame
    before: pd.DataFrame | None
    population_label_key: str
    completeness: Completeness | None
    facilities: gpd.GeoDataFrame  # after the what-if changes
    base_facilities: gpd.GeoDataFrame
    units: gpd.GeoDataFrame  # the reported units (their own CRS)
    grid: PopulationGrid
    cells: cov.CellSet | None = None  # None when the grid was streamed
    cost: np.ndarray | None = None  # per-cell cost after the changes (aligned with cells)
    credit_layers: tuple[str, ...] = ()

    # -- figures
    @property
    def metric(self) -> str:
        """``distance`` (metres) or ``time`` (minutes), as requested."""
        return self.request.metric

    @property
    def threshold(self) -> float:
        """The threshold in the metric's unit of measure (metres or minutes)."""
        return self.request.threshold

    @property
    def lower_bound(self) -> bool:
        """Figures computed on facility data known to be incomplete: "at least"."""
        return bool(self.completeness and self.completeness.lower_bound)

    def totals(self) -> dict[str, float]:
        """Population, covered, beyond (whole people, sums of the rows) and the share."""
        return cov.totals(self.table)

    def row(self, unit_id: Any) -> pd.Series:
        """The row of one unit (by its id in the unit layer's id column)."""
        hit = self.table[self.table["unit_id"].astype(str) == str(unit_id)]
        if hit.empty:
            raise AtlasError("report.unknown_unit", unit=str(unit_id), choices=", ".join(
                self.table["unit_name"].astype(str).head(10)))
        return hit.iloc[0]

    def unpopulated_units(self) -> list[str]:
        """Names of the reported units where the population surface has nobody (e.g. a raster
        that misses them), in the unit layer's order."""
        return self.table.loc[self.table["population"] <= 0, "unit_name"].astype(str).tolist()

    # -- what-if
    @property
    def added_count(self) -> int:
        """Facilities the what-if adds (clicked or uploaded sites); 0 without a what-if."""
        return len(self.facilities) - len(self.base_facilities) + len(self.request.closed)

    def before_totals(self) -> dict[str, float]:
        """:meth:`totals` of the table without the what-if changes (``{}`` without a what-if)."""
        return cov.totals(self.before) if self.before is not None else {}

    def comparison(self) -> pd.DataFrame:
        """Before/after per unit, largest gain first.

        Returns
        -------
        DataFrame
            Columns ``unit_name``, ``population``, ``covered_before``, ``covered_after``,
            ``change`` (people) and ``share_before``, ``share_after`` (0–1), from
            :func:`geo.coverage.compare`; empty without a what-if.
        """
        columns = ["unit_name", "population", "covered_before", "covered_after", "change", "share_before",
                   "share_after"]
        if self.before is None:
            return pd.DataFrame(columns=columns)
        return cov.compare(self.before, self.table).sort_values("change", ascending=False)[columns]

    # -- words
    def facility_label(self, lang: str) -> str:
        """The facility category's label in ``lang``."""
        return cov.facility_label(self.request.category, lang)

    def _reach_kw(self) -> dict[str, float]:
        return {"minutes": self.request.minutes} if self.metric == "time" else {"radius_m": self.threshold}

    def total_sentence(self, lang: str) -> str:
        """One sentence on the totals ("At least …" when the facility data is incomplete)."""
        return cov.total_sentence(self._distance_named(self.table), lang, self.facility_label(lang),
                                  lower_bound=self.lower_bound, **self._reach_kw())

    def sentences(self, lang: str, top: int | None = 10) -> list[str]:
        """Planner sentences, most people beyond reach first; units without facility data are
        named in one sentence instead (their people are not known to be beyond reach)."""
        df = self._distance_named(self.table)
        none = self.completeness.no_data if self.completeness is not None else np.zeros(len(df), dtype=bool)
        out = cov.coverage_sentences(df[~none], lang, self.facility_label(lang), top=top,
                                     lower_bound=self.lower_bound, **self._reach_kw())
        if none.any():
            names = df.loc[none, "unit_name"].astype(str).tolist()
            out.append(t("coverage.no_facility_data_units", lang, facility=self.facility_label(lang),
                         names=", ".join(names[:8]) + (", …" if len(names) > 8 else ""),
                         count=fmt_number(len(names), lang)))
        return out

    def completeness_sentence(self, lang: str) -> str:
        """"Facility data: … known in … units" with the lower-bound reason ("" without a category)."""
        c = self.completeness
        if c is None:
            return ""
        facility = self.facility_label(lang)
        if c.official is not None and c.official.norm is not None:
            text = c.official.summary(lang) + "."
            if c.lower_bound and not c.wards_without:  # the reason already states "k of n … known"
                return c.reason(lang)
        elif c.wards:
            text = t("coverage.facility_data_wards", lang, with_data=fmt_number(c.wards - c.wards_without, lang),
                     wards=fmt_number(c.wards, lang), facility=facility, known=fmt_number(int(c.known.sum()), lang))
        else:
            text = t("coverage.facility_data_units", lang, known=fmt_number(int(c.known.sum()), lang),
                     with_data=fmt_number(int((c.known > 0).sum()), lang), units=fmt_number(len(c.known), lang))
        return f"{text} {c.reason(lang)}".strip()

    @staticmethod
    def _distance_named(df: pd.DataFrame) -> pd.DataFrame:
        return df.rename(columns={"median_minutes": "median_distance_m", "p90_minutes": "p90_distance_m"})

    # -- cells (interactive surfaces)
    def covered_mask(self) -> np.ndarray:
        """Boolean grid of covered populated cells (needs cached cells)."""
        return cov.covered_mask(self._cells(), self.cost, self.threshold)

    def hotspots(self, top: int = 15) -> gpd.GeoDataFrame:
        """Squares of 1 km with the most people beyond reach (EPSG:4326)."""
        return cov.hotspots(self._cells(), self.cost, self.threshold, top=top)

    def covered_area(self) -> gpd.GeoDataFrame:
        """The covered cells as one (multi)polygon (EPSG:4326)."""
        return cov.mask_polygons(self.covered_mask(), self.grid.transform, self.grid.crs)

    def hotspot_layers(self, top: int = 200) -> gpd.GeoDataFrame:
        """The ``top`` hotspots (``layer`` = "hotspot") and the covered area (``layer`` =
        "covered_area") in one frame (EPSG:4326), for a GeoJSON download (needs cached cells)."""
        both = pd.concat([self.hotspots(top=top).assign(layer="hotspot"),
                          self.covered_area().drop(columns=["covered"]).assign(layer="covered_area")],
                         ignore_index=True)
        return both.set_geometry("geometry").set_crs(STORE_CRS, allow_override=True)

    def write_cost_geotiff(self, path: str | Path) -> Path:
        """Write the answer's cost surface as a float32 GeoTIFF (nodata -1) in the grid's CRS.

        Straight-line mode: the distance (metres, times the detour factor) from every cell to
        the nearest facility after the changes; network mode: the travel cost (metres or
        minutes, :attr:`metric`) of the populated cells (needs cached cells). Returns ``path``.
        """
        if self.request.mode == "euclidean":
            return cov.write_distance_geotiff(self.facilities, self.grid, path, detour=self.request.detour)
        return write_grid_geotiff(self.grid, path, values=cov.cells_raster(self._cells(), self.cost), nodata=-1.0)

    def _cells(self) -> cov.CellSet:
        if self.cells is None or self.cost is None:
            raise AtlasError("coverage_errors.grid_too_big", cells=self.grid.values.size)
        return self.cells

    # -- outputs
    def export_frame(self, lang: str) -> pd.DataFrame:
        """The table as written to files: plus the population source, the rule, the lower-bound
        flag and reason, and with a what-if the baseline and the change."""
        out = self.table.assign(population_source=t(self.population_label_key, lang), rule=t("coverage.rule", lang))
        if self.completeness is not None:
            out = out.assign(lower_bound=self.lower_bound, facility_note=[
                t("coverage.no_facility_data", lang) if none else self.completeness.reason(lang)
                for none in self.completeness.no_data])
        if self.before is not None:
            out = out.assign(covered_population_before=self.before["covered_population"].to_numpy(),
                             covered_change=(self.table["covered_population"]
                                             - self.before["covered_population"]).to_numpy())
        return out

    def geo_frame(self, lang: str) -> gpd.GeoDataFrame:
        """:meth:`export_frame` with the units' geometry (EPSG:4326)."""
        return cov.attach_geometry(self.export_frame(lang), self.units)

    def credits(self, lang: str, title: str | None = None) -> Credits:
        """Sources and licences of the units, facilities and population, modelled, with the
        population method, the rule and (when so) the lower-bound reason as notes."""
        parts = [layer_credits(lid, lang) for lid in self.credit_layers]
        if self.request.category is None:
            parts.append(user_credits(self.request.facilities_key or t("coverage.facilities_upload", lang), lang))
        credits = replace(Credits.combine(title or t("coverage.title", lang), parts), modelled=True)
        notes = [t(self.population_label_key, lang), t("coverage.rule", lang)]
        if self.lower_bound:
            notes.append(t("coverage.lower_bound_note", lang, reason=self.completeness.reason(lang)))
            notes.append(self.total_sentence(lang))
        if self.completeness is not None:
            notes.append(self.completeness_sentence(lang))
            if self.completeness.source is not None and self.completeness.source.authoritative:
                notes.append(self.completeness.source.credit(lang))
        return credits.with_notes(*notes)


# ------------------------------------------------------------------------------ service


def _nbytes(value: Any) -> int:
    """Bytes held by the numpy arrays of a cached value (arrays, tuples, dataclasses such as
    :class:`~geo.coverage.CellSet`, a result's cost and cells); other objects count 0."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return sum(_nbytes(getattr(value, f.name)) for f in fields(value)
                   if f.name not in ("request", "grid", "facilities", "base_facilities", "units"))
    return 0


class _LRU:
    """A thread-safe least-recently-used cache bounded by entries and by array bytes.

    One computation per key at a time: sessions asking the same question together wait for
    the first one's value instead of each computing (and holding) their own copy. ``hits``
    / ``misses`` count answers from the cache and computations. The newest entry is kept even
    when alone above ``max_bytes`` (the caller is using it).
    """

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        self.size, self.max_bytes = size, max_bytes
        self.data: OrderedDict = OrderedDict()
        self.bytes: dict[Hashable, int] = {}
        self.lock = threading.Lock()
        self._pending: dict[Hashable, threading.Lock] = {}
        self.hits = self.misses = 0

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                self.hits += 1
                return self.data[key]
            pending = self._pending.setdefault(key, threading.Lock())
        with pending:
            with self.lock:
                if key in self.data:  # computed by the session we waited for
                    self.data.move_to_end(key)
                    self.hits += 1
                    return self.data[key]
                self.misses += 1
            try:
                value = make()
                with self.lock:
                    self.data[key], self.bytes[key] = value, _nbytes(value)
                    self._evict()
            finally:
                with self.lock:
                    self._pending.pop(key, None)
        return value

    def _evict(self) -> None:
        while len(self.data) > 1 and (len(self.data) > self.size or (
                self.max_bytes is not None and sum(self.bytes.values()) > self.max_bytes)):
            old, _ = self.data.popitem(last=False)
            self.bytes.pop(old, None)

    @property
    def nbytes(self) -> int:
        """Array bytes held now."""
        with self.lock:
            return sum(self.bytes.values())


class CoverageService:
    """Answers :class:`CoverageRequest` s, caching grids, labelled cells and per-cell costs.

    ``loader`` reads a catalog layer (default :func:`geo.catalog.load_layer`; a page passes
    its cached reader). One process-wide instance is :func:`default_service`; the app keeps
    one for all its sessions, so sessions asking the same question share one answer, one
    per-cell cost array and one set of labelled cells (bounded: ``cache_mb`` of arrays over
    cells, costs and answers, default ``ATLAS_COVERAGE_CACHE_MB`` or 512 MB; least recently
    used dropped first). ``stats()`` tells the hits and computations.
    """

    def __init__(self, loader: Callable[[str], gpd.GeoDataFrame] | None = None, grids: int = 4, cells: int = 8,
                 costs: int = 12, results: int = 32, cache_mb: float | None = None) -> None:
        self.loader = loader or load_layer
        budget = int(cache_mb * 2**20) if cache_mb is not None else settings.coverage_cache_bytes()
        self._grids = _LRU(grids)
        self._cells, self._costs = _LRU(cells, budget // 4), _LRU(costs, budget // 2)
        self._results = _LRU(results, budget // 4)
        self.cost_computations = 0  # per-cell cost passes done (a re-threshold does none)

    def stats(self) -> dict[str, int]:
        """Cache hits / computations of answers, per-cell costs and labelled cells, and the
        array bytes each cache holds (what the load benchmark and the sharing test read)."""
        out: dict[str, int] = {}
        for name, lru in (("results", self._results), ("costs", self._costs), ("cells", self._cells)):
            out.update({f"{name}_hits": lru.hits, f"{name}_misses": lru.misses, f"{name}_bytes": lru.nbytes})
        return out

    # -- inputs
    def grid(self, req: CoverageRequest) -> tuple[PopulationGrid, str]:
        """The population surface and its cache key."""
        if req.grid is not None:
            return req.grid, req.grid_key or f"grid:{id(req.grid)}"
        if req.population not in POPULATION_SOURCES:
            raise AtlasError("coverage_errors.unknown_source", name=req.population)
        spec = UNIT_LAYERS[req.population]
        key = f"census:{req.population}:{float(req.cell_m):g}"
        grid = self._grids.get(key, lambda: census_grid(self.loader(spec.layer), spec.pop_col, float(req.cell_m),
                                                        label_key=spec.pop_label_key))
        return grid, key

    def units(self, req: CoverageRequest) -> tuple[gpd.GeoDataFrame, str, str, np.ndarray, str]:
        """Labelling units, id and name columns, the reported rows (positions) and a key.

        The 3 programme cities are labelled on all districts (centre rule on the whole
        layer) and reported as their rows.
        """
        if req.units_frame is not None:
            frame = req.units_frame
            uid, uname = req.unit_id or "", req.unit_name or req.unit_id or ""
            return frame, uid, uname, np.arange(len(frame)), f"units:{req.units}"
        layer = unit_set_layer(req.units)
        if layer is None:
            raise AtlasError("coverage_errors.unknown_source", name=req.units)
        spec = UNIT_LAYERS[layer]
        frame = self.loader(layer)
        rows = np.arange(len(frame))
        if req.units in (SMART_CITIES, "cities"):
            rows = np.flatnonzero(frame["smart_city"].fillna(False).astype(bool).to_numpy())
        return frame, spec.id_col, spec.name_col, rows, f"layer:{layer}"

    def facilities(self, req: CoverageRequest) -> tuple[gpd.GeoDataFrame, str]:
        """The facility layer asked about (before what-if changes) and its cache key."""
        if req.facilities is not None:
            return req.facilities, f"given:{req.facilities_key}:{len(req.facilities)}"
        if not req.category:
            raise AtlasError("coverage_errors.unknown_source", name="")
        service_reach(req.category)  # refuses an unknown category
        decl = register.authoritative_source(req.category)
        if decl is not None:  # the department's list declared the source (geo.register)
            gdf, _ = register.facilities_for(req.category)
            return gdf, f"register:{req.category}:{decl.layer}:{decl.declared_at}"
        infra = self.loader("infrastructure")
        return infra[infra["category"] == req.category], f"category:{req.category}"

    @staticmethod
    def facility_source(req: CoverageRequest) -> register.FacilitySource | None:
        """Where a category's facilities come from (None for a given facility layer)."""
        if req.facilities is not None or not req.category:
            return None
        decl = register.authoritative_source(req.category)
        return register.FacilitySource(req.category, decl is not None,
                                       decl.layer if decl else "infrastructure", decl)

    # -- the answer
    def ask(self, req: CoverageRequest, progress: Progress | None = None) -> CoverageResult:
        """Answer ``req`` (see the module's rules).

        Raises
        ------
        AtlasError
            bad radius/minutes/detour, unknown category or unit set, units without the
            named columns, no road layer in network mode, no people inside the units.
        """
        threshold = req.threshold
        if req.mode not in ("euclidean", "network"):
            raise AtlasError("coverage_errors.unknown_source", name=req.mode)
        if req.mode == "euclidean":
            cov._check_radius(threshold, req.detour)
        elif req.roads is None:
            raise AtlasError("coverage_errors.no_roads")
        elif not np.isfinite(threshold) or threshold <= 0:
            raise AtlasError("coverage_errors.bad_minutes" if req.metric == "time" else "coverage_errors.bad_radius",
                             value=str(threshold))
        else:
            cov.check_limits(**({"minutes": threshold} if req.metric == "time" else {"radius_m": threshold}))
        grid, grid_key = self.grid(req)
        frame, uid, uname, rows, units_key = self.units(req)
        base, fac_key = self.facilities(req)
        if not _named(req):  # a layer given without a key naming it: answered, not shared
            return self._answer(req, grid, grid_key, frame, uid, uname, rows, units_key, base, fac_key, threshold,
                                progress)
        key = (repr(req), grid_key, units_key, fac_key)
        return self._results.get(key, lambda: self._answer(req, grid, grid_key, frame, uid, uname, rows, units_key,
                                                           base, fac_key, threshold, progress))

    def _answer(self, req: CoverageRequest, grid: PopulationGrid, grid_key: str, frame: gpd.GeoDataFrame, uid: str,
                uname: str, rows: np.ndarray, units_key: str, base: gpd.GeoDataFrame, fac_key: str,
                threshold: float, progress: Progress | None) -> CoverageResult:
        after = cov.scenario_facilities(base, list(req.added), list(req.closed), req.added_frame) \
            if req.scenario else base
        scen_key = (tuple(req.added), tuple(req.closed), req.added_key) if req.scenario else None
        if grid.values.size > SESSION_CELLS:
            table, before = self._streamed(req, grid, frame, uid, uname, base, after, threshold, progress)
            cells = cost = None
        else:
            cells = self._cells.get((grid_key, units_key), lambda: cov.prepare_cells(grid, frame, uid, uname))
            cost_b, q_b, cost_key = self._cost(req, cells, base, (grid_key, units_key, fac_key), progress)
            before_full = cov.coverage_from_costs(cells, cost_b, threshold, q_b)
            if req.scenario:
                cost, q_a, cost_key = self._cost(req, cells, after, (grid_key, units_key, fac_key, scen_key), progress)
                table = cov.coverage_from_costs(cells, cost, threshold, q_a)
                before = before_full
            else:
                cost, table, before = cost_b, before_full, None
            if req.metric == "time":
                table = table.rename(columns={"median_distance_m": "median_minutes", "p90_distance_m": "p90_minutes"})
                before = before.rename(columns={"median_distance_m": "median_minutes",
                                                "p90_distance_m": "p90_minutes"}) if before is not None else None
        if req.capacity_col is not None and req.mode == "euclidean":
            acc = cov.two_step_fca(after, frame, grid, threshold, uid, uname, capacity_col=req.capacity_col or None,
                                   detour=req.detour)
            table = table.assign(access_ratio=acc["access_ratio"].to_numpy())
        reported = frame.iloc[rows]
        if float(table["population"].iloc[rows].sum()) <= 0:
            raise AtlasError("coverage_errors.no_overlap")
        completeness = facility_completeness(req.category, base, reported, self.loader("wards_2025"),
                                             source=self.facility_source(req))
        table = _finish(table, rows, completeness)
        before = _finish(before, rows, completeness) if before is not None else None
        if cells is not None and len(rows) != cells.n_units:  # only the reported units' cells (shared too)
            cells, cost = self._costs.get(("reported", rows.tobytes()) + cost_key,
                                          lambda: _reported(cells, cost, rows))
        return CoverageResult(request=req, table=table, before=before, population_label_key=grid.label_key,
                              completeness=completeness, facilities=after, base_facilities=base, units=reported,
                              grid=grid, cells=cells, cost=cost, credit_layers=_credit_layers(req))

    def _cost(self, req: CoverageRequest, cells: cov.CellSet, facilities: gpd.GeoDataFrame, key: tuple,
              progress: Progress | None) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], tuple]:
        """Per-cell cost, its per-unit quantiles (raw distance × detour, or network cost) and
        the cache key naming them."""
        def compute(make_fn: Callable[[], Callable[[np.ndarray], np.ndarray]]):
            self.cost_computations += 1
            return _computed(cells, make_fn(), progress)

        if req.mode == "euclidean":
            raw_key = ("euclid",) + key
            raw, q = self._costs.get(raw_key, lambda: compute(
                lambda: cov.euclidean_cost(cov.facility_xy(facilities, cells.crs))))
            d = float(req.detour)
            if d == 1.0:
                return raw, q, raw_key
            scaled_key = ("detour", d) + raw_key  # one scaled copy for every session asking it
            cost, qd = self._costs.get(scaled_key, lambda: (raw * d, (q[0] * d, q[1] * d)))
            return cost, qd, scaled_key
        from geo.network import network_cost_fn

        net_key = ("net", req.roads_key, req.profile, req.metric) + key
        cost, q = self._costs.get(net_key, lambda: compute(
            lambda: network_cost_fn(req.roads, cov.facility_xy(facilities, cells.crs), req.metric)))
        return cost, q, net_key

    def _streamed(self, req, grid, frame, uid, uname, base, after, threshold, progress):
        """Block-wise computation for grids too big to keep per-cell costs."""
        def one(fac: gpd.GeoDataFrame) -> pd.DataFrame:
            if req.mode == "euclidean":
                return cov.coverage_by_unit(fac, frame, grid, threshold, uid, uname, detour=req.detour,
                                            progress=progress)
            from geo.network import network_coverage_by_unit

            return network_coverage_by_unit(fac, frame, grid, req.roads, uid, uname,
                                            minutes=req.minutes if req.metric == "time" else None,
                                            distance_m=threshold if req.metric == "distance" else None,
                                            progress=progress)
        table = one(after)
        return table, (one(base) if req.scenario else None)


def _computed(cells: cov.CellSet, cost_fn: Callable[[np.ndarray], np.ndarray],
              progress: Progress | None, step: int = 250_000) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    n = len(cells.pop)
    out = np.empty(n)
    for s in range(0, n, step):
        out[s:s + step] = cost_fn(cells.xy[s:s + step])
        if progress is not None:
            progress(min(1.0, (s + step) / max(n, 1)))
    return out, cov.cost_quantiles(cells, out)


def _named(req: CoverageRequest) -> bool:
    """Whether every layer given with the question has a key naming it (then its answer can
    be shared by every session asking the same question)."""
    return all(obj is None or key is not None for obj, key in (
        (req.facilities, req.facilities_key), (req.grid, req.grid_key), (req.added_frame, req.added_key),
        (req.roads, req.roads_key)))


def _reported(cells: cov.CellSet, cost: np.ndarray, rows: np.ndarray) -> tuple[cov.CellSet, np.ndarray]:
    """The cells (and their costs) of the reported units only, units renumbered 0…len(rows)-1."""
    keep = np.isin(cells.unit, rows)
    remap = np.full(cells.n_units, -1)
    remap[rows] = np.arange(len(rows))
    return replace(cells, rows=cells.rows[keep], cols=cells.cols[keep], xy=cells.xy[keep], pop=cells.pop[keep],
                   unit=remap[cells.unit[keep]], unit_ids=cells.unit_ids[rows],
                   unit_names=cells.unit_names[rows]), cost[keep]


def _finish(table: pd.DataFrame, rows: np.ndarray, completeness: Completeness | None) -> pd.DataFrame:
    """The reported rows, people in whole persons, shares from the unrounded figures, and the
    facility counts; a unit without known facilities has no share ("no facility data")."""
    out = table.iloc[rows].reset_index(drop=True).copy()
    for col in PEOPLE_COLUMNS:
        out[col] = _whole(out[col])
    if completeness is not None:
        out["facilities_known"] = completeness.known
        out.loc[completeness.no_data, "covered_share"] = np.nan  # "no facility data", not 0 %
    return out


def _whole(people: pd.Series) -> pd.Series:
    """Whole persons as floats (NaN kept), exactly as :func:`geo.numbers.whole_people` rounds
    (half to even) — float so sums and shares stay plain numpy arithmetic."""
    return pd.Series(np.round(people.to_numpy(dtype=float)), index=people.index)


def _credit_layers(req: CoverageRequest) -> tuple[str, ...]:
    layers = []
    if req.units_frame is None:
        layers.append(unit_set_layer(req.units) or "districts")
    if req.category:
        layers.append("infrastructure")
    if req.grid is None:
        layers.append(UNIT_LAYERS[req.population].layer)
    return tuple(dict.fromkeys(layers))


_DEFAULT: CoverageService | None = None
_DEFAULT_LOCK = threading.Lock()


def default_service() -> CoverageService:
    """The process-wide service (shared caches)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = CoverageService()
        return _DEFAULT


def ask(request: CoverageRequest | None = None, progress: Progress | None = None, **kwargs: Any) -> CoverageResult:
    """Answer a coverage question with the process-wide service:
    ``ask(category="health", units="smart_cities")`` or ``ask(CoverageRequest(...))``."""
    return default_service().ask(request if request is not None else CoverageRequest(**kwargs), progress)

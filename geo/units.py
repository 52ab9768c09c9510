"""The one planning-unit registry: ids, names, id/name columns, the 3 programme cities.

Every caller (pages, CLI, deck, print maps, indicators, store, exports, the coverage
service) names units through this module.

Ids
---
One scheme, ``<unit layer>:<code>`` with the catalog layer id and the layer's code column:

=================  =====================  ===========================================
id                 layer / code column    units
=================  =====================  ===========================================
``province:19``    ``province_pre2025``   Thái Nguyên province (pre-2025 extent)
``districts:165``  ``level2_id``          the 9 pre-2025 districts/cities (level "city")
``communes:2070101`` ``commune_id``       the 2009 communes (level "commune")
``wards_2025:05809`` ``gso_code``         the communes/wards since 1-7-2025 (level "ward")
=================  =====================  ===========================================

Old spellings are accepted on input and normalised by :func:`normalise_id`:
``district:165`` (the indicator store before), bare ``165`` (print maps), ``ward:5809``,
``commune:…``, ``province``. :func:`resolve` takes an id in any spelling or a name
("TP Sông Công", "song cong", "Thành phố Phổ Yên", "Tỉnh Thái Nguyên").
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import AtlasError
from geo.population import LABEL_CENSUS_COMMUNE, LABEL_CENSUS_WARD
from geo.text import fold, strip_unit_type, unit_type_of

PROVINCE_ID = "province:19"
PROVINCE_CODE = "19"
LEVELS = ("province", "city", "commune", "ward")
DECK_LEVELS = ("province", "city")  # what a print map or a council deck can be about
TERRITORIES = ("2025", "2020")
"""How a deck shows a pre-2025 city: ``"2025"`` its 2025 communes/wards (the units formed from
its communes, :func:`district_group`) with today's official figures; ``"2020"`` the pre-2025
city with its 2009 communes and the 2019 census."""


@dataclass(frozen=True)
class UnitLayer:
    """A catalog layer whose polygons are planning units, and its columns.

    ``pop_col`` is the official population of the layer (people) in year ``pop_year``;
    ``pop_label_key`` the i18n key naming the census-modelled grid built from it.
    """

    layer: str
    level: str
    id_col: str
    name_col: str
    pop_col: str
    pop_year: int
    density_col: str
    type_col: str | None
    pop_label_key: str


UNIT_LAYERS: dict[str, UnitLayer] = {
    "districts": UnitLayer("districts", "city", "level2_id", "name", "population_2019", 2019, "density_2019",
                           "unit_type", LABEL_CENSUS_COMMUNE),
    "communes": UnitLayer("communes", "commune", "commune_id", "commune_vn", "population_2019", 2019,
                          "density_2019", None, LABEL_CENSUS_COMMUNE),
    "wards_2025": UnitLayer("wards_2025", "ward", "gso_code", "name_full", "population_2025", 2025, "density_2025",
                            "unit_type", LABEL_CENSUS_WARD),
}
UNIT_CODE_COLUMNS = {lid: spec.id_col for lid, spec in UNIT_LAYERS.items()}
LAYER_OF_LEVEL = {spec.level: lid for lid, spec in UNIT_LAYERS.items()}
# the programme cities' short keys (widget values; labels from ``PlanningUnit.short_label``) by code
PROGRAMME_CITY_KEYS = {"164": "tp_thai_nguyen", "165": "tp_song_cong", "172": "pho_yen"}
SMART_CITIES = "smart_cities"  # unit set: the 3 programme cities (rows of ``districts``)
# old spellings of the layer part of an id → catalog layer id
_LAYER_ALIASES = {"district": "districts", "districts": "districts", "city": "districts",
                  "commune": "communes", "communes": "communes",
                  "ward": "wards_2025", "wards": "wards_2025", "wards_2025": "wards_2025"}
_SHORT_TYPES = {"Thành phố": "TP", "Thị xã": "TX"}  # as official documents abbreviate them
_PROVINCE_WORDS = {"province", "tinh", "toan tinh", "thai nguyen province", "thai nguyen", "tinh thai nguyen",
                   "province_pre2025"}


@dataclass(frozen=True)
class PlanningUnit:
    """One planning unit: the province, a pre-2025 district/city, a 2009 commune or a 2025 ward.

    ``name`` is the official Vietnamese name; ``label(lang)`` the name in ``lang``.
    ``population`` is the layer's official figure (people; 2019 census for the province,
    districts and communes, 2025 figures for wards). ``geometry`` is shapely, EPSG:4326.
    """

    id: str
    level: str
    name: str
    population: float | None = None
    smart_city: bool = False  # a programme city, or a ward/commune inside one
    name_en: str = ""
    geometry: Any = field(default=None, compare=False, hash=False, repr=False)

    @property
    def layer(self) -> str:
        """Catalog layer id of the unit (``province_pre2025`` for the province)."""
        part = self.id.partition(":")[0]
        return "province_pre2025" if part == "province" else part

    @property
    def code(self) -> str:
        """The code in the layer's code column (``"165"``, ``"05809"``; ``"19"`` for the province)."""
        return self.id.partition(":")[2]

    @property
    def key(self) -> str:
        """Short key of print maps and the deck: ``"province"`` or the district code."""
        return "province" if self.level == "province" else self.code

    def label(self, lang: str = "vi") -> str:
        """The name in ``lang`` (English where one is known, else the official name)."""
        return self.name_en if lang == "en" and self.name_en else self.name

    def short_label(self, lang: str = "vi") -> str:
        """The short name the atlas writes for a city or town: vi the official name with its
        type abbreviated ("Thành phố Phổ Yên" → "TP Phổ Yên", "Thị xã …" → "TX …"), en the
        English name ("Phổ Yên City"); other units as :meth:`label`."""
        if lang == "en":
            return self.label(lang)
        kind = unit_type_of(self.name)
        short = _SHORT_TYPES.get(kind)
        return f"{short} {self.name[len(kind):].strip()}" if short else self.name


def normalise_id(text: Any) -> str | None:
    """The canonical id of an id written in any accepted spelling, or ``None``.

    ``"districts:165"``, ``"district:165"`` → ``"districts:165"``; ``"ward:5809"`` →
    ``"wards_2025:05809"``; ``"province"``/``"province:19"`` → ``"province:19"``. Bare codes
    (``"165"``) need the registry: see :func:`resolve`. Names are not ids (``None``).
    """
    s = str(text if text is not None else "").strip()
    if fold(s) in ("province", "province:19", "province_pre2025", "province_pre2025:19"):
        return PROVINCE_ID
    part, sep, code = s.partition(":")
    layer = _LAYER_ALIASES.get(part.strip().lower()) if sep else None
    code = code.strip()
    if layer is None or not code or not re.fullmatch(r"[0-9A-Za-z_.-]+", code):
        return None
    if layer == "wards_2025" and code.isdigit():
        code = code.zfill(5)
    return f"{layer}:{code}"


def stored_spellings(unit_id: str) -> list[str]:
    """Every spelling under which a unit's values may have been stored before the ids were
    unified (``districts:165`` → also ``district:165``): the canonical id first."""
    canon = normalise_id(unit_id) or str(unit_id)
    layer, _, code = canon.partition(":")
    legacy = {"districts": "district", "wards_2025": "ward", "communes": "commune"}.get(layer)
    return [canon, f"{legacy}:{code}"] if legacy else [canon]


def _en_name(name: str, unit_type: str) -> str:
    base = name[len(unit_type):].strip() if unit_type and name.lower().startswith(unit_type.lower()) else name
    kind = {"thanh pho": "City", "thi xa": "Town", "huyen": "District"}.get(fold(unit_type), "")
    return f"{base} {kind}".strip()


@lru_cache(maxsize=4)
def _layer_units(layer: str) -> tuple[PlanningUnit, ...]:
    from geo.catalog import load_layer

    spec = UNIT_LAYERS[layer]
    gdf = load_layer(layer)
    codes = gdf[spec.id_col].astype(str)
    if layer == "wards_2025":
        codes = codes.str.zfill(5)
    names = gdf[spec.name_col].astype(str)
    pops = pd.to_numeric(gdf[spec.pop_col], errors="coerce")
    types = gdf[spec.type_col].astype(str) if spec.type_col else names.map(unit_type_of)
    smart = (gdf["smart_city"] if "smart_city" in gdf else gdf.get("in_smart_city_2020", pd.Series(False, gdf.index)))
    smart = smart.fillna(False).astype(bool)
    return tuple(
        PlanningUnit(f"{layer}:{c}", spec.level, n, None if pd.isna(p) else float(p), bool(sc),
                     _en_name(n, ty) if layer == "districts" else "", g)
        for c, n, p, ty, sc, g in zip(codes, names, pops, types, smart, gdf.geometry.to_numpy()))


@lru_cache(maxsize=1)
def _province() -> PlanningUnit:
    from geo.catalog import load_layer
    from geo.i18n import t

    districts = _layer_units("districts")
    prov = load_layer("province_pre2025")
    return PlanningUnit(PROVINCE_ID, "province", str(prov["name"].iloc[0]),
                        float(sum(u.population or 0.0 for u in districts)), False, t("report.province", "en"),
                        shapely.union_all([u.geometry for u in districts]))


def all_units(levels: Iterable[str] = ("province", "city", "ward")) -> tuple[PlanningUnit, ...]:
    """Units of ``levels`` in a stable order: the province; the districts (programme cities
    first, then by code); the wards and communes by name. Communes (2009, 300 units) are
    only listed when asked for."""
    levels = tuple(levels)
    out: list[PlanningUnit] = [_province()] if "province" in levels else []
    if "city" in levels:
        out += sorted(_layer_units("districts"), key=lambda u: (not u.smart_city, u.code))
    for level, layer in (("ward", "wards_2025"), ("commune", "communes")):
        if level in levels:
            out += sorted(_layer_units(layer), key=lambda u: u.name)
    return tuple(out)


def units_by_id(levels: Iterable[str] = ("province", "city", "ward")) -> dict[str, PlanningUnit]:
    """``{id: unit}`` of :func:`all_units`."""
    return {u.id: u for u in all_units(levels)}


def programme_cities() -> tuple[PlanningUnit, ...]:
    """The 3 cities of the 2020 smart-city programme (TP Thái Nguyên, TP Sông Công, TP Phổ Yên),
    as the districts layer flags them (``smart_city``), by code."""
    return tuple(u for u in all_units(("city",)) if u.smart_city)


def deck_units() -> dict[str, PlanningUnit]:
    """The units a print map or a deck can be about, by short key: ``"province"`` and the
    nine district codes (the programme cities first)."""
    return {u.key: u for u in all_units(("province", "city"))}


def find(text: Any, units: Iterable[PlanningUnit] | None = None,
         levels: Iterable[str] = ("province", "city", "ward")) -> PlanningUnit | None:
    """The unit ``text`` names, or ``None`` when it names none or several.

    ``text`` is an id in any accepted spelling (``districts:165``, ``district:165``,
    ``ward:5809``, a bare district code ``165``) or a name, ignoring case and diacritics:
    the full name ("thanh pho song cong"), "TP …"/"TX …" abbreviations, the name without
    its type ("Sông Công" when only one unit has it), the English name ("Song Cong City"),
    or "Tỉnh Thái Nguyên"/"province" (a bare "Thái Nguyên" means the province).
    ``units`` restricts the search (default: the units of ``levels``).
    """
    pool = tuple(units) if units is not None else all_units(levels)
    by_id = {u.id: u for u in pool}
    raw = str(text if text is not None else "").strip()
    if not raw:
        return None
    canon = normalise_id(raw)
    if canon is not None:
        return by_id.get(canon)
    if raw.isdigit():  # a bare code: a district's level2_id, else a ward's GSO code
        hit = by_id.get(f"districts:{raw}") or by_id.get(f"wards_2025:{raw.zfill(5)}")
        if hit is not None:
            return hit
    q = " ".join(fold(raw).replace(".", " ").split())
    q = re.sub(r"^tp\s+", "thanh pho ", q)
    q = re.sub(r"^tx\s+", "thi xa ", q)
    if q in _PROVINCE_WORDS and PROVINCE_ID in by_id:
        return by_id[PROVINCE_ID]
    for match in (lambda u: fold(u.name) == q,
                  lambda u: bool(u.name_en) and fold(u.name_en) == q,
                  lambda u: u.level != "province" and strip_unit_type(u.name) == strip_unit_type(q)):
        hits = [u for u in pool if match(u)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            # a district and its namesake ward ("Sông Công"): the larger unit is meant
            cities = [u for u in hits if u.level == "city"]
            return cities[0] if len(cities) == 1 else None
    return None


def resolve(text: Any, levels: Iterable[str] = ("province", "city", "ward"),
            units: Iterable[PlanningUnit] | None = None) -> PlanningUnit:
    """Like :func:`find` but a unit is required.

    Raises
    ------
    AtlasError
        ``report.unknown_unit`` naming the text and offering the programme cities and the
        province.
    """
    if isinstance(text, PlanningUnit):
        return text
    hit = find(text, units=units, levels=levels)
    if hit is None:
        choices = [u.name for u in programme_cities()] + [_province().name]
        raise AtlasError("report.unknown_unit", unit=str(text), choices=", ".join(choices))
    return hit


def unit_frame(choice: str, loader: Callable[[str], gpd.GeoDataFrame] | None = None
               ) -> tuple[gpd.GeoDataFrame, str, str]:
    """The polygons of a unit set with their id and name columns.

    ``choice``: a unit layer id (``districts``, ``communes``, ``wards_2025``) or
    ``smart_cities`` (the 3 programme cities, rows of ``districts``); ``cities`` and
    ``wards`` are accepted. ``loader`` reads a catalog layer (default
    :func:`geo.catalog.load_layer`; pages pass their cached reader). EPSG:4326.

    Raises
    ------
    AtlasError
        ``coverage_errors.unknown_source`` for any other name.
    """
    from geo.catalog import load_layer

    loader = loader or load_layer
    layer = {"cities": SMART_CITIES, "wards": "wards_2025"}.get(choice, choice)
    if layer == SMART_CITIES:
        d = loader("districts")
        return d[d["smart_city"].fillna(False).astype(bool)], UNIT_LAYERS["districts"].id_col, \
            UNIT_LAYERS["districts"].name_col
    if layer not in UNIT_LAYERS:
        raise AtlasError("coverage_errors.unknown_source", name=choice)
    spec = UNIT_LAYERS[layer]
    return loader(layer), spec.id_col, spec.name_col


def numbered_units(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str, str]:
    """A planner's own polygon layer as units: numbered in file order (``unit_id`` 1, 2, …)
    and named by its first text column (``unit_name``; the number when it has none)."""
    text_cols = [c for c in gdf.columns if c != gdf.geometry.name and pd.api.types.is_string_dtype(gdf[c])]
    out = gdf.reset_index(drop=True)
    out = out.assign(unit_id=(out.index + 1).astype(str))
    out = out.assign(unit_name=out[text_cols[0]].astype(str) if text_cols else out["unit_id"])
    return out, "unit_id", "unit_name"


def unit_set_layer(choice: str) -> str | None:
    """The catalog layer a unit set comes from (``smart_cities`` → ``districts``), or None."""
    layer = {"cities": SMART_CITIES, "wards": "wards_2025"}.get(choice, choice)
    return "districts" if layer == SMART_CITIES else layer if layer in UNIT_LAYERS else None


@dataclass(frozen=True)
class UnitHit:
    """A search hit: the unit layer, the row index, the name and the unit type."""

    layer: str
    index: int
    name: str
    unit_type: str = ""  # as the official name writes it ("Thành phố", "Phường", "Xã")
    programme_city: bool = False  # one of the 3 cities of the 2020 smart-city programme


def search_units(query: str, frames: dict[str, gpd.GeoDataFrame], limit: int = 20) -> list[UnitHit]:
    """Units whose name contains ``query``, ignoring diacritics and case ("pho yen" → Phổ Yên).

    Order: the programme cities first (the atlas is about them), then names ending with the
    query (the place itself rather than e.g. "Phường Phổ Yên Đông"), then shorter names.
    Each hit carries its administrative type as written in the official name.
    """
    q = fold(query)
    if not q:
        return []
    hits: list[UnitHit] = []
    for layer, gdf in frames.items():
        name_col = UNIT_LAYERS[layer].name_col
        folded = gdf[name_col].map(fold)
        exact_first = folded.str.contains(q, regex=False) & gdf[name_col].notna()
        smart = gdf["smart_city"].fillna(False).astype(bool) if layer == "districts" and "smart_city" in gdf else None
        for idx in gdf.index[exact_first.to_numpy()]:
            name = str(gdf.at[idx, name_col])
            hits.append(UnitHit(layer, int(idx), name, unit_type_of(name),
                                bool(smart.at[idx]) if smart is not None else False))
    hits.sort(key=lambda h: (not h.programme_city, not fold(h.name).endswith(q), len(h.name)))
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
    spec = UNIT_LAYERS[layer]
    name_col, pop_col, year, type_col = spec.name_col, spec.pop_col, spec.pop_year, spec.type_col
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
    """Inverse of ``unit_code`` (any accepted spelling, see :func:`normalise_id`); None when
    the code names no known unit."""
    layer, _, value = (normalise_id(code) or "").partition(":")
    if layer not in frames or not value:
        return None
    col = frames[layer][UNIT_CODE_COLUMNS[layer]].astype(str)
    if layer == "wards_2025":
        col = col.str.zfill(5)
    hits = frames[layer].index[(col == value).to_numpy()]
    return (layer, int(hits[0])) if len(hits) else None


@dataclass(frozen=True)
class GroupMember:
    """A 2025 unit of a programme city's group: ``share`` of its area lies in the city,
    ``others`` names the other pre-2025 districts its territory came from (with their shares)."""

    unit: PlanningUnit
    share: float
    others: tuple[tuple[str, float], ...] = ()

    @property
    def shared(self) -> bool:
        """True when part of the unit was formed from communes outside the city."""
        return bool(self.others)


@dataclass(frozen=True)
class CityGroup:
    """A programme city of 2020 seen on today's map: the 2025 units formed from its communes."""

    city: PlanningUnit
    members: tuple[GroupMember, ...]

    @property
    def unit_ids(self) -> tuple[str, ...]:
        """Registry ids of the member units (``wards_2025:<gso_code>``)."""
        return tuple(m.unit.id for m in self.members)

    @property
    def population(self) -> float:
        """Sum of the members' official 2025 population (people)."""
        return float(sum(m.unit.population or 0.0 for m in self.members))


@lru_cache(maxsize=1)
def _group_shares() -> pd.DataFrame:
    from geo.catalog import load_layer
    from geo.paths import METRIC_CRS

    wards = load_layer("wards_2025").to_crs(METRIC_CRS)
    districts = load_layer("districts").to_crs(METRIC_CRS)
    w_geom, d_geom = wards.geometry.to_numpy(), districts.geometry.to_numpy()
    w_area = shapely.area(w_geom)
    # area of each intersecting (ward, district) pair, vectorised
    pairs = shapely.STRtree(d_geom).query(w_geom, predicate="intersects")
    inter = shapely.area(shapely.intersection(w_geom[pairs[0]], d_geom[pairs[1]]))
    codes = wards["gso_code"].astype(str).str.zfill(5).to_numpy()
    return pd.DataFrame({"ward": codes[pairs[0]], "district": districts["level2_id"].astype(str).to_numpy()[pairs[1]],
                         "district_name": districts["name"].astype(str).to_numpy()[pairs[1]],
                         "share": inter / w_area[pairs[0]]}).query("share > 0.001")


def programme_city_group(city: Any) -> CityGroup:
    """A programme city (2020) as the group of 2025 communes/wards formed from its communes.

    Method: the district polygons are the 2025 unit polygons dissolved by the pre-2025
    district of their predecessors (the crosswalk dvhcvn/20250701, ``data/shapefiles/SOURCES.md``),
    so the share of a 2025 unit's area lying in each old district says where its territory
    came from. A unit belongs to the group of the district holding the largest part of its
    area; a unit formed across a city border (Tân Cương, Đại Phúc) is counted once, in that
    city, and carries the other districts with their shares (``GroupMember.others``).
    Areas in EPSG:9213.

    Parameters
    ----------
    city : str or PlanningUnit
        One of :func:`programme_cities` (an id, a name, or the unit).

    Raises
    ------
    AtlasError
        ``report.unknown_unit`` when ``city`` is not a programme city.
    """
    unit = resolve(city, ("city",))
    if not unit.smart_city:
        choices = ", ".join(u.name for u in programme_cities())
        raise AtlasError("report.unknown_unit", unit=unit.name, choices=choices)
    return district_group(unit)


def district_group(city: Any) -> CityGroup:
    """Any pre-2025 district/city as the group of 2025 units formed from its communes (the
    rule of :func:`programme_city_group`, which is this for the three programme cities)."""
    unit = resolve(city, ("city",))
    shares = _group_shares()
    best = shares.sort_values("share", ascending=False).drop_duplicates("ward")
    mine = best[best["district"] == unit.code]["ward"]
    wards = {u.code: u for u in _layer_units("wards_2025")}
    members = []
    for code in mine:
        rows = shares[shares["ward"] == code]
        own = float(rows.loc[rows["district"] == unit.code, "share"].sum())
        others = tuple((str(r.district_name), float(r.share)) for r in rows.itertuples() if r.district != unit.code)
        members.append(GroupMember(wards[code], own, others))
    return CityGroup(unit, tuple(sorted(members, key=lambda m: m.unit.name)))


PARTIAL_SHARE = 0.01
"""A 2025 unit with at least this share of its area in a pre-2025 unit, but counted elsewhere,
is named as lying partly in it (smaller shares are digitising slivers)."""


@dataclass(frozen=True)
class Units2025:
    """The 2025 communes/wards of a pre-2025 unit, by one rule (the crosswalk's majority of
    area, as :func:`programme_city_group`): ``members`` are counted in the unit, ``partial``
    lie partly in it but are counted in a neighbour (gso codes, sorted by name)."""

    members: tuple[str, ...]
    partial: tuple[str, ...]


def units_2025_of(unit: Any) -> Units2025:
    """Which 2025 units a pre-2025 district/city or the province stands for today.

    Rule (one for the deck's map, its subtitle and key message, the print map and the
    readiness page's groups): a 2025 unit counts in the pre-2025 district holding the largest
    share of its area (areas in EPSG:9213 of the district polygons, which are the 2025 polygons
    dissolved by the district of their predecessor communes — crosswalk dvhcvn/20250701). The
    province's units are those counted in any of its districts. A unit with at least
    :data:`PARTIAL_SHARE` of its area inside but counted elsewhere is ``partial``.

    Parameters
    ----------
    unit : str or PlanningUnit
        The province or a pre-2025 district/city (any spelling :func:`resolve` takes).

    Raises
    ------
    AtlasError
        ``report.unknown_unit`` for a unit of another level.
    """
    u = resolve(unit, ("province", "city"))
    shares = _group_shares()
    best = shares.sort_values("share", ascending=False).drop_duplicates("ward")
    names = {w.code: w.name for w in _layer_units("wards_2025")}
    if u.level == "province":
        members, partial = set(best["ward"]), set()
    else:
        members = set(best.loc[best["district"] == u.code, "ward"])
        mine = shares[(shares["district"] == u.code) & (shares["share"] >= PARTIAL_SHARE)]
        partial = set(mine["ward"]) - members

    def order(codes: set[str]) -> tuple[str, ...]:
        return tuple(sorted(codes, key=lambda c: (names.get(c, c), c)))

    return Units2025(order(members), order(partial))

"""The official facility register: an XLSX template, its import, and authoritative sources.

Planners hold the departments' lists (health stations, schools, post offices, People's
Committee seats) in Excel. This module

1. writes a template (:func:`template_xlsx`): one sheet per register sheet, Vietnamese
   headers, coordinates as WGS84 lat/lon *or* VN-2000 X/Y (TM-3 106°30′, EPSG:9213, the
   zone of Thái Nguyên and Bắc Kạn; X = northing as surveyors write it);
2. imports a filled template (:func:`import_register`) through the normal reading path
   (:func:`geo.io.read_any`, one call per sheet, so coordinate parsing, VN-2000, number
   formats and refusals are the Data page's) into one workspace layer per category;
3. lets an editor declare a saved workspace layer the *authoritative source* of a category
   (:func:`declare_authoritative`): stored in the workspace with who and when, and written to
   the workspace's audit log; :func:`authoritative_source` returns the current declaration
   and :func:`facilities_for` the facilities every surface uses by default (the OSM layer
   stays available for comparison).
"""
from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.errors import AtlasError
from geo.i18n import t
from geo.settings import METRIC_CRS, STORE_CRS


@dataclass(frozen=True)
class Sheet:
    """One sheet of the template: the facilities of one type in one category."""

    id: str
    category: str
    facility_type: str

    def title(self, lang: str = "vi") -> str:
        return t(f"register.sheet_{self.id}", lang)


SHEETS = (
    Sheet("health_station", "health", "health_station"),
    Sheet("hospital", "health", "hospital"),
    Sheet("school", "education", "school"),
    Sheet("post_office", "post", "post_office"),
    Sheet("people_committee", "public_admin", "people_committee"),
)
#: (column id, i18n key) of every sheet, in order; coordinates: lat/lon OR X/Y per row
COLUMNS = ("name", "address", "unit", "lat", "lon", "x_vn2000", "y_vn2000", "note")
VN2000_CRS = METRIC_CRS  # VN-2000 / TM-3 106°30′ (Thái Nguyên, Bắc Kạn)
DECLARATIONS_TABLE = "reg_authoritative"


def headers(lang: str = "vi") -> list[str]:
    """The template's column headers in ``lang`` (the reader recognises both languages)."""
    return [t(f"register.col_{c}", lang) for c in COLUMNS]


def template_xlsx(lang: str = "vi") -> bytes:
    """The register template as XLSX bytes: an instructions sheet, then one sheet per
    :data:`SHEETS` entry with the headers of :func:`headers` and no rows."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        pd.DataFrame({t("register.col_instructions", lang): [t(f"register.help_{i}", lang) for i in range(1, 6)]}
                     ).to_excel(xw, sheet_name=t("register.sheet_instructions", lang)[:31], index=False)
        for sheet in SHEETS:
            pd.DataFrame(columns=headers(lang)).to_excel(xw, sheet_name=sheet.title(lang)[:31], index=False)
        for ws in xw.book.worksheets:
            for col in ws.columns:
                ws.column_dimensions[col[0].column_letter].width = 22
    return buf.getvalue()


def _sheet_for(title: str) -> Sheet | None:
    from geo.text import fold

    for sheet in SHEETS:
        if fold(title) in {fold(sheet.title("vi")[:31]), fold(sheet.title("en")[:31])}:
            return sheet
    return None


def _read_sheet(path: Path, sheet_title: str, fname: str) -> gpd.GeoDataFrame | None:
    """One filled sheet through :func:`geo.io.read_any` (None when it has no row).

    Rows give lat/lon or VN-2000 X/Y; the two groups are read separately (the reader takes
    the first coordinate pair it finds, so each group is handed to it alone).
    """
    from geo import io as gio

    raw = pd.read_excel(path, sheet_name=sheet_title, dtype=object)
    raw = raw.dropna(how="all")
    if raw.empty:
        return None
    cols = dict(zip(COLUMNS, raw.columns[:len(COLUMNS)]))
    has_ll = raw[[cols["lat"], cols["lon"]]].notna().all(axis=1)
    has_xy = raw[[cols["x_vn2000"], cols["y_vn2000"]]].notna().all(axis=1) & ~has_ll
    missing = raw.index[~(has_ll | has_xy)]
    if len(missing):
        raise AtlasError("register_errors.no_coordinates", file=fname, sheet=sheet_title,
                         rows=", ".join(str(int(i) + 2) for i in missing[:10]))
    parts = []
    with tempfile.TemporaryDirectory(prefix="atlas_register_") as tmp:
        for mask, drop, crs in ((has_ll, ("x_vn2000", "y_vn2000"), None),
                                (has_xy, ("lat", "lon"), VN2000_CRS)):
            if not mask.any():
                continue
            part = raw.loc[mask].drop(columns=[cols[c] for c in drop])
            csv = Path(tmp) / f"{len(parts)}.csv"
            part.to_csv(csv, index=False, encoding="utf-8")
            gdf, _report = gio.read_any(csv, crs=crs, display_name=f"{fname} — {sheet_title}")
            parts.append(gdf)
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=STORE_CRS)


def read_register(path: str | Path, display_name: str | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Read a filled template: one GeoDataFrame (EPSG:4326 points) per category.

    Each frame has the sheet's columns plus ``category`` and ``facility_type``. Sheets not
    in the template are ignored; an empty template raises ``register_errors.empty``.
    """
    path = Path(path)
    fname = display_name or path.name
    try:
        titles = pd.ExcelFile(path).sheet_names
    except Exception:  # any unreadable workbook is the user's file
        raise AtlasError("register_errors.unreadable", file=fname) from None
    by_category: dict[str, list[gpd.GeoDataFrame]] = {}
    for title in titles:
        sheet = _sheet_for(title)
        if sheet is None:
            continue
        gdf = _read_sheet(path, title, fname)
        if gdf is None:
            continue
        gdf["category"] = sheet.category
        gdf["facility_type"] = sheet.facility_type
        by_category.setdefault(sheet.category, []).append(gdf)
    if not by_category:
        raise AtlasError("register_errors.empty", file=fname)
    return {c: gpd.GeoDataFrame(pd.concat(f, ignore_index=True), geometry="geometry", crs=STORE_CRS)
            for c, f in by_category.items()}


def import_register(path: str | Path, name_prefix: str, editor: Any = None, display_name: str | None = None,
                    overwrite: bool = False) -> list[str]:
    """Read a filled template and save one workspace layer per category.

    Returns the saved layer names (``"<name_prefix> — <category title>"``). Nothing is
    declared authoritative here: an editor does that with :func:`declare_authoritative`.
    """
    from geo import workspace
    from geo.catalog import get_catalog

    cats = get_catalog().categories
    saved = []
    fname = display_name or Path(path).name
    for category, gdf in read_register(path, display_name).items():
        name = f"{name_prefix} — {cats[category].title('vi') if category in cats else category}"
        workspace.save_layer(name, gdf, meta={"source": fname, "register_category": category},
                             overwrite=overwrite, editor=editor)
        saved.append(name)
    return saved


@dataclass(frozen=True)
class Declaration:
    """A workspace layer declared the authoritative source of a category."""

    category: str
    layer: str
    declared_by: str
    declared_at: str


def _store(path: str | Path | None = None):  # geo.store.Store
    from geo.store import Store

    return Store(path)


_SCHEMA = (f"CREATE TABLE IF NOT EXISTS {DECLARATIONS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
           "category TEXT NOT NULL, layer TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL)")


def declare_authoritative(editor: Any, category: str, layer: str | None, path: str | Path | None = None) -> None:
    """Declare the saved layer ``layer`` the authoritative source of ``category``
    (``layer=None`` withdraws the declaration: the OSM layer is used again).

    The declaration is appended (never overwritten) to the workspace table
    ``reg_authoritative`` and to the audit log (action ``register_declared``), with the
    editor's user name and the time, in one transaction.

    Raises
    ------
    AtlasError
        ``store_errors.not_editor`` without an editor; ``register_errors.unknown_category``;
        ``workspace_errors.no_such_layer`` / ``register_errors.not_points`` for a layer that
        cannot serve as facilities.
    """
    from geo import workspace
    from geo.auth import require_editor
    from geo.catalog import get_catalog

    editor = require_editor(editor, path)
    if category not in get_catalog().categories:
        raise AtlasError("register_errors.unknown_category", category=str(category)[:40])
    if layer is not None:
        info = workspace.layer_info(layer)
        if info["kind"] != "points":
            raise AtlasError("register_errors.not_points", layer=layer)
    store = _store(path)
    with store.edit(editor) as w:  # one transaction: declaration and audit entry together
        w.conn.execute(_SCHEMA)
        w.conn.execute(f"INSERT INTO {DECLARATIONS_TABLE} (category, layer, actor, at) VALUES (?, ?, ?, ?)",
                       (category, layer or "", editor.username, w.at))
        w.audit("register_declared", category, {"layer": layer or "", "withdrawn": layer is None})


def authoritative_source(category: str, path: str | Path | None = None) -> Declaration | None:
    """The current authoritative source of ``category``, or None (then the OSM layer is used).

    A declaration whose layer was deleted or renamed since no longer counts.
    """
    import sqlite3

    from geo import workspace

    store = _store(path)
    if not store.path.exists():
        return None
    with store.read() as conn:
        try:
            row = conn.execute(f"SELECT category, layer, actor, at FROM {DECLARATIONS_TABLE} WHERE category = ? "
                               "ORDER BY id DESC LIMIT 1", (category,)).fetchone()
        except sqlite3.OperationalError:  # no declaration was ever made
            return None
    if row is None or not row["layer"]:
        return None
    if not any(info["name"] == row["layer"] for info in workspace.list_layers()):
        return None
    return Declaration(category=row["category"], layer=row["layer"], declared_by=row["actor"], declared_at=row["at"])


@dataclass(frozen=True)
class FacilitySource:
    """Where the facilities of a category come from, for the figures' credits."""

    category: str
    authoritative: bool
    layer: str  # workspace layer name, or the catalog layer id "infrastructure"
    declaration: Declaration | None

    def credit(self, lang: str) -> str:
        """The credit line naming the source in use (OSM, or the declared register with who/when) in ``lang``."""
        if self.declaration is None:
            return t("register.credit_osm", lang)
        return t("register.credit_register", lang, layer=self.layer, who=self.declaration.declared_by,
                 when=self.declaration.declared_at[:10])


def facilities_for(category: str, path: str | Path | None = None,
                   use_authoritative: bool = True) -> tuple[gpd.GeoDataFrame, FacilitySource]:
    """The facilities of ``category`` every surface uses by default, and where they come from.

    The declared authoritative workspace layer when there is one (its points all count,
    ``category`` set), else the category's points of the shipped OSM layer
    (``use_authoritative=False`` always gives the OSM points, for comparison).
    """
    from geo import workspace
    from geo.catalog import load_layer

    decl = authoritative_source(category, path) if use_authoritative else None
    if decl is not None:
        gdf = workspace.read_layer(decl.layer)
        gdf["category"] = category
        return gdf, FacilitySource(category, True, decl.layer, decl)
    infra = load_layer("infrastructure")
    return (infra[infra["category"] == category].reset_index(drop=True),
            FacilitySource(category, False, "infrastructure", None))


def declarations(path: str | Path | None = None) -> pd.DataFrame:
    """Every declaration ever made (newest first): category, layer, actor, at."""
    import sqlite3

    store = _store(path)
    if not store.path.exists():
        return pd.DataFrame(columns=["category", "layer", "actor", "at"])
    with store.read() as conn:
        try:
            return pd.read_sql_query(f"SELECT category, layer, actor, at FROM {DECLARATIONS_TABLE} "
                                     "ORDER BY id DESC", conn)
        except (sqlite3.OperationalError, pd.errors.DatabaseError):
            return pd.DataFrame(columns=["category", "layer", "actor", "at"])


__all__ = ["SHEETS", "template_xlsx", "read_register", "import_register", "declare_authoritative",
           "authoritative_source", "facilities_for", "declarations", "Declaration", "FacilitySource"]

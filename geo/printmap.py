"""Print maps rendered on the server with matplotlib (no browser, no basemap needed).

A4/A3 landscape, PNG at 300 dpi or vector PDF, drawn in VN-2000 / TM-3 106°30′
(EPSG:9213, metres) with title, subtitle, legend, scale bar, north arrow, data date,
source/licence credits and a CRS note. Text uses DejaVu Sans (bundled with matplotlib),
which has every Vietnamese glyph.

Also the planning units the print maps and the council deck are about
(the province and its districts, from the registry ``geo.units``).

>>> unit = resolve("TP Sông Công", DECK_LEVELS)              # doctest: +SKIP
>>> print_unit_map(unit, "/tmp/song_cong.pdf", fmt="pdf")      # doctest: +SKIP
"""
from __future__ import annotations

import datetime as _dt
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle
from matplotlib.ticker import FuncFormatter

from geo.errors import AtlasError, os_reason
from geo.export import Credits, layer_credits
from geo.i18n import DEFAULT_LANG, fmt_number, t
from geo.labels import place_labels
from geo.settings import METRIC_CRS, STORE_CRS
from geo.units import DECK_LEVELS, TERRITORIES, PlanningUnit, resolve

FONT = "DejaVu Sans"
PAPERS_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}  # landscape (width, height)
PRINT_DPI = 300
_MAP_BOX = (0.035, 0.16, 0.67, 0.72)  # left, bottom, width, height of the map (figure fraction)
MM = 1 / 25.4

# catalog marker colours (leaflet.awesome-markers names) → matplotlib colours
_MARKER_COLORS = {"darkpurple": "#5b2a86", "cadetblue": "#5f9ea0", "gray": "#7f7f7f", "red": "#d62728",
                  "blue": "#1f77b4", "orange": "#ff7f0e", "green": "#2ca02c", "purple": "#9467bd",
                  "darkred": "#8b0000", "darkblue": "#00008b", "darkgreen": "#006400"}


def rc() -> dict[str, Any]:
    """Matplotlib settings of every print product (font with Vietnamese glyphs, TrueType in PDF).
    Mathtext is off: titles, layer names and labels are user text, shown as written ("$x$" stays)."""
    return {"font.family": "sans-serif", "font.sans-serif": [FONT], "pdf.fonttype": 42,
            "axes.unicode_minus": False, "svg.fonttype": "none", "text.parse_math": False}


def marker_color(name: str) -> str:
    """A matplotlib colour for a catalog marker colour name."""
    return _MARKER_COLORS.get(name, name)


# ---------------------------------------------------------------------------- units
# The planning units a map or deck is about come from the one registry (``geo.units``):
# ``resolve(text, DECK_LEVELS)`` takes "TP Sông Công", "song cong", "165", "districts:165", "province".


def _inside(gdf: gpd.GeoDataFrame, geom: Any) -> gpd.GeoDataFrame:
    """Rows whose representative point lies in ``geom`` (vectorised)."""
    import shapely

    if gdf.empty:
        return gdf
    pts = gdf.geometry.representative_point().values
    shapely.prepare(geom)
    return gdf[shapely.contains(geom, pts)]


SLIVER_M2 = 1_000_000.0
"""Holes smaller than this (m²) in a unit outline are gaps between the simplified commune
polygons the districts were dissolved from, not enclaves: the printed boundary omits them."""


def _without_slivers(geom: Any, max_area_m2: float = SLIVER_M2) -> Any:
    """``geom`` (EPSG:4326) with its interior rings smaller than ``max_area_m2`` removed.

    Only for drawing the unit outline: counts and selections keep the layer's geometry,
    so the print map, the deck and the map page agree on what lies inside.
    """
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    metric = gpd.GeoSeries([geom], crs=STORE_CRS).to_crs(METRIC_CRS).iloc[0]
    parts = list(metric.geoms) if isinstance(metric, MultiPolygon) else [metric]
    if not all(isinstance(p, Polygon) for p in parts) or not any(p.interiors for p in parts):
        return geom
    kept = []
    for p in parts:
        rings = [r for r in p.interiors if Polygon(r).area >= max_area_m2]
        kept.append(Polygon(p.exterior, rings))
    out = kept[0] if len(kept) == 1 else MultiPolygon(kept)
    return shapely.make_valid(gpd.GeoSeries([out], crs=METRIC_CRS).to_crs(STORE_CRS).iloc[0])


@dataclass
class UnitLayers:
    """The shipped layers cut to a unit (EPSG:4326).

    ``wards``: the 2025 units of the unit (``geo.units.units_2025_of``) with a bool column
    ``counted`` (False for one lying partly inside but counted in a neighbour). With
    ``territory == "2025"`` (a city seen as its 2025 units) ``boundary`` is the outline of the
    counted units, ``former`` the pre-2025 city outline and ``group`` the
    :class:`geo.units.CityGroup`.
    """

    unit: PlanningUnit
    boundary: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    infrastructure: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    credits: list[Credits] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    territory: str = "2020"
    former: gpd.GeoDataFrame | None = None
    group: Any = None

    @property
    def today(self) -> bool:
        """True when a city is shown as its 2025 units."""
        return self.group is not None

    @property
    def counted_wards(self) -> gpd.GeoDataFrame:
        """The 2025 units counted in the unit (the majority-of-area rule)."""
        return self.wards[self.wards["counted"]] if "counted" in self.wards else self.wards

    @property
    def partial_wards(self) -> gpd.GeoDataFrame:
        """The 2025 units lying partly in the unit, counted in a neighbour."""
        return self.wards[~self.wards["counted"]] if "counted" in self.wards else self.wards.iloc[0:0]


def _ward_codes(wards: gpd.GeoDataFrame) -> Any:
    return wards["gso_code"].astype(str).str.zfill(5)


def units_count_text(ul: UnitLayers, lang: str) -> str:
    """The map's count of units, from the one rule of ``geo.units.units_2025_of``: the 2009
    communes, the 2025 units counted in the unit and those lying partly in it (named)."""
    counted, partial = ul.counted_wards, ul.partial_wards
    if ul.today:
        text = t("report.units_count_today", lang, wards=len(counted), communes=len(ul.communes))
    else:
        text = t("report.units_count", lang, communes=len(ul.communes), wards=len(counted))
    if len(partial):
        names = ", ".join(partial["name_full"].astype(str)) if "name_full" in partial else str(len(partial))
        text += t("report.units_partial", lang, n=len(partial), names=names)
    return text


def unit_layers(unit: PlanningUnit | str, lang: str = DEFAULT_LANG, territory: str = "2020") -> UnitLayers:
    """Boundary, communes (2009), wards (2025), districts, infrastructure and roads of ``unit``.

    ``territory`` (:data:`TERRITORIES`) applies to a district/city: ``"2025"`` cuts every
    layer to the 2025 units formed from its communes (``geo.units.district_group``); the
    province is always its pre-2025 extent. A layer whose file is missing comes back empty
    and is named in ``missing``.

    Raises
    ------
    AtlasError
        ``report.bad_territory`` for a territory not in :data:`TERRITORIES`.
    """
    import shapely

    from geo.catalog import load_layer
    from geo.units import district_group, units_2025_of

    if territory not in TERRITORIES:
        raise AtlasError("report.bad_territory", territory=str(territory), choices=", ".join(TERRITORIES))
    unit = resolve(unit, DECK_LEVELS)
    empty = gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=STORE_CRS)
    got: dict[str, gpd.GeoDataFrame] = {}
    missing: list[str] = []
    credits: list[Credits] = []
    for lid in ("districts", "communes", "wards_2025", "infrastructure", "roads_national"):
        try:
            got[lid] = load_layer(lid)
            credits.append(layer_credits(lid, lang))
        except AtlasError:
            got[lid] = empty
            missing.append(lid)
    old_geom = unit.geometry
    districts = got["districts"]
    if unit.level == "city" and not districts.empty:
        districts = districts[districts["level2_id"].astype(str) == unit.code]
    wards = got["wards_2025"]
    group = former = None
    if wards.empty:
        wards = wards.assign(counted=pd.Series(dtype=bool))
    else:
        which = units_2025_of(unit)
        codes = _ward_codes(wards)
        wards = wards[codes.isin(which.members + which.partial)].assign(counted=codes.isin(which.members))
    geom = old_geom
    if territory == "2025" and unit.level == "city" and len(wards):
        group = district_group(unit)
        wards = wards[wards["counted"]]
        geom = shapely.union_all(wards.geometry.to_numpy())
        former = gpd.GeoDataFrame({"name": [unit.label(lang)]}, geometry=[_without_slivers(old_geom)], crs=STORE_CRS)
    boundary = gpd.GeoDataFrame({"name": [unit.label(lang)]}, geometry=[_without_slivers(geom)], crs=STORE_CRS)
    infra = got["infrastructure"]
    if not infra.empty:
        shapely.prepare(geom)
        infra = infra[shapely.contains(geom, infra.geometry.values)]
    roads = got["roads_national"]
    if not roads.empty:
        roads = roads[roads.intersects(geom)].copy()
        roads["geometry"] = roads.geometry.intersection(geom)
        roads = roads[~roads.geometry.is_empty]
    return UnitLayers(unit, boundary, _inside(got["communes"], old_geom), wards, districts, infra, roads, credits,
                      missing, territory if group is not None else "2020", former, group)


# ---------------------------------------------------------------------------- layers & map


@dataclass
class MapLayer:
    """One layer of a print map, with how to draw it and its legend entry."""

    gdf: gpd.GeoDataFrame
    label: str
    color: str = "#1f2937"
    facecolor: str = "none"
    linewidth: float = 0.8
    linestyle: str = "-"
    markersize: float = 12.0
    alpha: float = 1.0
    column: str | None = None  # categorical column → one legend entry per value
    categories: dict[str, tuple[str, str]] | None = None  # value → (label, colour)
    zorder: int = 2
    labels: str | None = None  # column to write as text labels (small)
    keep_in_legend: bool = False  # listed in the legend even when nothing of it is in view


def _kind(gdf: gpd.GeoDataFrame) -> str:
    types = set(gdf.geom_type.dropna().unique())
    if types <= {"Point", "MultiPoint"}:
        return "point"
    if types <= {"LineString", "MultiLineString"}:
        return "line"
    return "polygon"


def _nice_length(max_m: float) -> float:
    """The largest 1/2/5 × 10^k not above ``max_m``."""
    if max_m <= 0:
        return 1.0
    k = math.floor(math.log10(max_m))
    for m in (5, 2, 1):
        if m * 10 ** k <= max_m:
            return m * 10 ** k
    return 10 ** k


def _draw_scalebar(ax: Any, lang: str, fontsize: float) -> float:
    """Alternating bar in the lower left; returns the representative scale denominator."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width_m = x1 - x0
    length = _nice_length(width_m / 4)
    seg = length / 4
    bx, by = x0 + 0.04 * width_m, y0 + 0.05 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    for i in range(4):
        ax.add_patch(Rectangle((bx + i * seg, by), seg, h, facecolor="black" if i % 2 == 0 else "white",
                               edgecolor="black", linewidth=0.6, zorder=20))
    unit_key, div = ("print.km", 1000.0) if length >= 1000 else ("print.m", 1.0)
    for i in (0, 2, 4):
        v = i * seg / div
        ax.text(bx + i * seg, by + 1.8 * h, fmt_number(v, lang, 0 if float(v).is_integer() else 1), ha="center",
                va="bottom", fontsize=fontsize, zorder=21)
    ax.text(bx + length + 0.01 * width_m, by + h / 2, t(unit_key, lang), ha="left", va="center",
            fontsize=fontsize, zorder=21)
    bbox = ax.get_window_extent()
    fig_w_in = bbox.width / ax.figure.dpi
    return width_m / (fig_w_in * 0.0254)


def _draw_north(ax: Any, lang: str, fontsize: float) -> None:
    """North arrow in the upper right (grid north ≈ true north on TM-3 106°30′ here)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    w, h = x1 - x0, y1 - y0
    cx, top = x1 - 0.06 * w, y1 - 0.05 * h
    length = 0.09 * h
    ax.add_patch(FancyArrow(cx, top - length, 0, length * 0.75, width=0.012 * w, head_width=0.035 * w,
                            head_length=0.3 * length, length_includes_head=False, color="black", zorder=20))
    ax.text(cx, top - length - 0.015 * h, t("print.north", lang), ha="center", va="top",
            fontsize=fontsize * 1.3, fontweight="bold", zorder=21)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.fill(part, width) for part in text.split("\n"))


def crs_note(crs: Any, lang: str) -> str:
    """The CRS line printed on the map."""
    import pyproj

    c = pyproj.CRS.from_user_input(crs)
    if c.to_epsg() == 9213:
        return t("print.crs_note", lang)
    return t("print.crs_note_other", lang, name=c.name, code=f"EPSG:{c.to_epsg()}" if c.to_epsg() else "")


def render_map(layers: Sequence[MapLayer], *, title: str, subtitle: str = "", lang: str = DEFAULT_LANG,
               paper: str = "A4", data_date: str = "", credits: Credits | None = None,
               crs: Any = METRIC_CRS, extent: Sequence[float] | None = None, dpi: int = PRINT_DPI,
               figsize_in: tuple[float, float] | None = None, min_label_pt: float = 0.0) -> Figure:
    """Lay out a print map and return the matplotlib ``Figure`` (not yet saved).

    ``extent``: (minx, miny, maxx, maxy) in EPSG:4326; default the union of all layers.
    ``figsize_in`` overrides the paper size (used for slides). ``min_label_pt``: smallest
    size of place names (slides: readable at projector size); names that would overlap at
    that size are dropped (``geo.labels.place_labels``), and ``fig.atlas_labels`` lists the
    boxes drawn.
    """
    paper = str(paper).upper()
    if figsize_in is None:
        if paper not in PAPERS_MM:
            raise AtlasError("print.bad_paper", paper=paper)
        w_mm, h_mm = PAPERS_MM[paper]
        figsize_in = (w_mm * MM, h_mm * MM)
    shown = [ly for ly in layers if ly.gdf is not None and not ly.gdf.empty]
    if not shown:
        raise AtlasError("print.nothing")
    scale = figsize_in[0] / (297 * MM)  # type grows with the paper
    base = 9.0 * scale
    with plt.rc_context(rc()):
        fig = Figure(figsize=figsize_in, dpi=dpi)
        fig.text(0.02, 0.965, title, fontsize=base * 2.0, fontweight="bold", va="top", ha="left", parse_math=False)
        if subtitle:
            fig.text(0.02, 0.905, subtitle, fontsize=base * 1.25, va="top", ha="left", color="#374151",
                     parse_math=False)
        ax = fig.add_axes((_MAP_BOX[0], _MAP_BOX[1], _MAP_BOX[2], _MAP_BOX[3]))
        side = fig.add_axes((0.73, _MAP_BOX[1], 0.25, _MAP_BOX[3]))
        side.set_axis_off()
        handles: list[Any] = []
        projected = []
        label_sets: list[tuple[Any, Any, Any, Any, float]] = []  # placed once the extent is known
        for ly in layers:
            if ly.gdf is None or ly.gdf.empty:
                if ly.keep_in_legend:  # e.g. a choropleth class with no unit in the extent
                    handles.append(Patch(facecolor=ly.facecolor, edgecolor=ly.color, linewidth=ly.linewidth * scale,
                                         label=ly.label))
                continue
            g = ly.gdf.to_crs(crs)
            projected.append(g)
            kind = _kind(g)
            if ly.column and ly.categories:
                for value, (label, color) in ly.categories.items():
                    part = g[g[ly.column] == value]
                    if part.empty:
                        continue
                    part.plot(ax=ax, color=color, markersize=ly.markersize, edgecolor="white", linewidth=0.3,
                              zorder=ly.zorder, alpha=ly.alpha)
                    handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor=color,
                                          markeredgecolor="white", markersize=7 * scale,
                                          label=f"{label} ({len(part)})"))
                continue
            if kind == "polygon":
                g.plot(ax=ax, facecolor=ly.facecolor, edgecolor=ly.color, linewidth=ly.linewidth * scale,
                       linestyle=ly.linestyle, alpha=ly.alpha, zorder=ly.zorder)
                handles.append(Patch(facecolor=ly.facecolor, edgecolor=ly.color, linestyle=ly.linestyle,
                                     linewidth=ly.linewidth * scale, label=ly.label))
            elif kind == "line":
                g.plot(ax=ax, color=ly.color, linewidth=ly.linewidth * scale, linestyle=ly.linestyle,
                       alpha=ly.alpha, zorder=ly.zorder)
                handles.append(Line2D([], [], color=ly.color, linewidth=ly.linewidth * scale,
                                      linestyle=ly.linestyle, label=ly.label))
            else:
                g.plot(ax=ax, color=ly.color, markersize=ly.markersize, alpha=ly.alpha, zorder=ly.zorder)
                handles.append(Line2D([], [], marker="o", linestyle="", color=ly.color, label=ly.label))
            if ly.labels and ly.labels in g.columns and len(g) <= 120:
                pts = g.geometry.representative_point()
                label_sets.append((pts.x.to_numpy(), pts.y.to_numpy(), g[ly.labels].astype(str).to_numpy(),
                                   g.geometry.area.to_numpy() * (10.0 ** len(label_sets)), ly.zorder + 5))
        if extent is not None:
            ext = gpd.GeoSeries.from_xy([extent[0], extent[2]], [extent[1], extent[3]], crs=STORE_CRS).to_crs(crs)
            minx, miny, maxx, maxy = ext.total_bounds
        else:
            bounds = [g.total_bounds for g in projected]
            minx = min(b[0] for b in bounds); miny = min(b[1] for b in bounds)
            maxx = max(b[2] for b in bounds); maxy = max(b[3] for b in bounds)
        # fit the extent to the axes' aspect with a 4 % margin
        fig_w, fig_h = figsize_in
        ax_aspect = (_MAP_BOX[2] * fig_w) / (_MAP_BOX[3] * fig_h)
        w, h = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        w, h = w * 1.08, h * 1.08
        if w / h < ax_aspect:
            w = h * ax_aspect
        else:
            h = w / ax_aspect
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        ax.set_xlim(cx - w / 2, cx + w / 2)
        ax.set_ylim(cy - h / 2, cy + h / 2)
        ax.set_aspect("equal", adjustable="box")
        km = FuncFormatter(lambda v, _pos: fmt_number(v / 1000.0, lang, 0))
        ax.xaxis.set_major_formatter(km)
        ax.yaxis.set_major_formatter(km)
        ax.tick_params(labelsize=base * 0.6, colors="#6b7280")
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_axisbelow(True)  # the km grid under the data, not across a choropleth
        ax.grid(True, color="#e5e7eb", linewidth=0.4 * scale, zorder=0)
        for spine in ax.spines.values():
            spine.set_edgecolor("#9ca3af")
        # names without overlaps, biggest units first (later layers, e.g. cities over communes, win)
        fig.atlas_labels = []  # type: ignore[attr-defined] — boxes for tests and callers
        size = max(base * 0.55, min_label_pt)
        for xs, ys, texts, prio, z in reversed(label_sets):
            taken = [b for placed in fig.atlas_labels for b in placed.boxes]  # type: ignore[attr-defined]
            fig.atlas_labels.append(place_labels(ax, xs, ys, texts, prio, fontsize=size, zorder=z,  # type: ignore[attr-defined]
                                                 avoid_px=taken))
        slide = min_label_pt > 0          # a slide: every text readable at projector size, no coordinates

        def readable(pt: float) -> float:
            return max(pt, min_label_pt)

        if slide:
            ax.set_xticks([])
            ax.set_yticks([])
        denom = _draw_scalebar(ax, lang, readable(base * 0.75))
        _draw_north(ax, lang, readable(base))
        # side panel: legend, notes, credits (long layer titles wrapped to the panel)
        for h in handles:
            h.set_label(_wrap(h.get_label(), 24 if slide else 40))
        leg = side.legend(handles=handles, loc="upper left", title=t("print.legend", lang), frameon=False,
                          fontsize=readable(base * 0.85), title_fontsize=readable(base * 1.05), alignment="left",
                          borderaxespad=0.0)
        leg._legend_box.align = "left"  # matplotlib API for title alignment
        notes = [t("print.scale_note", lang, scale=fmt_number(_round_scale(denom), lang)),
                 crs_note(crs, lang), t("print.no_basemap", lang)]
        if data_date:
            notes.insert(0, t("print.data_date", lang, date=data_date))
        wrap = 52
        if slide:                         # the deck's sources slides carry the rest
            notes, wrap = notes[-3:-2], 30
        side.text(0.0, 0.0, _wrap("\n".join(notes), wrap), fontsize=readable(base * 0.72), va="bottom", ha="left",
                  transform=side.transAxes, color="#111827", linespacing=1.35)
        if credits is not None:
            lines = _credit_lines(credits, lang)
            half = (len(lines) + 1) // 2
            fig.text(0.035, 0.115, t("print.credits", lang), fontsize=base * 0.72, fontweight="bold", va="top",
                     ha="left")
            for col, chunk in enumerate((lines[:half], lines[half:])):
                fig.text(0.035 + col * 0.48, 0.092, _wrap("\n".join(chunk), 150), fontsize=base * 0.5,
                         va="top", ha="left", color="#374151", linespacing=1.2)
        if slide:                         # nothing on a slide below the readable minimum
            from matplotlib.text import Text as _Text

            for txt in fig.findobj(_Text):
                if txt.get_fontsize() < min_label_pt:
                    txt.set_fontsize(min_label_pt)
        if not slide:
            fig.text(0.98, 0.965, f"{t('export.atlas', lang)}\n{t('print.printed', lang, date=_dt.date.today().isoformat())}",
                     fontsize=base * 0.65, color="#6b7280", ha="right", va="top")
    return fig


def _credit_lines(credits: Credits, lang: str) -> list[str]:
    out = []
    for c in credits.parts or (credits,):
        mark = f" [{t('common.derived', lang)}]" if c.derived else ""
        out.append(f"• {c.title}{mark}: {c.source} — {c.licence} — {c.vintage}")
    return out


def _round_scale(denom: float) -> int:
    if denom <= 0 or not math.isfinite(denom):
        return 0
    k = 10 ** max(int(math.floor(math.log10(denom))) - 1, 0)
    return int(round(denom / k) * k)


def save_figure(fig: Figure, out: str | Path, fmt: str | None = None, dpi: int = PRINT_DPI) -> Path:
    """Save as PNG (``dpi``) or PDF; ``fmt`` defaults to the file suffix."""
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".") or "png").lower()
    if fmt not in ("png", "pdf"):
        raise AtlasError("print.bad_format", fmt=fmt)
    if out.suffix.lower() != f".{fmt}":
        out = out.with_suffix(f".{fmt}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with plt.rc_context(rc()):
            fig.savefig(out, format=fmt, dpi=dpi, metadata=_pdf_meta(fig) if fmt == "pdf" else None)
    except OSError as exc:
        raise AtlasError("errors.unwritable", path=str(out), reason=os_reason(exc)) from None
    return out


def _pdf_meta(fig: Figure) -> dict[str, str]:
    title = fig.texts[0].get_text() if fig.texts else ""
    return {"Title": title, "Creator": t("export.atlas", "en")}


def unit_map_layers(ul: UnitLayers, lang: str = DEFAULT_LANG, with_infrastructure: bool = True,
                    with_labels: bool = True) -> list[MapLayer]:
    """The standard layers of a unit map: communes, wards (derived), boundary, roads, facilities."""
    from geo.catalog import get_catalog

    cats = get_catalog().categories
    unit = ul.unit
    if ul.today:   # today's units named on the map; the 2009 communes thin, unnamed, beneath
        layers = [
            MapLayer(ul.communes, t("print.communes", lang), color="#93c5fd", linewidth=0.4, zorder=2),
            MapLayer(ul.wards, t("print.wards_2025", lang), color="#059669", linewidth=1.2, zorder=3,
                     labels="name_full" if with_labels else None),
            MapLayer(ul.former, t("print.former_boundary", lang, name=unit.label(lang)), color="#dc2626",
                     linewidth=1.6, linestyle="--", zorder=5),
            MapLayer(ul.boundary, t("print.today_boundary", lang, name=unit.label(lang)), color="#111827",
                     linewidth=2.2, zorder=4),
        ]
    else:
        layers = [
            MapLayer(ul.communes, t("print.communes", lang), color="#2563eb", linewidth=0.5, zorder=2,
                     labels=("commune_vn" if with_labels and unit.level == "city" else None)),
            MapLayer(ul.wards, t("print.wards_2025", lang), color="#059669", linewidth=1.0, linestyle="--", zorder=3),
        ]
        if unit.level == "province":
            layers.append(MapLayer(ul.districts, t("print.districts", lang), color="#374151",
                                   linewidth=1.2, zorder=4, labels="name" if with_labels else None))
        layers.append(MapLayer(ul.boundary, t("print.city_boundary", lang, name=unit.label(lang)), color="#dc2626",
                               linewidth=2.2, zorder=5))
    layers.append(MapLayer(ul.roads, t("print.roads", lang), color="#b45309", linewidth=1.6, zorder=6))
    if with_infrastructure and not ul.infrastructure.empty:
        order = [c for c in cats if c != "other"]
        layers.append(MapLayer(ul.infrastructure[ul.infrastructure["category"].isin(order)], "", column="category",
                               categories={c: (cats[c].title(lang), marker_color(cats[c].color)) for c in order},
                               markersize=10, zorder=7))
    return layers


def data_date_of(credits: Sequence[Credits]) -> str:
    """The vintages of ``credits`` as one short line: the first clause of each, unique, in order."""
    firsts = (re.split(r"[;(]", c.vintage)[0].strip(" ,") for c in credits if c.vintage)
    # "unknown (file committed …)" says nothing about the data's date: left out here (the
    # credits block prints the full vintage)
    return "; ".join(dict.fromkeys(f for f in firsts if f and f.lower() not in ("unknown", "không rõ")))


def unit_map_figure(unit: PlanningUnit | str, *, lang: str = DEFAULT_LANG, paper: str = "A4", title: str | None = None,
                    subtitle: str | None = None, with_infrastructure: bool = True, dpi: int = PRINT_DPI,
                    figsize_in: tuple[float, float] | None = None, min_label_pt: float = 0.0) -> Figure:
    """The standard print map of a unit as a ``Figure``."""
    ul = unit_layers(unit, lang)
    u = ul.unit
    credits = Credits.combine(t("print.credits", lang), ul.credits)
    return render_map(unit_map_layers(ul, lang, with_infrastructure), title=title or t("print.title_default", lang, name=u.label(lang)),
                      subtitle=subtitle if subtitle is not None else units_count_text(ul, lang),
                      lang=lang, paper=paper, data_date=data_date_of(ul.credits), credits=credits, dpi=dpi,
                      figsize_in=figsize_in)


def print_unit_map(unit: PlanningUnit | str, out: str | Path, *, fmt: str | None = None, paper: str = "A4",
                   lang: str = DEFAULT_LANG, title: str | None = None, subtitle: str | None = None,
                   with_infrastructure: bool = True) -> Path:
    """Render the standard map of ``unit`` to ``out`` (PNG 300 dpi or PDF)."""
    fig = unit_map_figure(unit, lang=lang, paper=paper, title=title, subtitle=subtitle,
                          with_infrastructure=with_infrastructure)
    return save_figure(fig, out, fmt)


def choropleth_layers(gdf: gpd.GeoDataFrame, column: str, label: str, lang: str, k: int = 5,
                      scheme: str = "quantiles", palette: str = "YlOrRd",
                      extent: Sequence[float] | None = None) -> list[MapLayer]:
    """A numeric column in classes exactly as the web map draws it (``layers.render.classify``:
    same scheme, breaks, colours and labels): one ``MapLayer`` (legend entry) per class, plus
    one for "no data". Classes come from the whole layer; ``extent`` (W, S, E, N degrees)
    only clips what is drawn, so the printed legend matches the map page."""
    from geo.classify import NO_DATA_COLOR, classify

    classes, idx = classify(gdf[column], scheme, k, palette, lang)
    if extent is not None:
        w, s_, e, n = extent
        inside = gdf.index.isin(gdf.cx[w:e, s_:n].index)
    else:
        inside = None
    out: list[MapLayer] = []
    for i, (color, lab) in enumerate(zip(classes.colors, classes.labels)):
        mask = idx == i
        part = gdf[mask & inside] if inside is not None else gdf[mask]
        out.append(MapLayer(part, f"{label}: {lab}", color="#374151", facecolor=color, linewidth=0.3,
                            alpha=0.75, zorder=1, keep_in_legend=True))
    mask = idx < 0
    missing = gdf[mask & inside] if inside is not None else gdf[mask]
    if not missing.empty:
        out.append(MapLayer(missing, f"{label}: {t('common.no_data', lang)}", color="#374151",
                            facecolor=NO_DATA_COLOR, linewidth=0.3, zorder=1))
    return out


def catalog_map_layers(layer_ids: Sequence[str], lang: str = DEFAULT_LANG, loader: Any = None,
                       extent: Sequence[float] | None = None,
                       choropleth: tuple[str, str] | None = None) -> tuple[list[MapLayer], list[Credits]]:
    """Print layers for catalog layer ids, styled like the web map (catalog ``style``).

    ``extent`` (W, S, E, N in degrees) clips what is drawn; ``choropleth`` = (layer id,
    numeric column) colours that layer by quantile classes. Missing files are skipped.
    """
    from geo.catalog import get_catalog, load_layer

    loader = loader or load_layer
    catalog = get_catalog()
    layers: list[MapLayer] = []
    credits: list[Credits] = []
    for z, lid in enumerate(layer_ids):
        layer = catalog.layers.get(lid)
        if layer is None:
            continue
        try:
            gdf = loader(lid)
        except AtlasError:
            continue
        if choropleth and choropleth[0] == lid and choropleth[1] in gdf.columns:
            # classes from the whole layer (as the web map), before the extent clips it
            label = catalog.field_label(choropleth[1], lang)
            layers.extend(choropleth_layers(gdf, choropleth[1], label, lang, extent=extent))
        if extent is not None:
            w, s_, e, n = extent
            gdf = gdf.cx[w:e, s_:n]
        credits.append(layer_credits(lid, lang))
        style = layer.style or {}
        title = layer.title(lang)
        if lid == "infrastructure" and "category" in gdf:
            cats = catalog.categories
            order = [c for c in cats if c != "other"]
            layers.append(MapLayer(gdf[gdf["category"].isin(order)], title, column="category",
                                   categories={c: (cats[c].title(lang), marker_color(cats[c].color)) for c in order},
                                   markersize=10, zorder=10 + z))
            continue
        dash = "--" if style.get("dash_array") else "-"
        fill = style.get("fill_opacity", 0.0) or 0.0
        color = marker_color(style.get("color", "#374151"))
        layers.append(MapLayer(gdf, title, color=color, facecolor="none" if fill < 0.1 else color,
                               alpha=1.0 if fill < 0.1 else max(fill, 0.2), linestyle=dash,
                               linewidth=float(style.get("weight", 1.0)) * 0.6, zorder=2 + z,
                               markersize=float(style.get("radius", 4)) * 3))
    return layers, credits


def view_map_figure(layer_ids: Sequence[str], *, lang: str = DEFAULT_LANG, paper: str = "A4", title: str,
                    subtitle: str = "", extent: Sequence[float] | None = None,
                    choropleth: tuple[str, str] | None = None, loader: Any = None,
                    dpi: int = PRINT_DPI) -> Figure:
    """The print map of a web-map view (layers, extent W,S,E,N, optional choropleth)."""
    layers, credits = catalog_map_layers(layer_ids, lang, loader, extent, choropleth)
    ext = (extent[0], extent[1], extent[2], extent[3]) if extent is not None else None
    return render_map(layers, title=title, subtitle=subtitle, lang=lang, paper=paper,
                      data_date=data_date_of(credits), credits=Credits.combine(t("print.credits", lang), credits),
                      extent=ext, dpi=dpi)


def print_map(layers: Sequence[MapLayer], out: str | Path, *, fmt: str | None = None, **kwargs: Any) -> Path:
    """Render ``layers`` (see ``render_map`` for the keywords) and save to ``out``."""
    return save_figure(render_map(layers, **kwargs), out, fmt)


def figure_bytes(fig: Figure, fmt: str = "png", dpi: int = PRINT_DPI) -> bytes:
    """The figure as PNG/PDF bytes (for a download button or a slide)."""
    import io

    buf = io.BytesIO()
    with plt.rc_context(rc()):
        fig.savefig(buf, format=fmt, dpi=dpi)
    return buf.getvalue()


__all__ = ["UnitLayers", "MapLayer", "unit_layers",
           "render_map", "save_figure", "print_map", "print_unit_map", "unit_map_figure", "unit_map_layers",
           "figure_bytes", "crs_note", "rc", "PAPERS_MM", "PRINT_DPI", "catalog_map_layers", "view_map_figure",
           "choropleth_layers"]

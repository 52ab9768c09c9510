"""Text from users and files on maps is data, never a Jinja template (server-side template
injection) nor markup: every map the product draws, rendered the way the app (streamlit-folium's
strings) and the standalone export do, with hostile text in names, field names and values."""
from __future__ import annotations

import ast
import html as htmllib
import json
import os
import subprocess
import sys
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.catalog import load_layer
from geo.text import escape
from layers.render import add_choropleth, add_gdf_layer, finish_map, new_map, standalone_html
from layers.suggest_sites import suggestion_map
from pages.map_component import prepare_map

ROOT = Path(__file__).resolve().parents[1]
PID = str(os.getpid())
# each Jinja form between two markers, and what it would leave if a template engine ran it
JINJA = {
    "zq1{{ 7*7 }}zq2": "zq149zq2",
    "zq3{% for x in range(3) %}x{% endfor %}zq4": "zq3xxxzq4",
    "zq5{{ lipsum.__globals__.os.getpid() }}zq6": f"zq5{PID}zq6",
    "zq7{# c #}zq8": "zq7zq8",
    # a side effect: server-side evaluation shows even where the compiled output is thrown away
    "zq9{{ lipsum.__globals__.os.environ.update(SSTI_RAN=lipsum.__name__) }}zq0": "zq9Nonezq0",
}
MARKUP = '<img src=x onerror="window.__atlasXss=1">'
TICK = "J`+(window.__atlasTick=1)+`K"  # would end a JS template literal (folium tooltips)
HOSTILE = " ".join(JINJA) + " " + MARKUP + " " + TICK
FIELD = " ".join(JINJA) + " " + MARKUP  # a field name (a JSON key: a backtick there is inert)

pytestmark = pytest.mark.usefixtures("workspace_file")


@pytest.fixture(params=["every_defence", "root_only"])
def defences(request, monkeypatch):
    """Each map twice: as shipped, and with the text-level defences switched off (HTML escaping
    without the brace entities, JSON without the Jinja-inert braces) — the figure is rendered
    once and never compiled again, so even text that missed escaping cannot run."""
    if request.param == "root_only":
        import layers.compact
        import layers.render
        import layers.suggest_sites

        for module in (layers.render, layers.suggest_sites):
            monkeypatch.setattr(module, "escape", lambda v: "" if v is None else htmllib.escape(str(v)))
        monkeypatch.setattr(layers.compact, "jinja_inert_json", lambda text: text)
        monkeypatch.setitem(folium.Map._template.environment.policies, "json.dumps_function", json.dumps)
    return request.param


def _decoded(page: str) -> str:
    """The page with JSON string escapes and HTML references undone (what a reader would see)."""
    for code, ch in (("\\u0026", "&"), ("\\u007b", "{"), ("\\u003c", "<"), ("\\u003e", ">"), ("\\u0027", "'")):
        page = page.replace(code, ch)
    return htmllib.unescape(page)


@pytest.fixture(autouse=True)
def _no_side_effect_yet(monkeypatch):
    monkeypatch.delenv("SSTI_RAN", raising=False)


def assert_inert(page: str, must_show: bool = True) -> None:
    """Nothing of HOSTILE ran (server: Jinja; browser: markup) and, when ``must_show``, each
    Jinja form is on the page as literal text. (A backtick is inert in JSON strings: the
    template-literal case is the tooltip test's.)"""
    assert "SSTI_RAN" not in os.environ, "a template from the data ran on the server"
    for form, ran in JINJA.items():
        assert ran not in page, f"{form!r} was evaluated"
        if must_show:
            assert form in _decoded(page), f"{form!r} is missing from the page"
    assert "<img src=x" not in page


def app_strings(m: folium.Map) -> str:
    """What the app sends to streamlit-folium's component (the figure is rendered on the way)."""
    parts = prepare_map(m)
    return "\n".join((parts["html"], parts["header"], parts["script"]))


def hostile_frame(n: int, kind: str) -> gpd.GeoDataFrame:
    xy = np.column_stack((np.linspace(105.6, 106.0, n), np.linspace(21.4, 21.8, n)))
    geoms = (shapely.points(xy) if kind == "point"
             else shapely.buffer(shapely.points(xy), 0.002, quad_segs=2))
    return gpd.GeoDataFrame({FIELD: [HOSTILE] * n, "n": np.arange(n, dtype=float)}, geometry=geoms, crs=4326)


# ---------------------------------------------------------------------------- the root guarantee

def test_rendered_folium_output_is_never_compiled_again() -> None:
    """Even text that skipped escaping stays text: tooltip, DivIcon html, popup, attribution,
    layer name — the figure is rendered once, not compiled a second time."""
    raw = " ".join(JINJA)
    m = new_map("vi", "none")
    folium.TileLayer("/app/static/none/{z}/{x}/{y}.png", attr=raw, name=raw).add_to(m)
    group = folium.FeatureGroup(name=raw).add_to(m)
    folium.Marker([21.5, 105.8], tooltip=raw, popup=raw).add_to(group)
    folium.Marker([21.6, 105.9], icon=folium.DivIcon(html=raw)).add_to(group)
    folium.LayerControl().add_to(m)
    page = m.get_root().render()
    for form, ran in JINJA.items():
        assert ran not in page and form in _decoded(page), form


def test_a_style_value_that_is_an_element_still_resolves() -> None:
    """folium's GeoJson style map writes an element used as a style value (a fill pattern) as
    ``{{'name'}}`` for the second pass: that reference still becomes the variable name."""
    m = new_map("vi", "none")
    stripes = folium.plugins.StripePattern(angle=45).add_to(m)
    folium.GeoJson(hostile_frame(2, "polygon")[["geometry"]].__geo_interface__,
                   style_function=lambda f: {"fillPattern": stripes}).add_to(m)
    page = m.get_root().render()
    assert "{{'" not in page and f'"fillPattern": {stripes.get_name()}' in page


# ---------------------------------------------------------------------------- every map the product draws

@pytest.mark.parametrize(("n", "kind"), [(3, "point"), (3, "polygon"), (3001, "point")])  # plain and compact layers
def test_user_layer_names_fields_values_and_credits(n: int, kind: str, defences) -> None:
    def build() -> folium.Map:
        m = new_map("vi", "none")
        add_gdf_layer(m, hostile_frame(n, kind), "vi", HOSTILE, [FIELD, "n"])
        return finish_map(m, "vi", credits=HOSTILE)

    assert_inert(app_strings(build()))
    assert_inert(standalone_html(build()))


@pytest.mark.parametrize("n", [5, 3001])
def test_choropleth_title_legend_note_fields_and_values(n: int, defences) -> None:
    def build() -> folium.Map:
        m = new_map("en", "none")
        add_choropleth(m, hostile_frame(n, "polygon"), "n", "en", HOSTILE, tooltip_fields=[FIELD],
                       legend_title=HOSTILE, note=HOSTILE)
        return finish_map(m, "en")

    page = app_strings(build())
    assert_inert(page)
    assert 'class="atlas-legend"' in page
    assert_inert(standalone_html(build()))


def test_map_page_with_a_saved_layer_of_hostile_name_fields_and_values(editor, defences) -> None:
    from geo import workspace
    from pages.map_cache import cached_map, default_map_view, view_key
    from pages.shared_data import workspace_layers

    name = "zq1{{ 7*7 }}zq2 zq3{% for x in range(3) %}x{% endfor %}zq4 <b>"  # names: 1–80 characters
    workspace.save_layer(name, hostile_frame(4, "point"), editor=editor)
    mine = workspace_layers()
    assert list(mine) == [name]
    cached_map.clear()
    view = default_map_view("vi", "none")
    m, failures = cached_map(view_key(view, mine), view, mine)
    assert not failures
    assert_inert(app_strings(m))


def test_labels_of_highlighted_units_and_their_tooltips(defences) -> None:
    from geo.catalog import get_catalog
    from layers.render import add_catalog_layer

    layer = get_catalog().layer("districts")
    gdf = load_layer("districts").copy()
    gdf["name"] = HOSTILE
    m = new_map("vi", "none")
    add_catalog_layer(m, layer, gdf, "vi")               # outline: smart-city names as labels
    add_catalog_layer(m, layer, gdf, "vi", mode="choropleth", column="population_2019")
    assert_inert(app_strings(finish_map(m, "vi")))


def test_readiness_choropleth_with_a_hostile_indicator_and_unit_names(defences) -> None:
    from geo.indicators import Indicator
    from pages.readiness_map import _choropleth

    ind = Indicator(id="ssti_probe", name_vi=HOSTILE, name_en=HOSTILE, unit="%", direction="up", scope=("city",),
                    method="computed", source=HOSTILE, note_en=HOSTILE, note_vi=HOSTILE)
    units = load_layer("districts")
    gdf = gpd.GeoDataFrame({"name": [HOSTILE] * len(units), "readiness_share": np.linspace(0, 100, len(units))},
                           geometry=units.geometry.to_numpy(), crs=units.crs)
    _choropleth.clear()
    assert_inert(app_strings(_choropleth("ssti_probe", "city", "en", 0.0, "none", ind, gdf)))


def test_data_page_preview_of_a_hostile_upload(monkeypatch, defences) -> None:
    import pages.data_parts as data_parts

    shown: list[folium.Map] = []
    monkeypatch.setattr(data_parts, "show_map", lambda m, **kw: shown.append(m))
    monkeypatch.setattr(data_parts, "current_lang", lambda: "vi")
    monkeypatch.setattr(data_parts, "current_basemap", lambda: "none")
    data_parts.preview_map(hostile_frame(6, "polygon"), HOSTILE, key="preview")
    assert len(shown) == 1
    assert_inert(app_strings(shown[0]))


def test_coverage_map_with_hostile_facility_and_unit_names_and_what_if_points(defences) -> None:
    from geo.service import ask
    from layers.coverage_map import coverage_map

    units = load_layer("districts")
    units_frame = gpd.GeoDataFrame({"code": units["level2_id"].astype(str).to_numpy(), "name": HOSTILE},
                                   geometry=units.geometry.to_numpy(), crs=units.crs)
    infra = load_layer("infrastructure")
    fac = infra[infra["category"] == "health"].head(40)
    fac = gpd.GeoDataFrame({"name": [HOSTILE] * len(fac)}, geometry=fac.geometry.to_numpy(), crs=fac.crs)
    result = ask(facilities=fac, facilities_key="ssti", radius_m=3000, units_frame=units_frame, units="ssti_units",
                 unit_id="code", unit_name="name", added=((105.84, 21.59),))
    assert result.added_count == 1
    names = fac["name"].reindex(result.base_facilities.index).fillna("")
    assert_inert(app_strings(coverage_map(result, "en", names, basemap="none")))


def test_suggested_sites_over_hostile_units_and_facilities(defences) -> None:
    units = load_layer("districts").head(3)
    c = units.to_crs(9213).geometry.representative_point()
    sites = gpd.GeoDataFrame({"rank": [1, 2], "marginal_people": [1234.0, 99.0]}, geometry=c.iloc[:2].to_numpy(),
                             crs=9213).to_crs(4326)
    fac = gpd.GeoDataFrame({"name": [HOSTILE]}, geometry=[c.iloc[2].buffer(500).exterior.interpolate(0)], crs=9213)
    zone = gpd.GeoDataFrame(geometry=[c.iloc[0].buffer(300)], crs=9213)
    assert_inert(app_strings(suggestion_map(sites, units, [HOSTILE] * 3, fac, "en", "none", zone)))
    assert_inert(standalone_html(suggestion_map(sites, units, [HOSTILE] * 3, fac, "vi", "none", zone)))


def test_cli_standalone_map_of_a_hostile_file(tmp_path: Path) -> None:
    """``python -m geo map`` on a file whose name, field names and values are hostile (the
    canary is only in the child's environment: it shows if the child evaluated anything)."""
    canary = "C4N4RY" + os.urandom(6).hex()
    probe = "X{{ lipsum.__globals__.os.environ.SSTI_CANARY }}Y"
    gdf = hostile_frame(3, "point")
    gdf[probe] = probe
    src = tmp_path / "{{ 7*7 }}{% for x in range(3) %}x{% endfor %}.geojson"
    gdf.to_file(src, driver="GeoJSON")
    out = tmp_path / "map.html"
    env = {**os.environ, "SSTI_CANARY": canary}
    proc = subprocess.run([sys.executable, "-m", "geo", "map", f"districts,{src}", "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    assert canary not in page
    assert "X{{ lipsum.__globals__.os.environ.SSTI_CANARY }}Y" in _decoded(page)
    assert "{{ 7*7 }}{% for x in range(3) %}x{% endfor %}.geojson" in _decoded(page)   # layer name
    for form, ran in JINJA.items():
        if "getpid" not in form:  # the child's pid is not ours: the canary above stands for it
            assert ran not in page and form in _decoded(page)


def test_escape_keeps_tooltip_text_inside_its_template_literal() -> None:
    m = new_map("vi", "none")
    folium.Marker([21.5, 105.8], tooltip=escape(HOSTILE)).add_to(m)
    page = m.get_root().render()
    assert_inert(page)
    assert "J`+(window" not in page and TICK in _decoded(page)


# ---------------------------------------------------------------------------- no new path by accident

# branca/folium classes whose string argument is compiled as a template or inserted as raw HTML
_FORBIDDEN = {"Element", "Html", "IFrame", "Popup", "GeoJsonPopup", "Div", "Figure"}


def _calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            yield name, node


def test_no_code_compiles_or_inserts_text_outside_the_literal_helper() -> None:
    """Map HTML joins a figure only as ``layers.literal.Literal``; a ``Template`` is built from
    a constant only (its data are variables of the template, never part of its source); the
    one folium argument still compiled by folium itself (a GeoJsonTooltip's style) is a constant."""
    files = [p for d in ("layers", "pages", "geo/cli") for p in (ROOT / d).rglob("*.py")] + [ROOT / "app.py"]
    found = []
    for path in files:
        if path.name == "literal.py" and path.parent.name == "layers":
            continue
        for name, node in _calls(path):
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if name in _FORBIDDEN:
                found.append(f"{where} {name}(…): use layers.literal.Literal for HTML")
            elif name == "Template" and not (len(node.args) == 1 and isinstance(node.args[0], ast.Constant)
                                             and not node.keywords):
                found.append(f"{where} Template(…) from a non-constant")
            elif name == "GeoJsonTooltip" and any(k.arg in ("style", "class_name")
                                                   and not isinstance(k.value, ast.Constant) for k in node.keywords):
                # folium compiles these into the figure's header itself (GeoJsonDetail.render)
                found.append(f"{where} GeoJsonTooltip style/class_name from a non-constant")
    assert not found, "\n".join(found)

"""Folium rendering: offline assets, escaping, simplification, classification, CLI map."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from geo.catalog import get_catalog, load_layer, parse_catalog
from layers.assets import BUNDLE, BUNDLE_SOURCES, LOCAL_ASSETS, URL_PREFIX, VENDOR_DIR, bundle_text
from layers.render import add_gdf_layer, classify, light_geometry, new_map, standalone_html
from layers.views import MapView, build_map, default_view

ROOT = Path(__file__).resolve().parents[1]
XSS = '<img src=x onerror="window.__xss=1">'


def test_every_referenced_asset_is_vendored_and_no_cdn_is_named() -> None:
    html = build_map(default_view("vi")).get_root().render()
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs, "page references no assets"
    for ref in refs:
        assert ref.startswith(URL_PREFIX), f"non-local asset {ref}"
        assert (VENDOR_DIR / ref[len(URL_PREFIX):]).is_file()
    assert not re.search(r"cdn\.jsdelivr|cdnjs|code\.jquery|bootstrapcdn|d3js", html)
    for rel in filter(None, LOCAL_ASSETS.values()):
        assert (VENDOR_DIR / rel).is_file(), rel


def test_a_map_loads_its_scripts_as_one_current_bundle() -> None:
    """The map frame gets one script file (its scripts load one after another), and that file
    is its sources as they are now (rebuild: scripts/build_vendor_bundle.py)."""
    html = build_map(default_view("vi")).get_root().render()
    assert re.findall(r'<script[^>]*src="([^"]+)"', html) == [URL_PREFIX + BUNDLE]
    assert (VENDOR_DIR / BUNDLE).read_text(encoding="utf-8") == bundle_text()
    text = bundle_text()
    starts = [text.index(f"---- {rel} ") for rel in BUNDLE_SOURCES]
    assert starts == sorted(starts) and "sourceMappingURL" not in text   # Leaflet first: the plugins extend L
    assert "window.L=t" in text and "L.AwesomeMarkers" in text and "MarkerClusterGroup" in text


def test_standalone_html_inlines_everything_and_basemap_none_has_no_tiles() -> None:
    html = standalone_html(build_map(MapView(layers=["districts"], basemap="none")))
    assert "<script src=" not in html and 'rel="stylesheet" href=' not in html
    assert "L.tileLayer" not in html
    assert "Thành phố Sông Công" in html
    assert re.search(r"L\.map\(", html)


def test_attribute_text_is_escaped_in_tooltips() -> None:
    gdf = gpd.GeoDataFrame({"name": [XSS], "n": [1]}, geometry=[Point(105.8, 21.6)], crs=4326)
    m = new_map("vi", "none")
    add_gdf_layer(m, gdf, "vi", XSS, ["name"])
    html = m.get_root().render()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=" in html or "\\u0026lt;img" in html


@pytest.mark.parametrize("n", [3, 3001])  # a plain GeoJSON layer and a compact (national-size) one
def test_template_text_from_a_file_never_runs_on_the_server(n: int) -> None:
    # branca compiles a map's rendered scripts as Jinja templates: "{{ … }}" in a value, a
    # field name or a layer name would run Python (here: read the server's process id)
    import os

    from layers.compact import BIG_FEATURES
    from layers.safejson import jinja_inert_json

    assert n < 10 or n > BIG_FEATURES
    bad = "{{ lipsum.__globals__.os.getpid() }}{% if 1 %}IF{% endif %}{# c #}"
    xy = np.column_stack((np.linspace(105.5, 106, n), np.linspace(21.3, 21.8, n)))
    gdf = gpd.GeoDataFrame({bad: [bad] * n, "n": np.arange(n)}, geometry=shapely.points(xy), crs=4326)
    m = new_map("vi", "none")
    add_gdf_layer(m, gdf, "vi", bad, [bad, "n"], kind="point")
    html = m.get_root().render()
    assert str(os.getpid()) not in html
    assert "{{" not in html and "{%" not in html and "{#" not in html
    # the value, escaped for HTML, is there as text (tojson writes "&" as \u0026)
    assert "&#123;&#123; lipsum" in html.replace("\\u0026", "&")
    assert jinja_inert_json('{"a":"{{x}}","b":[{"c":"{%"}]}') == '{"a":"\\u007b{x}}","b":[{"c":"\\u007b%"}]}'


def test_vietnamese_column_names_do_not_break_the_map_script() -> None:
    gdf = gpd.GeoDataFrame({"Đơn vị": ["A", "B"], "Số dân": [1, 2]},
                           geometry=[box(105.8, 21.5, 105.9, 21.6), box(105.9, 21.5, 106.0, 21.6)], crs=4326)
    m = new_map("vi", "none")
    add_gdf_layer(m, gdf, "vi", "Lớp của tôi", ["Đơn vị", "Số dân"])
    html = m.get_root().render()
    assert "feature.properties.Đơn" not in html and "properties.Số" not in html


def test_coverage_simplify_keeps_shared_borders_and_rounds() -> None:
    left = shapely.Polygon([(0, 0), (1, 0), (1.00001, 0.5), (1, 1), (0, 1)])
    right = shapely.Polygon([(1, 0), (2, 0), (2, 1), (1, 1), (1.00001, 0.5)])
    out = light_geometry(gpd.GeoSeries([left, right]), "polygon", 0.001)
    assert shapely.intersection(out[0], out[1]).area == pytest.approx(0, abs=1e-12)
    assert shapely.union_all(out).area == pytest.approx(2.0, rel=1e-4)  # no gap between neighbours
    coords = shapely.get_coordinates(out)
    assert np.allclose(coords, np.round(coords, 4))


@pytest.mark.parametrize("scheme", ["quantiles", "natural_breaks", "equal_interval"])
def test_classify_schemes_cover_all_values_and_flag_missing(scheme: str) -> None:
    values = pd.Series([1, 2, 3, 4, 5, 6, 7, 8, 9, 100, np.nan])
    classes, idx = classify(values, scheme, k=4)
    assert len(classes.bins) == 4 and len(classes.colors) == 4
    assert idx[-1] == -1 and (idx[:-1] >= 0).all()
    assert classes.bins[-1] == 100
    assert idx[9] == 3  # the largest value lands in the top class


def test_catalog_rejects_bad_entries_and_loads_every_layer() -> None:
    with pytest.raises(ValueError):
        parse_catalog('[[layer]]\nid="a"\ntitle_vi="a"\ntitle_en="a"\nfile="a"\nkind="blob"\n'
                      'category="x"\nsource="s"\nlicence="l"\nvintage="v"\n')
    for layer_id, layer in get_catalog().layers.items():
        gdf = load_layer(layer_id)
        assert len(gdf) > 0 and gdf.crs.to_epsg() == 4326
        assert set(layer.tooltip) <= set(gdf.columns) | {"category_label"}, layer_id


def test_missing_or_corrupt_layer_is_reported_and_map_still_builds(tmp_path: Path, monkeypatch) -> None:
    import geo.catalog as cat

    for f in ("districts_pre2025.geojson", "province_pre2025.geojson"):
        (tmp_path / f).write_bytes((ROOT / "data" / "shapefiles" / f).read_bytes())
    (tmp_path / "communes_pre2025.geojson").write_text("{ not json")
    monkeypatch.setattr(cat, "DATA_DIR", tmp_path)
    view = default_view("en")
    m = build_map(view)
    reasons = {lid: err.message("en") for lid, err in view.failures}
    assert "damaged" in reasons["communes"] and "missing" in reasons["infrastructure"]
    assert "Thành phố Sông Công" in m.get_root().render()


def test_cli_map_and_errors(tmp_path: Path) -> None:
    out = tmp_path / "m.html"
    ok = subprocess.run([sys.executable, "-m", "geo", "map", "districts,roads_national", "--out", str(out)],
                        cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "Thành phố Phổ Yên" in out.read_text() and "<script src=" not in out.read_text()
    bad = subprocess.run([sys.executable, "-m", "geo", "map", "nope", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and len(bad.stderr.splitlines()) == 1
    bad = subprocess.run([sys.executable, "-m", "geo", "map", "districts", "--out", str(tmp_path / "no" / "x.html")],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "error: " in bad.stderr and "Traceback" not in bad.stderr
    listing = subprocess.run([sys.executable, "-m", "geo", "layers"], cwd=ROOT, capture_output=True, text=True)
    assert listing.returncode == 0 and "wards_2025" in listing.stdout and "ODbL" not in listing.stdout.split("\n")[0]


def test_cli_never_shows_a_traceback(tmp_path: Path) -> None:
    # an unreadable workspace path is refused or reported in one line, never a traceback
    env = {**__import__("os").environ, "ATLAS_WORKSPACE": str(tmp_path / "f.gpkg" / "sub" / "x.gpkg")}
    (tmp_path / "f.gpkg").write_text("a file, not a folder")
    out = subprocess.run([sys.executable, "-m", "geo", "indicators", "export", "--out", str(tmp_path / "v.csv")],
                         cwd=ROOT, capture_output=True, text=True, env=env)
    assert "Traceback" not in out.stderr
    assert out.returncode in (0, 2)
    if out.returncode == 2:
        assert out.stderr.startswith("error: ") and len(out.stderr.strip().splitlines()) == 1


def test_center_zoom_fits_bounds() -> None:
    from layers.render import PROVINCE_BOUNDS, center_zoom

    (lat, lng), z_province = center_zoom(PROVINCE_BOUNDS)
    assert 21.6 < lat < 21.8 and 105.8 < lng < 105.9
    _, z_city = center_zoom([[21.43, 105.80], [21.52, 105.90]])
    assert z_city > z_province >= 8
    _, z_small = center_zoom([[21.43, 105.80], [21.52, 105.90]], width_px=200, height_px=150)
    assert z_small < z_city


def test_every_layer_has_vintage_in_both_languages() -> None:
    for layer in get_catalog().layers.values():
        assert layer.vintage and layer.vintage_vi, layer.id
        assert layer.vintage_text("vi") == layer.vintage_vi and layer.vintage_text("en") == layer.vintage


def test_quantiles_on_tied_values_never_repeat_a_class() -> None:
    values = pd.Series([0.0] * 40 + [0.5, 0.7, 1.0])
    classes, idx = classify(values, "quantiles", k=5)
    assert len(set(classes.bins)) == len(classes.bins) >= 2
    assert len(set(classes.labels)) == len(classes.labels)
    assert idx[0] == 0 and idx[-1] == len(classes.bins) - 1


def test_check_writable_refuses_in_the_users_language(tmp_path: Path) -> None:
    from geo.errors import AtlasError
    from geo.paths import check_writable

    with pytest.raises(AtlasError) as err:
        check_writable(tmp_path / "no" / "x.csv")
    assert err.value.key == "errors.no_folder" and "Không có thư mục" in err.value.message("vi")
    with pytest.raises(AtlasError) as err:
        check_writable(tmp_path)
    assert err.value.key == "errors.is_folder"
    check_writable(tmp_path / "new" / "x.csv", create_parents=True)
    assert (tmp_path / "new").is_dir() and not (tmp_path / "new" / "x.csv").exists()  # nothing left behind

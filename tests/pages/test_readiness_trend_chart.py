"""The readiness trend chart (Bảng điểm → Xu hướng): a single value is one ordinary point (no
line, no legend of one unnamed basis), numbers on the axis the UI language's way."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from geo.i18n import vega_number_expr
from geo.indicators import Target, Value, load_framework
from pages.readiness_trend import trend_chart


def _value(period, value, basis=""):
    return Value(indicator_id="health_access", unit_id="districts:164", period=period, value=value, unit="percent",
                 source="x", basis=basis)


def _layers(spec):
    return spec.get("layer", [spec])


def _mark(layer):
    return layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]


def test_a_single_value_is_one_point_without_a_stray_legend_symbol_and_a_real_range():
    fw = load_framework()
    ind = fw.indicators["health_access"]
    spec = trend_chart(fw, ind, [_value(2026, 22.4213)], [], "vi").to_dict()
    layers = _layers(spec)
    assert [_mark(x) for x in layers] == ["point"]                 # no line of one point
    enc = layers[0]["encoding"]
    assert enc["color"]["legend"] is None                            # one basis: no lone legend symbol
    lo, hi = enc["y"]["scale"]["domain"]
    assert lo < 22.4213 < hi and hi - lo >= 2                        # not a zero-width scale
    assert "regexp" in enc["y"]["axis"]["labelExpr"]                 # vi decimal comma on the axis
    data = next(iter(spec["datasets"].values()))
    assert [row[k] for row in data for k in row if k.endswith(" ")] == ["22,4"]   # tooltip: vi number, as fmt_number


def test_several_values_draw_a_line_per_basis_and_targets_as_diamonds():
    fw = load_framework()
    ind = fw.indicators["dti_rank"]
    vals = [_value(2020, 12, "a"), _value(2022, 9, "a"), _value(2024, 8, "b")]
    spec = trend_chart(fw, ind, vals, [Target(year=2030, op="<=", value=10, source="x")], "en").to_dict()
    marks = [_mark(x) for x in _layers(spec)]
    assert marks == ["line", "point", "point"]
    assert _layers(spec)[1]["encoding"]["color"]["legend"] is not None   # two bases: a legend
    assert _layers(spec)[2]["mark"]["shape"] == "diamond"


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
@pytest.mark.parametrize("lang, want", [("vi", ["22,42", "26,11", "1.286.751", "7,5"]),
                                        ("en", ["22.42", "26.11", "1,286,751", "7.5"])])
def test_the_axis_label_expression_writes_numbers_the_language_way(lang, want):
    """The Vega expression run in JavaScript (``format`` as d3's ',.2~f', ``replace``/``regexp``
    as Vega defines them)."""
    expr = vega_number_expr(lang, "v")
    js = ("const regexp=(p,f)=>new RegExp(p,f); const replace=(s,p,r)=>s.replace(p,r);"
          "const format=(x,f)=>x.toLocaleString('en-US',{maximumFractionDigits:2});"
          f"console.log(JSON.stringify([22.42,26.11,1286751,7.5].map(v=>{expr})));")
    out = subprocess.run(["node", "-e", js], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == want

"""One classification and one legend formatter for every indicator map: the coverage map and
the readiness "Bản đồ chỉ số" colour the same number with the same classes; every value lies
inside its own class's label; one number of decimals per legend."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from geo.classify import classify
from geo.numbers import share_percent


def _bounds(label: str, lang: str) -> tuple[float, float]:
    lo, hi = label.split(" – ")
    conv = (lambda x: float(x.replace(".", "").replace(",", "."))) if lang == "vi" else \
        (lambda x: float(x.replace(",", "")))
    return conv(lo), conv(hi)


def _decimals(label: str) -> set[int]:
    return {len(part.split(sep)[1]) if sep in part else 0
            for part in label.split(" – ") for sep in [","]}


@pytest.mark.parametrize("values", [
    [0.075516, 0.1321, 0.2242, 0.2611, 0.2990, np.nan, 0.0],          # shares: Phú Bình 7,55 %
    [0.9999, 0.5, 0.12345, 0.5, 0.33, 0.01],
])
@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("scheme", ["equal_interval", "quantiles", "natural_breaks"])
def test_every_share_lies_inside_its_class_label_with_one_decimals(values, lang, scheme):
    pct = share_percent(pd.Series(values))
    classes, idx = classify(pct, scheme, 5, "RdYlGn", lang)
    for v, i in zip(pct, idx):
        if np.isnan(v):
            assert i == -1
            continue
        lo, hi = _bounds(classes.labels[i], lang)
        assert lo <= v <= hi, (v, classes.labels[i])
    if lang == "vi":
        assert len(set().union(*(_decimals(lb) for lb in classes.labels))) == 1   # not "7,60 – 13"
    los = [_bounds(lb, lang)[0] for lb in classes.labels]
    assert los[0] == pytest.approx(np.nanmin(pct))


def test_raw_floats_are_inside_their_classes_too():
    vals = pd.Series([7.5516, 13.21, 22.42, 26.11, 29.9, 1234.5678])
    for lang in ("vi", "en"):
        classes, idx = classify(vals, "quantiles", 4, "YlOrRd", lang)
        for v, i in zip(vals, idx):
            lo, hi = _bounds(classes.labels[i], lang)
            assert lo <= v <= hi


def test_coverage_map_and_readiness_map_classify_the_same_number():
    """The same question (health facilities within 2 km, 9 districts): the coverage map's
    legend (layers.coverage_map) and the readiness indicator map's (geo.indicators.
    indicator_map_frame → readiness_share) are the same classes and labels."""
    import layers.coverage_map as cm
    from geo.indicators import compute_indicator, indicator_map_frame, load_framework
    from geo.service import ask

    ind = load_framework().indicators["health_access"]
    df = compute_indicator(ind, "city")
    readiness = indicator_map_frame(df, "city")
    r_classes, _ = classify(readiness["readiness_share"], "equal_interval", 5, "RdYlGn", "vi")
    result = ask(category=ind.category, units="districts", radius_m=ind.radius_m, population="communes")
    seen = {}
    real = cm.add_choropleth

    def spy(m, gdf, column, *a, **k):
        seen["values"] = gdf[column].copy()
        return real(m, gdf, column, *a, **k)

    cm.add_choropleth = spy
    try:
        cm.coverage_map(result, "vi", pd.Series("x", index=result.base_facilities.index, dtype=object),
                        basemap="none")
    finally:
        cm.add_choropleth = real
    c_classes, _ = classify(seen["values"], "equal_interval", 5, "RdYlGn", "vi")
    assert c_classes.labels == r_classes.labels and c_classes.bins == r_classes.bins
    assert sorted(seen["values"].dropna()) == sorted(readiness["readiness_share"].dropna())
    assert not any(re.search(r",\d\d\b", lb) for lb in c_classes.labels)       # shares: one decimal

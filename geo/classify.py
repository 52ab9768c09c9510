"""Choropleth classification (mapclassify) shared by web maps, print maps and decks.

Pure data: class breaks, colours and legend labels; no drawing here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.i18n import fmt_number

# ColorBrewer sequential palettes (Apache-2.0), light → dark, 7 classes.
PALETTES = {
    "YlOrRd": ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
    "Blues": ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"],
    "RdYlGn": ["#d73027", "#fc8d59", "#fee08b", "#ffffbf", "#d9ef8b", "#91cf60", "#1a9850"],
}
SCHEMES = ("quantiles", "natural_breaks", "equal_interval")
NO_DATA_COLOR = "#d1d5db"


@dataclass(frozen=True)
class Classification:
    """Class breaks and colours for a choropleth column."""

    bins: list[float]
    colors: list[str]
    labels: list[str]
    scheme: str


def classify(values: pd.Series, scheme: str = "quantiles", k: int = 5, palette: str = "YlOrRd",
             lang: str = "vi") -> tuple[Classification, np.ndarray]:
    """Classify ``values`` with mapclassify; returns the classes and a class index (-1 = no data)."""
    import mapclassify

    vals = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = ~np.isnan(vals)
    uniq = np.unique(vals[ok])
    k = max(1, min(k, len(uniq), len(PALETTES[palette])))
    idx = np.full(len(vals), -1)
    if k == 0 or not ok.any():
        return Classification([], [], [], scheme), idx
    if k == 1:
        bins = [float(uniq.max())]
        idx[ok] = 0
    else:
        cls = {"quantiles": mapclassify.Quantiles, "natural_breaks": mapclassify.NaturalBreaks,
               "equal_interval": mapclassify.EqualInterval}[scheme]
        kw = {"k": k}
        result = cls(vals[ok], **kw)
        while len(np.unique(result.bins)) < len(result.bins) and kw["k"] > 2:  # tied values: fewer classes
            kw["k"] -= 1
            result = cls(vals[ok], **kw)
        bins = [float(b) for b in result.bins]
        idx[ok] = result.yb
    pal = PALETTES[palette]
    step = (len(pal) - 1) / max(len(bins) - 1, 1)
    colors = [pal[round(i * step)] for i in range(len(bins))]
    lo = float(np.nanmin(vals[ok]))
    labels = []
    for i, hi in enumerate(bins):
        start = lo if i == 0 else bins[i - 1]
        labels.append(f"{fmt_number(start, lang, 0 if abs(start) >= 10 else 2)} – "
                      f"{fmt_number(hi, lang, 0 if abs(hi) >= 10 else 2)}")
    return Classification(bins, colors, labels, scheme), idx

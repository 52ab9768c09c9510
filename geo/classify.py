"""Choropleth classification (mapclassify) shared by web maps, print maps and decks.

Pure data: class breaks, colours and legend labels; no drawing here.
"""
from __future__ import annotations

import math
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
    bins, idx, labels = _snap(vals, ok, bins, idx, lang)
    pal = PALETTES[palette]
    step = (len(pal) - 1) / max(len(bins) - 1, 1)
    colors = [pal[round(i * step)] for i in range(len(bins))]
    return Classification(bins, colors, labels, scheme), idx


def label_decimals(values: np.ndarray) -> int:
    """Decimals of every label of one legend: the data's own precision (a share rounded to
    0.1 → 1), at most 2 below 10, 1 below 1,000, 0 from 1,000 — one number for all classes."""
    top = float(np.nanmax(np.abs(values))) if len(values) else 0.0
    cap = 2 if top < 10 else (1 if top < 1000 else 0)
    for d in range(cap + 1):
        if np.allclose(values * 10 ** d, np.round(values * 10 ** d), rtol=0, atol=1e-6):
            return d
    return cap


def class_label(lo: float, hi: float, lang: str, decimals: int) -> str:
    """A legend class "7,6 – 12,1" (vi) / "7.6 – 12.1" (en): both ends with the same decimals."""
    return f"{fmt_number(lo, lang, decimals)} – {fmt_number(hi, lang, decimals)}"


def _snap(vals: np.ndarray, ok: np.ndarray, bins: list[float], idx: np.ndarray,
          lang: str) -> tuple[list[float], np.ndarray, list[str]]:
    """Class upper bounds rounded up to the labels' decimals, values re-assigned to them, and
    the labels: every value lies inside its own class's label ("7,55" never below the lowest
    class because a bound was printed rounded). Data at the labels' precision gets classes
    that do not touch ("7,6 – 12,1", "12,2 – 16,6"); finer data, classes sharing their ends."""
    data = vals[ok]
    d = label_decimals(data)
    f = 10.0 ** d
    exact = np.allclose(data * f, np.round(data * f), rtol=0, atol=1e-6)
    snapped = sorted({math.ceil(b * f - 1e-6) / f for b in bins})
    top = math.ceil(float(data.max()) * f - 1e-6) / f
    snapped = [b for b in snapped if b < top] + [top]
    idx = idx.copy()
    idx[ok] = np.searchsorted(np.asarray(snapped), data - 1e-9, side="left")
    lo = math.floor(float(data.min()) * f + 1e-6) / f
    labels = []
    for i, hi in enumerate(snapped):
        start = lo if i == 0 else (snapped[i - 1] + 1.0 / f if exact else snapped[i - 1])
        labels.append(class_label(start, hi, lang, d))
    return [float(b) for b in snapped], idx, labels

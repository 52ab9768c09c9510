"""One rounding rule for people and shares, used by pages, the CLI, exports and the deck.

- Tables and files (CSV, GeoPackage): whole persons (``whole_people``) — a population
  computed from a census grid is fractional, but no one is 0.4 of a person.
- Sentences and slides (``round_people``): 3 significant figures above 1,000 people, so a
  figure read aloud does not pretend to a precision the census grid does not have
  (18,437 → 18,400; 1,234 → 1,230; 87 → 87).
- Shares: one decimal of a percent (``SHARE_DECIMALS``), as ``geo.i18n.fmt_percent`` writes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SHARE_DECIMALS = 1


def share_percent(share):
    """A covered share (0–1; a number, array or Series) as the percent every map classifies and
    every label shows: ``SHARE_DECIMALS`` decimals (0.075516 → 7.6). The coverage map and the
    readiness indicator map colour this same number, so their legends agree."""
    return np.round(np.asarray(share, dtype=float) * 100.0, SHARE_DECIMALS) if not isinstance(share, pd.Series) \
        else (share.astype(float) * 100.0).round(SHARE_DECIMALS)


def round_people(x: float) -> float:
    """People for a sentence or a slide: nearest 100 from 10,000, nearest 10 from 1,000,
    else the nearest whole person. NaN stays NaN (shown as "no data")."""
    if x is None or not np.isfinite(x):
        return float("nan")
    if abs(x) >= 10_000:
        return float(round(x, -2))
    if abs(x) >= 1_000:
        return float(round(x, -1))
    return float(round(x))


def is_people_column(name: str) -> bool:
    """Columns counting persons: ``population*``, ``*_population*``, ``people*``."""
    low = str(name).lower()
    return "population" in low or low.startswith("people")


def whole_people(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every numeric people column rounded to whole persons
    (nullable ``Int64``: missing stays missing). Other columns are untouched."""
    out = df.copy()
    for col in out.columns:
        if is_people_column(col) and pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = pd.Series(np.round(out[col].to_numpy(dtype=float)), index=out.index).astype("Int64")
    return out

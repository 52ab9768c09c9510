"""Coverage page: the answer's tables as the language writes them, and their column labels."""
from __future__ import annotations

import pandas as pd

from geo.i18n import fmt_number, fmt_percent
from pages.common import tr


def fmt_table(df: pd.DataFrame, shares: tuple[str, ...], lang: str, decimals: dict | None = None) -> pd.DataFrame:
    """Numbers as the language writes them (vi 1.286.751 / 45,6%); people are whole persons already."""
    out = df.copy()
    for c in out.columns:
        if c in shares:
            out[c] = [fmt_percent(v, lang) for v in out[c]]
        elif pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c]):
            d = (decimals or {}).get(c, 0)
            out[c] = [fmt_number(round(float(v), d), lang, d) if pd.notna(v) else "—" for v in out[c]]
    return out


def label_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Column names → their labels in the UI language (``coverage.col_<name>``)."""
    return df.rename(columns={c: tr(f"coverage.col_{c}") for c in df.columns})

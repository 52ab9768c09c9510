"""The string catalog: every user-facing string, Vietnamese and English.

Strings live in ``geo/i18n/*.toml`` (one file per area, one catalog): each table is a
section and each entry ``name = { vi = "...", en = "..." }`` becomes key ``section.name``.
Placeholders use ``str.format`` syntax. Keys are unique across files (checked on load).
"""
from __future__ import annotations

import math
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    """All strings as ``{key: {"vi": ..., "en": ...}}``; raises on a duplicate key."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for section, entries in data.items():
            for name, texts in entries.items():
                key = f"{section}.{name}"
                if key in out:
                    raise ValueError(f"duplicate i18n key {key} in {path.name}")
                out[key] = texts
    return out


# placeholders that always hold a year (or years): never formatted as a number ("2.015" / "2,015")
YEAR_PARAMS = frozenset({"year", "years", "period", "first", "last", "first_year", "last_year"})


def _param(name: str, value: Any, lang: str) -> Any:
    if hasattr(value, "i18n_text"):  # text that is itself translated (e.g. geo.errors.os_reason)
        return value.i18n_text(lang)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    if name in YEAR_PARAMS and math.isfinite(float(value)) and float(value).is_integer():
        return str(int(value))
    return fmt_number(value, lang)


def t(key: str, lang: str = DEFAULT_LANG, **params: Any) -> str:
    """Translate ``key`` into ``lang``; numbers in ``params`` are formatted for ``lang``, except
    years (placeholders named in ``YEAR_PARAMS``), written plainly: 2030, never 2.030."""
    entry = catalog().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get(DEFAULT_LANG) or key
    if not params:
        return text
    shown = {k: _param(k, v, lang) for k, v in params.items()}
    try:
        return text.format(**shown)
    except (KeyError, IndexError, ValueError):
        return text


def fmt_number(value: Any, lang: str = DEFAULT_LANG, decimals: int | None = None) -> str:
    """Format a number the ``lang`` way: vi 1.286.751 / 12,5; en 1,286,751 / 12.5.

    ``None``/NaN becomes the catalog's "no data" text.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t("common.no_data", lang)
    if decimals is None:
        decimals = 0 if float(value).is_integer() or abs(float(value)) >= 1000 else (1 if abs(float(value)) >= 10 else 2)
    text = f"{float(value):,.{decimals}f}"
    if lang == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def fmt_percent(share: Any, lang: str = DEFAULT_LANG, decimals: int = 1) -> str:
    """A share in [0, 1] as a percentage string (vi uses a decimal comma)."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return t("common.no_data", lang)
    return fmt_number(100.0 * float(share), lang, decimals) + "%"


def at_least(value: Any, lang: str = DEFAULT_LANG, percent: bool = False) -> str:
    """A figure computed on incomplete data, as a lower bound: "ít nhất 18.437" /
    "at least 45,6%" (people in whole persons; ``percent``: a share in [0, 1])."""
    text = fmt_percent(value, lang) if percent else fmt_number(value, lang, 0)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return text
    return t("common.at_least", lang, value=text)


def vega_number_expr(lang: str = DEFAULT_LANG, field: str = "datum.value") -> str:
    """A Vega expression writing the number ``field`` the ``lang`` way, for chart axes
    (``alt.Axis(labelExpr=...)``): up to 2 decimals, vi 22,42 / 1.286.751, en 22.42 / 1,286,751
    — as :func:`fmt_number` writes it in tables and text."""
    text = f"format({field}, ',.2~f')"
    if lang != "vi":
        return text
    swap = "replace(replace(replace({}, regexp(',', 'g'), '_'), regexp('[.]', 'g'), ','), regexp('_', 'g'), '.')"
    return swap.format(text)

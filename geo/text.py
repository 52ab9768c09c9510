"""Text helpers: diacritic-insensitive folding for search and joins, HTML escaping."""
from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

_UNIT_PREFIXES = (
    "thanh pho", "thi xa", "thi tran", "huyen", "phuong", "xa", "tinh", "quan", "tp", "tx", "tt",
)
_PREFIX_RE = re.compile(r"^(?:" + "|".join(_UNIT_PREFIXES) + r")\b\.?\s*")


def fold(text: Any) -> str:
    """Lower-case, strip Vietnamese diacritics (đ → d) and collapse spaces.

    >>> fold("  Phổ   Yên ")
    'pho yen'
    """
    if text is None:
        return ""
    s = unicodedata.normalize("NFD", str(text))
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    s = s.replace("đ", "d").replace("Đ", "D").lower()
    return " ".join(s.split())


def strip_unit_type(text: Any) -> str:
    """Folded name without its administrative prefix ("Thành phố Sông Công" → "song cong")."""
    return _PREFIX_RE.sub("", fold(text), count=1)


UNIT_TYPE_NAMES = ("Thành phố", "Thị xã", "Thị trấn", "Phường", "Huyện", "Xã", "Tỉnh", "Quận")


def unit_type_of(name: Any) -> str:
    """The administrative type written at the start of a name ("Thị trấn Hùng Sơn" →
    "Thị trấn"), or "" when the name carries none."""
    folded = fold(name)
    for type_name in UNIT_TYPE_NAMES:
        if folded == fold(type_name) or folded.startswith(fold(type_name) + " "):
            return type_name
    return ""


def join_key(text: Any) -> str:
    """Key for joining names across sources: folded, no prefix, no spaces or punctuation.

    Sources disagree on spacing ("TháiNguyên"), on "Hoà"/"Hòa" and on prefixes.
    """
    s = strip_unit_type(text)
    return re.sub(r"[^a-z0-9]", "", s)


def nfc(text: Any) -> str:
    """Unicode NFC form (composed Vietnamese characters)."""
    return unicodedata.normalize("NFC", str(text)) if text is not None else ""


def escape(value: Any) -> str:
    """HTML-escape any attribute value so it displays as text and never runs."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame):  # noqa: ANN001, ANN201 — pandas.DataFrame in and out
    """Copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    A cell starting with = + - @ (or tab/CR) gets a leading apostrophe, the usual CSV
    injection defence: Excel/LibreOffice then show the text instead of evaluating it.
    """
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        if col == getattr(out, "_geometry_column_name", None) or not pd.api.types.is_string_dtype(out[col]) \
                and out[col].dtype != object:
            continue
        values = out[col]
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_START))
        if risky.any():
            out[col] = values.where(~risky, "'" + values.astype(str))
    return out

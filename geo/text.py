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

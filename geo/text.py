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
    """HTML-escape any attribute value so it displays as text and never runs.

    Braces become ``&#123;`` / ``&#125;`` as well: folium (branca) compiles the HTML and
    scripts of a map as a Jinja template, where ``{{ … }}`` from a file would run. Backticks
    and backslashes become ``&#96;`` / ``&#92;``: folium writes a tooltip's text into a JavaScript
    template literal (`` `…` ``), which a backtick would end (the rest would run as script) and
    a stray ``\\u`` would break; with the braces already encoded no ``${…}`` can form.

    >>> escape("a`b\\c{{d}}")
    'a&#96;b&#92;c&#123;&#123;d&#125;&#125;'
    """
    if value is None:
        return ""
    return html.escape(str(value), quote=True).translate(_TEMPLATE_CHARS)


_TEMPLATE_CHARS = str.maketrans({"{": "&#123;", "}": "&#125;", "`": "&#96;", "\\": "&#92;"})


# characters Markdown (CommonMark + GFM + Streamlit's $math$ and :colour[...] extensions) or
# HTML read as markup wherever they stand
_MARKUP_CHARS = frozenset("\\`*_{}[]<>$~|#")
# autolinks: Streamlit's Markdown (GFM) finds https://…, www.… and a@b.org in the *decoded* text,
# so escaping cannot stop them; a WORD JOINER (U+2060, invisible, no line break) splits them
_AUTOLINK = re.compile(r"(?<=[a-z])(?=://)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
# a value cannot start a list, quote, heading or setext line (- + > = 1. 1))
_BLOCK_START = re.compile(r"^(\s*)([-+>=]|\d+[.)])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
WORD_JOINER = "\u2060"


def display_text(value: Any) -> str:
    """User or file text made safe for Markdown *and* HTML text: it shows literally, never as
    markup — no link, image, formula, emphasis, heading, list or HTML element.

    Markup characters become numeric character references (``[`` → ``&#91;``): CommonMark
    decodes references into plain text *after* parsing, and so does HTML, so one escaped string
    is safe in ``st.markdown``/``st.caption``/``st.table`` cells and in ``unsafe_allow_html``
    text alike (backslash escapes are not: HTML shows the backslashes). Bare URLs and e-mail
    addresses get an invisible WORD JOINER before ``://``, after ``www`` and before ``@``:
    GFM finds autolinks in the decoded text, where no escape survives. A value cannot start
    a list, quote or heading; control characters are dropped and line breaks become spaces.
    Ordinary text (letters, digits, spaces, ``.,:;()'"!?%&-``) is left as it is. Written here
    because no maintained library escapes for both languages at once.

    >>> display_text("![x](http://e.org/a.png) $x$")
    '!&#91;x&#93;(http\u2060://e.org/a.png) &#36;x&#36;'
    """
    if value is None:
        return ""
    text = _CONTROL.sub("", " ".join(str(value).splitlines())).replace(WORD_JOINER, "")
    text = _AUTOLINK.sub(WORD_JOINER, text)
    text = "".join(f"&#{ord(ch)};" if ch in _MARKUP_CHARS else ch for ch in text)
    return _BLOCK_START.sub(lambda m: m.group(1) + "".join(f"&#{ord(c)};" for c in m.group(2)), text, count=1)


_TERMINAL_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SERVER_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s'\"\\/:]+){2,}[\\/]?")


def terminal_safe(text: Any) -> str:
    """Text for a terminal: escape sequences (colours, cursor moves, OSC titles/links) and other
    control characters removed, so a layer or file name cannot rewrite the screen. Tabs and
    line breaks stay."""
    return _TERMINAL_CONTROL.sub("", str(text)).replace("\r", "")


def redact_paths(text: Any) -> str:
    """``text`` with file-system paths replaced by "…" (for messages about unexpected errors,
    which must not show where the server keeps its files)."""
    return _SERVER_PATH.sub("…", str(text))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame):  # pandas.DataFrame in and out
    """Copy of ``frame`` whose text cells *and column names* cannot run as spreadsheet formulas.

    A text starting with = + - @ (or tab/CR) gets a leading apostrophe, the usual CSV/XLSX
    injection defence (OWASP): Excel/LibreOffice then show the text instead of evaluating it,
    and openpyxl writes it as a string, not a formula. Numbers stay numbers. ``unneutralise``
    undoes it when such a file is imported again.
    """
    import pandas as pd

    def safe(v):
        return "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v

    out = frame.copy()
    geometry = getattr(out, "_geometry_column_name", None)
    for col in out.columns:
        if col == geometry or not (pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object):
            continue
        values = out[col]
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_START))
        if risky.any():
            out[col] = values.where(~risky, "'" + values.astype(str))
    renamed = {c: safe(c) for c in out.columns if c != geometry and safe(c) != c}
    return out.rename(columns=renamed) if renamed else out


def unneutralise(value: Any) -> Any:
    """The text ``spreadsheet_safe`` protected, apostrophe removed (for re-imported files)."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value

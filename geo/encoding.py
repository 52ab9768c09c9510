"""Legacy Vietnamese text encodings (TCVN3/ABC, VNI-Windows, CP1258) → Unicode NFC.

Old DBF files hold TCVN3 or VNI text with no ``.cpg``; read as Latin-1 they show
``Th¸i Nguyªn`` (TCVN3) or ``Thaùi Nguyeân`` (VNI). The decision is made per column,
never per string: :func:`detect_column` looks at every value of a column at once.

Values are handled as Latin-1 "byte strings" (each char ``<= U+00FF`` stands for one
byte), which is what GDAL returns for a DBF read with ``encoding="latin1"`` and what a
GeoJSON made from such a DBF usually contains.

>>> decode_tcvn3("Th¸i Nguyªn")
'Thái Nguyên'
>>> decode_vni("Thaùi Nguyeân")
'Thái Nguyên'
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import numpy as np
import pandas as pd

ENCODINGS = ("auto", "utf-8", "tcvn3", "vni", "cp1258")

# --- TCVN3 (ABC, TCVN 5712:1993 VN3): one byte per character -------------------------
# tones in the order grave, hook, tilde, acute, dot below
_TCVN3_ROWS = {
    "a": ("\xb5\xb6\xb7\xb8\xb9", "àảãáạ"),
    "ă": ("\xbb\xbc\xbd\xbe\xc6", "ằẳẵắặ"),
    "â": ("\xc7\xc8\xc9\xca\xcb", "ầẩẫấậ"),
    "e": ("\xcc\xce\xcf\xd0\xd1", "èẻẽéẹ"),
    "ê": ("\xd2\xd3\xd4\xd5\xd6", "ềểễếệ"),
    "i": ("\xd7\xd8\xdc\xdd\xde", "ìỉĩíị"),
    "o": ("\xdf\xe1\xe2\xe3\xe4", "òỏõóọ"),
    "ô": ("\xe5\xe6\xe7\xe8\xe9", "ồổỗốộ"),
    "ơ": ("\xea\xeb\xec\xed\xee", "ờởỡớợ"),
    "u": ("\xef\xf1\xf2\xf3\xf4", "ùủũúụ"),
    "ư": ("\xf5\xf6\xf7\xf8\xf9", "ừửữứự"),
    "y": ("\xfa\xfb\xfc\xfd\xfe", "ỳỷỹýỵ"),
}
TCVN3_TABLE: dict[str, str] = {
    "\xa1": "Ă", "\xa2": "Â", "\xa3": "Ê", "\xa4": "Ô", "\xa5": "Ơ", "\xa6": "Ư", "\xa7": "Đ",
    "\xa8": "ă", "\xa9": "â", "\xaa": "ê", "\xab": "ô", "\xac": "ơ", "\xad": "ư", "\xae": "đ",
}
for _src, _dst in _TCVN3_ROWS.values():
    TCVN3_TABLE.update(zip(_src, _dst))
_TCVN3_TRANS = str.maketrans(TCVN3_TABLE)

# --- VNI-Windows: base letter followed by a modifier byte ----------------------------
_VNI_TONES = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_PAIRS: dict[str, str] = {}


def _vni_build() -> None:
    tones = dict(_VNI_TONES)
    for lower, upper in (("a", "A"), ("e", "E"), ("o", "O"), ("u", "U"), ("y", "Y")):
        for mod, comb in tones.items():
            _VNI_PAIRS[lower + mod] = lower + comb
            _VNI_PAIRS[upper + mod.upper()] = upper + comb
            _VNI_PAIRS[upper + mod] = upper + comb  # mixed case seen in the wild
    # circumflex (â ê ô) with tones: â=aâ, ấ=aá, ầ=aà, ẩ=aå, ẫ=aã, ậ=aä
    circ = {"â": "", "á": "\u0301", "à": "\u0300", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
    for lower, upper in (("a", "A"), ("e", "E"), ("o", "O")):
        for mod, comb in circ.items():
            _VNI_PAIRS[lower + mod] = lower + "\u0302" + comb
            _VNI_PAIRS[upper + mod.upper()] = upper + "\u0302" + comb
            _VNI_PAIRS[upper + mod] = upper + "\u0302" + comb
    # breve (ă) with tones: ă=aê, ắ=aé, ằ=aè, ẳ=aú, ẵ=aü, ặ=aë
    breve = {"ê": "", "é": "\u0301", "è": "\u0300", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
    for mod, comb in breve.items():
        _VNI_PAIRS["a" + mod] = "a\u0306" + comb
        _VNI_PAIRS["A" + mod.upper()] = "A\u0306" + comb
        _VNI_PAIRS["A" + mod] = "A\u0306" + comb
    # horn letters ơ (ô) and ư (ö) with tones
    for base, horn in (("ô", "o\u031b"), ("ö", "u\u031b")):
        for mod, comb in tones.items():
            _VNI_PAIRS[base + mod] = horn + comb
            _VNI_PAIRS[base.upper() + mod.upper()] = horn.upper() + comb
            _VNI_PAIRS[base.upper() + mod] = horn.upper() + comb


_vni_build()
VNI_SINGLES: dict[str, str] = {
    "ô": "ơ", "Ô": "Ơ", "ö": "ư", "Ö": "Ư", "ñ": "đ", "Ñ": "Đ",
    "æ": "ỉ", "Æ": "Ỉ", "ó": "ĩ", "Ó": "Ĩ", "ò": "ị", "Ò": "Ị", "î": "ỵ", "Î": "Ỵ",
    # í ì Í Ì are themselves in VNI
}
_VNI_RE = re.compile("|".join(sorted(map(re.escape, _VNI_PAIRS), key=len, reverse=True)))
_VNI_SINGLE_RE = re.compile("[" + "".join(VNI_SINGLES) + "]")

# every letter of the Vietnamese alphabet (NFC), to judge a decoding
_VI_LETTERS = set(
    unicodedata.normalize("NFC", c)
    for c in "aăâbcdđeêghiklmnoôơpqrstuưvxyfjwz"
) | set("àảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")
_VI_LETTERS |= {c.upper() for c in _VI_LETTERS}


_SYLLABLE = re.compile(r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(ng|nh|ch|[cmnpt])?$")
_TONE_MARKS = set("\u0300\u0301\u0303\u0309\u0323")
_WORD = re.compile(r"[^\W\d_]+")


def _fold_word(word: str) -> str:
    nfd = unicodedata.normalize("NFD", word)
    base = "".join(c for c in nfd if not unicodedata.combining(c))
    return base.replace("đ", "d").replace("Đ", "D").lower()


def valid_share(text: str) -> float:
    """Share of the words with non-ASCII letters that are plausible Vietnamese syllables."""
    words = [w for w in _WORD.findall(unicodedata.normalize("NFC", text)) if not w.isascii()][:3000]
    if not words:
        return 1.0
    ok = 0
    for w in words:
        tones = sum(1 for c in unicodedata.normalize("NFD", w) if c in _TONE_MARKS)
        if tones <= 1 and _SYLLABLE.match(_fold_word(w)) and all(c in _VI_LETTERS for c in w):
            ok += 1
    return ok / len(words)


def decode_tcvn3(text: str) -> str:
    """TCVN3 (as Latin-1 chars) → Unicode NFC."""
    return unicodedata.normalize("NFC", text.translate(_TCVN3_TRANS))


def decode_vni(text: str) -> str:
    """VNI-Windows (as Latin-1/CP1252 chars) → Unicode NFC."""
    out = _VNI_RE.sub(lambda m: _VNI_PAIRS[m.group(0)], text)
    out = _VNI_SINGLE_RE.sub(lambda m: VNI_SINGLES[m.group(0)], out)
    return unicodedata.normalize("NFC", out)


def _as_bytes(text: str) -> bytes | None:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return None


def decode_cp1258(text: str) -> str:
    """Windows-1258 (as Latin-1 chars) → Unicode NFC."""
    raw = _as_bytes(text)
    if raw is None:
        return unicodedata.normalize("NFC", text)
    return unicodedata.normalize("NFC", raw.decode("cp1258", errors="replace"))


def decode_utf8(text: str) -> str:
    """UTF-8 bytes read as Latin-1 (mojibake such as ``ThÃ¡i``) → Unicode NFC."""
    raw = _as_bytes(text)
    if raw is None:
        return unicodedata.normalize("NFC", text)
    return unicodedata.normalize("NFC", raw.decode("utf-8", errors="replace"))


DECODERS = {"tcvn3": decode_tcvn3, "vni": decode_vni, "cp1258": decode_cp1258, "utf-8": decode_utf8}


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control(text: str) -> bool:
    """True when ``text`` holds a C0/C1 control character (tab and line breaks aside): no
    Vietnamese text has one, so a decoding that leaves one is the wrong decoding."""
    return _CONTROL.search(text) is not None


_SYMBOL_IN_WORD = re.compile(r"[A-Za-z\xc0-\xd6\xd8-\xf6\xf8-\xff][\xa1-\xbf\xd7\xf7][A-Za-z\xc0-\xd6\xd8-\xf6\xf8-\xff]")


def looks_garbled(text: str) -> bool:
    """True when text left as Latin-1 is not text in any language: a control character, or
    a symbol (¶ ¥ ® ½ ÷ …) between two letters, as bytes of an unsupported encoding show."""
    return has_control(text) or _SYMBOL_IN_WORD.search(text) is not None


def _junk(text: str) -> int:
    """How many non-ASCII characters are not Vietnamese letters (lower is better)."""
    return sum(1 for c in text if ord(c) > 127 and c not in _VI_LETTERS)


def detect_column(values: Iterable[str]) -> str:
    """Which encoding the text of one column is in.

    Returns ``"ascii"`` (nothing to do), ``"unicode"`` (already proper Unicode),
    ``"utf-8"`` (UTF-8 bytes read as Latin-1), ``"tcvn3"``, ``"vni"``, ``"cp1258"`` or
    ``"latin-1"`` (non-ASCII text that is none of the above; left as it is).
    """
    texts = [v for v in values if isinstance(v, str) and not v.isascii()]
    if len(texts) > _SAMPLE:
        texts = texts[:: len(texts) // _SAMPLE + 1]
    joined = "\n".join(texts)
    if not joined or joined.isascii():
        return "ascii"
    if any(ord(c) > 0xFF for c in joined):
        return "unicode"
    raw = joined.encode("latin-1")
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    candidates: dict[str, str] = {}
    if _VNI_RE.search(joined):
        candidates["vni"] = decode_vni(joined)
    cp = unicodedata.normalize("NFC", raw.decode("cp1258", errors="replace"))
    if any(unicodedata.combining(c) for c in raw.decode("cp1258", errors="replace")) and \
            not any(unicodedata.combining(c) for c in cp):
        candidates["cp1258"] = cp
    candidates["tcvn3"] = decode_tcvn3(joined)
    # a decoding that leaves control characters (VISCII, KOI8 … read as TCVN3) is not Vietnamese
    candidates = {k: v for k, v in candidates.items() if not has_control(v)}
    if not candidates:
        return "latin-1"
    order = list(candidates)
    scored = {k: (valid_share(v), -_junk(v), -order.index(k)) for k, v in candidates.items()}
    best = max(scored, key=scored.__getitem__)
    share, neg_junk, _ = scored[best]
    latin_share, latin_junk = valid_share(joined), _junk(joined)
    # a legacy decoding must read as Vietnamese and explain the text better than leaving
    # it alone; TCVN3 remaps ordinary Latin-1 letters, so a tie never favours it
    better = share > latin_share or -neg_junk < latin_junk or (best != "tcvn3" and share == latin_share
                                                               and -neg_junk == latin_junk)
    # a decoding that leaves non-letters among the letters (ð ° ÷ of VISCII read as TCVN3)
    # must read as Vietnamese nearly throughout
    if share >= (0.5 if neg_junk == 0 else 0.9) and better:
        return best
    return "latin-1"


_SAMPLE = 2000


def convert_many(values: list[str], encoding: str) -> dict[str, str]:
    """``{value: converted}`` for the values that change (one decode call for all of them)."""
    todo = [v for v in values if not v.isascii() or not unicodedata.is_normalized("NFC", v)]
    if not todo:
        return {}
    if encoding in DECODERS and encoding != "utf-8" and not any("\x00" in v for v in todo):
        legacy = [v for v in todo if max(v) <= "\xff"]
        out = dict(zip(legacy, DECODERS[encoding]("\x00".join(legacy)).split("\x00"))) if legacy else {}
        if len(out) != len(legacy):  # a value that decodes into the separator: go one by one
            out = {v: convert_value(v, encoding) for v in legacy}
        out.update({v: unicodedata.normalize("NFC", v) for v in todo if max(v) > "\xff"})
    else:
        out = {v: convert_value(v, encoding) for v in todo}
    return {k: v for k, v in out.items() if k != v}


def convert_value(value, encoding: str):
    """Convert one value (non-strings pass through) from ``encoding``."""
    if not isinstance(value, str):
        return value
    if encoding in ("tcvn3", "vni", "cp1258") and any(ord(c) > 0xFF for c in value):
        return unicodedata.normalize("NFC", value)  # already real Unicode: leave it
    if encoding in DECODERS:
        return DECODERS[encoding](value)
    return unicodedata.normalize("NFC", value)  # "nfc" and anything else: only normalise


class EncodingUnknown(ValueError):
    """No known encoding explains the text of ``column`` (raised only when asked to be strict)."""

    def __init__(self, column: str):
        super().__init__(column)
        self.column = column


def _text_uniques(df: pd.DataFrame, geom_name) -> dict:
    out = {}
    for col in df.columns:
        if col == geom_name:
            continue
        series = df[col]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        arr = series.to_numpy(dtype=object, na_value=None)
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
        out[col] = (series, codes, uniques)
    return out


def detect_file(df: pd.DataFrame) -> str:
    """The legacy encoding of a whole table, judged from all its text at once (every text
    column and the column names): a column whose only value is short ("Y tÕ") is decided
    with the rest of its file. Same return values as :func:`detect_column`."""
    geom_name = getattr(df, "_geometry_column_name", None)
    values = [str(c) for c in df.columns if c != geom_name]
    for _, _, uniques in _text_uniques(df, geom_name).values():
        values.extend(u for u in uniques if isinstance(u, str))
    legacy = [v for v in values if not v.isascii() and max(v) <= "\xff"]  # real Unicode is decided already
    return detect_column(legacy)


def mixed_legacy(values: list[str]) -> tuple[str, dict[str, str]] | None:
    """In a column of real Unicode, the values typed in a legacy encoding (rows pasted from
    an old TCVN3 sheet): ``(encoding, {value: converted})`` or None. A value is converted
    only when it is not valid Vietnamese as it stands and its decoding is, word for word."""
    legacy = [v for v in values if isinstance(v, str) and not v.isascii() and max(v) <= "\xff"
              and valid_share(v) < 1]
    if not legacy:
        return None
    enc = detect_column(legacy)
    if enc not in ("tcvn3", "vni", "cp1258"):
        return None
    out = {}
    for v in legacy:
        new = convert_value(v, enc)
        if new != v and not has_control(new) and "\ufffd" not in new and _junk(new) == 0 \
                and valid_share(new) == 1.0:
            out[v] = new
    return (enc, out) if out else None


def fix_frame_text(df: pd.DataFrame, encoding: str = "auto", raw: bool = False,
                   strict: bool = False, partial: dict | None = None,
                   ) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """Convert every text column (and the column names) of ``df`` to Unicode NFC.

    ``encoding="auto"`` decides per column and, for a column too short to decide alone,
    from all text of the file (:func:`detect_file`); any other value of :data:`ENCODINGS`
    forces it. ``raw`` says the text was read as Latin-1 bytes (no ``.cpg``), so "utf-8"
    is tried. ``strict`` (a declared encoding proved wrong): a column with non-ASCII bytes
    that no known encoding explains raises :class:`EncodingUnknown` naming it.
    A conversion never writes U+FFFD: a value that would get one raises
    :class:`EncodingUnknown` instead.
    Returns the new frame, ``{column: encoding}`` for the columns that were converted
    and ``{old name: new name}`` for renamed columns. A Unicode column some of whose values
    are legacy text (:func:`mixed_legacy`) has those values converted; ``partial`` (a dict
    the caller passes) gets ``{column: [encoding, values converted, values]}`` for it.
    """
    converted: dict[str, str] = {}
    out = df.copy()
    geom_name = getattr(df, "_geometry_column_name", None)
    file_enc = detect_file(df) if encoding == "auto" else encoding
    for col, (series, codes, uniques) in _text_uniques(df, geom_name).items():
        uniq = [u for u in uniques if isinstance(u, str)]
        if not uniq:
            continue
        if encoding != "auto":
            enc = encoding
        else:
            enc = detect_column(uniq)
            # a column too short to decide alone ("Y tÕ") follows its file's decision; a
            # column with its own clear evidence keeps it (files mixing sources exist)
            if enc == "latin-1" and file_enc in DECODERS:
                enc = file_enc
        if enc == "utf-8" and encoding == "auto" and not raw and not _looks_mojibake(np.asarray(uniq, dtype=object)):
            enc = "unicode"
        if enc == "latin-1" and (strict or (encoding == "auto" and any(looks_garbled(u) for u in uniq))):
            # Latin-1 text never holds C1 controls: bytes of an encoding the atlas does not read
            raise EncodingUnknown(str(col))
        changed = convert_many(uniq, enc if enc in DECODERS else "nfc")
        mixed = mixed_legacy(uniq) if encoding == "auto" and enc == "unicode" else None
        if mixed is not None:
            changed.update(mixed[1])
            if partial is not None:
                hit = np.isin(codes, [i for i, u in enumerate(uniques) if u in mixed[1]])
                partial[str(col)] = [mixed[0], int(hit.sum()), int((codes >= 0).sum())]
        if not changed:
            continue
        if any(("\ufffd" in v and "\ufffd" not in k) or (enc in DECODERS and has_control(v))
               for k, v in changed.items()):
            raise EncodingUnknown(str(col))
        if enc in DECODERS:
            converted[str(col)] = enc
        new_uniques = np.array([changed.get(u, u) if isinstance(u, str) else u for u in uniques] + [None],
                               dtype=object)
        out[col] = pd.Series(new_uniques[codes], index=series.index, dtype=object)
    names = [str(c) for c in df.columns if c != geom_name]
    renamed: dict[str, str] = {}
    enc_names = encoding if encoding != "auto" else detect_column(names)
    if encoding == "auto" and enc_names == "latin-1" and file_enc in DECODERS:
        enc_names = file_enc
    if enc_names in DECODERS:
        for name in names:
            new = convert_value(name, enc_names)
            if new != name and "\ufffd" not in new:
                renamed[name] = new
    if renamed:
        out = out.rename(columns=renamed)
    return out, converted, renamed


def _looks_mojibake(values: np.ndarray) -> bool:
    """UTF-8 read as Latin-1 shows 'Ã'/'Â'/'Ä'/'Æ'/'á»' pairs; real Latin-1 text rarely does."""
    joined = "".join(values)
    return bool(re.search("[\xc2-\xc6\xe1][\x80-\xbf]", joined))

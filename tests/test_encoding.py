"""geo.encoding: TCVN3/VNI/CP1258 tables round-trip, per-column detection."""
from __future__ import annotations

import unicodedata

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import encoding as enc

LOWER = "aàảãáạăằẳẵắặâầẩẫấậbcdđeèẻẽéẹêềểễếệghiìỉĩíịklmnoòỏõóọôồổỗốộơờởỡớợpqrstuùủũúụưừửữứựvxyỳỷỹýỵ"
UPPER_PLAIN = "ĂÂÊÔƠƯĐ"
_TCVN3_INV = {v: k for k, v in enc.TCVN3_TABLE.items()}


def to_tcvn3(text: str) -> str:
    return "".join(_TCVN3_INV.get(c, c) for c in unicodedata.normalize("NFC", text))


_VNI_INV: dict[str, str] = {}
for src, dst in enc._VNI_PAIRS.items():
    if src[0].islower() == src[1].islower():
        _VNI_INV.setdefault(unicodedata.normalize("NFC", dst), src)
for src, dst in enc.VNI_SINGLES.items():
    _VNI_INV.setdefault(dst, src)
for c in "íìÍÌ":
    _VNI_INV.setdefault(c, c)


def to_vni(text: str) -> str:
    return "".join(_VNI_INV.get(c, c) for c in unicodedata.normalize("NFC", text))


def test_tcvn3_table_covers_every_lowercase_letter_and_plain_capitals():
    assert set(LOWER + UPPER_PLAIN) - set("abcdeghiklmnopqrstuvxy") <= set(_TCVN3_INV)
    assert len(set(enc.TCVN3_TABLE.values())) == len(enc.TCVN3_TABLE)


def test_vni_covers_every_letter_both_cases():
    for c in LOWER + LOWER.upper():
        assert enc.decode_vni(to_vni(c)) == c, c


@given(st.text(alphabet=LOWER + UPPER_PLAIN + " .,-0123456789", max_size=40))
@settings(max_examples=150, deadline=None)
def test_tcvn3_round_trip(text):
    assert enc.decode_tcvn3(to_tcvn3(text)) == text


@given(st.text(alphabet=LOWER + LOWER.upper() + " -0123456789", max_size=40))
@settings(max_examples=150, deadline=None)
def test_vni_round_trip(text):
    assert enc.decode_vni(to_vni(text)) == text


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> str:
    """Windows-1258 bytes (as Latin-1 chars): precomposed base letter + combining tone."""
    out = b""
    for c in unicodedata.normalize("NFC", text):
        try:
            out += c.encode("cp1258")
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", c)
            base = unicodedata.normalize("NFC", "".join(x for x in d if x not in _TONES))
            out += base.encode("cp1258") + "".join(x for x in d if x in _TONES).encode("cp1258")
    return out.decode("latin-1")


WARDS = ["Phường Hoàng Văn Thụ", "Xã Quyết Thắng", "Thị trấn Hùng Sơn", "Phường Túc Duyên", "Xã Phúc Xuân"]


@pytest.mark.parametrize("column, expected", [
    ([to_tcvn3(w) for w in WARDS], "tcvn3"),
    ([to_vni(w) for w in WARDS], "vni"),
    ([w.encode("utf-8").decode("latin-1") for w in WARDS], "utf-8"),
    ([to_cp1258(w) for w in WARDS], "cp1258"),
    (WARDS, "unicode"),
    (["Ha Noi", "Thai Nguyen"], "ascii"),
    (["Café", "Crème brûlée"], "latin-1"),
    (["Café 21°", "Hôtel ½ prix"], "latin-1"),
])
def test_detect_column(column, expected):
    assert enc.detect_column(column) == expected


def test_cp1258_decodes():
    raw = [to_cp1258(w) for w in WARDS]
    assert [enc.decode_cp1258(r) for r in raw] == WARDS


def test_fix_frame_per_column_and_names():
    df = pd.DataFrame({to_tcvn3("Tên"): [to_tcvn3(w) for w in WARDS],
                       "vni": [to_vni(w) for w in WARDS],
                       "ok": WARDS, "n": range(5)})
    out, converted, renamed = enc.fix_frame_text(df)
    assert converted == {to_tcvn3("Tên"): "tcvn3", "vni": "vni"}
    assert renamed == {to_tcvn3("Tên"): "Tên"}
    assert list(out["Tên"]) == WARDS and list(out["vni"]) == WARDS and list(out["ok"]) == WARDS
    assert list(out["n"]) == list(range(5))


def test_forced_encoding_leaves_real_unicode_alone():
    df = pd.DataFrame({"a": ["Đại Từ", to_tcvn3("Đại Từ")]})
    out, _, _ = enc.fix_frame_text(df, "tcvn3")
    assert list(out["a"]) == ["Đại Từ", "Đại Từ"]


def test_output_is_nfc():
    df = pd.DataFrame({"a": [unicodedata.normalize("NFD", w) for w in WARDS]})
    out, _, _ = enc.fix_frame_text(df)
    assert all(unicodedata.is_normalized("NFC", v) for v in out["a"])


def test_every_commune_name_detected_alone_in_every_encoding():
    """Each real commune name of the shipped layer, alone in a column, in each legacy encoding."""
    from geo.catalog import load_layer

    names = sorted({n for n in load_layer("communes")["commune_vn"].dropna() if not n.isascii()})
    assert len(names) > 200
    for name_enc, encode in (("tcvn3", to_tcvn3), ("vni", to_vni), ("cp1258", to_cp1258),
                             ("utf-8", lambda w: w.encode("utf-8").decode("latin-1"))):
        wrong = [n for n in names if enc.detect_column([encode(n)]) != name_enc
                 or enc.DECODERS[name_enc](encode(n)) != unicodedata.normalize("NFC", n)]
        assert wrong == [], (name_enc, wrong[:5])


@pytest.mark.parametrize("column", [["Café", "Crème brûlée"], ["Café 21°", "Hôtel ½ prix"], ["Müller", "Straße"],
                                    ["São Paulo"], ["naïve"], ["Ñandú"]])
def test_foreign_latin1_text_left_alone(column):
    assert enc.detect_column(column) == "latin-1"

"""Text of an encoding the atlas does not read (VISCII) is refused naming the column, never
"converted from TCVN3" into control characters; a column mixing Unicode and TCVN3 rows is
converted per value and said so."""
from __future__ import annotations

import pandas as pd
import pytest

from geo import encoding as enc
from geo.errors import AtlasError
from geo.io import read_any
from tests import corpus

# VISCII bytes (as made by `iconv -t VISCII`) of Vietnamese names, as Latin-1 characters
VISCII_NAMES = [
    b"\x9cy ban nh\xe2n d\xe2n ph\xdf\xb6ng T\xfac Duy\xean".decode("latin-1"),  # Ủy (0x9C: a C1 control)
    b"Ch\xfe \xd0\xb0n \x84m Th\xdf\xfeng".decode("latin-1"),
    b"Tr\xdf\xb6ng M\xa5m non Hoa Sen".decode("latin-1"),
]
VISCII_LOWER = [  # no control character at all
    b"tr\xdf\xb6ng ti\xacu h\xf7c quy\xaat th\xa1ng".decode("latin-1"),
    b"b\xdfu \xf0i\xaen v\xe5n h\xf3a x\xe3 l\xdf\xbdng s\xbdn".decode("latin-1"),
    b"Tr\xdf\xb6ng M\xa5m non Hoa Sen".decode("latin-1"),
]


def test_viscii_is_not_taken_for_tcvn3():
    assert enc.detect_column(VISCII_NAMES) == "latin-1"
    assert enc.detect_column(VISCII_LOWER) == "latin-1"
    assert enc.detect_column(corpus.TCVN3_NAMES) == "tcvn3"  # real TCVN3 still is


@pytest.mark.parametrize("names", [VISCII_NAMES, VISCII_LOWER])
@pytest.mark.parametrize("cpg", [None, "UTF-8"])
def test_viscii_shapefile_refused_naming_the_column(tmp_path, names, cpg):
    z = corpus._shapefile(tmp_path, "viscii", names, encoding="latin1", prj=corpus.LOCAL_TM3_PRJ, cpg=cpg)
    with pytest.raises(AtlasError) as ei:
        read_any(z)
    assert ei.value.key == "import_errors.encoding_unknown"
    assert "'ten'" in ei.value.message("en") and "'ten'" in ei.value.message("vi")


def test_tcvn3_shapefile_still_converted(tmp_path):
    gdf, rep = read_any(corpus.make_shp_tcvn3(tmp_path))
    assert list(gdf["ten"]) == ["Thái Nguyên", "Đại Từ", "Phổ Yên"]
    assert rep.encodings == {"ten": "tcvn3"}


def test_mixed_unicode_and_tcvn3_column_converted_per_value_and_said(tmp_path):
    p = tmp_path / "mixed.csv"
    p.write_text('Ten,Lat,Lon\n"Tr¹m Y tÕ x· §¾c S¬n",21.59,105.84\n"Bưu điện văn hóa xã Lương Sơn",21.6,105.85\n'
                 '"Nhµ thê gi¸o xø §oµn KÕt",21.61,105.86\n"Sân vận động Gang Thép",21.62,105.87\n'
                 '"Café Hòa Bình",21.63,105.88\n', encoding="utf-8")
    gdf, rep = read_any(p)
    assert list(gdf["Ten"]) == ["Trạm Y tế xã Đắc Sơn", "Bưu điện văn hóa xã Lương Sơn", "Nhà thờ giáo xứ Đoàn Kết",
                                "Sân vận động Gang Thép", "Café Hòa Bình"]  # a foreign word is left alone
    assert rep.partial_encodings == {"Ten": ["tcvn3", 2, 5]}
    assert "Column 'Ten': 2 of 5 values converted from TCVN3 (ABC) to Unicode" in "\n".join(rep.lines("en"))
    assert "Cột 'Ten': 2 trên 5 giá trị được chuyển từ" in "\n".join(rep.lines("vi"))


def test_unicode_column_without_legacy_rows_is_untouched():
    df = pd.DataFrame({"ten": ["Hà Giang", "Cà Mau", "Café Hòa", "Bưu điện"]})
    partial: dict = {}
    out, converted, _ = enc.fix_frame_text(df, partial=partial)
    assert list(out["ten"]) == list(df["ten"]) and not converted and not partial

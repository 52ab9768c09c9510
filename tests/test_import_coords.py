"""Coordinates as GPS units write them: "21 35.583" without hemisphere letters read as
degrees + minutes (never 2135.583 with a space as thousands separator); minutes or
seconds of 60 or more said as such, not as "non-numeric"."""
from __future__ import annotations

import pytest

from geo.errors import AtlasError
from geo.io import read_any


def _csv(tmp_path, text: str, name: str = "t.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("header", ["Tên,Vĩ độ,Kinh độ", "name,lat,lon"])
def test_bare_degrees_minutes_read_as_ddm(tmp_path, header):
    p = _csv(tmp_path, header + '\n"A",21 35.583,105 50.641\n"B","21 37.861","105 44.887"\n'
                                '"C","21 34 41,3","105 49 44,6"\n')
    gdf, rep = read_any(p)
    assert len(gdf) == 3 and not rep.lossy
    assert gdf.geometry.y.iloc[0] == pytest.approx(21 + 35.583 / 60)
    assert gdf.geometry.x.iloc[1] == pytest.approx(105 + 44.887 / 60)
    assert gdf.geometry.y.iloc[2] == pytest.approx(21 + 34 / 60 + 41.3 / 3600)


def test_a_number_with_a_space_outside_a_latlon_pair_is_not_ddm(tmp_path):
    """x/y metres with a space as thousands separator stay metres (VN-2000 zone 105°30')."""
    p = _csv(tmp_path, 'ten,x,y\n"A","435 123","2 385 456"\n"B","436 000","2 386 000"\n')
    gdf, rep = read_any(p, crs="EPSG:9213")
    assert len(gdf) == 2 and 105 < gdf.geometry.x.iloc[0] < 106.5


def test_bare_ddm_minutes_over_60_refused_with_the_format(tmp_path):
    p = _csv(tmp_path, 'name,lat,lon\n"A","21 75.5","105 50.6"\n"B","21 61.0","105 99.0"\n')
    with pytest.raises(AtlasError) as ei:
        read_any(p)
    assert ei.value.key == "import_errors.dms_range"
    assert "60 or more" in ei.value.message("en") and "60 trở lên" in ei.value.message("vi")


@pytest.mark.parametrize("bad", ["N21 61.000", "N21°35'75\"", "21 61.000"])
def test_minutes_or_seconds_over_60_give_the_true_reason(tmp_path, bad):
    p = _csv(tmp_path, f'name,lat,lon\n"ok1",N21 35.583,E105 50.641\n"ok2",N21 37.861,E105 44.887\n'
                       f'"phut 61",{bad.replace(chr(34), chr(34) * 2) if chr(34) in bad else bad},E105 50.641\n'
                       '"empty",,\n')
    if '"' in bad:
        p.write_text(p.read_text().replace(bad.replace('"', '""'), '"' + bad.replace('"', '""') + '"'))
    gdf, rep = read_any(p)
    assert len(gdf) == 2 and rep.lossy
    assert rep.dropped_dms_range == 1 and rep.dropped_bad_coords == 1
    text = "\n".join(rep.lines("en"))
    assert "Dropped 1 rows whose coordinate minutes or seconds are 60 or more (rows 4)" in text
    assert "Dropped 1 rows with empty or non-numeric coordinates" in text
    assert [r[2] for r in rep.dropped_rows] == ["dms_range", "bad_coords"]
    assert "60 trở lên" in "\n".join(rep.lines("vi"))

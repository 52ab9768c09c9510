"""The official facility register: template → filled → import → declared → used by default."""
from __future__ import annotations

import io

import openpyxl
import pytest

from geo.catalog import load_layer
from geo.completeness import completeness
from geo.errors import AtlasError
from geo.register import (
    SHEETS,
    authoritative_source,
    declarations,
    declare_authoritative,
    facilities_for,
    headers,
    import_register,
    template_xlsx,
)


@pytest.fixture()
def env(tmp_path, editor):
    return tmp_path, editor


def _filled(tmp_path, wards):
    """The template with one health station per 2025 unit: half as lat/lon, half as VN-2000 X/Y."""
    wb = openpyxl.load_workbook(io.BytesIO(template_xlsx("vi")))
    ws = wb[SHEETS[0].title("vi")]
    assert [c.value for c in ws[1]] == headers("vi")
    pts = wards.representative_point()
    metric = pts.to_crs(9213)
    for i, (name, p, m) in enumerate(zip(wards["name_full"], pts, metric)):
        if i % 2:
            ws.append([f"Trạm y tế {name}", "", name, None, None, round(m.y, 2), round(m.x, 2), ""])
        else:
            ws.append([f"Trạm y tế {name}", "", name, f"{p.y:.6f}".replace(".", ","), f"{p.x:.6f}", None, None, ""])
    path = tmp_path / "danh_sach.xlsx"
    wb.save(path)
    return path


def test_template_has_vi_headers_and_one_sheet_per_register_sheet() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(template_xlsx("vi")))
    assert [s.title("vi") for s in SHEETS] == wb.sheetnames[1:]
    assert "Tên cơ sở" in headers("vi") and "X (VN-2000)" in headers("vi") and "Vĩ độ (lat)" in headers("vi")


def test_round_trip_register_becomes_the_default_source(env) -> None:
    tmp_path, editor = env
    wards = load_layer("wards_2025")
    osm, src = facilities_for("health")
    assert not src.authoritative and completeness("health", wards, osm, "gso_code").lower_bound
    names = import_register(_filled(tmp_path, wards), "Sở Y tế 2026", editor)
    assert len(names) == 1
    assert authoritative_source("health") is None  # imported, not yet declared
    declare_authoritative(editor, "health", names[0])
    decl = authoritative_source("health")
    assert decl is not None and decl.layer == names[0] and decl.declared_by == editor.username
    reg, src = facilities_for("health")
    assert src.authoritative and len(reg) == len(wards) and "Sở Y tế 2026" in src.credit("vi")
    # lat/lon and VN-2000 rows both land inside their own unit
    c = completeness("health", wards, reg, "gso_code", authoritative=True)
    assert c.known_norm_type == len(wards) and c.complete and not c.lower_bound
    assert c.summary("en") == f"Facility data: {len(wards)} of {len(wards)} commune health stations known"
    # the OSM layer stays available for comparison
    assert not facilities_for("health", use_authoritative=False)[1].authoritative
    # who and when: in the declarations and in the workspace's audit log
    from geo.store import Store
    log = Store().audit_log()
    assert (log["action"] == "register_declared").any() and editor.username in set(log["actor"])
    declare_authoritative(editor, "health", None)
    assert authoritative_source("health") is None and len(declarations()) == 2


def test_rows_without_coordinates_and_non_editors_are_refused(env) -> None:
    tmp_path, editor = env
    wb = openpyxl.load_workbook(io.BytesIO(template_xlsx("vi")))
    wb[SHEETS[2].title("vi")].append(["Trường A", "", "", None, None, None, None, ""])
    path = tmp_path / "bad.xlsx"
    wb.save(path)
    with pytest.raises(AtlasError) as err:
        import_register(path, "x", editor)
    assert "2" in err.value.message("vi") and "bad.xlsx" in err.value.message("vi")
    with pytest.raises(AtlasError):
        declare_authoritative(None, "health", None)
    with pytest.raises(AtlasError):
        declare_authoritative(editor, "spa", None)


def test_declared_register_is_what_every_coverage_question_uses(env) -> None:
    """After the declaration the coverage service (page, CLI, deck, indicators, exports all
    ask it) counts the register's stations, credits it and no longer calls figures a lower
    bound; withdrawing the declaration brings the OSM layer and the "at least" back."""
    from geo.service import CoverageRequest, CoverageService

    tmp_path, editor = env
    wards = load_layer("wards_2025")
    service = CoverageService()
    osm = service.ask(CoverageRequest(category="health", units="wards_2025", population="wards_2025"))
    assert osm.lower_bound and not osm.completeness.source.authoritative
    assert "of 92 commune health stations known" in osm.completeness_sentence("en")
    names = import_register(_filled(tmp_path, wards), "Sở Y tế 2026", editor)
    declare_authoritative(editor, "health", names[0])
    reg = service.ask(CoverageRequest(category="health", units="wards_2025", population="wards_2025"))
    assert len(reg.base_facilities) == len(wards)
    assert not reg.lower_bound and reg.completeness.source.authoritative
    assert (reg.table["facilities_known"] >= 1).all()
    assert reg.totals()["covered_population"] >= osm.totals()["covered_population"]
    assert any("Sở Y tế 2026" in note for note in reg.credits("vi").notes)
    declare_authoritative(editor, "health", None)
    back = service.ask(CoverageRequest(category="health", units="wards_2025", population="wards_2025"))
    assert back.lower_bound and back.totals()["covered_population"] == osm.totals()["covered_population"]

"""Indicator facts of the framework file: named sources, bases, documents (issue 9 §5)."""
from __future__ import annotations

from geo.indicators import Value, basis_changes, load_framework


def _v(period: int, basis: str, value: float = 1.0) -> Value:
    return Value("x", "province:19", period, value, "rank", "s", basis=basis)


def test_basis_changes_are_found_and_unstated_bases_do_not_break() -> None:
    assert basis_changes([_v(2020, "a"), _v(2022, ""), _v(2024, "b"), _v(2021, "a")]) == [(2024, "a", "b")]
    assert basis_changes([_v(2020, ""), _v(2021, "a")]) == []


def test_shipped_facts_name_their_sources_and_bases() -> None:
    fw = load_framework()
    assert "01-NQ/TU" in fw.source_text("resolution_2020", "vi") and "31-12-2020" in fw.source_text("resolution_2020", "vi")
    assert "Ban Chấp hành Đảng bộ tỉnh Thái Nguyên" in fw.source_text("resolution_2020", "vi")
    dti = sorted((v for v in fw.values if v.indicator_id == "dti_rank"), key=lambda v: v.period)
    assert all(v.basis for v in dti)  # every rank says among how many provinces
    changes = basis_changes(dti)
    assert len(changes) == 1 and "34" in fw.basis_text(changes[0][2], "en")
    by_id = {(v.indicator_id, v.period): v for v in fw.values}
    assert by_id[("digital_enterprises", 2024)].value == 324 and "2024" in fw.basis_text(
        by_id[("digital_enterprises", 2024)].basis, "en")
    assert by_id[("service_index_rank", 2025)].value == 1 and by_id[("service_index_score", 2025)].value == 86.97
    assert "29-8-2025" in fw.source_text(by_id[("service_index_rank", 2025)].source, "vi")
    for v in fw.values:  # every value: a source that resolves to text, and a link where there is one
        assert fw.source_text(v.source, "vi") != v.source


def test_strategy_1893_is_a_framework_document_without_targets_yet() -> None:
    fw = load_framework()
    doc = {d.id: d for d in fw.documents}["decision_1893_2025"]
    assert doc.issued == "2025-11-14" and "1893/QĐ-UBND" in doc.title("vi") and doc.targets == ()

"""A file of a type the uploader does not take, dropped on the Data page in Vietnamese: the
reason Streamlit writes in English ("… files are not allowed.") is replaced by the UI
language's, on screen (the chip's tooltip) and for screen readers (its alert)."""
from __future__ import annotations

from pathlib import Path

from geo.i18n import t

CHIP = '[data-testid="stFileChip"][aria-invalid="true"]'
TOOLTIP = '[data-testid="stTooltipErrorContent"]'


def _after(locator) -> dict:
    """The element's own font size and its ::after content/font size/visibility."""
    return locator.evaluate("""e => { const s = getComputedStyle(e), a = getComputedStyle(e, '::after');
        return {size: s.fontSize, visibility: s.visibility, text: e.textContent,
                after: a.content, afterSize: a.fontSize, afterVisibility: a.visibility}; }""")


def test_refused_file_type_said_in_vietnamese(app_url, offline_page, tmp_path: Path):
    page = offline_page
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ" + bytes(100))
    page.goto(f"{app_url}/?lang=vi", wait_until="domcontentloaded")
    page.locator('[data-testid="stSidebarNav"] a', has_text="Dữ liệu của tôi").first.click(timeout=60000)
    box = page.locator('[data-testid="stFileUploader"]').first
    box.locator("input[type=file]").wait_for(state="attached", timeout=60000)
    box.locator("input[type=file]").set_input_files(str(exe))
    chip = box.locator(CHIP)
    chip.wait_for(timeout=30000)

    # the chip still shows the file's name (the drag-overlay rule must not hide the chip list)
    name = chip.locator('[data-testid="stFileChipName"]')
    assert name.inner_text() == "setup.exe" and _after(name)["size"] != "0px"
    assert box.get_by_text(t("common.upload_drop", "vi")).count() == 0

    # screen readers (the chip's alert, read when the chip appears): the Vietnamese reason only
    alert = chip.locator('[role="alert"]')
    said = _after(alert)
    assert "not allowed" in said["text"] and said["visibility"] == "hidden"
    assert said["afterVisibility"] == "visible" and "Tệp này không được nhận" in said["after"], said
    read = _accessible_texts(page)
    assert any("Tệp này không được nhận" in x for x in read) and not any("not allowed" in x for x in read), read

    # the tooltip on hover: Streamlit's English at font size 0, the uploader's own reason instead
    chip.hover()
    tip = page.locator(TOOLTIP)
    tip.wait_for(timeout=10000)
    shown = _after(tip)
    assert "not allowed" in shown["text"]            # Streamlit's text is there …
    assert shown["size"] == "0px"                     # … but not drawn
    assert "Tệp này không được nhận" in shown["after"] and "ZIP, SHP" in shown["after"], shown
    assert shown["afterSize"] != "0px"
    assert "not allowed" not in shown["after"] and "accepted" not in shown["after"]


def _accessible_texts(page) -> list[str]:
    """The texts chromium's accessibility tree holds (what a screen reader can read)."""
    nodes = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    return [str(n.get("name", {}).get("value", "")) for n in nodes if not n.get("ignored")]

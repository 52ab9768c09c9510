"""A planner's round trip in the real browser: upload real files on the Data page, read
the report, save, see the layer, rename and delete it; hostile uploads change nothing."""
from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

import pytest

from geo.auth import configure_test_editor
from tests import corpus as C
from tests.e2e.conftest import map_frame

SAVED = "Ranh giới VN-2000 (TCVN3)"


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    """A zipped VN-2000 shapefile with no .prj and a TCVN3 DBF; a zip bomb; a Vietnamese CSV."""
    return {
        "shp": C._shapefile(tmp_path, "ranh_gioi", C.TCVN3_NAMES, encoding="latin1", prj=None, cpg=None),
        "bomb": C.make_zip_bomb(tmp_path),
        "csv": C.make_csv_vn_bom(tmp_path),
    }


@pytest.fixture()
def ws(e2e_workspace: Path, monkeypatch: pytest.MonkeyPatch):
    """geo.workspace pointed at the app's workspace; layers this test saved are removed after."""
    monkeypatch.setenv("ATLAS_WORKSPACE", str(e2e_workspace))
    from geo import workspace

    before = {x["name"] for x in workspace.list_layers()}
    yield workspace
    for layer in workspace.list_layers():
        if layer["name"] not in before:
            workspace.delete_layer(layer["name"], editor=configure_test_editor()[1])


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _open_data_page(page, app_url: str, lang: str = "en") -> None:
    page.goto(f"{app_url}/?lang={lang}", wait_until="domcontentloaded")
    page.locator('[data-testid="stSidebarNav"] a', has_text="My data" if lang == "en" else "Dữ liệu của tôi") \
        .first.click(timeout=60000)
    page.locator('[data-testid="stFileUploader"] input[type=file]').wait_for(state="attached", timeout=60000)
    sign_in(page, lang)


def sign_in(page, lang: str = "en") -> None:
    """Sign in as the test editor (``configure_test_editor``'s defaults) in the sidebar."""
    configure_test_editor()
    side = page.locator('[data-testid="stSidebar"]')
    side.get_by_label("Username" if lang == "en" else "Tên đăng nhập").fill("tester")
    side.get_by_label("Password" if lang == "en" else "Mật khẩu", exact=True).fill("test-password-1")
    side.get_by_role("button", name="Sign in" if lang == "en" else "Đăng nhập").click()
    side.get_by_text("Signed in as" if lang == "en" else "Đã đăng nhập").first.wait_for(timeout=60000)


def _upload(page, path: Path) -> None:
    page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(str(path))


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_vn2000_tcvn3_shapefile_report_save_rename_delete(app_url, offline_page, files, ws):
    page = offline_page
    _open_data_page(page, app_url)
    _upload(page, files["shp"])
    report = page.locator('[data-testid="stText"]', has_text="File: ranh_gioi.zip").first
    report.wait_for(timeout=60000)
    text = report.inner_text()
    assert "Format: Shapefile" in text
    assert "EPSG:9213 VN-2000 / TM-3 106-30 — guessed from the coordinates" in text
    assert "Column 'ten': converted from TCVN3 (ABC) to Unicode" in text
    assert "Features: 3 (read 3)" in text
    # the preview map drew the squares, the attribute table shows proper Unicode
    frame = map_frame(page)
    assert "ranh_gioi.zip" in frame.locator(".leaflet-control-layers").first.text_content()
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for(timeout=30000)
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "atlas_upload_report.png"), full_page=True)
    assert "Traceback" not in _main_text(page) and page.locator('[data-testid="stException"]').count() == 0
    # save under a Vietnamese name
    name_box = page.get_by_label("Layer name to save")
    name_box.fill(SAVED)
    name_box.press("Enter")
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Save to workspace").click()
    page.get_by_text(f"Saved layer '{SAVED}' (3 features).").wait_for(timeout=60000)
    saved = {x["name"]: x for x in ws.list_layers()}
    assert saved[SAVED]["kind"] == "polygons" and saved[SAVED]["features"] == 3
    assert saved[SAVED]["meta"]["report"]["crs_basis"] == "crs_guess_metric"
    assert list(ws.read_layer(SAVED)["ten"]) == C.UNICODE_NAMES
    table = page.locator('[data-testid="stTable"]').first
    assert SAVED in table.inner_text() and "ranh_gioi.zip" in table.inner_text()
    # rename, then delete, through the page
    _manage(page, SAVED)
    box = page.get_by_label("New name").last
    box.fill("Wards 2025")
    box.press("Enter")
    _manage(page, SAVED)
    page.get_by_role("button", name="Rename", exact=True).click()
    page.get_by_text(f"Renamed '{SAVED}' to 'Wards 2025'.").wait_for(timeout=60000)
    names = [x["name"] for x in ws.list_layers()]
    assert "Wards 2025" in names and SAVED not in names
    _confirm_delete(page, "Wards 2025").click()
    try:
        page.get_by_text("Deleted layer 'Wards 2025'.").wait_for(timeout=60000)
    except Exception:
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "atlas_upload_delete_fail.png"), full_page=True)
        print("MAIN:", _main_text(page)[-1500:])
        raise
    assert "Wards 2025" not in [x["name"] for x in ws.list_layers()]


def _confirm_delete(page, layer: str):
    """Tick "I am sure …" until the server has the tick and enables "Delete layer".

    A tick sent while the previous rerun (the rename, the layer pick) is still running can be
    superseded by that rerun's widget state, so the tick is checked and re-sent, not assumed.
    """
    sure = page.get_by_role("checkbox", name="I am sure I want to delete this layer").last
    delete = page.get_by_role("button", name="Delete layer").last
    for _ in range(6):
        _manage(page, layer)  # the expander open, the layer picked (a rerun may have closed it)
        if not sure.is_checked():
            page.get_by_text("I am sure I want to delete this layer").last.click()
            _manage(page, layer)
        for _ in range(40):  # enabled once the confirmation has reached the server
            if delete.is_enabled():
                return delete
            page.wait_for_timeout(250)
    return delete


def _settle(page) -> None:
    """Wait until Streamlit has finished the current run (no stale elements, no running widget)."""
    page.wait_for_timeout(300)
    for _ in range(80):
        if page.locator('[data-stale="true"]').count() == 0 and \
                page.locator('[data-testid="stStatusWidget"]').count() == 0:
            return
        page.wait_for_timeout(250)


def _manage(page, layer: str) -> None:
    """Open "Rename or delete" (if closed) and pick ``layer`` in it."""
    _settle(page)
    if not page.get_by_label("New name").last.is_visible():
        page.get_by_text("Rename or delete").first.click()
    page.get_by_label("New name").last.wait_for(timeout=30000)
    box = page.locator('[data-testid="stExpander"]', has_text="Rename or delete").locator(
        '[data-testid="stSelectbox"]').first
    if box.get_by_role("combobox").input_value() != layer:
        box.get_by_role("button", name="Open").click()
        page.get_by_role("option", name=layer, exact=True).click()
        _settle(page)
        if not page.get_by_label("New name").last.is_visible():
            page.get_by_text("Rename or delete").first.click()


def test_hostile_upload_refused_in_one_sentence_and_workspace_unchanged(app_url, offline_page, files, ws,
                                                                         e2e_workspace):
    page = offline_page
    _open_data_page(page, app_url, lang="vi")
    before = _digest(e2e_workspace)
    _upload(page, files["bomb"])
    alert = page.locator('[data-testid="stAlert"]', has_text="bomb.zip").first
    alert.wait_for(timeout=60000)
    text = alert.inner_text().strip()
    assert text.startswith("Mục 'bomb.shp' trong tệp nén 'bomb.zip' có tỉ lệ nén bất thường")
    assert "bom zip" in text and text.count(". ") == 0 and "\n" not in text
    assert page.get_by_role("button", name="Lưu vào không gian làm việc").count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0
    assert _digest(e2e_workspace) == before


def test_saved_layer_shows_in_the_map_explorer(app_url, offline_page, files, ws):
    page = offline_page
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _open_data_page(page, app_url)
    _upload(page, files["csv"])
    page.get_by_role("button", name="Save to workspace").wait_for(timeout=60000)
    page.get_by_label("Layer name to save").fill("Trường học")
    page.get_by_label("Layer name to save").press("Enter")
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Save to workspace").click()
    page.get_by_text("Saved layer 'Trường học' (3 features).").wait_for(timeout=60000)
    page.locator('[data-testid="stSidebarNav"] a', has_text="Map explorer").first.click()
    map_frame(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stMultiSelect"]', has_text="My layers").locator("input").click()
    page.get_by_role("option", name="Trường học").click()
    page.keyboard.press("Escape")
    frame = map_frame(page)
    frame.locator(".leaflet-control-layers", has_text="Trường học").wait_for(timeout=30000)
    assert not errors


# what a planner sees of an uploader: text nodes drawn at a size above 0 (Streamlit's own texts
# are kept in the DOM at font size 0 by the app's style sheet) plus the ::after texts written in
# their place; the material icon's ligature ("upload") is drawn as an arrow, not read
_SEEN_TEXT = """(root) => {
  const out = [];
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const node = walk.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || el.closest('[data-testid="stIconMaterial"]')) continue;
    if (parseFloat(getComputedStyle(el).fontSize) === 0) continue;
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    out.push(node.textContent.trim());
  }
  for (const el of [root, ...root.querySelectorAll("*")]) {
    const after = getComputedStyle(el, "::after");
    if (after.content && !["none", "normal"].includes(after.content) && parseFloat(after.fontSize) > 0)
      out.push(after.content.replace(/^"|"$/g, ""));
  }
  return out;
}"""
_ENGLISH = re.compile(r"\b(upload|drag|drop|browse|files?|limit|per)\b", re.IGNORECASE)


def test_vietnamese_uploader_shows_no_english(app_url, offline_page):
    """In vi the uploader's button, size/format line and drag overlay speak Vietnamese (their
    built-in English texts cannot be set through Streamlit's API: the app's style sheet
    replaces them), and the label's help says the same."""
    from geo.i18n import t
    from pages.common import upload_limit_mb

    page = offline_page
    page.goto(f"{app_url}/data?lang=vi", wait_until="domcontentloaded")
    box = page.locator('[data-testid="stFileUploader"]').first
    box.locator('[data-testid="stFileUploaderDropzone"] button').wait_for(timeout=60000)
    seen = box.evaluate(_SEEN_TEXT)
    assert not [s for s in seen if _ENGLISH.search(s)], seen
    assert t("common.upload_button", "vi") in seen
    assert t("common.upload_limit", "vi", mb=upload_limit_mb(), types="ZIP, SHP").split(" • ")[0] in " ".join(seen)
    page.evaluate("""() => {                        // a file dragged over the box: the drop overlay
      const zone = document.querySelector('[data-testid="stFileUploaderDropzone"]');
      const dt = new DataTransfer(); dt.items.add(new File(["x"], "a.csv", {type: "text/csv"}));
      zone.dispatchEvent(new DragEvent("dragenter", {dataTransfer: dt, bubbles: true})); }""")
    box.locator('[data-testid="stFileUploaderDropzone"] > div:not([data-testid])').wait_for(timeout=10000)
    seen = box.evaluate(_SEEN_TEXT)
    assert t("common.upload_drop", "vi") in seen and not [s for s in seen if _ENGLISH.search(s)], seen
    box.locator('[data-testid="stTooltipHoverTarget"]').hover()   # the label's help: formats and size, in vi
    tip = page.locator('[data-testid="stTooltipContent"]')
    tip.wait_for(timeout=10000)
    assert "Định dạng" in tip.inner_text() and not _ENGLISH.search(tip.inner_text().replace("Tải lên", ""))

"""Streamlit's own widget texts that can be set are in the UI language: multiselect placeholders
(no English "Select all" entry), upload hints; and the developer menu is hidden."""
from __future__ import annotations

import tomllib

from streamlit.testing.v1 import AppTest

from geo.i18n import t
from geo.paths import REPO_ROOT


def _multiselect_app():
    import streamlit as st

    from pages.common import choose_many

    st.session_state.setdefault("lang", "vi")
    choose_many("Lớp", ["a", "b", "c"], key="pick")


def test_multiselects_have_a_vietnamese_placeholder_and_no_select_all():
    at = AppTest.from_function(_multiselect_app, default_timeout=60).run()
    assert not at.exception
    box = at.multiselect(key="pick")
    assert box.proto.placeholder == t("common.choose_options", "vi")
    assert not box.proto.select_all
    # every page goes through the helper: no bare st.multiselect / st.file_uploader left
    for page in (REPO_ROOT / "pages").glob("*.py"):
        if page.name == "common.py":
            continue
        text = page.read_text(encoding="utf-8")
        assert "st.multiselect(" not in text and "st.file_uploader(" not in text, page.name


def _selectbox_app():
    import streamlit as st

    from pages.common import choose_one

    st.session_state.setdefault("lang", "vi")
    choose_one("Lớp", ["a", "b"], key="one", index=None)
    choose_one("Cột", ["x", "y"], where=st.sidebar, key="side")


def test_selectboxes_have_a_vietnamese_placeholder_and_pages_use_the_helper():
    at = AppTest.from_function(_selectbox_app, default_timeout=60).run()
    assert not at.exception
    for key in ("one", "side"):
        assert at.selectbox(key=key).proto.placeholder == t("common.choose_option", "vi")
    # no page makes a select box or an uploader past the helpers, on st or on a column/sidebar
    for page in (REPO_ROOT / "pages").glob("*.py"):
        if page.name == "common.py":
            continue
        text = page.read_text(encoding="utf-8")
        assert ".selectbox(" not in text and ".file_uploader(" not in text and ".multiselect(" not in text, page.name
        assert "st.selectbox" not in text.replace("``st.selectbox``", ""), page.name  # also not handed to a wrapper


def test_suggest_section_widgets_speak_vietnamese(workspace_file):
    at = AppTest.from_file(str(REPO_ROOT / "pages" / "coverage.py"), default_timeout=300)
    at.session_state["lang"] = "vi"
    at.session_state["cov_facilities"] = "health"
    at.session_state["cov_units"] = "districts"
    at.run()
    assert not at.exception
    ups = {u.proto.id.rsplit("-", 1)[-1]: u for u in at.get("file_uploader")}
    for key in ("sug_cand_file", "sug_excl_file"):
        up = next(u for k, u in ups.items() if key in k)
        assert "Kéo thả tệp" in up.proto.help and ".kmz" in up.proto.help
    assert at.selectbox(key="sug_scope").proto.placeholder == t("common.choose_option", "vi")
    assert at.selectbox(key="cov_units").proto.placeholder == t("common.choose_option", "vi")


def test_uploaders_explain_themselves_in_vietnamese(tmp_path, monkeypatch):
    from geo.auth import configure_test_editor

    monkeypatch.setenv("ATLAS_WORKSPACE", str(tmp_path / "ws.gpkg"))
    monkeypatch.setenv("ATLAS_BCRYPT_ROUNDS", "4")
    _, editor = configure_test_editor(None, "lan", "lan-password-1", "Lan")
    at = AppTest.from_file(str(REPO_ROOT / "pages" / "readiness.py"), default_timeout=120)
    at.session_state["lang"] = "vi"
    at.session_state["ind_editor"] = editor
    at.session_state["ind_section"] = "entry"
    at.run()
    assert not at.exception
    ups = at.get("file_uploader")
    assert len(ups) == 2
    for up in ups:
        assert "Kéo thả tệp" in up.proto.help and ".xlsx" in up.proto.help


def test_developer_menu_hidden():
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["toolbarMode"] == "viewer"


def test_headings_have_no_english_link_to_heading():
    """Streamlit gives every title/subheader an anchor link that screen readers announce as
    "Link to heading" (English, no parameter): the pages' headings are made without it."""
    import re

    for page in (REPO_ROOT / "pages").glob("*.py"):
        for call in re.findall(r"\bst\.(?:title|header|subheader)\((.*)\)\s*$", page.read_text(encoding="utf-8"), re.M):
            assert "anchor=False" in call, (page.name, call)
    at = AppTest.from_file(str(REPO_ROOT / "pages" / "map_explorer.py"), default_timeout=120)
    at.session_state["lang"] = "vi"
    at.run()
    assert not at.exception
    headings = [*at.title, *at.subheader]
    assert headings and all(h.proto.hide_anchor for h in headings)

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

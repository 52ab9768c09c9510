"""Folium rendering of the atlas layers (catalog.toml is their declarative description)."""

from layers import literal  # noqa: F401 — before any map is drawn: no figure part is compiled as a template twice

"""Folium rendering of the atlas layers (catalog.toml is their declarative description)."""

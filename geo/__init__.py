"""Thái Nguyên Smart-City Atlas — pure geospatial library (never imports streamlit)."""

"""Streamlit pages (scripts app.py navigates to) and their helper modules."""

# the page scripts, in the navigation's order: (file, title key in geo/i18n, icon, default page);
# every other module of this package is a helper the scripts import
PAGES = (
    ("map_explorer", "nav.map", ":material/map:", True),
    ("coverage", "nav.coverage", ":material/local_hospital:", False),
    ("readiness", "nav.readiness", ":material/insights:", False),
    ("data", "nav.data", ":material/upload_file:", False),
    ("export", "nav.export", ":material/print:", False),
)

"""Write static/vendor/atlas-map-bundle.js: the map's vendored scripts in one file
(``layers.assets.BUNDLE_SOURCES``; run after updating any of them — a test checks it is current).

Usage: python scripts/build_vendor_bundle.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from layers.assets import BUNDLE, VENDOR_DIR, bundle_text


def main() -> None:
    out = VENDOR_DIR / BUNDLE
    out.write_text(bundle_text(), encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()

"""The atlas's sources line and Leaflet's attribution share the bottom-right corner without
hiding each other (standalone map in chromium, network cut)."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("basemap,width", [("none", 1400), ("osm", 1400), ("osm", 700)])
def test_credits_sit_above_the_attribution_and_hide_nothing(offline_page, basemap, width) -> None:
    from layers.render import standalone_html
    from layers.views import MapView, build_map

    m = build_map(MapView(layers=["province_pre2025", "districts", "communes", "infrastructure"],
                          basemap=basemap, lang="vi"))
    page = offline_page
    page.set_viewport_size({"width": width, "height": 700})
    page.set_content(standalone_html(m), wait_until="load")
    credits = page.locator(".atlas-credits")
    credits.wait_for(timeout=30000)
    attribution = page.locator(".leaflet-control-attribution")
    a, c = attribution.bounding_box(), credits.bounding_box()
    assert a and c and c["height"] > 0 and a["height"] > 0
    overlap_x = min(a["x"] + a["width"], c["x"] + c["width"]) - max(a["x"], c["x"])
    overlap_y = min(a["y"] + a["height"], c["y"] + c["height"]) - max(a["y"], c["y"])
    assert overlap_x <= 0 or overlap_y <= 0, (a, c)
    assert c["y"] + c["height"] <= a["y"] + 0.5  # stacked above the attribution
    # every link of the attribution (Leaflet's own first) is what a click there reaches
    for link in attribution.locator("a").all():
        box = link.bounding_box()
        hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('a')?.href || ''",
                            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
        assert hit == link.evaluate("a => a.href")
    assert "Nguồn" in credits.inner_text() or credits.inner_text().strip()

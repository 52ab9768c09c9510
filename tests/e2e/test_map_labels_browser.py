"""City names read well: above marker clusters, clickable, kept in choropleth mode, never
under the legend; the scale bar is metric only."""
from __future__ import annotations

from tests.e2e.conftest import map_frame

_RECTS = """() => {
  const r = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  // labels let clicks through (pointer-events none); make them hit-testable for this check
  const all = [...document.querySelectorAll('.atlas-label')];
  all.forEach(e => { e.style.pointerEvents = 'auto'; e.parentElement.style.pointerEvents = 'auto'; });
  const labels = [...document.querySelectorAll('.atlas-label')].map(e => {
    const b = e.getBoundingClientRect();
    const top = document.elementFromPoint((b.left + b.right) / 2, (b.top + b.bottom) / 2);
    return {text: e.innerText, rect: r(e), onTop: e.contains(top)};
  });
  all.forEach(e => { e.style.pointerEvents = ''; e.parentElement.style.pointerEvents = ''; });
  const legend = document.querySelector('.atlas-legend');
  return {labels, legend: legend ? r(legend) : null,
          scale: [...document.querySelectorAll('.leaflet-control-scale-line')].map(e => e.innerText)};
}"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_city_names_on_top_clickable_and_clear_of_the_legend(app_url: str, offline_page) -> None:
    page = offline_page
    page.goto(app_url + "/?lang=vi&basemap=none&layers=districts,infrastructure", wait_until="domcontentloaded")
    map_frame(page)
    frame = page.frames[1]
    frame.wait_for_function("() => window.map && window.map._loaded && document.querySelector('.marker-cluster')")
    page.wait_for_timeout(1500)
    state = frame.evaluate(_RECTS)
    assert len(state["labels"]) == 3
    assert all(lab["onTop"] for lab in state["labels"]), state["labels"]  # no cluster icon over a name
    assert state["scale"] and all(s.endswith(("km", "m")) for s in state["scale"]), state["scale"]
    # clicking the name of Sông Công selects Sông Công
    song_cong = next(lab for lab in state["labels"] if "Sông Công" in lab["text"])
    box = page.locator('iframe[title="streamlit_folium.st_folium"]').bounding_box()
    x0, y0, x1, y1 = song_cong["rect"]
    page.mouse.click(box["x"] + (x0 + x1) / 2, box["y"] + (y0 + y1) / 2)
    page.get_by_role("heading", name="Thành phố Sông Công").wait_for(timeout=30000)


def test_choropleth_keeps_city_names_and_the_legend_clear_of_them(app_url: str, offline_page) -> None:
    page = offline_page
    page.goto(app_url + "/?lang=vi&basemap=none&layers=districts&indicator=districts:density_2019",
              wait_until="domcontentloaded")
    map_frame(page)
    frame = page.frames[1]
    frame.wait_for_function("() => window.map && window.map._loaded && document.querySelector('.atlas-legend')")
    page.wait_for_timeout(1000)
    state = frame.evaluate(_RECTS)
    assert len(state["labels"]) == 3, state["labels"]
    assert state["legend"] is not None
    assert not [lab["text"] for lab in state["labels"] if _overlap(lab["rect"], state["legend"])]

"""Every slide of both deck formats rendered to PNG and judged the way a planner would:
no two place-name boxes overlap, no text is smaller than the readable minimum, nothing
overlaps the key message, and the files render (PPTX through LibreOffice → PDF → PNG, the
PDF through poppler). The renderers know their boxes: matplotlib's window extents for the
PDF pages and their figures, python-pptx's shape boxes and run sizes for the PPTX."""
from __future__ import annotations

import itertools
import shutil
import subprocess

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from pptx import Presentation
from pptx.util import Emu, Pt

from geo import report

MIN_PT = report.MIN_LABEL_PT


@pytest.fixture(scope="module", params=["2025", "2020"])
def deck(request, tmp_path_factory):
    """Phổ Yên, the city whose names used to overlap: as today's 2025 units (the default, the
    units named) and as the pre-2025 city (its 2009 communes named)."""
    import os

    os.environ["ATLAS_WORKSPACE"] = str(tmp_path_factory.mktemp("ws") / "ws.gpkg")
    return report.build_deck("Phổ Yên", "vi", territory=request.param)


def _texts(fig):
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    return [(t, t.get_window_extent(renderer)) for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip()]


def _overlap(a, b, tol: float = 0.5) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > tol) and (min(a.y1, b.y1) - max(a.y0, b.y0) > tol)


def _figure_size(s) -> tuple[float, float]:
    w, h = report.SLIDE_IN
    body_h = h - 1.2 - 0.55 - report.caption_height_in(s.caption)
    return ((w - 1.0) * (1 - report.table_share(s.table)) if s.table is not None else w - 1.0, body_h)


def test_pdf_pages_readable_and_nothing_overlaps(deck):
    for n, s in enumerate(deck.slides, start=1):
        page = report._pdf_page(s, n, len(deck.slides), deck.lang)
        texts = _texts(page)
        small = [(t.get_text()[:40], t.get_fontsize()) for t, _ in texts if t.get_fontsize() < MIN_PT]
        assert not small, (s.title, small)
        free = [(t, bb) for t, bb in texts if t.axes is None]      # page text: title, bullets, key message, footer
        page_box = page.bbox
        for t, bb in free:                     # every line on the page, none past its edges
            assert page_box.x0 <= bb.x0 and bb.x1 <= page_box.x1 and page_box.y0 <= bb.y0 and bb.y1 <= page_box.y1, \
                (s.title, t.get_text()[:60], bb, page_box)
        for (t1, b1), (t2, b2) in itertools.combinations(free, 2):
            assert not _overlap(b1, b2), (s.title, t1.get_text()[:40], t2.get_text()[:40])
        pictures = [ax.get_window_extent() for ax in page.axes if ax.images]
        for t, bb in free:                     # the key message, bullets and footer never cover a picture
            assert not any(_overlap(bb, pic) for pic in pictures), (s.title, t.get_text()[:40])
        if s.figure is not None:               # the picture itself: readable type, names apart
            fig = s.figure(_figure_size(s))
            inner = _texts(fig)
            small = [(t.get_text()[:30], round(t.get_fontsize(), 1)) for t, _ in inner if t.get_fontsize() < MIN_PT]
            assert not small, (s.title, small)
            boxes = [Bbox.from_extents(*b) for placed in getattr(fig, "atlas_labels", []) for b in placed.boxes]
            assert boxes or s is not deck.slides[1]              # the map slide names its units
            for b1, b2 in itertools.combinations(boxes, 2):
                assert not _overlap(b1, b2, tol=0.0), (s.title, b1, b2)


def test_pptx_shapes_apart_and_every_run_readable(deck, tmp_path):
    prs = Presentation(report.to_pptx(deck, tmp_path / "deck.pptx"))
    for slide in prs.slides:
        shapes = [sh for sh in slide.shapes]
        for sh in shapes:
            frames = [sh.text_frame] if sh.has_text_frame else []
            if sh.has_table:
                frames += [c.text_frame for row in sh.table.rows for c in row.cells]
            for tf in frames:
                for p in tf.paragraphs:
                    for r in p.runs:
                        size = r.font.size or p.font.size
                        assert size is not None and size >= Pt(MIN_PT), (slide.shapes.title.text, r.text[:40], size)
        body = [sh for sh in shapes if sh != slide.shapes.title]
        for a, b in itertools.combinations(body, 2):
            ax = (a.left, a.top, a.left + a.width, a.top + a.height)
            bx = (b.left, b.top, b.left + b.width, b.top + b.height)
            inter_w = min(ax[2], bx[2]) - max(ax[0], bx[0])
            inter_h = min(ax[3], bx[3]) - max(ax[1], bx[1])
            assert inter_w <= Emu(0) or inter_h <= Emu(0), (slide.shapes.title.text, a.name, b.name)


def _pngs(pdf, out_dir, prefix) -> list:
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(out_dir / prefix)], check=True, timeout=300)
    return sorted(out_dir.glob(f"{prefix}*.png"))


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
def test_pdf_renders_every_slide_to_png(deck, tmp_path):
    pngs = _pngs(report.to_pdf(deck, tmp_path / "deck.pdf"), tmp_path, "pdf")
    assert len(pngs) == len(deck.slides) and all(p.stat().st_size > 5_000 for p in pngs)


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                    reason="LibreOffice Impress (soffice) or poppler-utils is not installed")
def test_pptx_renders_every_slide_through_libreoffice(deck, tmp_path):
    pptx = report.to_pptx(deck, tmp_path / "deck.pptx")
    profile = tmp_path / "lo-profile"        # its own profile: never clashes with another soffice
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(pptx)], check=True, timeout=300,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pngs = _pngs(tmp_path / "deck.pdf", tmp_path, "pptx")
    assert len(pngs) == len(deck.slides) and all(p.stat().st_size > 5_000 for p in pngs)

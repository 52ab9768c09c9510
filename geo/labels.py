"""Map labels without overlaps: greedy placement with collision boxes (matplotlib).

Each candidate (a place name at a point, with a priority such as its area) is tried at its
point and then at four offsets around it; the first position whose text box (measured by
the renderer, padded) meets neither a label already placed nor the edge of the map is
kept, otherwise the label is dropped — fewer labels rather than overlapping ones.
Written here rather than using adjustText because adjustText moves labels iteratively
(and may leave overlaps or push names far from their place); a planner's map wants each
name at its place or not at all, and the placed boxes are returned so tests can check them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

# positions tried, in units of the label's own height (dx, dy): on the point, above,
# below, right, left
OFFSETS = ((0.0, 0.0), (0.0, 1.1), (0.0, -1.1), (0.6, 0.0), (-0.6, 0.0))
PAD_PX = 2.0


@dataclass
class PlacedLabels:
    """What the placer did: boxes (figure pixels, x0, y0, x1, y1), font size (pt), drops."""

    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    fontsize_pt: float = 0.0
    dropped: list[str] = field(default_factory=list)


def place_labels(ax: Any, xs: Sequence[float], ys: Sequence[float], texts: Sequence[str],
                 priority: Sequence[float], *, fontsize: float, zorder: float = 10,
                 color: str = "#1f2937", avoid_px: Sequence[tuple[float, float, float, float]] = ()) -> PlacedLabels:
    """Write ``texts`` at data points (``xs``, ``ys``) of ``ax`` without any two overlapping.

    Parameters
    ----------
    ax : matplotlib Axes whose limits are final (placement is in display pixels).
    xs, ys : label anchor points in the axes' data coordinates (e.g. metres, EPSG:9213).
    texts : the labels; ``priority`` : higher first (e.g. unit area or population).
    fontsize : points; every label gets this size (none is shrunk below it).
    avoid_px : extra boxes (figure pixels) no label may cover.

    Returns
    -------
    PlacedLabels with the boxes of the labels drawn and the names dropped.
    """
    fig = ax.figure
    if fig.canvas is None or not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    inside = shapely.box(frame.x0, frame.y0, frame.x1, frame.y1)
    placed: list[shapely.Geometry] = [shapely.box(*b) for b in avoid_px]
    out = PlacedLabels(fontsize_pt=float(fontsize))
    for i in np.argsort(-np.asarray(priority, dtype=float), kind="stable"):
        x, y, text = float(xs[i]), float(ys[i]), str(texts[i])
        artist = ax.text(x, y, text, fontsize=fontsize, ha="center", va="center", color=color, zorder=zorder,
                         clip_on=True)
        ok = False
        for dx, dy in OFFSETS:
            base = ax.transData.transform((x, y))
            artist.set_position((x, y))
            bb = artist.get_window_extent(renderer)
            w, h = bb.width, bb.height
            cx = base[0] + (np.sign(dx) * (w / 2 + h * 0.3) if dx else 0.0)
            cy = base[1] + dy * h
            box = shapely.box(cx - w / 2 - PAD_PX, cy - h / 2 - PAD_PX, cx + w / 2 + PAD_PX, cy + h / 2 + PAD_PX)
            if not inside.contains(box) or any(box.intersects(p) for p in placed):
                continue
            artist.set_position(tuple(ax.transData.inverted().transform((cx, cy))))
            placed.append(box)
            out.boxes.append(tuple(float(v) for v in box.bounds))  # type: ignore[arg-type]
            out.texts.append(text)
            ok = True
            break
        if not ok:
            artist.remove()
            out.dropped.append(text)
    return out

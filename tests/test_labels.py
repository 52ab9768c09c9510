"""Place names on the deck's map slides: none overlap, none below the minimum size."""
from __future__ import annotations

import itertools

import pytest

from geo.printmap import unit_layers
from geo.report import MIN_LABEL_PT, SLIDE_IN, _map_slide


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("unit", ["172", "province"])
def test_map_slide_labels_never_overlap_and_are_readable(unit: str, tmp_path) -> None:
    slide = _map_slide(unit_layers(unit, "vi"), "vi")
    fig = slide.figure((SLIDE_IN[0] - 1.0, SLIDE_IN[1] - 1.75))  # the size the deck draws it at
    boxes = [b for placed in fig.atlas_labels for b in placed.boxes]
    texts = [s for placed in fig.atlas_labels for s in placed.texts]
    assert len(texts) >= 5, texts  # the map still names its places
    assert all(placed.fontsize_pt >= MIN_LABEL_PT for placed in fig.atlas_labels)
    assert not [(texts[i], texts[j]) for i, j in itertools.combinations(range(len(boxes)), 2)
                if _overlap(boxes[i], boxes[j])]
    # what is on the figure agrees: every place-name artist drawn is one of the placed ones, at size
    ax = fig.axes[0]
    drawn = [a for a in ax.texts if a.get_text() in texts]
    assert len(drawn) == len(texts) and all(a.get_fontsize() >= MIN_LABEL_PT for a in drawn)
    fig.savefig(tmp_path / f"map_{unit}.png", dpi=60)  # renders (judged by eye when developing)

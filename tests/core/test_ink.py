"""Drawing-pad ink: vectors in, InkML round trip, strokes rendered the way the model reads."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidImage
from core.ink import Point, Stroke, from_inkml, rasterize, smooth, to_inkml


def plus_sign() -> list[Stroke]:
    return [
        Stroke([Point(0, 50), Point(50, 50, 0.5), Point(100, 50)], width=4),
        Stroke([Point(50, 0), Point(50, 100)], width=8),
    ]


def test_inkml_round_trip_keeps_points_pressure_and_widths():
    strokes = plus_sign()
    back = from_inkml(to_inkml(strokes))
    assert [s.width for s in back] == [4, 8]
    assert [(p.x, p.y, p.pressure) for p in back[0].points] == [
        (0, 50, 1.0),
        (50, 50, 0.5),
        (100, 50, 1.0),
    ]


def test_inkml_from_another_tool_without_force_or_brushes():
    doc = (
        '<ink xmlns="http://www.w3.org/2003/InkML">'
        "<trace>10 10, 20 20, 30 30</trace><trace>5 5 0.1 77, bad 1</trace></ink>"
    )
    strokes = from_inkml(doc, default_width=2.5)
    assert len(strokes) == 2
    assert strokes[0].width == 2.5 and strokes[0].points[0].pressure == 1.0
    assert len(strokes[1].points) == 1  # the unparsable point is skipped


@pytest.mark.parametrize(
    "text",
    ["", "not xml at all", "<svg/>", '<ink xmlns="http://www.w3.org/2003/InkML"></ink>'],
)
def test_broken_inkml_raises_invalid_image_with_a_sentence(text):
    with pytest.raises(InvalidImage) as info:
        from_inkml(text)
    assert str(info.value).endswith(".") or ")" in str(info.value)


def test_rasterize_draws_dark_ink_on_white_cropped_to_the_strokes():
    img = rasterize(plus_sign(), margin=10)
    a = np.asarray(img.convert("L"))
    assert img.size == (104 + 20, 108 + 20)  # ink box incl. half pen widths + margins
    assert a[0, 0] == 255 and a[-1, -1] == 255  # paper around
    assert a[a.shape[0] // 2, a.shape[1] // 2] == 0  # the crossing is inked
    assert (a[:10] == 255).all()  # the margin is empty


def test_pressure_makes_strokes_thinner():
    heavy = rasterize([Stroke([Point(0, 0, 1.0), Point(200, 0, 1.0)], width=20)])
    light = rasterize([Stroke([Point(0, 0, 0.1), Point(200, 0, 0.1)], width=20)])
    ink = lambda im: (np.asarray(im.convert("L")) < 128).sum()  # noqa: E731
    assert ink(light) < ink(heavy) * 0.6


def test_empty_drawing_is_refused():
    with pytest.raises(InvalidImage, match="empty"):
        rasterize([])


def test_smoothing_keeps_end_points_and_cuts_corners():
    pts = [Point(0, 0), Point(10, 0), Point(10, 10)]
    out = smooth(pts)
    assert (out[0].x, out[0].y) == (0, 0) and (out[-1].x, out[-1].y) == (10, 10)
    assert len(out) > len(pts)
    assert all(not (p.x == 10 and p.y == 0) for p in out)  # the sharp corner is gone

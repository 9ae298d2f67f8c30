"""Pure geometry of a screen snip: logical selection -> physical pixels of each screenshot.

Qt reports screen geometries in logical (device-independent) pixels; each screen's
screenshot has ``dpr`` physical pixels per logical pixel, and on a mixed setup (a 100% and a
200% monitor side by side) the ratio differs per screen. A selection may span screens, so we
compute, per screen it touches, the rectangle to cut out of *that* screen's screenshot in
physical pixels, and where that piece goes in the stitched output image (drawn at the highest
ratio among the touched screens, so no detail is lost).

No Qt here: plain tuples, testable without a display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    """Axis-aligned rectangle; ``x, y`` is the top-left, width and height are >= 0."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def is_empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    def intersected(self, other: Rect) -> Rect:
        x1, y1 = max(self.x, other.x), max(self.y, other.y)
        x2, y2 = min(self.right, other.right), min(self.bottom, other.bottom)
        return Rect(x1, y1, max(0.0, x2 - x1), max(0.0, y2 - y1))

    @staticmethod
    def from_points(ax: float, ay: float, bx: float, by: float) -> Rect:
        """The rectangle spanned by two corners given in any order (a mouse drag)."""
        return Rect(min(ax, bx), min(ay, by), abs(bx - ax), abs(by - ay))


@dataclass(frozen=True)
class ScreenInfo:
    """A monitor: logical geometry and the ratio of its screenshot (physical / logical)."""

    geometry: Rect
    dpr: float = 1.0


@dataclass(frozen=True)
class Piece:
    """Part of the selection on one screen."""

    screen: int  # index into the screens list
    source: tuple[int, int, int, int]  # x, y, w, h in that screen's screenshot pixels
    target: tuple[int, int, int, int]  # x, y, w, h in the stitched output image


def physical_rect(logical: Rect, screen: ScreenInfo) -> tuple[int, int, int, int]:
    """``logical`` (global logical coords, inside ``screen``) -> pixels of its screenshot.

    Edges are rounded outwards so that a selection never loses a row of ink, then clamped to
    the screenshot's size.
    """
    g, r = screen.geometry, screen.dpr
    max_w, max_h = round(g.w * r), round(g.h * r)
    x1 = max(0, math.floor((logical.x - g.x) * r + 1e-6))
    y1 = max(0, math.floor((logical.y - g.y) * r + 1e-6))
    x2 = min(max_w, math.ceil((logical.right - g.x) * r - 1e-6))
    y2 = min(max_h, math.ceil((logical.bottom - g.y) * r - 1e-6))
    return x1, y1, max(0, x2 - x1), max(0, y2 - y1)


def output_scale(selection: Rect, screens: list[ScreenInfo]) -> float:
    """Ratio of the stitched image: the highest ratio of the screens the selection touches."""
    ratios = [s.dpr for s in screens if not selection.intersected(s.geometry).is_empty()]
    return max(ratios) if ratios else 1.0


def plan_crop(selection: Rect, screens: list[ScreenInfo]) -> tuple[tuple[int, int], list[Piece]]:
    """Return ((width, height) of the output image, pieces to copy into it).

    With one screen touched, the output is exactly that screen's physical crop (no scaling).
    Across screens, each piece is scaled to the output ratio and placed by its logical offset
    from the selection's top-left.
    """
    pieces: list[Piece] = []
    touched = [
        (i, selection.intersected(s.geometry))
        for i, s in enumerate(screens)
        if not selection.intersected(s.geometry).is_empty()
    ]
    if not touched:
        return (0, 0), []
    if len(touched) == 1:
        i, part = touched[0]
        src = physical_rect(part, screens[i])
        return (src[2], src[3]), [Piece(i, src, (0, 0, src[2], src[3]))]
    scale = output_scale(selection, screens)
    out_w = math.ceil(selection.w * scale - 1e-6)
    out_h = math.ceil(selection.h * scale - 1e-6)
    for i, part in touched:
        src = physical_rect(part, screens[i])
        tx = math.floor((part.x - selection.x) * scale + 1e-6)
        ty = math.floor((part.y - selection.y) * scale + 1e-6)
        tw = min(out_w - tx, math.ceil(part.w * scale - 1e-6))
        th = min(out_h - ty, math.ceil(part.h * scale - 1e-6))
        pieces.append(Piece(i, src, (tx, ty, tw, th)))
    return (out_w, out_h), pieces


def size_readout(selection: Rect, screens: list[ScreenInfo]) -> str:
    """The 'W × H' text shown while dragging: the size of the image the user will get."""
    (w, h), _ = plan_crop(selection, screens)
    return f"{w} × {h}"

"""Handwritten ink as vectors: strokes, smoothing, InkML import/export, rasterisation.

The drawing pad keeps what the user drew as strokes (points with pen pressure) rather than
pixels, so a drawing can be stored with its history entry, re-rendered at any size, and
exchanged with other tools as InkML (the W3C ink format). The model reads images, so
``rasterize`` draws the strokes the way printed formulas look to it: dark ink on white paper,
cropped to the ink with a margin (preprocessing then rescales by glyph size).

Plain Python + PIL, no Qt.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from core.errors import InvalidImage

INKML_NS = "http://www.w3.org/2003/InkML"
MAX_INKML_CHARS = 20_000_000  # a drawing is a few hundred KB at most; refuse absurd files
MAX_RASTER_SIDE = 4096


@dataclass
class Point:
    x: float
    y: float
    pressure: float = 1.0  # 0..1; mice report 1


@dataclass
class Stroke:
    points: list[Point] = field(default_factory=list)
    width: float = 3.0  # pen width at full pressure, in the same units as x/y

    def bounds(self) -> tuple[float, float, float, float]:
        xs = [p.x for p in self.points]
        ys = [p.y for p in self.points]
        return min(xs), min(ys), max(xs), max(ys)


def pressure_width(width: float, pressure: float) -> float:
    """Stroke width at ``pressure``: light touches stay visible (never below 30%)."""
    return width * (0.3 + 0.7 * max(0.0, min(1.0, pressure)))


def smooth(points: list[Point], passes: int = 2) -> list[Point]:
    """Chaikin corner cutting: removes the jitter of mouse and tablet sampling while keeping
    the end points where the user put them."""
    pts = list(points)
    for _ in range(passes):
        if len(pts) < 3:
            return pts
        out = [pts[0]]
        for a, b in zip(pts, pts[1:], strict=False):
            out.append(_mix(a, b, 0.25))
            out.append(_mix(a, b, 0.75))
        out.append(pts[-1])
        pts = out
    return pts


def _mix(a: Point, b: Point, t: float) -> Point:
    return Point(
        a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, a.pressure + (b.pressure - a.pressure) * t
    )


def ink_bounds(strokes: list[Stroke]) -> tuple[float, float, float, float] | None:
    """(left, top, right, bottom) of all ink including pen widths, or None without ink."""
    boxes = []
    for s in strokes:
        if s.points:
            x0, y0, x1, y1 = s.bounds()
            r = s.width / 2
            boxes.append((x0 - r, y0 - r, x1 + r, y1 + r))
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def rasterize(strokes: list[Stroke], scale: float = 1.0, margin: int = 16) -> Image.Image:
    """Draw ``strokes`` black on white, cropped to the ink plus ``margin`` pixels.

    Raises InvalidImage when there is no ink (the pad is empty), like any blank input.
    """
    box = ink_bounds(strokes)
    if box is None:
        raise InvalidImage("The drawing is empty: draw a formula first.")
    left, top, right, bottom = box
    scale = min(scale, MAX_RASTER_SIDE / max(1.0, (right - left), (bottom - top)))
    w = int(math.ceil((right - left) * scale)) + 2 * margin
    h = int(math.ceil((bottom - top) * scale)) + 2 * margin
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    for stroke in strokes:
        pts = [
            ((p.x - left) * scale + margin, (p.y - top) * scale + margin, p.pressure)
            for p in stroke.points
        ]
        _draw_stroke(draw, pts, stroke.width * scale)
    return img.convert("RGB")


def _draw_stroke(draw: ImageDraw.ImageDraw, pts: list[tuple], width: float) -> None:
    """Segments with round joints; each segment takes the width of its mean pressure."""
    for x, y, p in pts:  # round caps and joints (and single-point dots)
        r = pressure_width(width, p) / 2
        draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    for (x0, y0, p0), (x1, y1, p1) in zip(pts, pts[1:], strict=False):
        w = pressure_width(width, (p0 + p1) / 2)
        draw.line((x0, y0, x1, y1), fill=0, width=max(1, round(w)))


# --- InkML ------------------------------------------------------------------------------------


def to_inkml(strokes: list[Stroke]) -> str:
    """An InkML document with one ``<trace>`` per stroke (channels X, Y, F = force 0..1).

    The pen width goes into a ``<brush>`` per distinct width, referenced by each trace.
    """
    widths = sorted({round(s.width, 3) for s in strokes})
    brushes = "".join(
        f'<brush xml:id="b{i}"><brushProperty name="width" value="{w:g}" units="px"/></brush>'
        for i, w in enumerate(widths)
    )
    traces = []
    for s in strokes:
        ref = widths.index(round(s.width, 3))
        coords = ", ".join(f"{p.x:.2f} {p.y:.2f} {p.pressure:.3f}" for p in s.points)
        traces.append(f'<trace brushRef="#b{ref}">{coords}</trace>')
    return (
        f'<ink xmlns="{INKML_NS}"><definitions><context xml:id="ctx0"><traceFormat>'
        '<channel name="X" type="decimal"/><channel name="Y" type="decimal"/>'
        '<channel name="F" type="decimal" min="0" max="1"/>'
        f"</traceFormat></context>{brushes}</definitions>{''.join(traces)}</ink>\n"
    )


def from_inkml(text: str, default_width: float = 3.0) -> list[Stroke]:
    """Strokes of an InkML document. Traces without a force channel get pressure 1; other
    tools' extra channels (time, tilt) are ignored. Raises InvalidImage for a file that is
    not InkML or holds no traces."""
    if len(text) > MAX_INKML_CHARS:
        raise InvalidImage("This InkML file is too large to be a drawing.")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InvalidImage(f"This is not an InkML file (XML error: {exc}).") from None
    if _local(root.tag) != "ink":
        raise InvalidImage("This is not an InkML file (its root element is not <ink>).")
    channels = _channels(root)
    widths = _brush_widths(root)
    strokes = []
    for trace in root.iter(f"{{{INKML_NS}}}trace"):
        ref = (trace.get("brushRef") or "").lstrip("#")
        points = _parse_trace(trace.text or "", channels)
        if points:
            strokes.append(Stroke(points, widths.get(ref, default_width)))
    if not strokes:
        raise InvalidImage("This InkML file holds no strokes.")
    return strokes


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _channels(root: ET.Element) -> list[str]:
    names = [c.get("name", "") for c in root.iter(f"{{{INKML_NS}}}channel")]
    return names or ["X", "Y"]


def _brush_widths(root: ET.Element) -> dict[str, float]:
    widths = {}
    for brush in root.iter(f"{{{INKML_NS}}}brush"):
        bid = brush.get("{http://www.w3.org/XML/1998/namespace}id") or brush.get("id") or ""
        for prop in brush.iter(f"{{{INKML_NS}}}brushProperty"):
            if prop.get("name") == "width":
                try:
                    width = float(prop.get("value", ""))
                except ValueError:
                    continue
                if math.isfinite(width) and width > 0:  # else the default width is used
                    widths[bid] = width
    return widths


def _parse_trace(text: str, channels: list[str]) -> list[Point]:
    """Parse 'x y [f ...], x y ...'. Points that are not numbers are skipped."""
    ix, iy = _index(channels, "X", 0), _index(channels, "Y", 1)
    iforce = _index(channels, "F", None)
    points = []
    for chunk in text.split(","):
        values = chunk.split()
        try:
            nums = [float(v) for v in values]
        except ValueError:
            continue
        if len(nums) <= max(ix, iy) or not all(map(math.isfinite, nums)):
            continue
        force = nums[iforce] if iforce is not None and iforce < len(nums) else 1.0
        points.append(Point(nums[ix], nums[iy], max(0.0, min(1.0, force))))
    return points


def _index(channels: list[str], name: str, default: int | None) -> int | None:
    return channels.index(name) if name in channels else default

"""The drawing pad widget: pen/mouse strokes kept as vectors, tablet pressure, eraser, undo.

Strokes are ``core.ink.Stroke`` objects in widget (logical pixel) coordinates; everything
about storing, exchanging and rasterising them lives in ``core.ink``. Undo/redo keep whole
snapshots of the stroke list: drawings are small, and one mechanism then covers drawing,
erasing, clearing and importing alike.
"""

from __future__ import annotations

import io
import math

from core.ink import Point, Stroke, pressure_width, rasterize, smooth
from gui.qt import QColor, QPainter, QPen, QPointF, Qt, QTabletEvent, QWidget, Signal

ERASER_RADIUS = 10.0
MIN_POINT_DISTANCE = 0.75  # pixels; closer samples add nothing but size


class DrawPad(QWidget):
    changed = Signal()  # the drawing changed (a stroke finished, erased, undone, cleared...)
    pen_down = Signal()  # a stroke started: live recognition waits until the pen lifts

    def __init__(self, parent: QWidget | None = None, pen_width: float = 3.0):
        super().__init__(parent)
        self.setObjectName("drawPad")
        self.setMinimumSize(320, 200)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the pad's shortcuts need focus
        self.pen_width = pen_width
        self.eraser_mode = False  # the mouse erases (the pen's eraser end always does)
        self.strokes: list[Stroke] = []
        self._current: Stroke | None = None
        self._erasing = False
        self._undo: list[list[Stroke]] = []
        self._redo: list[list[Stroke]] = []

    # ---- editing API ------------------------------------------------------------------------
    def is_empty(self) -> bool:
        return not self.strokes

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> None:
        if self._undo:
            self._redo.append(self.strokes)
            self.strokes = self._undo.pop()
            self._changed()

    def redo(self) -> None:
        if self._redo:
            self._undo.append(self.strokes)
            self.strokes = self._redo.pop()
            self._changed()

    def clear(self) -> None:
        if self.strokes:
            self._snapshot()
            self.strokes = []
            self._changed()

    def set_strokes(self, strokes: list[Stroke]) -> None:
        """Replace the drawing (InkML import, reopening a history entry); undoable."""
        self._snapshot()
        self.strokes = list(strokes)
        self._changed()

    def to_png(self) -> bytes:
        """The drawing as the model expects it (see core.ink.rasterize)."""
        buf = io.BytesIO()
        rasterize(self.strokes).save(buf, "PNG")
        return buf.getvalue()

    def _snapshot(self) -> None:
        self._undo.append(list(self.strokes))
        self._redo.clear()

    def _changed(self) -> None:
        self.update()
        self.changed.emit()

    # ---- input ------------------------------------------------------------------------------
    def begin(self, x: float, y: float, pressure: float = 1.0, erase: bool = False) -> None:
        self.setFocus()
        self.pen_down.emit()
        self._snapshot()
        if erase:
            self._erasing = True
            self.erase_at(x, y)
        else:
            self._current = Stroke([Point(x, y, pressure)], self.pen_width)
            self.strokes.append(self._current)
        self.update()

    def extend(self, x: float, y: float, pressure: float = 1.0) -> None:
        if self._erasing:
            self.erase_at(x, y)
        elif self._current is not None:
            last = self._current.points[-1]
            if math.hypot(x - last.x, y - last.y) >= MIN_POINT_DISTANCE:
                self._current.points.append(Point(x, y, pressure))
                self.update()

    def end(self) -> None:
        if self._current is not None:
            self._current.points = smooth(self._current.points)
        elif not self._erasing:
            return
        self._current = None
        self._erasing = False
        if self._undo and self._undo[-1] == self.strokes:
            self._undo.pop()  # an eraser pass that touched nothing is not an undo step
        self._changed()

    def erase_at(self, x: float, y: float) -> None:
        """Remove every stroke that passes within the eraser radius of (x, y)."""
        keep = [s for s in self.strokes if not _near(s, x, y, ERASER_RADIUS)]
        if len(keep) != len(self.strokes):
            self.strokes = keep
            self.update()

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            pos = event.position()
            self.begin(pos.x(), pos.y(), 1.0, erase=self.eraser_mode)

    def mouseMoveEvent(self, event):
        if event.buttons() & Qt.MouseButton.LeftButton:
            pos = event.position()
            self.extend(pos.x(), pos.y())

    def mouseReleaseEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self.end()

    def tabletEvent(self, event: QTabletEvent):
        """Pen input: pressure sets the width; the eraser end of the pen erases."""
        pos, pressure = event.position(), float(event.pressure())
        erase = event.pointerType() == event.pointingDevice().PointerType.Eraser
        kind = event.type()
        if kind == QTabletEvent.Type.TabletPress:
            self.begin(pos.x(), pos.y(), pressure, erase=erase or self.eraser_mode)
        elif kind == QTabletEvent.Type.TabletMove and event.buttons():
            self.extend(pos.x(), pos.y(), pressure)
        elif kind == QTabletEvent.Type.TabletRelease:
            self.end()
        event.accept()  # no synthesized mouse events: the stroke would be drawn twice

    # ---- painting ---------------------------------------------------------------------------
    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))  # paper, in light and dark themes alike
        if not self.strokes:
            p.setPen(QColor(150, 150, 150))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Draw a formula here")
        for stroke in self.strokes:
            _paint_stroke(p, stroke)
        p.end()


def _paint_stroke(p: QPainter, stroke: Stroke) -> None:
    pts = stroke.points
    if len(pts) == 1:
        r = pressure_width(stroke.width, pts[0].pressure) / 2
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("black"))
        p.drawEllipse(QPointF(pts[0].x, pts[0].y), r, r)
        return
    for a, b in zip(pts, pts[1:], strict=False):
        width = pressure_width(stroke.width, (a.pressure + b.pressure) / 2)
        pen = QPen(QColor("black"), width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.drawLine(QPointF(a.x, a.y), QPointF(b.x, b.y))


def _near(stroke: Stroke, x: float, y: float, radius: float) -> bool:
    """Whether any segment of ``stroke`` comes within ``radius`` of (x, y)."""
    pts = stroke.points
    if len(pts) == 1:
        return math.hypot(pts[0].x - x, pts[0].y - y) <= radius + stroke.width / 2
    return any(
        _segment_distance(x, y, a.x, a.y, b.x, b.y) <= radius + stroke.width / 2
        for a, b in zip(pts, pts[1:], strict=False)
    )


def _segment_distance(px, py, ax, ay, bx, by) -> float:
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))

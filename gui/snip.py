"""Screen snipping: frameless overlays over every monitor, selection, crop.

The screenshots are grabbed *before* any overlay is shown, so the overlay can never end up
in the image. One overlay per monitor (rather than one window spanning all of them) keeps
each overlay at its own screen's device-pixel ratio, which is what makes mixed 100% / 200%
setups work; the crop itself is computed by the pure functions of ``gui.snip_geometry``.
"""

from __future__ import annotations

import logging

from gui.qt import (
    QColor,
    QCursor,
    QFont,
    QGuiApplication,
    QImage,
    QObject,
    QPainter,
    QPen,
    QPixmap,
    QPointF,
    QRect,
    QRectF,
    Qt,
    QWidget,
    Signal,
)
from gui.snip_geometry import Rect, ScreenInfo, plan_crop, size_readout

log = logging.getLogger(__name__)

MIN_SIZE = 3  # a click without a drag is not a selection


def grab_screens() -> list[tuple[ScreenInfo, QImage]]:
    """Screenshot of every screen, with its logical geometry and *actual* pixel ratio.

    The ratio is measured from the screenshot (its width over the logical width) rather than
    trusted from ``devicePixelRatio()``, because some platforms round one or the other.
    """
    shots = []
    for screen in QGuiApplication.screens():
        g = screen.geometry()
        pix = screen.grabWindow(0)
        image = pix.toImage()
        if image.isNull() or g.width() <= 0:
            continue
        dpr = image.width() / g.width() if image.width() else screen.devicePixelRatio()
        shots.append((ScreenInfo(Rect(g.x(), g.y(), g.width(), g.height()), dpr), image))
    return shots


def crop(selection: Rect, shots: list[tuple[ScreenInfo, QImage]]) -> QImage:
    """Cut ``selection`` (global logical coordinates) out of the screenshots."""
    screens = [s for s, _ in shots]
    (w, h), pieces = plan_crop(selection, screens)
    if w <= 0 or h <= 0:
        return QImage()
    if len(pieces) == 1:
        p = pieces[0]
        return shots[p.screen][1].copy(QRect(*p.source))
    out = QImage(w, h, QImage.Format.Format_RGB32)
    out.fill(QColor("white"))
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    for p in pieces:
        painter.drawImage(QRectF(*p.target), shots[p.screen][1], QRectF(*p.source))
    painter.end()
    return out


class SnipOverlay(QWidget):
    """The overlay on one screen: its screenshot, dimmed outside the selection."""

    def __init__(self, session: SnipSession, index: int, info: ScreenInfo, image: QImage):
        super().__init__(
            None,
            Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.Tool,
        )
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("TeXSnap snip")
        self.session = session
        self.info = info
        self.pixmap = QPixmap.fromImage(image)
        self.pixmap.setDevicePixelRatio(info.dpr)
        self.setCursor(QCursor(Qt.CursorShape.CrossCursor))
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        g = info.geometry
        self.setGeometry(QRect(int(g.x), int(g.y), int(g.w), int(g.h)))
        screens = QGuiApplication.screens()
        if index < len(screens):
            self.setScreen(screens[index])

    def to_global(self, pos: QPointF) -> tuple[float, float]:
        """Widget position -> global logical position in the screens' coordinate system."""
        return self.info.geometry.x + pos.x(), self.info.geometry.y + pos.y()

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.RightButton:
            self.session.cancel()
        elif event.button() == Qt.MouseButton.LeftButton:
            self.session.press(*self.to_global(event.position()))

    def mouseMoveEvent(self, event):
        self.session.move(*self.to_global(event.position()))

    def mouseReleaseEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self.session.release(*self.to_global(event.position()))

    def keyPressEvent(self, event):
        if event.key() == Qt.Key.Key_Escape:
            self.session.cancel()
        else:
            super().keyPressEvent(event)

    def paintEvent(self, event):
        p = QPainter(self)
        p.drawPixmap(0, 0, self.pixmap)
        g = self.info.geometry
        sel = self.session.selection
        local = None
        if sel is not None and not sel.is_empty():
            local = QRectF(sel.x - g.x, sel.y - g.y, sel.w, sel.h)
        dim = QColor(0, 0, 0, 110)
        full = QRectF(self.rect())
        if local is None:
            p.fillRect(full, dim)
        else:
            # dim the four bands around the selection, leaving it at full brightness
            p.fillRect(QRectF(0, 0, full.width(), max(0.0, local.top())), dim)
            p.fillRect(QRectF(0, local.bottom(), full.width(), full.height() - local.bottom()), dim)
            p.fillRect(QRectF(0, local.top(), max(0.0, local.left()), local.height()), dim)
            p.fillRect(
                QRectF(local.right(), local.top(), full.width() - local.right(), local.height()),
                dim,
            )
            p.setPen(QPen(QColor(50, 150, 255), 1.5))
            p.drawRect(local)
        cx, cy = self.session.cursor
        cx, cy = cx - g.x, cy - g.y
        if 0 <= cx <= g.w and 0 <= cy <= g.h:
            p.setPen(QPen(QColor(255, 255, 255, 160), 1, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(cx, 0), QPointF(cx, g.h))
            p.drawLine(QPointF(0, cy), QPointF(g.w, cy))
            text = (
                size_readout(sel, self.session.screens)
                if sel is not None and not sel.is_empty()
                else "Drag to select a formula · Esc or right-click cancels"
            )
            font = QFont(self.font())
            font.setPointSizeF(max(9.0, font.pointSizeF()))
            p.setFont(font)
            metrics = p.fontMetrics()
            box = QRectF(metrics.boundingRect(text)).adjusted(-6, -3, 6, 3)
            box.moveTo(min(cx + 14, g.w - box.width() - 2), min(cy + 14, g.h - box.height() - 2))
            p.fillRect(box, QColor(0, 0, 0, 190))
            p.setPen(QColor("white"))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        p.end()


class SnipSession(QObject):
    """One snip: grab, show overlays, follow the drag, emit the cropped image or cancel."""

    captured = Signal(QImage)
    cancelled = Signal()

    def __init__(self, shots: list[tuple[ScreenInfo, QImage]] | None = None, parent=None):
        super().__init__(parent)
        self.shots = shots if shots is not None else grab_screens()
        self.screens = [s for s, _ in self.shots]
        self.overlays: list[SnipOverlay] = []
        self.anchor: tuple[float, float] | None = None
        self.selection: Rect | None = None
        self.cursor: tuple[float, float] = (-1e9, -1e9)
        self.done = False

    def start(self) -> bool:
        """Show the overlays; False when no screen could be captured."""
        if not self.shots:
            return False
        pos = QCursor.pos()
        self.cursor = (float(pos.x()), float(pos.y()))
        for i, (info, image) in enumerate(self.shots):
            overlay = SnipOverlay(self, i, info, image)
            self.overlays.append(overlay)
            overlay.show()
        # keyboard focus (Esc) goes to the overlay under the mouse
        for o in self.overlays:
            if o.geometry().contains(pos):
                o.raise_()
                o.activateWindow()
                o.setFocus()
        return True

    def press(self, x: float, y: float) -> None:
        self.anchor = (x, y)
        self.selection = Rect(x, y, 0, 0)
        self._update()

    def move(self, x: float, y: float) -> None:
        self.cursor = (x, y)
        if self.anchor is not None:
            self.selection = Rect.from_points(*self.anchor, x, y)
        self._update()

    def release(self, x: float, y: float) -> None:
        if self.anchor is None:
            return
        self.selection = Rect.from_points(*self.anchor, x, y)
        self.anchor = None
        if self.selection.w < MIN_SIZE or self.selection.h < MIN_SIZE:
            self.selection = None
            self._update()
            return
        image = crop(self.selection, self.shots)
        self._close()
        if image.isNull():
            self.cancelled.emit()
        else:
            self.captured.emit(image)

    def cancel(self) -> None:
        self._close()
        self.cancelled.emit()

    def _update(self) -> None:
        for o in self.overlays:
            o.update()

    def _close(self) -> None:
        if self.done:
            return
        self.done = True
        for o in self.overlays:
            o.close()
        self.overlays.clear()

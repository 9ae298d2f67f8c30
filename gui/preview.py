"""The rendered preview: LaTeX -> crisp QPixmap via matplotlib mathtext, debounced.

Rendering happens at the screen's device-pixel ratio (a 200% screen gets twice the pixels)
and in the palette's text colour, so the preview is sharp on HiDPI and readable in light and
dark themes. Typing re-renders after a short pause instead of on every key.
"""

from __future__ import annotations

from core.errors import RenderError
from gui.qt import QObject, QPixmap, QTimer, Signal, png_to_pixmap

DEBOUNCE_MS = 250
BASE_DPI = 100
FONT_SIZE = 32  # points; the preview should be easy to check against the source image


def render_pixmap(latex: str, dpr: float = 1.0, color: str = "black") -> QPixmap:
    """Render ``latex``; raises RenderError naming what mathtext cannot draw."""
    from core.render import render_png  # matplotlib: imported on first preview only

    png = render_png(latex, dpi=BASE_DPI * dpr, color=color, fontsize=FONT_SIZE)
    return png_to_pixmap(png, dpr)


class DebouncedPreview(QObject):
    """Call ``request(latex)`` freely; ``rendered`` or ``failed`` follows the last request."""

    rendered = Signal(QPixmap)
    failed = Signal(str)
    cleared = Signal()

    def __init__(self, parent: QObject | None = None, delay_ms: int = DEBOUNCE_MS):
        super().__init__(parent)
        self.dpr = 1.0
        self.color = "black"
        self._latex = ""
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(self.render_now)

    def request(self, latex: str, immediate: bool = False) -> None:
        self._latex = latex
        if immediate:
            self._timer.stop()
            self.render_now()
        else:
            self._timer.start()

    def pending(self) -> bool:
        return self._timer.isActive()

    def render_now(self) -> None:
        if not self._latex.strip():
            self.cleared.emit()
            return
        try:
            pixmap = render_pixmap(self._latex, self.dpr, self.color)
        except RenderError as exc:
            self.failed.emit(str(exc))
            return
        self.rendered.emit(pixmap)

"""Starting a snip: choose how the screen is captured here and keep our window out of it.

On X11, Windows and macOS the window hides, the screens are grabbed and ``gui.snip`` shows
its overlays; on Wayland the desktop captures the region (``gui.capture``).
"""

from __future__ import annotations

from gui.capture import DesktopCapture, is_wayland
from gui.qt import QImage, QObject, QTimer, QWidget, Signal
from gui.snip import SnipSession

HIDE_BEFORE_GRAB_MS = 250  # time for the compositor to take our window off the screen


class Snipper(QObject):
    captured = Signal(QImage)
    failed = Signal(str)  # a sentence for the status bar; "" when the user cancelled

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.window = window
        self.was_visible = False  # whether to bring the window back after a cancel
        self._active: QObject | None = None

    def busy(self) -> bool:
        return self._active is not None

    def start(self) -> bool:
        """Begin a snip; False when one is already running (a double hotkey press)."""
        if self.busy():
            return False
        self.was_visible = self.window.isVisible() and not self.window.isMinimized()
        if is_wayland():
            self._active = DesktopCapture(self)
            self._active.captured.connect(self._captured)
            self._active.failed.connect(self._failed)
            self._active.start()
        else:
            self._active = self  # busy while the window hides
            self.window.hide()
            QTimer.singleShot(HIDE_BEFORE_GRAB_MS, self._show_overlay)
        return True

    def _show_overlay(self) -> None:
        session = SnipSession(parent=self)
        self._active = session
        session.captured.connect(self._captured)
        session.cancelled.connect(lambda: self._failed(""))
        if not session.start():
            self._failed("The screen could not be captured on this system.")

    def _captured(self, image: QImage) -> None:
        self._active = None
        self.captured.emit(image)

    def _failed(self, message: str) -> None:
        self._active = None
        self.failed.emit(message)

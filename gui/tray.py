"""The system-tray icon: snip, draw, show, quit while the window is hidden."""

from __future__ import annotations

from gui.qt import QAction, QMenu, QObject, QSystemTrayIcon, Signal


class Tray(QObject):
    snip = Signal()
    draw = Signal()
    show_window = Signal()
    quit = Signal()

    def __init__(self, icon, parent: QObject | None = None):
        super().__init__(parent)
        self.menu = QMenu()
        for text, signal in (
            ("Snip", self.snip),
            ("Draw", self.draw),
            ("Show TeXSnap", self.show_window),
            ("Quit", self.quit),
        ):
            action = QAction(text, self.menu)
            action.triggered.connect(signal)
            self.menu.addAction(action)
        self.icon = QSystemTrayIcon(icon, self)
        self.icon.setToolTip("TeXSnap")
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> bool:
        if not self.available():
            return False
        self.icon.show()
        return True

    def hide(self) -> None:
        self.icon.hide()

    def _activated(self, reason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.show_window.emit()

"""Screen capture where a client may not grab the screen itself (Wayland).

On X11, Windows and macOS ``gui.snip`` grabs every screen and shows its own overlay. On
Wayland a client only ever gets black images, so the region is chosen and captured by the
desktop instead: a known tool (grim+slurp on wlroots desktops, spectacle on KDE,
gnome-screenshot on GNOME) or the xdg-desktop-portal Screenshot interface over D-Bus.
When none is there, the user gets a sentence saying what to install or what to do instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from core.errors import InvalidImage
from gui.qt import QGuiApplication, QImage, QObject, QProcess, QUrl, Signal, Slot

log = logging.getLogger(__name__)

NO_CAPTURE_MESSAGE = (
    "Wayland does not let apps capture the screen, and no screenshot tool was found. "
    "Install grim and slurp (Sway, Hyprland), spectacle (KDE) or gnome-screenshot (GNOME), "
    "or copy a screenshot and paste it here with Ctrl+V."
)


def is_wayland() -> bool:
    """True in a Wayland session, also when Qt runs through XWayland (grabs are black there
    too)."""
    if QGuiApplication.platformName().startswith("wayland"):
        return True
    return os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland" or bool(
        os.environ.get("WAYLAND_DISPLAY")
    )


def tool_command(out: Path, which=shutil.which) -> list[str] | None:
    """The shell command of the first region-screenshot tool found, writing ``out``."""
    if which("grim") and which("slurp"):
        return ["sh", "-c", f'grim -g "$(slurp)" "{out}"']
    if which("spectacle"):
        return ["spectacle", "--background", "--nonotify", "--region", "--output", str(out)]
    if which("gnome-screenshot"):
        return ["gnome-screenshot", "--area", "--file", str(out)]
    return None


class DesktopCapture(QObject):
    """Runs one capture through a tool or the portal; emits ``captured`` or ``failed``."""

    captured = Signal(QImage)
    failed = Signal(str)  # a sentence for the status bar ("" when the user cancelled)

    def __init__(self, parent: QObject | None = None, which=shutil.which):
        super().__init__(parent)
        self._which = which
        self._out = Path(tempfile.gettempdir()) / f"texsnap-{uuid.uuid4().hex}.png"
        self._process = None

    def start(self) -> None:
        command = tool_command(self._out, self._which)
        if command is not None:
            self._run_tool(command)
        elif not self._ask_portal():
            self.failed.emit(NO_CAPTURE_MESSAGE)

    # ---- tools ------------------------------------------------------------------------------
    def _run_tool(self, command: list[str]) -> None:
        self._process = QProcess(self)
        self._process.finished.connect(self._tool_finished)
        self._process.errorOccurred.connect(lambda _e: self.failed.emit(NO_CAPTURE_MESSAGE))
        self._process.start(command[0], command[1:])

    def _tool_finished(self, code: int, _status) -> None:
        self._deliver(self._out, cancelled=code != 0)

    def _deliver(self, path: Path, cancelled: bool = False, remove: bool = True) -> None:
        image = QImage(str(path)) if path.is_file() else QImage()
        if remove:  # our temporary file; a portal's file belongs to the user
            path.unlink(missing_ok=True)
        if image.isNull():
            self.failed.emit("" if cancelled else str(InvalidImage("The screenshot is empty.")))
        else:
            self.captured.emit(image)

    # ---- xdg-desktop-portal -----------------------------------------------------------------
    def _ask_portal(self) -> bool:
        """Ask org.freedesktop.portal.Screenshot for an interactive screenshot; the answer
        arrives later on the request object's Response signal. False when there is no portal.
        """
        try:  # optional module, only needed here (Linux desktops)
            from PySide6.QtDBus import QDBusConnection, QDBusInterface
        except ImportError:
            return False
        bus = QDBusConnection.sessionBus()
        if not bus.isConnected():
            return False
        token = "texsnap" + uuid.uuid4().hex[:8]
        sender = bus.baseService().lstrip(":").replace(".", "_")
        handle = f"/org/freedesktop/portal/desktop/request/{sender}/{token}"
        ok = bus.connect(
            "org.freedesktop.portal.Desktop",
            handle,
            "org.freedesktop.portal.Request",
            "Response",
            self,
            "portal_response(uint,QVariantMap)",
        )
        portal = QDBusInterface(
            "org.freedesktop.portal.Desktop",
            "/org/freedesktop/portal/desktop",
            "org.freedesktop.portal.Screenshot",
            bus,
        )
        if not ok or not portal.isValid():
            return False
        reply = portal.call("Screenshot", "", {"handle_token": token, "interactive": True})
        return not reply.errorName()

    @Slot(int, "QVariantMap")
    def portal_response(self, code: int, results: dict) -> None:
        if code != 0:  # 1 = the user cancelled, 2 = refused
            self.failed.emit("" if code == 1 else NO_CAPTURE_MESSAGE)
            return
        self._deliver(Path(QUrl(str(results.get("uri", ""))).toLocalFile()), remove=False)

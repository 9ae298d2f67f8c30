"""Run under Xvfb by test_hotkey_x11: grab Ctrl+Alt+M, fake the key press with XTest."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

from gui.hotkey import GlobalHotkey
from gui.qt import QApplication, QTimer


def press_ctrl_alt_m() -> None:
    x = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11"))
    xtst = ctypes.cdll.LoadLibrary(ctypes.util.find_library("Xtst"))
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XStringToKeysym.restype = ctypes.c_ulong
    display = ctypes.c_void_p(x.XOpenDisplay(None))

    def code(name: bytes) -> int:
        return x.XKeysymToKeycode(display, ctypes.c_ulong(x.XStringToKeysym(name)))

    keys = (b"Control_L", b"Alt_L", b"m")
    for name in keys:
        xtst.XTestFakeKeyEvent(display, code(name), 1, 0)
    for name in reversed(keys):
        xtst.XTestFakeKeyEvent(display, code(name), 0, 0)
    x.XFlush(display)
    x.XCloseDisplay(display)


def main() -> int:
    app = QApplication(["probe"])
    hotkey = GlobalHotkey()
    problem = hotkey.register("Ctrl+Alt+M")
    print("registered" if problem is None else f"failed: {problem}", flush=True)
    taken = GlobalHotkey().register("Ctrl+Alt+M")
    print(f"second grab: {taken}", flush=True)
    hotkey.activated.connect(lambda: print("activated", flush=True))
    QTimer.singleShot(300, press_ctrl_alt_m)
    QTimer.singleShot(1500, app.quit)
    app.exec()
    hotkey.unregister()
    return 0


if __name__ == "__main__":
    sys.exit(main())

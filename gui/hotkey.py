"""A system-wide hotkey that starts a snip while TeXSnap sits in the tray.

Qt has no global shortcuts, so this talks to the platform: X11 through Xlib's ``XGrabKey``
(on a connection of its own, watched by a QSocketNotifier) and Windows through
``RegisterHotKey``. Wayland (and macOS, for now) allows no global grabs: ``register`` then
returns the reason, and the README explains binding ``texsnap snip`` to a desktop shortcut.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

from gui.capture import is_wayland
from gui.qt import QAbstractNativeEventFilter, QCoreApplication, QObject, QSocketNotifier, Signal

log = logging.getLogger(__name__)

FALLBACK_HINT = "Bind the command `texsnap snip` to a keyboard shortcut in your desktop settings."

# X11 modifier masks
_X_MODS = {"shift": 1, "ctrl": 4, "alt": 8, "meta": 64}
_X_IGNORED = (0, 2, 16, 18)  # Caps Lock and Num Lock must not stop the hotkey
_X_KEYS = {"space": "space", "print": "Print", "esc": "Escape", "return": "Return"}
# Windows modifier flags; MOD_NOREPEAT = 0x4000
_W_MODS = {"alt": 1, "ctrl": 2, "shift": 4, "meta": 8}


def parse_sequence(text: str) -> tuple[set[str], str]:
    """'Ctrl+Alt+M' -> ({'ctrl', 'alt'}, 'M'). Raises ValueError for an unusable sequence."""
    parts = [p.strip() for p in text.split("+")]
    if text.endswith("++"):  # the key itself is '+'
        parts = [*parts[:-2], "+"]
    mods = {p.lower() for p in parts[:-1]}
    key = parts[-1] if parts else ""
    unknown = mods - set(_X_MODS)
    if not key or unknown or "," in text:
        raise ValueError(f"{text!r} is not a single key with modifiers.")
    return mods, key


class GlobalHotkey(QObject):
    activated = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._backend = None

    def register(self, sequence: str) -> str | None:
        """Grab ``sequence``; None on success, else a sentence saying why not (and what to do)."""
        self.unregister()
        try:
            mods, key = parse_sequence(sequence)
        except ValueError as exc:
            return f"The hotkey cannot be used: {exc}"
        if is_wayland():
            return "Wayland does not allow global hotkeys. " + FALLBACK_HINT
        backend_cls = {"linux": _X11Hotkey, "win32": _WindowsHotkey}.get(sys.platform)
        if backend_cls is None:
            return "Global hotkeys are not supported on this system yet. " + FALLBACK_HINT
        try:
            self._backend = backend_cls(mods, key, self.activated.emit)
        except OSError as exc:
            return f"The hotkey {sequence} could not be registered ({exc}). " + FALLBACK_HINT
        return None

    def unregister(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None


class _X11Hotkey:
    """XGrabKey on the root window of a private display connection."""

    _error = None  # keeps the ctypes error handler alive
    _failed = False  # set by the error handler when the X server refused the grab

    def __init__(self, mods: set[str], key: str, callback):
        name = ctypes.util.find_library("X11")
        if not name:
            raise OSError("libX11 is not installed")
        x = self.x = ctypes.cdll.LoadLibrary(name)
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XDefaultRootWindow.restype = ctypes.c_ulong
        x.XStringToKeysym.restype = ctypes.c_ulong
        for fn in ("XDefaultRootWindow", "XKeysymToKeycode", "XGrabKey", "XUngrabKey", "XSync"):
            getattr(x, fn).argtypes = None
        self.display = x.XOpenDisplay(None)
        if not self.display:
            raise OSError("no X11 display")
        self._install_error_handler()
        self.root = x.XDefaultRootWindow(ctypes.c_void_p(self.display))
        keysym = x.XStringToKeysym(_X_KEYS.get(key.lower(), key).encode())
        self.keycode = x.XKeysymToKeycode(ctypes.c_void_p(self.display), ctypes.c_ulong(keysym))
        if not keysym or not self.keycode:
            self.close()
            raise OSError(f"unknown key {key}")
        self.mask = sum(_X_MODS[m] for m in mods)
        self._grab(x.XGrabKey)
        if _X11Hotkey._failed:
            self.close()
            raise OSError("another program already uses this key combination")
        self.callback = callback
        fd = x.XConnectionNumber(ctypes.c_void_p(self.display))
        self.notifier = QSocketNotifier(fd, QSocketNotifier.Type.Read)
        self.notifier.activated.connect(self._read_events)

    def _install_error_handler(self) -> None:
        # Xlib's default error handler exits the process; a taken key must only fail the grab
        handler_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

        def on_error(_display, _event):
            _X11Hotkey._failed = True
            return 0

        _X11Hotkey._error = handler_type(on_error)
        _X11Hotkey._failed = False
        self.x.XSetErrorHandler(_X11Hotkey._error)

    def _grab(self, fn) -> None:
        d = ctypes.c_void_p(self.display)
        for extra in _X_IGNORED:
            if fn is self.x.XGrabKey:
                fn(d, self.keycode, self.mask | extra, ctypes.c_ulong(self.root), 1, 1, 1)
            else:
                fn(d, self.keycode, self.mask | extra, ctypes.c_ulong(self.root))
        self.x.XSync(d, 0)

    def _read_events(self) -> None:
        event = (ctypes.c_long * 24)()
        d = ctypes.c_void_p(self.display)
        while self.x.XPending(d):
            self.x.XNextEvent(d, event)
            if ctypes.cast(event, ctypes.POINTER(ctypes.c_int))[0] == 2:  # KeyPress
                self.callback()

    def close(self) -> None:
        if getattr(self, "notifier", None) is not None:
            self.notifier.setEnabled(False)
            self.notifier = None
        if self.display:
            if getattr(self, "keycode", 0):
                self._grab(self.x.XUngrabKey)
            self.x.XCloseDisplay(ctypes.c_void_p(self.display))
            self.display = None


class _WindowsHotkey(QAbstractNativeEventFilter):
    """RegisterHotKey for the thread; WM_HOTKEY arrives through Qt's native event filter."""

    ID = 0x5445  # any id unique within this app

    def __init__(self, mods: set[str], key: str, callback):
        super().__init__()
        user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        vk = ord(key.upper()) if len(key) == 1 else _windows_vk(key)
        flags = sum(_W_MODS[m] for m in mods) | 0x4000
        if not user32.RegisterHotKey(None, self.ID, flags, vk):
            raise OSError("another program already uses this key combination")
        self.callback = callback
        QCoreApplication.instance().installNativeEventFilter(self)

    def nativeEventFilter(self, event_type, message):
        if event_type == b"windows_generic_MSG":
            from ctypes import wintypes

            msg = wintypes.MSG.from_address(int(message))
            if msg.message == 0x0312 and msg.wParam == self.ID:  # WM_HOTKEY
                self.callback()
                return True, 0
        return False, 0

    def close(self) -> None:
        ctypes.windll.user32.UnregisterHotKey(None, self.ID)  # type: ignore[attr-defined]
        QCoreApplication.instance().removeNativeEventFilter(self)


def _windows_vk(key: str) -> int:
    if key.upper().startswith("F") and key[1:].isdigit():
        return 0x6F + int(key[1:])  # VK_F1 = 0x70
    codes = {"space": 0x20, "print": 0x2C, "esc": 0x1B, "return": 0x0D}
    if key.lower() not in codes:
        raise OSError(f"unknown key {key}")
    return codes[key.lower()]

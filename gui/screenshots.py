"""Screenshots of each main view for the README, taken under a virtual X server.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m gui.screenshots docs/screenshots

It drives the real app (window, worker, store, dialogs, snip overlay) in throw-away user
folders. Recognition uses the bundled model when one is installed; otherwise (the model is
still being trained) a scripted stand-in returns fixed results, and the script says so,
because the screenshots show the interface, not the model's accuracy.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

from core.ink import Point, Stroke
from core.result import Alternative, Result

SIZE = (1180, 680)


class ScriptedModel:
    """Stand-in for a Recognizer when no trained model is installed: returns ``self.next``."""

    info = {"name": "scripted demo (no trained model installed)", "device": "cpu"}
    next = Result("", 0.0, empty_reason="Nothing scripted.")

    def recognize(self, image, beam=None, alternatives=3, all_sizes=None):
        return self.next


SCRIPT = {
    "snip": Result(
        r"\frac{a}{b}+x^{2}",
        0.94,
        [Alternative(r"\frac{a}{b}+x^{z}", 0.03), Alternative(r"\frac{a}{6}+x^{2}", 0.01)],
        ms=142,
    ),
    "draw": Result("x^{2}+1", 0.87, [Alternative("x^{2}+l", 0.06)], ms=95),
    "paste": Result(
        r"\int_{0}^{1}x\,dx=\frac{1}{2}", 0.41, [Alternative(r"\int_{0}^{1}xdx", 0.2)], ms=160
    ),
}
MODEL = ScriptedModel()


def script(source: str) -> None:
    """Say what the stand-in answers next (ignored when the real model is used)."""
    MODEL.next = SCRIPT[source]


def pick_loader():
    from core.recognizer import default_model_dir

    if (default_model_dir() / "config.json").is_file():
        return None, "the bundled model"
    return (lambda path, device: MODEL), "a scripted stand-in (no trained model yet)"


def wait(ms: int) -> None:
    """Run the event loop for ``ms``. Not ``QTest.qWait``: it keeps Python's lock while it
    sleeps, so the model worker's thread crawled and the pictures showed recognition times of
    seconds, which the app never takes; an event loop's ``exec`` lets the lock go."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(condition, timeout_ms: int = 60_000) -> None:
    end = time.monotonic() + timeout_ms / 1000
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the app did not get there in time")
        wait(20)


def formula_png(latex: str) -> bytes:
    from core.render import render_png

    return render_png(latex, dpi=160, background="white", pad_inches=0.2)


def handwriting() -> list[Stroke]:
    """'x² + 1' as a person might draw it."""

    def line(x0, y0, x1, y1, n=12):
        return [
            Point(x0 + (x1 - x0) * t / n, y0 + (y1 - y0) * t / n, 0.6 + 0.4 * t / n)
            for t in range(n + 1)
        ]

    two = [
        Point(150 + 14 * math.cos(a), 62 - 14 * math.sin(a), 0.8)
        for a in [math.pi * (1 - i / 10) for i in range(11)]
    ]
    two += line(164, 62, 138, 98, 8)[1:] + line(138, 98, 170, 98, 6)[1:]
    return [
        Stroke(line(60, 100, 120, 180), 4.0),
        Stroke(line(120, 100, 60, 180), 4.0),
        Stroke(two, 3.0),
        Stroke(line(200, 140, 260, 140), 4.0),
        Stroke(line(230, 110, 230, 170), 4.0),
        Stroke(line(300, 115, 320, 100, 4) + line(320, 100, 320, 182)[1:], 4.0),
    ]


def main(out_dir: str = "docs/screenshots") -> int:
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="texsnap-shots-")
    for name in ("CONFIG", "DATA", "CACHE"):
        os.environ[f"TEXSNAP_{name}_DIR"] = f"{tmp}/{name.lower()}"
    from gui.app import DesktopApp
    from gui.qt import QApplication

    qapp = QApplication(["texsnap"])
    loader, which = pick_loader()
    print(f"recognition by {which}")
    app = DesktopApp(qapp, loader=loader)
    win = app.window
    win.resize(*SIZE)
    app.start()
    wait_for(lambda: win.worker.model_ready)
    shots = {
        "main.png": lambda: shoot_main(win),
        "draw.png": lambda: shoot_draw(win),
        "history.png": lambda: shoot_tab(win, 2),
        "corrections.png": lambda: shoot_corrections(win),
        "training.png": lambda: shoot_tab(win, 4),
        "settings.png": lambda: shoot_settings(win),
        "render-error.png": lambda: shoot_render_error(win),
        "dark.png": lambda: shoot_dark(win, qapp),
        "snip.png": lambda: shoot_snip(win),
    }
    for name, take in shots.items():
        pixmap = take()
        pixmap.save(str(out / name))
        print(f"wrote {out / name} ({pixmap.width()}x{pixmap.height()})")
    app.shutdown()
    return 0


def recognize_and_wait(win, png: bytes, source: str) -> None:
    before = win.store.count_entries()
    script(source)
    win.recognize(png, source)
    wait_for(lambda: win.store.count_entries() > before)
    wait(300)


def shoot_main(win):
    recognize_and_wait(win, formula_png(r"\frac{a}{b}+x^{2}"), "snip")
    return win.grab()


def shoot_draw(win):
    win.show_draw()
    script("draw")
    win.draw_view.pad.set_strokes(handwriting())
    wait_for(
        lambda: (
            win.current is not None
            and win.current.source == "draw"
            and win.panel.latex() != ""
            and win.store.entries()[0].source == "draw"
        )
    )
    wait(300)
    return win.grab()


def shoot_tab(win, index: int):
    win.tabs.setCurrentIndex(index)
    wait(300)
    return win.grab()


def shoot_corrections(win):
    recognize_and_wait(win, formula_png(r"\int_{0}^{1}x\,dx=\frac{1}{2}"), "paste")
    win.panel.editor.setPlainText(r"\int_{0}^{1}x\,dx=\frac{1}{2}")
    win.save_correction()
    win.reopen_entry(win.store.entries()[-1].id)
    win.panel.editor.setPlainText(r"\frac{a}{b}+x^{2}")
    win.save_correction()
    return shoot_tab(win, 3)


def shoot_settings(win):
    from gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(win.settings, win)
    dialog.show()
    wait(300)
    pixmap = dialog.grab()
    dialog.close()
    return pixmap


def shoot_render_error(win):
    win.tabs.setCurrentIndex(0)
    win.panel.editor.setPlainText(r"\begin{tabular}{cc} a & b \end{tabular}")
    wait(900)
    return win.grab()


def shoot_dark(win, qapp):
    from gui.theme import apply_theme

    apply_theme(qapp, "dark")
    win.reopen_entry(win.store.entries()[1].id)
    wait(600)
    pixmap = win.grab()
    apply_theme(qapp, "system")
    return pixmap


def shoot_snip(win):
    from gui.snip import SnipSession

    win.show_window()
    wait(300)
    session = SnipSession()
    session.start()
    g = win.geometry()
    session.press(g.x() + 130, g.y() + 250)
    session.move(g.x() + 470, g.y() + 460)
    wait(300)
    pixmap = session.overlays[0].grab()
    session.cancel()
    return pixmap


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

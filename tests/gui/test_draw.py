"""The drawing pad: strokes to image, pressure, eraser, undo/redo, InkML, live recognition."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.ink import Point, Stroke
from gui.draw_view import DrawView
from gui.qt import QPoint, QPointF, Qt


@pytest.fixture
def view(qtbot):
    v = DrawView(pen_width=4.0, delay_ms=100)
    qtbot.addWidget(v)
    v.resize(500, 300)
    v.show()
    qtbot.waitExposed(v)
    return v


def drag(qtbot, pad, points):
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(*points[0]))
    for p in points[1:]:
        qtbot.mouseMove(pad, QPoint(*p))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(*points[-1]))


def ink_pixels(png: bytes) -> np.ndarray:
    import io

    return np.asarray(Image.open(io.BytesIO(png)).convert("L")) < 128


def test_mouse_strokes_become_vectors_and_a_dark_on_white_image(qtbot, view):
    pad = view.pad
    drag(qtbot, pad, [(20, 100), (80, 100), (140, 100)])
    drag(qtbot, pad, [(80, 40), (80, 100), (80, 160)])
    assert len(pad.strokes) == 2
    assert pad.strokes[0].points[0].x == pytest.approx(20)
    ink = ink_pixels(pad.to_png())
    h, w = ink.shape
    assert ink[h // 2, w // 2]  # the two strokes cross in the middle
    assert not ink[0].any() and not ink[:, 0].any()  # margins are paper


def test_tablet_pressure_sets_the_width(qtbot, view):
    pad = view.pad
    pad.begin(10, 50, pressure=1.0)
    pad.extend(200, 50, pressure=1.0)
    pad.end()
    heavy = ink_pixels(pad.to_png()).sum()
    pad.clear()
    pad.begin(10, 50, pressure=0.1)
    pad.extend(200, 50, pressure=0.1)
    pad.end()
    light = ink_pixels(pad.to_png()).sum()
    assert light < heavy * 0.6


def test_tablet_events_draw_and_the_eraser_end_erases(qtbot, view):
    from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent

    pad = view.pad

    def device(kind):
        return QPointingDevice(
            "test pen",
            1,
            QInputDevice.DeviceType.Stylus,
            kind,
            QInputDevice.Capability.Position | QInputDevice.Capability.Pressure,
            1,
            2,
        )

    def tablet(event_type, dev, x, y, pressure, buttons):
        pos = QPointF(x, y)
        return QTabletEvent(
            event_type,
            dev,
            pos,
            pad.mapToGlobal(pos),
            pressure,
            0,
            0,
            0,
            0,
            0,
            Qt.KeyboardModifier.NoModifier,
            Qt.MouseButton.LeftButton,
            buttons,
        )

    pen = device(QPointingDevice.PointerType.Pen)
    left = Qt.MouseButton.LeftButton
    pad.tabletEvent(tablet(QTabletEvent.Type.TabletPress, pen, 20, 50, 0.4, left))
    pad.tabletEvent(tablet(QTabletEvent.Type.TabletMove, pen, 120, 50, 0.6, left))
    pad.tabletEvent(
        tablet(QTabletEvent.Type.TabletRelease, pen, 120, 50, 0.0, Qt.MouseButton.NoButton)
    )
    assert len(pad.strokes) == 1
    assert pad.strokes[0].points[0].pressure == pytest.approx(0.4)
    eraser = device(QPointingDevice.PointerType.Eraser)
    pad.tabletEvent(tablet(QTabletEvent.Type.TabletPress, eraser, 70, 52, 1.0, left))
    pad.tabletEvent(
        tablet(QTabletEvent.Type.TabletRelease, eraser, 70, 52, 0.0, Qt.MouseButton.NoButton)
    )
    assert pad.strokes == []


def test_undo_redo_clear_and_mouse_eraser(qtbot, view):
    pad = view.pad
    drag(qtbot, pad, [(20, 20), (100, 20)])
    drag(qtbot, pad, [(20, 120), (100, 120)])
    assert len(pad.strokes) == 2
    view.undo_action.trigger()
    assert len(pad.strokes) == 1
    view.redo_action.trigger()
    assert len(pad.strokes) == 2
    view.eraser_action.setChecked(True)
    drag(qtbot, pad, [(60, 118), (62, 122)])
    assert len(pad.strokes) == 1 and pad.strokes[0].points[0].y == pytest.approx(20)
    view.eraser_action.setChecked(False)
    view.clear_action.trigger()
    assert pad.is_empty()
    view.undo_action.trigger()
    assert len(pad.strokes) == 1  # clearing is undoable too


def test_an_eraser_pass_over_nothing_is_not_an_undo_step(view):
    pad = view.pad
    pad.begin(10, 10)
    pad.extend(50, 10)
    pad.end()
    pad.begin(200, 200, erase=True)
    pad.end()
    pad.undo()
    assert pad.is_empty()


def test_strokes_are_smoothed(qtbot, view):
    drag(qtbot, view.pad, [(10, 10), (60, 10), (60, 60)])
    pts = view.pad.strokes[0].points
    assert len(pts) > 3
    assert not any(p.x == pytest.approx(60) and p.y == pytest.approx(10) for p in pts)


def test_live_recognition_after_a_pause_not_during_a_stroke(qtbot, view):
    pad = view.pad
    with qtbot.waitSignal(view.recognize_requested, timeout=3000) as sig:
        drag(qtbot, pad, [(20, 20), (100, 60)])
    png, inkml = sig.args
    assert png.startswith(b"\x89PNG") and "<trace" in inkml
    pad.begin(30, 30)  # pen down again: the pending recognition waits
    with qtbot.assertNotEmitted(view.recognize_requested, wait=300):
        pad.extend(40, 40)
    pad.end()
    with qtbot.waitSignal(view.recognize_requested, timeout=3000):
        pass


def test_inkml_export_and_import_round_trip(qtbot, view, tmp_path):
    drag(qtbot, view.pad, [(20, 20), (100, 60), (150, 20)])
    path = tmp_path / "ink.inkml"
    view.export_file(path)
    original = [(round(p.x, 1), round(p.y, 1)) for p in view.pad.strokes[0].points]
    view.pad.clear()
    view.import_file(path)
    loaded = [(round(p.x, 1), round(p.y, 1)) for p in view.pad.strokes[0].points]
    assert loaded == original


def test_importing_a_broken_inkml_file_reports_an_error(qtbot, view, tmp_path):
    path = tmp_path / "bad.inkml"
    path.write_text("<svg>not ink</svg>")
    with qtbot.waitSignal(view.error) as sig:
        view.import_file(path)
    assert "InkML" in str(sig.args[0])
    assert view.pad.is_empty()


def test_drawing_in_the_main_window_is_recognized_and_kept_as_one_history_entry(
    qtbot, window, fake_model, store
):
    window.show_draw()
    window.draw_view.live.setInterval(50)
    pad = window.draw_view.pad
    pad.set_strokes([Stroke([Point(10, 10), Point(90, 40)], 3.0)])
    qtbot.waitUntil(lambda: store.count_entries() == 1, timeout=5000)
    pad.set_strokes([*pad.strokes, Stroke([Point(10, 60), Point(90, 60)], 3.0)])
    qtbot.waitUntil(lambda: len(fake_model.calls) == 2, timeout=5000)
    qtbot.wait(100)
    entries = store.entries()
    assert len(entries) == 1  # live updates replace the drawing's entry
    assert entries[0].source == "draw" and entries[0].strokes_inkml.count("</trace>") == 2
    assert window.panel.latex() == "x^{2}+1"


def test_reopening_a_drawing_puts_its_strokes_back_on_the_pad(qtbot, window, fake_model, store):
    from core.ink import to_inkml

    strokes = [Stroke([Point(10, 10), Point(90, 40)], 3.0)]
    png = _png_of(strokes)
    entry = store.add_entry(png, "x", 0.9, "draw", strokes_inkml=to_inkml(strokes))
    window.reopen_entry(entry)
    assert window.tabs.currentIndex() == 1
    assert len(window.draw_view.pad.strokes) == 1
    assert not window.draw_view.live.isActive()  # the result is known: no new recognition
    window.draw_view.live.setInterval(50)
    window.draw_view.pad.set_strokes([*strokes, Stroke([Point(10, 60), Point(90, 60)], 3.0)])
    qtbot.waitUntil(lambda: len(fake_model.calls) == 1, timeout=5000)
    qtbot.waitUntil(lambda: store.entries()[0].latex == "x^{2}+1", timeout=5000)
    assert store.count_entries() == 1  # drawing on updated the reopened entry


def _png_of(strokes) -> bytes:
    import io

    from core.ink import rasterize

    buf = io.BytesIO()
    rasterize(strokes).save(buf, "PNG")
    return buf.getvalue()

"""The snip overlay: drag over pre-grabbed screenshots of two monitors, get the crop."""

from __future__ import annotations

import pytest

from gui.qt import QColor, QImage, Qt
from gui.snip import SnipSession, crop
from gui.snip_geometry import Rect, ScreenInfo


def screenshot(w: int, h: int, colour: str) -> QImage:
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    return image


@pytest.fixture
def shots():
    """A 100% monitor (red) left of a 200% monitor (blue)."""
    return [
        (ScreenInfo(Rect(0, 0, 400, 300), 1.0), screenshot(400, 300, "red")),
        (ScreenInfo(Rect(400, 0, 300, 200), 2.0), screenshot(600, 400, "blue")),
    ]


def test_crop_on_the_2x_screen_has_physical_pixels(shots):
    image = crop(Rect(450, 20, 100, 40), shots)
    assert (image.width(), image.height()) == (200, 80)
    assert image.pixelColor(10, 10) == QColor("blue")


def test_crop_across_screens_stitches_both_halves(shots):
    image = crop(Rect(350, 10, 100, 40), shots)
    assert (image.width(), image.height()) == (200, 80)
    assert image.pixelColor(20, 20) == QColor("red")
    assert image.pixelColor(180, 20) == QColor("blue")


def test_drag_selects_and_emits_the_crop(qtbot, shots):
    session = SnipSession(shots)
    assert session.start()
    assert len(session.overlays) == 2  # one overlay per monitor
    with qtbot.waitSignal(session.captured) as signal:
        session.press(10, 10)
        session.move(60, 40)
        assert session.selection == Rect(10, 10, 50, 30)
        session.release(110, 70)
    image = signal.args[0]
    assert (image.width(), image.height()) == (100, 60)
    assert image.pixelColor(5, 5) == QColor("red")
    assert session.overlays == []  # closed: the overlay never ends up in a later grab


def test_escape_cancels(qtbot, shots):
    session = SnipSession(shots)
    session.start()
    overlay = session.overlays[0]
    with qtbot.waitSignal(session.cancelled):
        qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    assert session.done


def test_right_click_cancels(qtbot, shots):
    session = SnipSession(shots)
    session.start()
    with qtbot.waitSignal(session.cancelled):
        qtbot.mouseClick(session.overlays[1], Qt.MouseButton.RightButton)


def test_a_click_without_a_drag_is_not_a_selection(qtbot, shots):
    session = SnipSession(shots)
    session.start()
    with qtbot.assertNotEmitted(session.captured):
        session.press(10, 10)
        session.release(11, 11)
    assert not session.done
    session.cancel()


def test_mouse_drag_on_the_overlay_maps_widget_to_global_coordinates(qtbot, shots):
    session = SnipSession(shots)
    session.start()
    right = session.overlays[1]  # starts at global x=400
    with qtbot.waitSignal(session.captured) as signal:
        qtbot.mousePress(right, Qt.MouseButton.LeftButton, pos=right.rect().topLeft() + _pt(10, 10))
        qtbot.mouseMove(right, _pt(60, 30))
        qtbot.mouseRelease(right, Qt.MouseButton.LeftButton, pos=_pt(60, 30))
    image = signal.args[0]
    assert (image.width(), image.height()) == (100, 40)  # 50 x 20 logical at 2x
    assert image.pixelColor(1, 1) == QColor("blue")


def test_no_screens_means_no_overlay():
    assert not SnipSession([]).start()


def _pt(x, y):
    from gui.qt import QPoint

    return QPoint(x, y)


def test_snip_from_the_main_window_hides_it_first_and_brings_it_back(
    qtbot, window, fake_model, shots, monkeypatch
):
    import gui.snip as snip
    from gui.snip import SnipSession

    grabbed_while_visible = []

    def fake_grab():
        grabbed_while_visible.append(window.isVisible())
        return shots

    monkeypatch.setattr(snip, "grab_screens", fake_grab)
    monkeypatch.setattr("gui.snipper.is_wayland", lambda: False)
    assert window.snipper.start()
    assert not window.snipper.start()  # a second hotkey press while snipping is ignored
    assert not window.isVisible()
    qtbot.waitUntil(lambda: isinstance(window.snipper._active, SnipSession), timeout=3000)
    assert grabbed_while_visible == [False]  # our window is not in the screenshot
    session = window.snipper._active
    session.press(10, 10)
    session.release(90, 50)
    qtbot.waitUntil(lambda: len(fake_model.calls) == 1, timeout=5000)
    assert window.isVisible()
    assert window.current.source == "snip"


def test_cancelled_snip_restores_the_window_quietly(qtbot, window, shots, monkeypatch):
    import gui.snip as snip
    from gui.snip import SnipSession

    monkeypatch.setattr(snip, "grab_screens", lambda: shots)
    monkeypatch.setattr("gui.snipper.is_wayland", lambda: False)
    window.show_message("before")
    window.start_snip()
    qtbot.waitUntil(lambda: isinstance(window.snipper._active, SnipSession), timeout=3000)
    with qtbot.waitSignal(window.snip_finished):
        window.snipper._active.cancel()
    assert window.isVisible()
    assert not window.snipper.busy()

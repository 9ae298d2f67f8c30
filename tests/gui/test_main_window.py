"""The main window as a user sees it: inputs, result panel, copy, corrections, errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import status

from core.formats import COPY_FORMATS
from core.result import Result
from gui.qt import QApplication, QColor, QImage, QMimeData, Qt, QUrl


def formula_image() -> QImage:
    image = QImage(120, 40, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    for x in range(10, 110):
        for y in range(18, 22):
            image.setPixelColor(x, y, QColor("black"))
    return image


def write_png(path: Path) -> Path:
    formula_image().save(str(path), "PNG")
    return path


def wait_result(qtbot, window, fake_model, n=1):
    qtbot.waitUntil(lambda: len(fake_model.calls) >= n, timeout=5000)
    qtbot.waitUntil(
        lambda: window.panel.latex() != "" or "Recogn" not in status(window), timeout=5000
    )


def test_title_and_one_click_inputs(window):
    assert "TeXSnap" in window.windowTitle()
    for name in ("Snip", "Draw", "Open", "Paste"):
        assert name in window.actions_by_name
        assert not window.actions_by_name[name].shortcut().isEmpty()


def test_opening_an_image_shows_the_result_and_stores_it(
    qtbot, window, fake_model, store, tmp_path
):
    window.open_file(write_png(tmp_path / "f.png"))
    qtbot.waitUntil(lambda: window.panel.latex() == "x^{2}+1", timeout=5000)
    assert "92%" in window.panel.confidence.text()
    assert not window.panel.is_low_confidence()
    assert window.panel.alternatives.count() == 2
    assert "Recognized" in status(window)
    entries = store.entries()
    assert [(e.latex, e.source) for e in entries] == [("x^{2}+1", "file")]
    qtbot.waitUntil(lambda: not window.panel.preview_pixmap.isNull(), timeout=20_000)


@pytest.mark.parametrize(
    "name, content",
    [("notes.png", b"this is text, not a PNG"), ("empty.png", b""), ("cut.png", None)],
)
def test_opening_a_broken_file_explains_in_the_status_bar(
    window, fake_model, tmp_path, name, content
):
    path = tmp_path / name
    if content is None:  # a truncated PNG
        content = write_png(tmp_path / "ok.png").read_bytes()[:60]
    path.write_bytes(content)
    window.open_file(path)
    assert "cannot be used" in status(window) or "cannot be read" in status(window)
    assert fake_model.calls == []
    assert window.panel.latex() == ""


def test_opening_a_missing_file_says_so(window, tmp_path):
    window.open_file(tmp_path / "gone.png")
    assert "not found" in status(window)


def test_paste_image_from_the_clipboard(qtbot, window, fake_model, store):
    QApplication.clipboard().setImage(formula_image())
    window.paste()
    qtbot.waitUntil(lambda: window.panel.latex() == "x^{2}+1", timeout=5000)
    assert store.entries()[0].source == "paste"


def test_paste_an_image_file_copied_in_the_file_manager(qtbot, window, fake_model, tmp_path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(write_png(tmp_path / "copied.png")))])
    QApplication.clipboard().setMimeData(mime)
    window.paste()
    qtbot.waitUntil(lambda: len(fake_model.calls) == 1, timeout=5000)


@pytest.mark.parametrize("text", ["just some words", "", "/no/such/file.png"])
def test_paste_without_an_image_explains(window, fake_model, text):
    QApplication.clipboard().setText(text)
    window.paste()
    assert "no image" in status(window)
    assert fake_model.calls == []


def test_paste_of_a_text_file_path_explains_why_it_is_not_an_image(window, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    QApplication.clipboard().setText(str(path))
    window.paste()
    assert "cannot be" in status(window)


class _DropEvent:
    def __init__(self, mime):
        self._mime = mime

    def mimeData(self):
        return self._mime

    def acceptProposedAction(self):
        pass


def test_drop_an_image_file(qtbot, window, fake_model, store, tmp_path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(write_png(tmp_path / "dropped.png")))])
    window.dropEvent(_DropEvent(mime))
    qtbot.waitUntil(lambda: window.panel.latex() != "", timeout=5000)
    assert store.entries()[0].source == "drop"


def test_drop_a_file_that_is_not_an_image(window, fake_model, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4 nonsense")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    window.dropEvent(_DropEvent(mime))
    assert "cannot be" in status(window)
    assert fake_model.calls == []


def test_recognition_errors_reach_the_status_bar(qtbot, window, fake_model, tmp_path):
    from core.errors import InvalidImage

    fake_model.error = InvalidImage("The image is too small to hold a formula.")
    window.open_file(write_png(tmp_path / "f.png"))
    qtbot.waitUntil(lambda: "too small" in status(window), timeout=5000)


def test_blank_image_gives_the_reason_and_no_history(qtbot, window, fake_model, store, tmp_path):
    fake_model.result = Result("", 0.0, empty_reason="The image is blank.")
    window.open_file(write_png(tmp_path / "f.png"))
    qtbot.waitUntil(lambda: "blank" in status(window), timeout=5000)
    assert store.count_entries() == 0


def test_low_confidence_is_highlighted(qtbot, window, fake_model, tmp_path):
    fake_model.result = Result("a+b", 0.2)
    window.open_file(write_png(tmp_path / "f.png"))
    qtbot.waitUntil(lambda: window.panel.latex() == "a+b", timeout=5000)
    assert window.panel.is_low_confidence()
    assert "low" in window.panel.confidence.text()
    assert "color" in window.panel.confidence.styleSheet()


def test_clicking_an_alternative_takes_it(qtbot, window, fake_model, tmp_path):
    window.open_file(write_png(tmp_path / "f.png"))
    qtbot.waitUntil(lambda: window.panel.alternatives.count() == 2, timeout=5000)
    item = window.panel.alternatives.item(1)
    rect = window.panel.alternatives.visualItemRect(item)
    qtbot.mouseClick(
        window.panel.alternatives.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
    )
    assert window.panel.latex() == "x^{3}+1"
    assert window.panel.is_edited()


def test_editing_rerenders_after_a_pause_and_shows_render_errors_inline(qtbot, window):
    panel = window.panel
    panel.show_result("x", 0.9)
    panel.editor.setPlainText(r"\begin{tabular}{c}x\end{tabular}")
    assert panel.preview.pending()  # debounced: not rendered on every key
    qtbot.waitUntil(lambda: panel.render_error.isVisible(), timeout=20_000)
    assert "\\begin{tabular}" in panel.render_error.text()
    assert "still copies fine" in panel.render_error.text()
    panel.editor.setPlainText(r"\frac{a}{b}")
    qtbot.waitUntil(lambda: not panel.render_error.isVisible(), timeout=20_000)
    assert not panel.preview_pixmap.isNull()


def test_preview_is_rendered_at_the_screen_pixel_ratio(qtbot, window):
    panel = window.panel
    panel.preview.dpr = 2.0
    panel.show_result("x^{2}", 0.9)
    pixmap = panel.preview_pixmap
    assert pixmap.devicePixelRatio() == 2.0
    shown_width = panel.preview_label.sizeHint().width()
    panel.preview.dpr = 1.0
    panel.preview.request("x^{2}", immediate=True)
    single = panel.preview_pixmap
    assert pixmap.width() > 1.8 * single.width()  # twice the pixels...
    assert abs(panel.preview_label.sizeHint().width() - shown_width) <= 2  # ...same size


@pytest.mark.parametrize("fmt", list(COPY_FORMATS))
def test_copy_in_every_format(window, fmt):
    window.panel.show_result("x^{2}", 0.9)
    window.copy_result(fmt)
    text = QApplication.clipboard().text()
    expected = {
        "raw": "x^{2}",
        "inline": "$x^{2}$",
        "display": "$$x^{2}$$",
        "bracket": "\\[x^{2}\\]",
        "equation": "\\begin{equation}\nx^{2}\n\\end{equation}",
    }
    if fmt == "mathml":
        assert text.startswith("<math") and "<msup>" in text
        assert QApplication.clipboard().mimeData().hasFormat("application/mathml+xml")
    else:
        assert text == expected[fmt]


def test_auto_copy_after_recognition_in_the_chosen_format(qtbot, window, fake_model, tmp_path):
    window.panel.set_copy_format("inline")
    window.panel.auto_copy.setChecked(True)
    QApplication.clipboard().setText("old")
    window.open_file(write_png(tmp_path / "f.png"))
    qtbot.waitUntil(lambda: QApplication.clipboard().text() == "$x^{2}+1$", timeout=5000)
    from core.settings import load_settings

    saved, _ = load_settings()
    assert saved.auto_copy and saved.copy_format == "inline"  # the choice persists


def test_save_as_correction_with_the_shortcut(qtbot, window, fake_model, store, tmp_path):
    window.open_file(write_png(tmp_path / "f.png"))
    qtbot.waitUntil(lambda: window.panel.latex() == "x^{2}+1", timeout=5000)
    window.panel.editor.setPlainText("x^{2}+l")
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    corrections = store.corrections()
    assert [c.latex for c in corrections] == ["x^{2}+l"]
    assert corrections[0].history_id == store.entries()[0].id
    assert store.entries()[0].latex == "x^{2}+l"
    assert "correction" in status(window)


def test_save_as_correction_without_a_result_explains(window, store):
    window.save_correction()
    assert store.count_corrections() == 0
    assert "first" in status(window)


def test_a_result_for_an_older_request_is_not_shown(qtbot, window, fake_model):
    # request inside the block: a fast worker may answer before a later waitSignal connects
    with qtbot.waitSignal(window.worker.signals.result):
        stale = window.worker.recognize(b"old")
        window.current = None
    assert stale is not window._latest_request
    assert window.panel.latex() == ""


def test_reopen_from_history(qtbot, window, store, tmp_path):
    png = write_png(tmp_path / "f.png").read_bytes()
    entry = store.add_entry(png, "\\alpha", 0.7, "file", alternatives=["a"])
    window.reopen_entry(entry)
    assert window.panel.latex() == "\\alpha"
    assert window.current.history_id == entry
    window.reopen_entry(9999)
    assert "no longer exists" in status(window)


def test_model_failure_is_a_clear_status_not_a_crash(qtbot, store):
    from core.errors import ModelError
    from core.settings import Settings
    from gui.main_window import MainWindow
    from gui.worker import ModelWorker

    def no_model(path, device):
        raise ModelError("No model at resources/models/base: config.json is missing.")

    worker = ModelWorker(loader=no_model, warm_up=False)
    win = MainWindow(Settings(), store, worker)
    qtbot.addWidget(win)
    try:
        with qtbot.waitSignal(worker.signals.model_failed):
            worker.load_model()
        assert win.model_status.text().startswith("No model")
        assert "No model at resources/models/base" in status(win)
        assert "Settings" in win.model_status.toolTip()
    finally:
        worker.stop()


def test_preview_follows_a_switch_to_the_dark_theme(qtbot, qapp, window):
    from gui.theme import apply_theme

    window.panel.show_result("x", 0.9)
    light = window.panel.preview_pixmap.toImage()
    try:
        apply_theme(qapp, "dark")
        qtbot.waitUntil(lambda: window.panel.preview.color == "#e8eaed", timeout=3000)
        dark = window.panel.preview_pixmap.toImage()
    finally:
        apply_theme(qapp, "system")

    def darkest(image):
        return min(
            image.pixelColor(x, y).lightness()
            for x in range(image.width())
            for y in range(image.height())
            if image.pixelColor(x, y).alpha() > 200
        )

    assert darkest(light) < 80  # dark ink on a light window
    assert darkest(dark) > 150  # light ink on a dark window


def test_dropping_an_inkml_file_opens_it_on_the_pad(qtbot, window, tmp_path):
    from core.ink import Point, Stroke, to_inkml

    path = tmp_path / "drawing.inkml"
    path.write_text(to_inkml([Stroke([Point(0, 0), Point(30, 30)])]))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    window.dropEvent(_DropEvent(mime))
    assert window.tabs.currentIndex() == 1
    assert len(window.draw_view.pad.strokes) == 1


def test_unexpected_errors_go_to_the_status_bar_not_a_traceback_dialog(window, monkeypatch):
    import sys

    from gui.app import install_excepthook

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    install_excepthook(window)
    try:
        raise KeyError("oops")
    except KeyError:
        sys.excepthook(*sys.exc_info())
    assert "Something went wrong (KeyError" in status(window)


def test_text_fields_leave_file_drops_to_the_window(window):
    assert window.acceptDrops()
    assert not window.panel.editor.acceptDrops()
    assert not window.history_view.search.acceptDrops()


def test_closing_with_a_tray_icon_keeps_the_app_running(qtbot, window):
    window.hide_to_tray = True
    with qtbot.waitSignal(window.hidden_to_tray):
        window.close()
    assert not window.isVisible()
    window.hide_to_tray = False


def test_a_model_fallback_is_told_to_the_user(qtbot, store, fake_model):
    from core.settings import Settings
    from gui.main_window import MainWindow
    from gui.worker import ModelWorker

    notice = "Your model my-finetune is damaged; the base model is used instead."
    worker = ModelWorker(loader=lambda path, device: (fake_model, notice), warm_up=False)
    win = MainWindow(Settings(), store, worker)
    qtbot.addWidget(win)
    try:
        with qtbot.waitSignal(worker.signals.model_ready):
            worker.load_model("my-finetune")
        assert status(win) == notice
        assert "fake-model" in win.model_status.text()
    finally:
        worker.stop()


def test_the_parts_the_model_was_unsure_of_are_underlined_until_edited(
    qtbot, window, fake_model, tmp_path
):
    tokens = ["\\frac", "{", "a", "}", "{", "b", "}", "+", "x"]
    probs = [0.9, 0.9, 0.9, 0.9, 0.9, 0.2, 0.9, 0.9, 0.35, 0.9]  # b and x, then the end token
    fake_model.result = Result("\\frac{a}{b}+x", 0.6, tokens=tokens, token_probs=probs)
    window.open_file(write_png(tmp_path / "f.png"))
    qtbot.waitUntil(lambda: window.panel.latex() == "\\frac{a}{b}+x", timeout=5000)
    panel = window.panel
    assert panel.unsure_marks() == ["b", "x"]
    assert "please check the underlined 2 parts" in panel.confidence.text()
    assert panel.is_low_confidence()
    assert "b (20%)" in panel.editor.toolTip() and "x (35%)" in panel.editor.toolTip()
    panel.editor.setPlainText("\\frac{a}{c}+x")  # the user fixes it: the marks would be stale
    assert panel.unsure_marks() == []
    assert "check" not in panel.confidence.text() and not panel.is_low_confidence()
    assert "unsure" not in panel.editor.toolTip()


def test_a_long_reading_sure_of_every_token_is_not_flagged(qtbot, window, fake_model, tmp_path):
    """A formula's confidence is the product of its tokens' and falls with its length: 30
    tokens at 0.95 each give 21 %. With per-token probabilities the panel asks for a check
    only where a token was under even odds."""
    tokens = ["x", "+"] * 15
    fake_model.result = Result("x+" * 15, 0.21, tokens=tokens, token_probs=[0.95] * 31)
    window.open_file(write_png(tmp_path / "f.png"))
    qtbot.waitUntil(lambda: window.panel.latex() == "x+" * 15, timeout=5000)
    assert window.panel.confidence.text() == "Confidence 21%"
    assert not window.panel.is_low_confidence()


def test_marks_that_do_not_fit_the_text_are_not_drawn(window):
    window.panel.show_result("x+1", 0.9, unsure=[(1, 2, 0.3), (2, 9, 0.1), (-1, 1, 0.1)])
    assert window.panel.unsure_marks() == ["+"]
    window.panel.clear()
    assert window.panel.unsure_marks() == []


def test_a_reading_cut_off_before_its_end_is_flagged_even_without_marks(window):
    """An unfinished reading has confidence 0 whatever its tokens' probabilities."""
    window.panel.show_result("x+x+x", 0.0, unsure=[])
    assert window.panel.is_low_confidence()
    assert "low, please check" in window.panel.confidence.text()


@pytest.mark.parametrize("all_sizes", [True, False])
def test_recognition_reads_at_the_glyph_sizes_the_settings_ask_for(
    qtbot, window, fake_model, all_sizes
):
    # Settings -> "Read at three glyph sizes": off trades accuracy for speed
    window.settings = dataclasses.replace(window.settings, beam=4, all_sizes=all_sizes)
    QApplication.clipboard().setImage(formula_image())
    window.paste()
    wait_result(qtbot, window, fake_model)
    assert fake_model.calls[-1]["beam"] == 4
    assert fake_model.calls[-1]["all_sizes"] is all_sizes

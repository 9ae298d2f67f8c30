"""The Draw tab: the pad, its tools, InkML import/export and live recognition after a pause."""

from __future__ import annotations

from pathlib import Path

from core.errors import InvalidImage
from core.ink import from_inkml, to_inkml
from gui.draw_pad import DrawPad
from gui.qt import (
    QAction,
    QDoubleSpinBox,
    QFileDialog,
    QKeySequence,
    QLabel,
    Qt,
    QTimer,
    QToolBar,
    QVBoxLayout,
    QWidget,
    Signal,
)

INKML_FILTER = "InkML ink (*.inkml *.xml)"


class DrawView(QWidget):
    # (png bytes, InkML text) of the drawing, after a pause in drawing
    recognize_requested = Signal(bytes, str)
    drawing_cleared = Signal()
    error = Signal(object)  # an exception for the status bar

    def __init__(self, pen_width: float = 3.0, delay_ms: int = 700, parent=None):
        super().__init__(parent)
        self.pad = DrawPad(pen_width=pen_width)
        self.live = QTimer(self, singleShot=True, interval=delay_ms)
        self.live.timeout.connect(self.recognize_now)
        self.pad.changed.connect(self._on_changed)
        self.pad.pen_down.connect(self.live.stop)  # never recognize in the middle of a stroke
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._toolbar())
        layout.addWidget(self.pad, 1)
        self._update_actions()

    def _toolbar(self) -> QToolBar:
        bar = QToolBar("Drawing tools")
        self.eraser_action = QAction("Eraser", self, checkable=True)
        self.eraser_action.setShortcut(QKeySequence("E"))
        self.eraser_action.setToolTip(
            "Erase whole strokes with the mouse (E). A pen's eraser end always erases."
        )
        self.eraser_action.toggled.connect(lambda on: setattr(self.pad, "eraser_mode", on))
        self.undo_action = QAction("Undo", self, shortcut=QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(self.pad.undo)
        self.redo_action = QAction("Redo", self, shortcut=QKeySequence.StandardKey.Redo)
        self.redo_action.triggered.connect(self.pad.redo)
        self.clear_action = QAction("Clear", self, shortcut=QKeySequence("Ctrl+Shift+Del"))
        self.clear_action.triggered.connect(self.pad.clear)
        self.width_box = QDoubleSpinBox(minimum=0.5, maximum=30.0, singleStep=0.5)
        self.width_box.setValue(self.pad.pen_width)
        self.width_box.setToolTip("Pen width at full pressure")
        self.width_box.valueChanged.connect(lambda w: setattr(self.pad, "pen_width", float(w)))
        import_action = QAction("Import InkML…", self)
        import_action.triggered.connect(self.import_dialog)
        self.export_action = QAction("Export InkML…", self)
        self.export_action.triggered.connect(self.export_dialog)
        for action in (self.eraser_action, self.undo_action, self.redo_action, self.clear_action):
            # only while the pad has focus: "E" and Ctrl+Z in the LaTeX editor stay the editor's
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        bar.addAction(self.eraser_action)
        bar.addSeparator()
        for action in (self.undo_action, self.redo_action, self.clear_action):
            bar.addAction(action)
        bar.addSeparator()
        bar.addWidget(QLabel(" Width "))
        bar.addWidget(self.width_box)
        bar.addSeparator()
        bar.addAction(import_action)
        bar.addAction(self.export_action)
        return bar

    def _update_actions(self) -> None:
        self.undo_action.setEnabled(self.pad.can_undo())
        self.redo_action.setEnabled(self.pad.can_redo())
        self.clear_action.setEnabled(not self.pad.is_empty())
        self.export_action.setEnabled(not self.pad.is_empty())

    def _on_changed(self) -> None:
        self._update_actions()
        if self.pad.is_empty():
            self.live.stop()
            self.drawing_cleared.emit()
        else:
            self.live.start()

    def recognize_now(self) -> None:
        if self.pad.is_empty():
            return
        try:
            png = self.pad.to_png()
        except InvalidImage as exc:
            self.error.emit(exc)
            return
        self.recognize_requested.emit(png, to_inkml(self.pad.strokes))

    def load_inkml(self, text: str, recognize: bool = True) -> None:
        """Show the strokes of an InkML document (raises InvalidImage when unusable).

        ``recognize=False`` when the result is already known (a reopened history entry)."""
        self.pad.set_strokes(from_inkml(text, default_width=self.pad.pen_width))
        if not recognize:
            self.live.stop()

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import ink", "", INKML_FILTER)
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        try:
            self.load_inkml(path.read_text(encoding="utf-8", errors="replace"))
        except (InvalidImage, OSError) as exc:
            self.error.emit(exc)

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export ink", "formula.inkml", INKML_FILTER)
        if path:
            self.export_file(Path(path))

    def export_file(self, path: Path) -> None:
        try:
            path.write_text(to_inkml(self.pad.strokes), encoding="utf-8")
        except OSError as exc:
            self.error.emit(exc)

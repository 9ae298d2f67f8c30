"""The main window: input modes on the left, the result panel on the right, status below.

It adapts core objects to Qt and nothing more: images go to the one ``ModelWorker``,
results come back by signal and are shown, stored in history (``core.history.Store``) and
copied; every error goes through ``gui.errors.user_message`` to the status bar.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidImage
from core.settings import Settings, save_settings
from gui.about_dialog import install_help_menu
from gui.clipboard import copy_formula
from gui.corrections_view import CorrectionsView
from gui.draw_view import DrawView
from gui.errors import user_message
from gui.history_view import HistoryView
from gui.images import (
    INKML_SUFFIXES,
    local_files,
    png_from_file,
    png_from_mime,
    png_from_qimage,
)
from gui.qt import (
    QAction,
    QApplication,
    QFileDialog,
    QImage,
    QKeySequence,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSignalBlocker,
    QSplitter,
    Qt,
    QTabWidget,
    Signal,
    png_to_pixmap,
)
from gui.result_panel import ResultPanel
from gui.settings_dialog import SettingsDialog
from gui.snipper import Snipper
from gui.training_view import TrainingView
from gui.worker import ModelWorker

log = logging.getLogger(__name__)

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"
STATUS_MS = 10_000
TABS = ("Image", "Draw", "History", "Corrections", "Training")


@dataclass
class CurrentInput:
    """What the result panel is showing the result for."""

    png: bytes
    source: str  # a core.history source: snip, draw, file, paste, drop
    strokes: str | None = None  # InkML, for drawings
    history_id: int | None = None


class MainWindow(QMainWindow):
    settings_changed = Signal(object)  # Settings, after the user saved new ones
    snip_finished = Signal()
    hidden_to_tray = Signal()  # the window was closed but the app keeps running

    def __init__(self, settings: Settings, store, worker: ModelWorker, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.store = store
        self.worker = worker
        self.current: CurrentInput | None = None
        self.hide_to_tray = False  # set by the app when a tray icon is shown
        self.api = None  # gui.api_service.ApiService, set by the app
        self._latest_request = None
        self._draw_entry_id: int | None = None  # history entry of the drawing on the pad
        self.snipper = Snipper(self)
        self.snipper.captured.connect(self._snip_captured)
        self.snipper.failed.connect(self._snip_failed)
        self.setWindowTitle("TeXSnap")
        self.setAcceptDrops(True)
        self.resize(1100, 640)
        self._build()
        self._connect_worker()
        install_help_menu(self)
        self.apply_settings(settings)

    # ---- construction -----------------------------------------------------------------------
    def _build(self) -> None:
        self.panel = ResultPanel()
        self.image_label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.image_label.setText(
            "Snip (Ctrl+Shift+S), open (Ctrl+O), paste (Ctrl+V)\nor drop an image here."
        )
        image_area = QScrollArea(widgetResizable=True)
        image_area.setWidget(self.image_label)
        self.draw_view = DrawView(self.settings.pen_width, self.settings.live_recognition_delay_ms)
        self.history_view = HistoryView(self.store)
        self.corrections_view = CorrectionsView(self.store)
        self.training_view = TrainingView(self.store, lambda: self.settings.model)
        self.tabs = QTabWidget()
        for widget, name in zip(
            (
                image_area,
                self.draw_view,
                self.history_view,
                self.corrections_view,
                self.training_view,
            ),
            TABS,
            strict=True,
        ):
            self.tabs.addTab(widget, name)
        splitter = QSplitter()
        splitter.addWidget(self.tabs)
        splitter.addWidget(self.panel)
        splitter.setSizes([600, 500])
        self.setCentralWidget(splitter)
        self.model_status = QLabel("Model: loading…")
        self.statusBar().addPermanentWidget(self.model_status)
        self._build_actions()
        self._connect_views()
        # text fields would swallow a dropped file as its path: let drops reach the window
        for field in (self.panel.editor, self.history_view.search, self.corrections_view.search):
            field.setAcceptDrops(False)

    def _build_actions(self) -> None:
        bar = self.addToolBar("Input")
        bar.setObjectName("inputToolbar")
        bar.setMovable(False)
        specs = [
            ("Snip", "Ctrl+Shift+S", "Select a screen region", self.start_snip),
            ("Draw", "Ctrl+D", "Draw a formula with the pen or mouse", self.show_draw),
            ("Open", "Ctrl+O", "Open an image file", self.open_dialog),
            ("Paste", "Ctrl+V", "Paste an image or an image file", self.paste),
            ("History", "Ctrl+H", "Past recognitions", lambda: self.tabs.setCurrentIndex(2)),
            ("Settings", "Ctrl+,", "Preferences", self.open_settings),
        ]
        self.actions_by_name: dict[str, QAction] = {}
        for text, key, tip, slot in specs:
            action = QAction(text, self, shortcut=QKeySequence(key), triggered=slot)
            action.setToolTip(f"{tip} ({key})")
            bar.addAction(action)
            self.actions_by_name[text] = action
        copy = QAction("Copy", self, shortcut=QKeySequence("Ctrl+Shift+C"))
        copy.triggered.connect(lambda: self.copy_result(self.panel.copy_format()))
        correct = QAction("Save as correction", self, shortcut=QKeySequence("Ctrl+S"))
        correct.triggered.connect(self.save_correction)
        for action in (copy, correct):
            self.addAction(action)
            self.actions_by_name[action.text()] = action

    def _connect_views(self) -> None:
        p = self.panel
        p.copy_requested.connect(self.copy_result)
        p.correction_requested.connect(self.save_correction)
        p.format_changed.connect(lambda fmt: self._update_setting(copy_format=fmt))
        p.auto_copy_changed.connect(lambda on: self._update_setting(auto_copy=on))
        self.draw_view.recognize_requested.connect(self._recognize_drawing)
        self.draw_view.drawing_cleared.connect(self._drawing_cleared)
        self.draw_view.error.connect(self.show_error)
        self.draw_view.width_box.valueChanged.connect(
            lambda width: self._update_setting(pen_width=float(width))
        )
        self.history_view.reopen_requested.connect(self.reopen_entry)
        self.history_view.copy_requested.connect(
            lambda latex: self._copy_text(latex, self.panel.copy_format())
        )
        self.history_view.error.connect(self.show_error)
        self.corrections_view.error.connect(self.show_error)
        self.corrections_view.message.connect(self.show_message)
        self.training_view.error.connect(self.show_error)
        self.training_view.message.connect(self.show_message)
        self.training_view.model_chosen.connect(self.use_model)
        self.training_view.show_corrections.connect(
            lambda: self.tabs.setCurrentWidget(self.corrections_view)
        )

    def _connect_worker(self) -> None:
        s = self.worker.signals
        s.result.connect(self._on_result)
        s.error.connect(self._on_error)
        s.model_loading.connect(lambda _r: self.model_status.setText("Model: loading…"))
        s.model_ready.connect(self._on_model_ready)
        s.model_failed.connect(self._on_model_failed)

    # ---- settings ---------------------------------------------------------------------------
    def apply_settings(self, settings: Settings) -> None:
        """Show ``settings`` in the widgets; their change signals are blocked meanwhile, so
        applying settings never saves them again."""
        self.settings = settings
        widgets = (self.panel.format_box, self.panel.auto_copy, self.draw_view.width_box)
        blockers = [QSignalBlocker(w) for w in widgets]
        self.panel.set_copy_format(settings.copy_format)
        self.panel.auto_copy.setChecked(settings.auto_copy)
        self.draw_view.width_box.setValue(settings.pen_width)
        del blockers
        self.draw_view.pad.pen_width = settings.pen_width
        self.draw_view.live.setInterval(settings.live_recognition_delay_ms)

    def _update_setting(self, **changes) -> None:
        self.save_settings(dataclasses.replace(self.settings, **changes))

    def save_settings(self, settings: Settings) -> bool:
        old = self.settings
        try:
            save_settings(settings)
        except Exception as exc:  # noqa: BLE001 - SettingsError: the user keeps working
            self.show_error(exc)
            return False
        self.apply_settings(settings)
        if (settings.model, settings.device) != (old.model, old.device):
            self.worker.load_model(settings.model, settings.device)
        self.settings_changed.emit(settings)
        return True

    def use_model(self, name: str) -> None:
        """Switch models without a restart: the worker swaps them between recognitions."""
        if self.save_settings(dataclasses.replace(self.settings, model=name)):
            self.show_message(f"Switching to the model {name}…")
            self.training_view.versions.refresh()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self, api=self.api)
        if dialog.exec():
            if self.save_settings(dialog.settings()):
                self.show_message("Settings saved.")

    # ---- inputs -----------------------------------------------------------------------------
    def recognize(self, png: bytes, source: str, strokes: str | None = None) -> None:
        """Show ``png`` as the current input and queue it for recognition."""
        self.current = CurrentInput(png, source, strokes)
        if source != "draw":
            self.image_label.setPixmap(png_to_pixmap(png, self.devicePixelRatioF()))
            self.tabs.setCurrentIndex(0)
        s = self.settings
        request = self.worker.recognize(
            png, beam=s.beam, alternatives=s.alternatives, all_sizes=s.all_sizes
        )
        self._latest_request = request
        if self.worker.model_ready:
            self.show_message("Recognizing…")
        else:
            self.show_message("Waiting for the model to load…")

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a formula image", "", IMAGE_FILTER)
        if path:
            self.open_file(Path(path), source="file")

    def open_file(self, path: Path, source: str = "file") -> None:
        if path.suffix.lower() in INKML_SUFFIXES:
            self.show_draw()
            self.draw_view.import_file(path)
            return
        try:
            png = png_from_file(path)
        except Exception as exc:  # noqa: BLE001 - InvalidImage, OSError: status bar
            self.show_error(exc)
            return
        self.recognize(png, source)

    def paste(self) -> None:
        try:
            png = png_from_mime(QApplication.clipboard().mimeData())
        except Exception as exc:  # noqa: BLE001
            self.show_error(exc)
            return
        self.recognize(png, "paste")

    def dragEnterEvent(self, event):
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event):
        mime = event.mimeData()
        event.acceptProposedAction()
        files = local_files(mime)
        if files and not mime.hasImage():
            self.open_file(files[0], source="drop")
            return
        try:
            png = png_from_mime(mime)
        except Exception as exc:  # noqa: BLE001
            self.show_error(exc)
            return
        self.recognize(png, "drop")

    def show_draw(self) -> None:
        self.show_window()
        self.tabs.setCurrentIndex(1)
        self.draw_view.pad.setFocus()

    def _recognize_drawing(self, png: bytes, inkml: str) -> None:
        self.recognize(png, "draw", strokes=inkml)

    def _drawing_cleared(self) -> None:
        self._draw_entry_id = None
        if self.current is not None and self.current.source == "draw":
            self.current = None
            self.panel.clear()

    # ---- snipping ---------------------------------------------------------------------------
    def start_snip(self) -> None:
        self.snipper.start()

    def _snip_captured(self, image: QImage) -> None:
        self.show_window()
        try:
            self.recognize(png_from_qimage(image), "snip")
        except InvalidImage as exc:
            self.show_error(exc)
        self.snip_finished.emit()

    def _snip_failed(self, message: str) -> None:
        if self.snipper.was_visible or message:
            self.show_window()
        if message:
            self.show_message(message)
        self.snip_finished.emit()

    # ---- results ----------------------------------------------------------------------------
    def _on_result(self, request, result) -> None:
        if request is not self._latest_request or self.current is None:
            return  # an older request finished after a newer one was made: not shown
        if not result.latex:
            self.panel.clear()
            self.show_message(result.empty_reason or "Nothing was recognized in this image.")
            return
        alternatives = [(a.latex, a.confidence) for a in result.alternatives]
        unsure = (  # None: no per-token probabilities to judge by
            [(s.start, s.end, s.probability) for s in result.unsure()]
            if result.token_probs
            else None
        )
        self.panel.show_result(result.latex, result.confidence, alternatives, result.ms, unsure)
        self._store_result(result)
        if self.settings.auto_copy:
            self._copy_text(result.latex, self.settings.copy_format, quiet=True)
        self.show_message(f"Recognized in {result.ms:.0f} ms.")

    def _store_result(self, result) -> None:
        cur = self.current
        try:
            if cur.source == "draw" and self._draw_entry_id is not None:
                # live recognition of the same drawing: keep one entry, the latest
                self.store.delete_entry(self._draw_entry_id)
            cur.history_id = self.store.add_entry(
                cur.png,
                result.latex,
                result.confidence,
                cur.source,
                alternatives=[a.latex for a in result.alternatives],
                strokes_inkml=cur.strokes,
            )
        except Exception as exc:  # noqa: BLE001 - the result stays on screen regardless
            self.show_error(exc)
            return
        if cur.source == "draw":
            self._draw_entry_id = cur.history_id
        if self.history_view.isVisible():
            self.history_view.refresh()

    def _on_error(self, request, exc) -> None:
        if request is self._latest_request:
            self.show_error(exc)

    def _on_model_ready(self, _request, info: dict) -> None:
        name = info.get("name") or "model"
        device = info.get("device", "")
        self.model_status.setText(f"Model: {name}" + (f" ({device})" if device else ""))
        self.model_status.setToolTip(info.get("notice") or "")
        self.show_message(info.get("notice") or "Recognition is ready.")

    def _on_model_failed(self, _request, exc) -> None:
        # the status message fades; the permanent label keeps the reason in its tooltip
        text = user_message(exc) or "The recognition model could not be loaded."
        self.model_status.setText("No model: recognition unavailable")
        self.model_status.setToolTip(text)
        self.show_message(text)

    def reopen_entry(self, entry_id: int) -> None:
        entry = self.store.get_entry(entry_id)
        if entry is None:
            self.show_message("That history entry no longer exists.")
            return
        self.current = CurrentInput(entry.image_png, entry.source, entry.strokes_inkml, entry.id)
        self._latest_request = None
        self.image_label.setPixmap(png_to_pixmap(entry.image_png, self.devicePixelRatioF()))
        self.panel.show_result(
            entry.latex, entry.confidence, [(a, None) for a in entry.alternatives]
        )
        self.tabs.setCurrentIndex(0)
        self.show_message("Reopened from history.")
        if entry.strokes_inkml:
            self._reopen_drawing(entry)  # after: a broken drawing's message must stay visible

    def _reopen_drawing(self, entry) -> None:
        """Put a drawing's strokes back on the pad; drawing on updates this same entry."""
        try:
            self.draw_view.load_inkml(entry.strokes_inkml, recognize=False)
        except InvalidImage as exc:
            self.show_error(exc)
            return
        self._draw_entry_id = entry.id
        self.tabs.setCurrentIndex(1)

    # ---- output -----------------------------------------------------------------------------
    def copy_result(self, fmt: str) -> None:
        latex = self.panel.latex()
        if not latex:
            self.show_message("There is no formula to copy yet.")
            return
        self._copy_text(latex, fmt)

    def _copy_text(self, latex: str, fmt: str, quiet: bool = False) -> None:
        try:
            copy_formula(latex, fmt)
        except Exception as exc:  # noqa: BLE001
            self.show_error(exc)
            return
        if not quiet:
            self.show_message("Copied to the clipboard.")

    def save_correction(self) -> None:
        latex = self.panel.latex()
        if self.current is None or not latex:
            self.show_message("Recognize an image first, then correct its LaTeX.")
            return
        cur = self.current
        try:
            self.store.add_correction(
                cur.png, latex, history_id=cur.history_id, strokes_inkml=cur.strokes
            )
            if cur.history_id is not None:
                self.store.update_entry_latex(cur.history_id, latex)
        except Exception as exc:  # noqa: BLE001
            self.show_error(exc)
            return
        self.panel.recognized_latex = latex
        self.show_message("Saved as a correction: it will be used for fine-tuning.")

    # ---- status -----------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_MS)

    def show_error(self, exc: BaseException) -> None:
        text = user_message(exc)
        if text:
            self.show_message(text)

    def show_window(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event):
        if not self.hide_to_tray and not self.training_view.confirm_stop():
            event.ignore()  # the user chose to let the fine-tune finish
            return
        if self.hide_to_tray:
            event.ignore()
            self.hide()
            self.hidden_to_tray.emit()
            return
        super().closeEvent(event)

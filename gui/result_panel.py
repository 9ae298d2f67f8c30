"""The result panel: rendered preview, editable LaTeX, confidence, alternatives, copy.

It shows one recognition at a time and knows nothing about models: the main window hands it
plain values (LaTeX, confidence, alternatives) and listens to its signals.
"""

from __future__ import annotations

from core.formats import COPY_FORMATS
from core.result import LOW_CONFIDENCE
from gui.preview import DebouncedPreview
from gui.qt import (
    QCheckBox,
    QColor,
    QComboBox,
    QEvent,
    QFont,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPalette,
    QPixmap,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    Qt,
    QTextCharFormat,
    QTextCursor,
    QTextEdit,
    QVBoxLayout,
    QWidget,
    Signal,
)

LOW_STYLE = "color: #b00020; font-weight: bold;"
UNSURE_COLOR = "#e8710a"  # the wavy underline under the parts the model was unsure of
EDITOR_TIP = "The LaTeX. Edit it to fix a mistake; the preview follows."


class ResultPanel(QWidget):
    copy_requested = Signal(str)  # copy format key
    correction_requested = Signal()
    format_changed = Signal(str)
    auto_copy_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.recognized_latex = ""  # what the model said, to tell whether the user edited
        self._confidence: float | None = None
        self._token_checked = False  # the reading came with per-token probabilities
        self.preview = DebouncedPreview(self)
        self.preview.rendered.connect(self._show_pixmap)
        self.preview.failed.connect(self._show_render_error)
        self.preview.cleared.connect(self._clear_preview)
        self._build()
        self.clear()

    # ---- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.preview_label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.preview_label.setObjectName("preview")
        self.preview_label.setMinimumHeight(140)
        self.preview_label.setFrameShape(QFrame.Shape.StyledPanel)
        self.preview_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.render_error = QLabel(wordWrap=True)
        self.render_error.setStyleSheet("color: #b35c00;")
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("LaTeX appears here. Edit it to fix a mistake.")
        self.editor.setToolTip(EDITOR_TIP)
        self.editor.setFont(QFont("monospace"))
        self.editor.setMaximumHeight(110)
        self.editor.textChanged.connect(self._on_edit)
        self.confidence = QLabel()
        self.timing = QLabel()
        self.alternatives = QListWidget()
        self.alternatives.setMaximumHeight(96)
        self.alternatives.setToolTip("Other readings: click one to take it.")
        self.alternatives.itemClicked.connect(self._take_alternative)
        for widget in (self.preview_label, self.render_error):
            layout.addWidget(widget)
        layout.addWidget(QLabel("LaTeX"))
        layout.addWidget(self.editor)
        info = QHBoxLayout()
        info.addWidget(self.confidence)
        info.addStretch(1)
        info.addWidget(self.timing)
        layout.addLayout(info)
        layout.addWidget(QLabel("Alternatives"))
        layout.addWidget(self.alternatives)
        layout.addLayout(self._copy_row())

    def _copy_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.format_box = QComboBox()
        for key, label in COPY_FORMATS.items():
            self.format_box.addItem(label, key)
        self.format_box.currentIndexChanged.connect(
            lambda _i: self.format_changed.emit(self.copy_format())
        )
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy in the chosen format (Ctrl+Shift+C)")
        self.copy_button.clicked.connect(lambda: self.copy_requested.emit(self.copy_format()))
        self.auto_copy = QCheckBox("Auto-copy")
        self.auto_copy.setToolTip("Copy every new result in the chosen format")
        self.auto_copy.toggled.connect(self.auto_copy_changed)
        self.correction_button = QPushButton("Save as correction")
        self.correction_button.setToolTip(
            "Keep this image with your corrected LaTeX for fine-tuning (Ctrl+S)"
        )
        self.correction_button.clicked.connect(self.correction_requested)
        for w in (QLabel("Copy as"), self.format_box, self.copy_button, self.auto_copy):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.correction_button)
        return row

    # ---- state ----------------------------------------------------------------------------
    def copy_format(self) -> str:
        return self.format_box.currentData()

    def set_copy_format(self, fmt: str) -> None:
        index = self.format_box.findData(fmt)
        self.format_box.setCurrentIndex(max(0, index))

    def latex(self) -> str:
        return self.editor.toPlainText().strip()

    def is_edited(self) -> bool:
        return self.latex() != self.recognized_latex.strip()

    def clear(self) -> None:
        self.recognized_latex = ""
        self._confidence = None
        self.editor.setPlainText("")
        self._mark_unsure([])
        self.confidence.setText("")
        self.timing.setText("")
        self.alternatives.clear()
        self._clear_preview()

    def show_result(
        self,
        latex: str,
        confidence: float | None,
        alternatives: list[tuple[str, float | None]] = (),
        ms: float | None = None,
        unsure: list[tuple[int, int, float]] | None = None,
    ) -> None:
        """Show one recognition (or a reopened history entry: ``ms`` None). ``unsure`` holds
        (start, end, probability) stretches of ``latex`` to underline for the user to check;
        None when the reading carries no per-token probabilities (a history entry)."""
        self.recognized_latex = latex
        self.editor.blockSignals(True)
        self.editor.setPlainText(latex)
        self.editor.blockSignals(False)
        self._mark_unsure(unsure or [])
        self._token_checked = unsure is not None
        self._confidence = confidence
        self._show_confidence(confidence)
        self.timing.setText(f"{ms:.0f} ms" if ms else "")
        self.alternatives.clear()
        for alt, conf in alternatives:
            text = alt if conf is None else f"{alt}    ({conf:.0%})"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, alt)
            self.alternatives.addItem(item)
        self._update_buttons()
        self.preview.request(latex, immediate=True)

    def _mark_unsure(self, spans: list[tuple[int, int, float]]) -> None:
        """Underline the stretches the model was unsure of, as a spell checker would; the
        editor's tooltip names them. Any edit clears the marks (``_on_edit``)."""
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(QColor(UNSURE_COLOR))
        selections, names = [], []
        length = len(self.editor.toPlainText())
        for start, end, p in spans:
            if not 0 <= start < end <= length:
                continue  # not this text's offsets: mark nothing rather than the wrong part
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            selection = QTextEdit.ExtraSelection()
            selection.cursor, selection.format = cursor, fmt
            selections.append(selection)
            names.append(f"{cursor.selectedText()} ({p:.0%})")
        self.editor.setExtraSelections(selections)
        tip = EDITOR_TIP
        if names:
            tip += "\nUnderlined, the model was unsure: " + ", ".join(names)
        self.editor.setToolTip(tip)

    def unsure_marks(self) -> list[str]:
        """The underlined stretches of the editor's text, in order."""
        return [s.cursor.selectedText() for s in self.editor.extraSelections()]

    def _show_confidence(self, confidence: float | None) -> None:
        """The confidence, and whether to ask the user to check. With per-token probabilities
        the request names the underlined parts: on the dev slices they caught 76-90 % of wrong
        readings and left 74-87 % of right ones alone, where a whole-formula confidence under
        0.5 caught 98-100 % but left only 8-24 % alone (benchmarks/unsure_marks.py). A reading
        cut off before its end has confidence 0 and is always flagged. Without per-token
        probabilities (a history entry), the whole-formula confidence decides."""
        if confidence is None:
            self.confidence.setText("")
            return
        text = f"Confidence {confidence:.0%}"
        marks = len(self.editor.extraSelections())
        if self._token_checked and confidence > 0.0:
            low = marks > 0
            if low:
                parts = "part" if marks == 1 else f"{marks} parts"
                text += f"  — please check the underlined {parts}"
        else:
            low = confidence < LOW_CONFIDENCE
            text += "  — low, please check" if low else ""
        self.confidence.setText(text)
        self.confidence.setStyleSheet(LOW_STYLE if low else "")
        self.confidence.setProperty("low", low)

    def is_low_confidence(self) -> bool:
        """Whether the panel asks the user to check the reading."""
        return bool(self.confidence.property("low"))

    def _take_alternative(self, item: QListWidgetItem) -> None:
        """Put the alternative in the editor; it counts as the user's edit of the result."""
        self.editor.setPlainText(item.data(Qt.ItemDataRole.UserRole))
        self.preview.request(self.latex(), immediate=True)

    def _on_edit(self) -> None:
        if self.editor.extraSelections() and self.is_edited():
            self._mark_unsure([])  # the offsets were for the model's text
            self._show_confidence(self._confidence)
        self._update_buttons()
        self.preview.request(self.latex())

    def _update_buttons(self) -> None:
        has_text = bool(self.latex())
        self.copy_button.setEnabled(has_text)
        self.correction_button.setEnabled(has_text)

    # ---- preview --------------------------------------------------------------------------
    def showEvent(self, event):
        super().showEvent(event)
        self._follow_screen_and_theme()

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._follow_screen_and_theme()

    def _follow_screen_and_theme(self) -> None:
        """Render for this screen's pixel ratio in the palette's text colour (dark themes)."""
        dpr = self.devicePixelRatioF()
        color = self.palette().color(QPalette.ColorRole.WindowText).name()
        if (dpr, color) != (self.preview.dpr, self.preview.color):
            self.preview.dpr, self.preview.color = dpr, color
            if self.latex():
                self.preview.request(self.latex(), immediate=True)

    def _show_pixmap(self, pixmap: QPixmap) -> None:
        self.render_error.hide()
        self.render_error.setText("")
        self.preview_pixmap = pixmap  # (QLabel.pixmap() returns a copy without its ratio)
        self.preview_label.setPixmap(pixmap)

    def _show_render_error(self, message: str) -> None:
        self.preview_pixmap = QPixmap()
        self.preview_label.setPixmap(QPixmap())
        self.preview_label.setText("No preview")
        self.render_error.setText(message + " The LaTeX itself still copies fine.")
        self.render_error.show()

    def _clear_preview(self) -> None:
        self.preview_pixmap = QPixmap()
        self.preview_label.setPixmap(QPixmap())
        self.preview_label.setText("Snip, draw, open, paste or drop a formula image.")
        self.render_error.hide()
        self.render_error.setText("")

"""The Settings dialog: edits a copy of ``core.settings.Settings``; the caller saves it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from core import paths
from core.formats import COPY_FORMATS
from core.settings import BEAM_RANGE, DEVICES, THEMES, Settings
from gui.qt import (
    QCheckBox,
    QComboBox,
    QDesktopServices,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QKeySequence,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QUrl,
    QVBoxLayout,
    QWidget,
)

DEVICE_LABELS = {"auto": "Automatic", "cpu": "CPU", "cuda": "GPU (CUDA)", "mps": "GPU (Apple)"}
THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


def available_models() -> list[str]:
    """'base' (bundled) plus every model directory the user fine-tuned or installed."""
    try:
        folder = paths.user_models_dir(ensure=False)
        names = sorted(p.name for p in folder.iterdir() if (p / "config.json").is_file())
    except OSError:
        names = []
    return ["base", *names]


def _combo(items: dict[str, str], current: str) -> QComboBox:
    box = QComboBox()
    for key, label in items.items():
        box.addItem(label, key)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("TeXSnap settings")
        self.original = settings
        s = settings
        self.hotkey = QKeySequenceEdit(QKeySequence(s.hotkey))
        self.beam = QSpinBox(minimum=BEAM_RANGE[0], maximum=BEAM_RANGE[1], value=s.beam)
        self.beam.setToolTip("Wider beams are more accurate and slower; 1 is fastest.")
        self.alternatives = QSpinBox(minimum=0, maximum=10, value=s.alternatives)
        self.device = _combo({d: DEVICE_LABELS.get(d, d) for d in DEVICES}, s.device)
        self.copy_format = _combo(COPY_FORMATS, s.copy_format)
        self.auto_copy = QCheckBox("Copy every result as soon as it is recognized")
        self.auto_copy.setChecked(s.auto_copy)
        self.theme = _combo({t: THEME_LABELS[t] for t in THEMES}, s.theme)
        models = available_models()
        if s.model not in models:
            models.append(s.model)
        self.model = _combo({m: m for m in models}, s.model)
        self.delay = QSpinBox(minimum=100, maximum=10_000, singleStep=100, suffix=" ms")
        self.delay.setValue(s.live_recognition_delay_ms)
        self.pen_width = QDoubleSpinBox(minimum=0.5, maximum=30.0, singleStep=0.5)
        self.pen_width.setValue(s.pen_width)
        self.data_dir = QLineEdit(s.data_dir, placeholderText=str(paths.data_dir(ensure=False)))
        form = QFormLayout()
        form.addRow("Snip hotkey", self.hotkey)
        form.addRow("Beam width", self.beam)
        form.addRow("Alternatives shown", self.alternatives)
        form.addRow("Device", self.device)
        form.addRow("Model", self.model)
        form.addRow("Copy format", self.copy_format)
        form.addRow("", self.auto_copy)
        form.addRow("Theme", self.theme)
        form.addRow("Live recognition pause", self.delay)
        form.addRow("Pen width", self.pen_width)
        form.addRow("Data folder", self._data_row())
        form.addRow("Settings file", self._open_row(paths.settings_path(ensure=False)))
        note = QLabel("A new data folder is used after TeXSnap restarts.")
        note.setEnabled(False)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _data_row(self) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.data_dir, 1)
        box.addWidget(QPushButton("Choose…", clicked=self._choose_data_dir))
        box.addWidget(QPushButton("Open", clicked=lambda: _open(self._data_path())))
        return row

    def _open_row(self, path: Path) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        label = QLabel(str(path))
        label.setToolTip(str(path))
        box.addWidget(label, 1)
        box.addWidget(QPushButton("Open folder", clicked=lambda: _open(path.parent)))
        return row

    def _data_path(self) -> Path:
        return Path(self.data_dir.text().strip() or paths.data_dir(ensure=False))

    def _choose_data_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", str(self._data_path()))
        if folder:
            self.data_dir.setText(folder)

    def settings(self) -> Settings:
        """The edited settings (validated by ``core.settings`` when saved)."""
        hotkey = self.hotkey.keySequence().toString(QKeySequence.SequenceFormat.PortableText)
        return dataclasses.replace(
            self.original,
            hotkey=hotkey or self.original.hotkey,
            beam=self.beam.value(),
            alternatives=self.alternatives.value(),
            device=self.device.currentData(),
            copy_format=self.copy_format.currentData(),
            auto_copy=self.auto_copy.isChecked(),
            theme=self.theme.currentData(),
            model=self.model.currentData(),
            live_recognition_delay_ms=self.delay.value(),
            pen_width=float(self.pen_width.value()),
            data_dir=self.data_dir.text().strip(),
        )


def _open(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

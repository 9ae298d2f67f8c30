"""The Settings dialog: edits a copy of ``core.settings.Settings``; the caller saves it.

Two tabs: General, and Local API (``gui.api_service``): the switch, port and allowed web
origins, the access token (shown, copied or replaced on request only: reading it may ask the
keyring) and a live status line (running on http://127.0.0.1:PORT, or why not).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from core import paths
from core.errors import SettingsError
from core.formats import COPY_FORMATS
from core.settings import BEAM_RANGE, DEVICES, PORT_RANGE, THEMES, Settings, normalize_origin
from gui.errors import user_message
from gui.qt import (
    QApplication,
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
    QMessageBox,
    QPushButton,
    QSpinBox,
    Qt,
    QTabWidget,
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
    def __init__(self, settings: Settings, parent: QWidget | None = None, api=None):
        super().__init__(parent)
        self.setWindowTitle("TeXSnap settings")
        self.original = settings
        s = settings
        self.hotkey = QKeySequenceEdit(QKeySequence(s.hotkey))
        self.beam = QSpinBox(minimum=BEAM_RANGE[0], maximum=BEAM_RANGE[1], value=s.beam)
        self.beam.setToolTip("Wider beams are more accurate and slower; 1 is fastest.")
        self.alternatives = QSpinBox(minimum=0, maximum=10, value=s.alternatives)
        self.all_sizes = QCheckBox("Read at three glyph sizes")
        self.all_sizes.setChecked(s.all_sizes)
        self.all_sizes.setToolTip(
            "Read each formula at its measured size and a little larger and smaller, and keep "
            "the reading the model is surest of: more formulas right, about 1.5 times slower."
        )
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
        form.addRow("", self.all_sizes)
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
        general = QWidget()
        general_layout = QVBoxLayout(general)
        general_layout.addLayout(form)
        general_layout.addWidget(note)
        general_layout.addStretch(1)
        self.api = ApiSettings(s, api)
        self.tabs = QTabWidget()
        self.tabs.addTab(general, "General")
        self.tabs.addTab(self.api, "Local API")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)

    def accept(self) -> None:
        """Close only with settings that can be saved (a bad origin keeps the dialog open)."""
        if self.api.origin_problem():
            self.tabs.setCurrentWidget(self.api)
            self.api.origins.setFocus()
            return
        super().accept()

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
            all_sizes=self.all_sizes.isChecked(),
            device=self.device.currentData(),
            copy_format=self.copy_format.currentData(),
            auto_copy=self.auto_copy.isChecked(),
            theme=self.theme.currentData(),
            model=self.model.currentData(),
            live_recognition_delay_ms=self.delay.value(),
            pen_width=float(self.pen_width.value()),
            data_dir=self.data_dir.text().strip(),
            **self.api.values(),
        )


class ApiSettings(QWidget):
    """The Local API tab. ``api`` is the app's ``gui.api_service.ApiService`` (None in a
    dialog opened without one: the token then comes from ``core.secrets`` directly)."""

    def __init__(self, s: Settings, api=None):
        super().__init__()
        self.service = api
        self.enabled = QCheckBox("Let editors and scripts on this computer use TeXSnap")
        self.enabled.setChecked(s.api_enabled)
        self.port = QSpinBox(minimum=PORT_RANGE[0], maximum=PORT_RANGE[1], value=s.api_port)
        self.port.setToolTip("The API listens on 127.0.0.1 (this computer only) at this port.")
        self.origins = QLineEdit(", ".join(s.api_allowed_origins))
        self.origins.setPlaceholderText("none (recommended); e.g. app://obsidian.md")
        self.origins.setToolTip(
            "Web pages and web-based apps allowed to call the API, separated by commas.\n"
            "Requests from any other web page are refused."
        )
        self.origins.textChanged.connect(lambda _t: self.origin_problem())
        self.token = QLineEdit(readOnly=True, placeholderText="hidden")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_token = QPushButton("Show", checkable=True, toggled=self._show_token)
        self.copy_token = QPushButton("Copy", clicked=self._copy_token)
        self.rotate = QPushButton("New token…", clicked=self._rotate_token)
        self.token_note = QLabel(wordWrap=True)
        self.problem = QLabel(wordWrap=True)
        self.problem.setStyleSheet("color: #c62828")
        self.problem.hide()
        self.status = QLabel(wordWrap=True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.example = QLabel(wordWrap=True)
        self.example.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.port.valueChanged.connect(self._update_example)
        form = QFormLayout(self)
        form.addRow("", self.enabled)
        form.addRow("Port", self.port)
        form.addRow("Allowed web origins", self.origins)
        form.addRow("", self.problem)
        form.addRow("Access token", self._token_row())
        form.addRow("", self.token_note)
        form.addRow("Status", self.status)
        form.addRow("Try it", self.example)
        self._update_example()
        self._set_status(api.status if api else "Takes effect when the settings are saved.", True)
        if api is not None:
            api.status_changed.connect(self._set_status)

    def _token_row(self) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.token, 1)
        for button in (self.show_token, self.copy_token, self.rotate):
            box.addWidget(button)
        return row

    # ---- values -------------------------------------------------------------------------
    def _parsed_origins(self) -> tuple[list[str], str | None]:
        """(valid origins, normalized and without repeats; the first problem or None)."""
        origins, problem = [], None
        for part in self.origins.text().replace("\n", ",").split(","):
            if not part.strip():
                continue
            try:
                origin = normalize_origin(part)
            except SettingsError as exc:
                problem = problem or str(exc)
                continue
            if origin not in origins:
                origins.append(origin)
        return origins, problem

    def origin_problem(self) -> str | None:
        """Show, and return, what is wrong with the origins field (None when fine)."""
        problem = self._parsed_origins()[1]
        self.problem.setText(problem or "")
        self.problem.setVisible(problem is not None)
        return problem

    def values(self) -> dict:
        return {
            "api_enabled": self.enabled.isChecked(),
            "api_port": self.port.value(),
            "api_allowed_origins": self._parsed_origins()[0],
        }

    # ---- token --------------------------------------------------------------------------
    def _token_info(self, rotate: bool = False):
        """The stored token (or a new one), or None after telling why it is unavailable."""
        try:
            if self.service is not None:
                return self.service.rotate_token() if rotate else self.service.token_info()
            from core import secrets

            return secrets.rotate_token() if rotate else secrets.load_token()
        except Exception as exc:  # noqa: BLE001 - keyring or file trouble: say so
            self.token_note.setText(f"The token is unavailable: {user_message(exc)}")
            return None

    def _reveal(self, info) -> None:
        self.token.setText(info.token)
        note = f"Stored in {info.where}."
        self.token_note.setText(f"{note} {info.warning}" if info.warning else note)

    def _show_token(self, shown: bool) -> None:
        if shown and not self.token.text():
            info = self._token_info()
            if info is None:
                self.show_token.setChecked(False)
                return
            self._reveal(info)
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.token.setEchoMode(mode)
        self.show_token.setText("Hide" if shown else "Show")

    def _copy_token(self) -> None:
        info = self._token_info()
        if info is not None:
            self._reveal(info)
            QApplication.clipboard().setText(info.token)
            self.token_note.setText(self.token_note.text() + " Copied to the clipboard.")

    def _rotate_token(self) -> None:
        answer = QMessageBox.question(
            self,
            "New API token",
            "Make a new access token? Editors and scripts that use the current one will "
            "have to be given the new one.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        info = self._token_info(rotate=True)
        if info is not None:
            self._reveal(info)
            self.token_note.setText(self.token_note.text() + " A new token was made.")

    # ---- status -------------------------------------------------------------------------
    def _set_status(self, text: str, ok: bool) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("" if ok else "color: #c62828")

    def _update_example(self) -> None:
        # the token stays out of this label: screenshots of the dialog must not leak it
        self.example.setText(
            'curl -H "Authorization: Bearer $(texsnap token)" --data-binary @formula.png '
            f"http://127.0.0.1:{self.port.value()}/v1/recognize"
        )


def _open(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

"""The Training tab: fine-tune the model on the user's corrections, see how it did, and
manage model versions.

The corrections themselves are listed and edited in the Corrections tab (thumbnails, LaTeX,
search, exclude, delete, import/export); this tab shows how many will be used and adds
InkML import. A fine-tune runs in a child process (``gui.training_runner``): the window
stays responsive, a crash of training cannot take the app down, and cancelling discards the
half-trained model, so the model in use never changes unless the user presses "Use this
model" after a report that recommends it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from gui.history_view import ask_user
from gui.qt import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from gui.training_runner import TrainingRunner
from gui.training_versions import VersionsPanel
from training.finetune_plan import MIN_EXAMPLES, PRESET_LABELS, Options, Report, estimate_seconds

log = logging.getLogger(__name__)

DEVICE_LABELS = {"auto": "Automatic", "cpu": "CPU", "cuda": "GPU (CUDA)", "mps": "GPU (Apple)"}
PHASES = {
    "prepare": "Preparing",
    "before": "Scoring the model in use",
    "train": "Training",
    "after": "Scoring the fine-tuned model",
    "save": "Saving",
}


def minutes(seconds: float) -> str:
    if seconds < 90:
        return "about a minute"
    return f"about {round(seconds / 60)} minutes"


class TrainingView(QWidget):
    model_chosen = Signal(str)  # switch the app to this model (verified)
    show_corrections = Signal()
    error = Signal(object)
    message = Signal(str)

    def __init__(
        self,
        store,
        current_model: Callable[[], str],
        parent=None,
        runner: TrainingRunner | None = None,
        confirm: Callable[..., bool] = ask_user,
    ):
        super().__init__(parent)
        self.store = store
        self.current_model = current_model
        self.confirm = confirm
        self.runner = runner or TrainingRunner(parent=self)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.failed.connect(self._on_failed)
        self.report: Report | None = None
        self.plot = None  # made on first use: matplotlib is slow to import
        self._dataset: Path | None = None
        self.versions = VersionsPanel(current_model, confirm=confirm)
        self.versions.model_chosen.connect(self.model_chosen)
        self.versions.error.connect(self.error)
        self.versions.message.connect(self.message)
        layout = QVBoxLayout(self)
        layout.addWidget(self._data_box())
        layout.addWidget(self._train_box(), 1)
        layout.addWidget(self._report_box())
        box = QGroupBox("Model versions")
        QVBoxLayout(box).addWidget(self.versions)
        layout.addWidget(box, 1)
        self._set_running(False)

    # ---- construction -------------------------------------------------------------------------
    def _data_box(self) -> QGroupBox:
        box = QGroupBox("Your corrections")
        self.data_label = QLabel()
        edit = QPushButton("Review in Corrections…", clicked=self.show_corrections)
        inkml = QPushButton("Import InkML…", clicked=self.import_inkml_dialog)
        row = QHBoxLayout(box)
        row.addWidget(self.data_label, 1)
        row.addWidget(inkml)
        row.addWidget(edit)
        return box

    def _train_box(self) -> QGroupBox:
        box = QGroupBox("Fine-tune")
        self.preset = QComboBox()
        for key, label in PRESET_LABELS.items():
            self.preset.addItem(label, key)
        self.device = QComboBox()
        for key, label in DEVICE_LABELS.items():
            self.device.addItem(label, key)
        self.preset.currentIndexChanged.connect(self.update_estimate)
        self.device.currentIndexChanged.connect(self.update_estimate)
        self.estimate = QLabel()
        self.start_button = QPushButton("Fine-tune", clicked=self.start)
        self.pause_button = QPushButton("Pause", clicked=self.toggle_pause)
        self.cancel_button = QPushButton("Cancel", clicked=self.cancel)
        self.progress = QProgressBar()
        self.status = QLabel(wordWrap=True)
        form = QFormLayout()
        form.addRow("Preset", self.preset)
        form.addRow("Device", self.device)
        buttons = QHBoxLayout()
        buttons.addWidget(self.estimate, 1)
        for b in (self.start_button, self.pause_button, self.cancel_button):
            buttons.addWidget(b)
        self.train_layout = QVBoxLayout(box)
        self.train_layout.addLayout(form)
        self.train_layout.addLayout(buttons)
        self.train_layout.addWidget(self.progress)
        self.train_layout.addWidget(self.status)
        return box

    def _report_box(self) -> QGroupBox:
        box = QGroupBox("Before / after")
        self.report_label = QLabel(
            "Fine-tune to compare the model in use with one trained on your corrections.",
            wordWrap=True,
            textFormat=Qt.TextFormat.RichText,
        )
        self.use_button = QPushButton("Use this model", clicked=self.use_new_model)
        self.use_button.setEnabled(False)
        row = QHBoxLayout(box)
        row.addWidget(self.report_label, 1)
        row.addWidget(self.use_button, 0, Qt.AlignmentFlag.AlignBottom)
        return box

    def _ensure_plot(self) -> None:
        if self.plot is None:
            from gui.training_plot import TrainingPlot

            self.plot = TrainingPlot()
            self.train_layout.addWidget(self.plot, 1)

    # ---- state ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.runner.running

    def showEvent(self, event):
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        try:
            used = self.store.count_corrections(include_excluded=False)
            total = self.store.count_corrections(include_excluded=True)
        except Exception as exc:  # noqa: BLE001
            self.error.emit(exc)
            return
        self.n_corrections = used
        excluded = f" ({total - used} excluded)" if total > used else ""
        self.data_label.setText(f"{used} corrections will be used for fine-tuning{excluded}.")
        self.update_estimate()
        self.versions.refresh()

    def options(self) -> Options:
        return Options(preset=self.preset.currentData(), device=self.device.currentData())

    def update_estimate(self) -> None:
        n = getattr(self, "n_corrections", 0)
        if n < MIN_EXAMPLES:
            self.estimate.setText(f"Save at least {MIN_EXAMPLES} corrections to fine-tune.")
            self.start_button.setEnabled(False)
            return
        seconds = estimate_seconds(self.options(), n, _device_kind(self.device.currentData()))
        self.estimate.setText(f"Takes {minutes(seconds)}.")
        self.start_button.setEnabled(not self.running)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        self.preset.setEnabled(not running)
        self.device.setEnabled(not running)
        self.pause_button.setText("Pause")
        if not running:
            self.update_estimate()

    # ---- actions --------------------------------------------------------------------------------
    def start(self) -> bool:
        """Export the corrections and start a fine-tune in the background."""
        if self.running:
            return False
        from core import paths
        from training import model_store
        from training.finetune_job import Job

        try:
            folder = paths.cache_dir() / "finetune"
            folder.mkdir(parents=True, exist_ok=True)
            for stale in folder.glob("corrections-*.zip"):  # left by an app that was killed
                stale.unlink(missing_ok=True)
            name = model_store.new_version_name()
            self._dataset = folder / f"corrections-{name}.zip"
            self.store.export_corrections(self._dataset)
            job = Job(
                dataset=str(self._dataset),
                start_dir=str(model_store.model_dir("base")),
                current_dir=str(model_store.model_dir(self.current_model())),
                out_dir=str(paths.user_models_dir() / name),
                options=self.options(),
            )
            self.runner.start(job)
        except Exception as exc:  # noqa: BLE001 - OSError, ModelError: shown, nothing started
            self.error.emit(exc)
            return False
        self.report = None
        self.use_button.setEnabled(False)
        self.report_label.setText("Fine-tuning… the report appears here when it is done.")
        self._ensure_plot()
        self.plot.clear()
        self.progress.setRange(0, 0)
        self.status.setText("Starting…")
        self._set_running(True)
        return True

    def toggle_pause(self) -> None:
        paused = not self.runner.paused
        self.runner.set_paused(paused)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.status.setText("Paused." if paused else "Resuming…")

    def cancel(self) -> None:
        self.runner.cancel()
        self.status.setText("Cancelling…")
        self.cancel_button.setEnabled(False)

    def confirm_stop(self) -> bool:
        """Ask before quitting during a fine-tune; stops it when the user agrees."""
        if not self.running:
            return True
        if not self.confirm(
            self, "A fine-tune is running. Stop it and quit? The model in use stays as it is."
        ):
            return False
        self.runner.stop()
        self._cleanup()
        return True

    def use_new_model(self) -> None:
        if self.report is not None and self.report.recommended:
            if self.versions.choose(self.report.name):
                self.use_button.setEnabled(False)

    def import_inkml_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Import handwriting with its LaTeX", "", "InkML (*.inkml *.ink)"
        )
        if files:
            self.import_inkml([Path(f) for f in files])

    def import_inkml(self, files: list[Path]) -> int:
        """Add InkML files that carry a ground-truth annotation as corrections."""
        from training.user_data import read_examples

        added, warnings = 0, []
        for path in files:
            try:
                examples, bad = read_examples(path)
                warnings += bad
                for ex in examples:
                    self.store.add_correction(ex.image, ex.latex, source="import")
                    added += 1
            except Exception as exc:  # noqa: BLE001 - InvalidImage, DatasetError, OSError
                warnings.append(f"{path.name}: {exc}")
        skipped = f" ({len(warnings)} skipped: {warnings[0]})" if warnings else ""
        self.message.emit(f"Imported {added} handwritten corrections{skipped}.")
        self.refresh()
        return added

    # ---- runner signals ---------------------------------------------------------------------------
    def _on_progress(self, p: dict) -> None:
        phase = PHASES.get(p.get("phase"), "Working")
        if p.get("phase") == "train" and p.get("total"):
            self.progress.setRange(0, p["total"])
            self.progress.setValue(p["done"])
            self._ensure_plot()
            self.plot.add(p["done"], p.get("loss"), p.get("heldout"))
        else:
            self.progress.setRange(0, 0)
        parts = [p.get("message") or phase]
        if p.get("loss") is not None:
            parts.append(f"loss {p['loss']:.3f}")
        if p.get("eta") is not None:
            parts.append(f"{minutes(p['eta'])} left")
        if not self.runner.paused:
            self.status.setText(" · ".join(parts))

    def _on_finished(self, payload: dict) -> None:
        self._cleanup()
        self.report = Report.from_dict(payload)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.status.setText(f"Done in {minutes(self.report.seconds)}.")
        self.report_label.setText(report_html(self.report))
        self.use_button.setEnabled(self.report.recommended)
        self.versions.refresh()
        self.message.emit("Fine-tuning finished: see the before/after report.")

    def _on_cancelled(self, text: str) -> None:
        self._cleanup()
        self.status.setText(text)
        self.report_label.setText("Cancelled: no new model was saved.")
        self.message.emit(text)

    def _on_failed(self, text: str) -> None:
        self._cleanup()
        self.status.setText(text)
        self.report_label.setText("The fine-tune did not finish; the model in use is unchanged.")
        self.message.emit(text)

    def _cleanup(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self._set_running(False)
        if self._dataset is not None:
            self._dataset.unlink(missing_ok=True)
            self._dataset = None


def report_html(report: Report) -> str:
    rows = "".join(
        f"<tr><td>{what}</td><td align=right>{b:.1%}</td><td align=right><b>{a:.1%}</b></td></tr>"
        for what, b, a in report.rows()
    )
    verdict = ("Recommended: " if report.recommended else "Not recommended: ") + report.reason
    skipped = (
        f"<br>{len(report.warnings)} correction(s) were skipped, e.g. "
        + _escape(report.warnings[0])
        if report.warnings
        else ""
    )
    return (
        "<table cellspacing=6><tr><th align=left>Exact match</th><th>Model in use</th>"
        f"<th>Fine-tuned</th></tr>{rows}</table>"
        f"<p>{_escape(verdict)}<br>Saved as {report.name}; trained on {report.train_samples} "
        f"corrections + {report.replay_samples} printed samples.{skipped}</p>"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _device_kind(choice: str) -> str:
    """The device an "auto" run would get, judged without importing torch on this thread."""
    if choice != "auto":
        return choice
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return "cuda"
    return "cpu"

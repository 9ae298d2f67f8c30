"""Runs a fine-tune job in a child process and turns its messages into Qt signals.

The child (``training.finetune_job.ChildRun``) is polled by a timer on the GUI thread, so
every signal arrives in the GUI thread and no Qt object is shared with another thread. A
crash of the child arrives as ``failed``; the app keeps running.
"""

from __future__ import annotations

from collections.abc import Callable

from gui.qt import QObject, QTimer, Signal

POLL_MS = 150


class TrainingRunner(QObject):
    progress = Signal(dict)  # training.finetune_plan.Progress as a dict
    finished = Signal(dict)  # Report as a dict
    cancelled = Signal(str)
    failed = Signal(str)

    def __init__(self, run_factory: Callable | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._factory = run_factory
        self._run = None
        self.paused = False
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def running(self) -> bool:
        return self._run is not None

    def start(self, job) -> None:
        if self._run is not None:
            raise RuntimeError("a fine-tune is already running")
        factory = self._factory
        if factory is None:
            from training.finetune_job import ChildRun

            factory = ChildRun
        self._run = factory(job)
        self.paused = False
        self._timer.start()

    def set_paused(self, paused: bool) -> None:
        if self._run is not None:
            self.paused = paused
            self._run.set_paused(paused)

    def cancel(self) -> None:
        if self._run is not None:
            self._run.cancel()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel and wait (ending the process if it does not stop): for quitting the app."""
        run, self._run = self._run, None
        self._timer.stop()
        if run is not None:
            run.kill(timeout)

    def _poll(self) -> None:
        run = self._run
        if run is None:
            return
        for kind, payload in run.messages():
            if kind == "progress":
                self.progress.emit(payload)
                continue
            self._run = None
            self._timer.stop()
            {"done": self.finished, "cancelled": self.cancelled}.get(kind, self.failed).emit(
                payload
            )
            return

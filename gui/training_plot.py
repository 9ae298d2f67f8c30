"""Live plot of a fine-tune: training loss per step and held-out exact match at eval points.

matplotlib is imported when the first plot is made (it is slow to import), never at start-up.
"""

from __future__ import annotations

from gui.qt import QVBoxLayout, QWidget


class TrainingPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(5, 2.2))
        self.figure.subplots_adjust(left=0.1, right=0.88, bottom=0.2, top=0.95)
        self.canvas = FigureCanvasQTAgg(self.figure)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.loss_ax = self.figure.add_subplot(111)
        self.acc_ax = self.loss_ax.twinx()
        self.clear()

    def clear(self) -> None:
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.eval_steps: list[int] = []
        self.accuracy: list[float] = []
        self._draw()

    def add(self, step: int, loss: float | None, heldout: float | None) -> None:
        if loss is not None:
            self.steps.append(step)
            self.losses.append(loss)
        if heldout is not None:
            self.eval_steps.append(step)
            self.accuracy.append(100 * heldout)
        self._draw()

    def _draw(self) -> None:
        ax, acc = self.loss_ax, self.acc_ax
        ax.clear()
        acc.clear()
        ax.plot(self.steps, self.losses, color="tab:blue", linewidth=1)
        acc.plot(self.eval_steps, self.accuracy, "o-", color="tab:orange", markersize=4)
        ax.set_xlabel("step")
        ax.set_ylabel("training loss", color="tab:blue")
        acc.yaxis.tick_right()  # clear() puts the twin axis back on the left
        acc.yaxis.set_label_position("right")
        acc.set_ylabel("held-out exact match %", color="tab:orange")
        acc.set_ylim(0, 100)
        self.canvas.draw_idle()

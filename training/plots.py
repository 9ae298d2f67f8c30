"""Learning-curve plots from a run's metrics.csv / eval.csv (written by the Trainer).

Plain matplotlib with the Agg backend, so it works headless and in the packaged app.
"""

from __future__ import annotations

import csv
from pathlib import Path


def read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        rows = []
        for row in csv.DictReader(f):
            # values beyond the header (files written before trainer.append_csv) have no name
            named = {k: v for k, v in row.items() if k is not None and isinstance(v, str)}
            try:
                rows.append({k: float(v) for k, v in named.items() if v})
            except ValueError:  # a half-written last line after a crash
                continue
        return rows


def smooth(values: list[float], k: int = 10) -> list[float]:
    out, acc = [], []
    for v in values:
        acc.append(v)
        if len(acc) > k:
            acc.pop(0)
        out.append(sum(acc) / len(acc))
    return out


def plot_run(run: str | Path) -> list[Path]:
    """Write loss.png and eval.png into ``run``; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = Path(run)
    written = []
    train = read_csv(run / "metrics.csv")
    if train:
        fig, ax = plt.subplots(figsize=(7, 4))
        steps = [r["step"] for r in train]
        loss = [r["loss"] for r in train]
        ax.plot(steps, loss, alpha=0.3, color="tab:blue")
        ax.plot(steps, smooth(loss), color="tab:blue", label="training loss (smoothed)")
        ax.set_xlabel("step")
        ax.set_ylabel("cross-entropy (label-smoothed)")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(run / "loss.png", dpi=110)
        plt.close(fig)
        written.append(run / "loss.png")
    evals = read_csv(run / "eval.csv")
    if evals:
        fig, ax = plt.subplots(figsize=(7, 4))
        steps = [r["step"] for r in evals]
        for key in sorted(evals[-1]):
            if key.endswith(("_exact_match", "_bleu4")):
                ax.plot(steps, [r.get(key, float("nan")) for r in evals], marker="o", label=key)
        ax.set_xlabel("step")
        ax.set_ylabel("dev score")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(run / "eval.png", dpi=110)
        plt.close(fig)
        written.append(run / "eval.png")
    return written

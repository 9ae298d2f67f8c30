"""Fit a model's confidence to how often it is right, on dev slices, and store it in the model.

    PYTHONPATH=. python -m training.calibrate MODEL --shards DIR [--limit 500] [--write]

A reading's confidence is ``exp(scale * log-probability)`` of the whole formula
(``Recognizer.confidence``). With ``scale`` 1 it is the product of the token probabilities, and
label smoothing in training caps each of those near 0.9: a correct 13-token formula then shows
about 40 %, and the app asks the user to check answers that are right. This finds the scale
that makes the confidences honest, the one with the lowest log loss of "exactly right" on
held-out dev slices (never a test set), and writes it into MODEL's config.json with what it
was fitted on (``--write``); the weights do not change. It prints the expected calibration
error (ECE: the mean gap between confidence and accuracy over confidence bins) before and
after, per slice.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from core.checkpoint import load_model, update_config
from core.errors import TeXSnapError
from core.evaluate import calibration
from core.recognizer import calibrated as confidence

SCALES = [round(0.02 * k, 2) for k in range(1, 101)]  # 0.02 .. 2.0
FLOOR = 1e-6  # log loss of a certain mistake is large, not infinite


def log_loss(readings: list[tuple[float, bool, bool]], scale: float) -> float:
    """Mean log loss of (logprob, finished, right) readings at ``scale``."""
    total = 0.0
    for logprob, finished, right in readings:
        p = min(max(confidence(logprob, finished, scale), FLOOR), 1 - FLOOR)
        total -= math.log(p if right else 1 - p)
    return total / max(len(readings), 1)


def fit_scale(readings: list[tuple[float, bool, bool]]) -> float:
    """The scale of ``SCALES`` with the lowest log loss (a grid: one parameter, and the loss
    is flat near its minimum, so two decimals are plenty)."""
    if not any(finished for _, finished, _ in readings):
        raise TeXSnapError("No finished readings to fit the confidence on.")
    return min(SCALES, key=lambda s: log_loss(readings, s))


def ece(readings: list[tuple[float, bool, bool]], scale: float) -> float:
    return calibration([(confidence(lp, f, scale), r) for lp, f, r in readings])[1]


def read_dev(model_dir: Path, shards: Path, limit: int, heard) -> None:
    """Greedy readings of the first ``limit`` dev samples of each source in ``shards``:
    ``heard(loaded, source, right, hypothesis)`` for each (``loaded``: the model, its
    vocabulary and calibration)."""
    import torch

    from training.batches import TrainData
    from training.data.shards import read_shards
    from training.trainer import evaluate_slices, shard_files

    loaded = load_model(model_dir, "cpu")
    files = shard_files(shards, "dev")
    if not files:
        raise TeXSnapError(f"No dev shards in {shards}: build them with texsnap data build.")
    dev = TrainData(read_shards(files), loaded.vocab, loaded.model.cfg.max_len)
    evaluate_slices(
        loaded.model,
        dev,
        limit,
        torch.device("cpu"),
        on_sample=lambda source, _i, right, hyp: heard(loaded, source, right, hyp),
    )


def read_slices(model_dir: Path, shards: Path, limit: int) -> dict[str, list]:
    """{source: [(logprob, finished, right)]} from greedy readings of the dev shards."""
    out: dict[str, list] = {}

    def heard(_loaded, source, right, hyp):
        out.setdefault(source, []).append((hyp.logprob, hyp.finished, bool(right)))

    read_dev(model_dir, shards, limit, heard)
    return out


def fit(model_dir: Path, shards: Path, limit: int = 500) -> dict:
    """Fit on every slice together; the result as it is stored in config.json."""
    by_source = read_slices(model_dir, shards, limit)
    readings = [r for rs in by_source.values() for r in rs]
    scale = fit_scale(readings)
    return {
        "scale": scale,
        "fitted_on": {source: len(rs) for source, rs in sorted(by_source.items())},
        "decoding": "greedy",
        "ece_before": {s: round(ece(rs, 1.0), 4) for s, rs in sorted(by_source.items())},
        "ece_after": {s: round(ece(rs, scale), 4) for s, rs in sorted(by_source.items())},
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path)
    p.add_argument("--shards", type=Path, required=True, help="a folder with the dev shards")
    p.add_argument("--limit", type=int, default=500, help="samples per slice")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--write", action="store_true", help="store the fit in MODEL's config.json")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    try:
        result = fit(args.model, args.shards, args.limit)
        if args.write:
            update_config(args.model, calibration=result)
    except (TeXSnapError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Turn a run's last checkpoint weights into a model folder.

    PYTHONPATH=. python -m training.export_weights CHECKPOINT_WEIGHTS MODEL_DIR OUT_DIR \
        [--eval-csv F] [--ema CHECKPOINT/optim.safetensors]

A run exports its best model on the dev slices (``model/``); a GPU lender returns a few files,
so ``training/train_gpu.sh`` also hands back the last weights (``checkpoint-model.safetensors``,
fp32, no config). This writes them as a model (fp16 + config.json) with the architecture,
vocabulary and preprocessing of MODEL_DIR, the run's exported model, so a next run can start
from them (``init_model``). With ``--eval-csv`` the dev metrics of the last evaluation go
into the config. With ``--ema`` the run's average of the weights (kept beside the optimizer
state when the run used ``ema``) replaces the last weights, as the run's own exports do.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file

from core.checkpoint import read_config, save_model
from core.errors import ModelError
from core.model import Im2Latex, ModelConfig
from core.preprocess import PreprocessConfig
from core.vocab import Vocab


def export_weights(
    weights: Path,
    model_dir: Path,
    out: Path,
    eval_csv: Path | None = None,
    ema: Path | None = None,
) -> Path:
    metrics = _last_eval(eval_csv) if eval_csv else None
    # the weights' own step where the checkpoint records it: a run often trains on after its
    # last dev evaluation (run (20): last evaluated at step 3,000, stopped at 3,687)
    step = _checkpoint_step(weights)
    if step is None and metrics:
        step = metrics["step"]
    training = {"steps": step} if step is not None else None
    state = read_weights(weights)
    if ema is not None:
        state = {**state, **read_ema(ema)}
    return export_state(state, model_dir, out, str(weights), metrics, training)


def export_state(
    state: dict,
    model_dir: Path,
    out: Path,
    source: str,
    metrics: dict | None = None,
    training: dict | None = None,
) -> Path:
    """Write ``state`` (tensors by name, fp32 or fp16, tied head stored once or not) as a model
    with MODEL_DIR's architecture, vocabulary and preprocessing. ``metrics`` replaces MODEL_DIR's
    (None keeps them); ``training`` is merged into its training record. ``source`` names the
    weights in errors."""
    config = read_config(model_dir)
    model = Im2Latex(ModelConfig.from_dict(config["architecture"]))
    state = {**state, "head.weight": state.get("embed.weight")}  # tied (see checkpoints.py)
    try:
        model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    except (RuntimeError, AttributeError) as exc:
        raise ModelError(
            f"The weights {source} do not fit the model at {model_dir} ({exc})."
        ) from None
    meta = {
        "name": config.get("name", "base"),
        "metrics": dict(config.get("metrics", {})) if metrics is None else metrics,
        "training": {**config.get("training", {}), **(training or {})},
    }
    preprocess = PreprocessConfig.from_dict(config.get("preprocess", {}))
    return save_model(out, model.eval(), Vocab(list(config["vocabulary"])), preprocess, meta=meta)


def read_weights(path: Path) -> dict:
    try:
        return load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise ModelError(f"Cannot read the weights {path} ({exc}).") from None


def read_ema(path: Path) -> dict:
    """The ``ema.*`` tensors of a checkpoint's optim.safetensors, by parameter name."""
    averaged = {k[4:]: v for k, v in read_weights(path).items() if k.startswith("ema.")}
    if not averaged:
        raise ModelError(f"{path} holds no average of the weights (the run did not use ema).")
    return averaged


def _checkpoint_step(weights: Path) -> int | None:
    """The step in the state.json beside checkpoint weights, or None (a GPU lender hands back
    the weights alone)."""
    try:
        step = json.loads((Path(weights).parent / "state.json").read_text(encoding="utf-8"))["step"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return step if isinstance(step, int) and step >= 0 else None


def _last_eval(path: Path) -> dict:
    """{"dev": {source: {metric: value}}, "step": N} from the last row of a run's eval.csv."""
    with Path(path).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ModelError(f"{path} holds no evaluation.")
    last = rows[-1]
    dev: dict = {}
    for key, value in last.items():
        if key != "step":
            source, metric = key.split("_", 1)
            dev.setdefault(source, {})[metric] = float(value)
    return {"dev": dev, "step": int(last["step"])}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", type=Path)
    p.add_argument("model_dir", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--eval-csv", type=Path)
    p.add_argument("--ema", type=Path, help="the checkpoint's optim.safetensors")
    args = p.parse_args(argv)
    try:
        print(export_weights(args.weights, args.model_dir, args.out, args.eval_csv, args.ema))
    except ModelError as exc:
        print(f"export_weights: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

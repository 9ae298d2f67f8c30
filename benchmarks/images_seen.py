"""How many training images a ``texsnap train`` run has drawn: its steps replayed on its plans.

    PYTHONPATH=. .venv/bin/python benchmarks/images_seen.py RUN_DIR [--steps N]

A step is one batch (times ``accumulate``), and batches hold as many images as fit in
``batch_pixels`` (at most ``max_batch``), so a step count alone does not say how many images a
run trained on, and the model card counts images. This rebuilds the run's batch plans epoch by
epoch, from the config in its checkpoint (seed, shards, CROHME share, shape buckets) and its
vocabulary, and adds up the sizes of the first N batches (default: the checkpoint's step).

It reads the run's shard folder as it is now. For a run whose shards grew while it trained
(``grow_shards`` beside a build) the count is an estimate: the plans it replays hold every
shard from the first epoch on. It counts one process's batches: a ``torchrun`` run of W
processes drew W times as many. Settings an older checkpoint lacks take today's defaults.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.vocab import Vocab  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.data.shards import read_shards  # noqa: E402
from training.trainer import shard_files, training_data  # noqa: E402


def images_seen(run: Path, steps: int | None = None) -> dict:
    """``{"steps", "batches", "images", "epochs"}`` of ``run``'s first ``steps`` steps."""
    try:
        state = json.loads((run / "checkpoint" / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{run} holds no readable training checkpoint: {exc}") from None
    known = {f.name for f in fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in state["config"].items() if k in known})
    steps = state["step"] if steps is None else steps
    vocab = Vocab(json.loads((run / "vocab.json").read_text(encoding="utf-8")))
    files = shard_files(Path(cfg.shards), "train")
    if not files:
        raise SystemExit(f"no training shards in {cfg.shards}")
    max_len = cfg.model_config(len(vocab)).max_len
    data = training_data(read_shards(files), vocab, max_len, cfg)
    left = batches = steps * cfg.accumulate
    images, epoch = 0, 0
    while left > 0:
        plan = data.epoch_plan(cfg.seed, epoch, cfg.batch_pixels, cfg.max_batch)
        if not plan:
            raise SystemExit(f"no sample of {cfg.shards} fits the run's vocabulary")
        used = plan[:left]
        images += sum(len(b) for b in used)
        left -= len(used)
        epoch += 1
    return {"steps": steps, "batches": batches, "images": images, "epochs": epoch}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path, help="the run's out folder (with checkpoint/)")
    p.add_argument("--steps", type=int, help="default: the checkpoint's step")
    args = p.parse_args(argv)
    r = images_seen(args.run, args.steps)
    print(
        f"{r['images']:,} images in {r['steps']:,} steps ({r['batches']:,} batches, "
        f"{r['images'] / max(r['batches'], 1):.1f} a batch) over {r['epochs']} epoch plan(s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

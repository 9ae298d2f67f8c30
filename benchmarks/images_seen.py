"""How many training images a ``texsnap train`` run has drawn: its steps replayed on its plans.

    PYTHONPATH=. .venv/bin/python benchmarks/images_seen.py RUN_DIR [--steps N] [--world W]

A step is one batch (times ``accumulate``), and batches hold as many images as fit in
``batch_pixels`` (at most ``max_batch``), so a step count alone does not say how many images a
run trained on, and the model card counts images. This rebuilds the run's batch plans epoch by
epoch, from the config in its checkpoint (seed, shards, CROHME share, shape buckets) and its
vocabulary, and adds up the sizes of the first N batches (default: the checkpoint's step).

It reads the run's shard folder as it is now. For a run whose shards grew while it trained
(``grow_shards`` beside a build) the count is an estimate: the plans it replays hold every
shard from the first epoch on. A ``torchrun`` run of W processes is counted over all of them:
each step takes one batch from every process (``training.trainer.split_plan``: an epoch's plan
dealt out in turn, its last batches dropped when they do not go round). W is read from the
run's exported model (``training.world_size``) unless ``--world`` says it; an older run that
exported no model counts as one process. Settings an older checkpoint lacks take today's
defaults.
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
from training.trainer import shard_files, split_plan, training_data  # noqa: E402


def run_world(run: Path) -> int:
    """How many processes trained ``run``, as its exported model records (1 if it has none)."""
    try:
        meta = json.loads((run / "model" / "config.json").read_text(encoding="utf-8"))
        return max(1, int(meta["training"]["world_size"]))
    except (OSError, ValueError, KeyError, TypeError):
        return 1


def images_seen(run: Path, steps: int | None = None, world: int | None = None) -> dict:
    """``{"steps", "batches", "images", "epochs", "world"}`` of ``run``'s first ``steps`` steps,
    over its ``world`` processes."""
    try:
        state = json.loads((run / "checkpoint" / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{run} holds no readable training checkpoint: {exc}") from None
    known = {f.name for f in fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in state["config"].items() if k in known})
    steps = state["step"] if steps is None else steps
    world = run_world(run) if world is None else world
    vocab = Vocab(json.loads((run / "vocab.json").read_text(encoding="utf-8")))
    files = shard_files(Path(cfg.shards), "train")
    if not files:
        raise SystemExit(f"no training shards in {cfg.shards}")
    max_len = cfg.model_config(len(vocab)).max_len
    data = training_data(read_shards(files), vocab, max_len, cfg)
    left = steps * cfg.accumulate  # batches of each process
    images, epoch = 0, 0
    while left > 0:
        plan = data.epoch_plan(cfg.seed, epoch, cfg.batch_pixels, cfg.max_batch)
        if not plan:
            raise SystemExit(f"no sample of {cfg.shards} fits the run's vocabulary")
        shares = [split_plan(plan, rank, world)[:left] for rank in range(world)]
        images += sum(len(b) for share in shares for b in share)
        left -= len(shares[0])
        epoch += 1
    batches = steps * cfg.accumulate * world
    return {"steps": steps, "batches": batches, "images": images, "epochs": epoch, "world": world}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path, help="the run's out folder (with checkpoint/)")
    p.add_argument("--steps", type=int, help="default: the checkpoint's step")
    p.add_argument("--world", type=int, help="processes (default: as the run's model records)")
    args = p.parse_args(argv)
    if args.world is not None and args.world < 1:
        p.error("--world must be at least 1")
    r = images_seen(args.run, args.steps, args.world)
    procs = f", {r['world']} processes" if r["world"] > 1 else ""
    print(
        f"{r['images']:,} images in {r['steps']:,} steps ({r['batches']:,} batches{procs}, "
        f"{r['images'] / max(r['batches'], 1):.1f} a batch) over {r['epochs']} epoch plan(s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

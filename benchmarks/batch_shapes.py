"""How many distinct batch shapes an epoch has, and how much padding, for several shape buckets.

    PYTHONPATH=. .venv/bin/python benchmarks/batch_shapes.py [--shards data/shards]
    ... --low-res 0.15 [--batches 60]   (collate batches as the trainer does: planned vs real size)

A GPU pays for every new input shape (cuDNN plans each convolution anew), a CPU for every
padded pixel; ``shape_bucket`` in the training config trades between them. Uses the GPU run's
batch budget (2 M pixels, at most 192 images) unless told otherwise. With ``--low-res`` it
collates the first batches of an epoch with training's augmentation, with that share of printed
and LaTeX-typeset samples seen at low zoom and without, and prints how large the collated
batches came out against the planned ones: the GPU pays for the collated size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.checkpoint import read_config
from core.vocab import Vocab
from training.batches import TrainData
from training.data.shards import read_shards
from training.trainer import shard_files


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shards", default="data/shards")
    p.add_argument("--buckets", default="0,32,64")
    p.add_argument("--batch-pixels", type=int, default=2_000_000)
    p.add_argument("--max-batch", type=int, default=192)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--low-res", type=float, default=None)
    p.add_argument("--batches", type=int, default=60)
    args = p.parse_args()
    vocab = Vocab(read_config("resources/models/base")["vocabulary"])
    shard = read_shards(shard_files(Path(args.shards), "train"))
    print(f"{len(shard)} samples in {args.shards}")
    if args.low_res is not None:
        return collated_sizes(shard, vocab, args)
    for bucket in (int(b) for b in args.buckets.split(",")):
        data = TrainData(shard, vocab, 256, 2.0, bucket)
        seen: set = set()
        for epoch in range(args.epochs):
            plan = data.epoch_plan(0, epoch, args.batch_pixels, args.max_batch)
            shapes, padded, real = set(), 0, 0
            for batch in plan:
                h, w = data.batch_shape(batch)
                shapes.add((len(batch), h, w))
                padded += len(batch) * h * w
                real += sum(int(shard.shapes[i][0]) * int(shard.shapes[i][1]) for i in batch)
            new = len(shapes - seen)
            seen |= shapes
            print(
                f"bucket {bucket:3d} epoch {epoch}: {len(plan)} batches, {len(shapes)} shapes "
                f"({new} new), padded pixels {padded / real:.2f}x the real ones, "
                f"{sum(map(len, plan)) / len(plan):.0f} images a batch"
            )


def collated_sizes(shard, vocab: Vocab, args) -> None:
    data = TrainData(shard, vocab, 256, 2.0, 32)
    plan = data.epoch_plan(0, 0, args.batch_pixels, args.max_batch)[: args.batches]
    planned = sum(len(b) * h * w for b in plan for h, w in [data.batch_shape(b)])
    for share in (0.0, args.low_res):
        data.low_res = {"printed": share, "latex": share} if share else {}
        real = 0
        for k, batch in enumerate(plan):
            images = data.collate(batch, f"bench/{k}", 0, 1, 2)[0]
            real += images.numel()
        print(
            f"low_res {share:.2f}: {len(plan)} batches collated to {real / planned:.2f}x the planned pixels"
        )


if __name__ == "__main__":
    main()

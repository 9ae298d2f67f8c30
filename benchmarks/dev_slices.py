"""Greedy exact match / BLEU-4 of a model on the dev shards (the slices training evaluates on).

    PYTHONPATH=. .venv/bin/python benchmarks/dev_slices.py [--model DIR] [--shards data/shards]
        [--limit 500]

For comparing models on data held out from training (the CROHME dev formulas, the corpora's
dev split), e.g. the bundled model against a new run's export, without touching the test sets.

Each source also gets ``formula_balanced``: the mean over its distinct formulas of the share of
that formula's images read exactly. The CROHME dev slice holds 138 formulas in 320 images, 8 of
them written 12-31 times each (half the images), so its plain exact match mostly says whether a
model reads those few formulas; the balanced one weighs every formula once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from core.checkpoint import load_model
from training.batches import TrainData
from training.data.shards import read_shards
from training.trainer import evaluate_slices, shard_files


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="resources/models/base")
    p.add_argument("--shards", default="data/shards")
    p.add_argument("--limit", type=int, default=500, help="samples per source")
    args = p.parse_args()
    torch.set_num_threads(2)
    loaded = load_model(args.model)
    dev = TrainData(
        read_shards(shard_files(Path(args.shards), "dev")), loaded.vocab, loaded.model.cfg.max_len
    )
    read: dict[str, dict[str, list[bool]]] = {}  # source -> formula -> exact per image

    def heard(source, i, exact, _hypothesis):
        read.setdefault(source, {}).setdefault(dev.shard.labels[i], []).append(exact)

    results = evaluate_slices(loaded.model, dev, args.limit, torch.device("cpu"), on_sample=heard)
    for source, scores in results.items():
        scores["formula_balanced"] = formula_balanced(read[source])
        scores["formulas"] = len(read[source])
        print(source, json.dumps({k: round(v, 4) for k, v in scores.items()}))


def formula_balanced(by_formula: dict[str, list[bool]]) -> float:
    """Mean over formulas of the share of their images read exactly."""
    return sum(sum(v) / len(v) for v in by_formula.values()) / max(len(by_formula), 1)


if __name__ == "__main__":
    main()

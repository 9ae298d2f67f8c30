"""How many CROHME dev and test formulas also occur in the training part: why the CROHME dev
set is held out by formula (training/data/build.py, ``crohme_split``).

    PYTHONPATH=. .venv/bin/python benchmarks/crohme_overlap.py [--data ../shared/data]

Reads only labels (canonicalized as the shards store them), no images.
"""

from __future__ import annotations

import argparse

from core.dataset import Dataset
from core.latex import canonicalize
from training.data.build import crohme_split
from training.data.sources import shared_data_root


def overlap(pairs: list[tuple[str, str]], split) -> str:
    train = {label for key, label in pairs if split(key, label) == "train"}
    dev = [label for key, label in pairs if split(key, label) == "dev"]
    share = sum(label in train for label in dev) / max(len(dev), 1)
    return f"{len(dev)} dev images, {share:.1%} of them with a formula in training"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="default: ../shared/data")
    root = shared_data_root(p.parse_args().data) / "crohme"
    pairs = [(s.path, canonicalize(s.latex)) for s in Dataset(root / "train.zip")]
    # the earlier split was the same hash of the image path: a formula's writers on both sides
    print("split by image:  ", overlap(pairs, lambda path, _: crohme_split(path)))
    print("split by formula:", overlap(pairs, lambda _, label: crohme_split(label)))
    train = {label for _, label in pairs}
    for name in ("test2013", "test2016"):
        labels = [canonicalize(s.latex) for s in Dataset(root / f"{name}.zip")]
        share = sum(label in train for label in labels) / len(labels)
        print(f"{name}: {len(labels)} images, {share:.1%} with a formula in CROHME train")


if __name__ == "__main__":
    main()

"""Stroke width relative to glyph height: real CROHME ink against synthetic handwriting.

    PYTHONPATH=. .venv/bin/python benchmarks/stroke_width.py [--data ../shared/data] [-n 40]

Stroke width = ink pixels / centre-line pixels, glyph height the preprocessor's estimate
(``stroke_ratio`` in training/data/handwriting.py).
Synthetic handwriting (training/data/handwriting.py) draws the same formulas as the CROHME
sample and should look like the real thing, not like the font it starts from.
"""

from __future__ import annotations

import argparse
import random

import numpy as np

from core.dataset import Dataset
from core.errors import RenderError
from core.imageio import load_image
from core.latex import canonicalize
from core.render import render_image
from training.data.handwriting import HAND_FONTSETS, handwritten_image, stroke_ratio
from training.data.sources import shared_data_root


def summary(name: str, ratios: list) -> None:
    r = np.array([x for x in ratios if x])
    print(f"{name}: stroke width / glyph height median {np.median(r):.3f} "
          f"(p10 {np.percentile(r, 10):.3f}, p90 {np.percentile(r, 90):.3f}), {r.size} images")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="default: ../shared/data")
    p.add_argument("-n", type=int, default=40)
    args = p.parse_args()
    ds = Dataset(shared_data_root(args.data) / "crohme" / "train.zip")
    samples = list(ds)[:: max(1, len(ds) // args.n)][: args.n]
    summary("CROHME train", [stroke_ratio(load_image(ds.read(s))) for s in samples])
    rng, font, synthetic = random.Random(0), [], []
    for latex in (canonicalize(s.latex) for s in samples):
        try:
            img = render_image(latex, fontset=HAND_FONTSETS[0], dpi=115, background="white")
            font.append(stroke_ratio(img))
            synthetic.append(stroke_ratio(handwritten_image(latex, rng)))
        except RenderError:  # a label mathtext cannot draw
            continue
    summary(f"{HAND_FONTSETS[0]} font", font)
    summary("synthetic handwriting", synthetic)


if __name__ == "__main__":
    main()

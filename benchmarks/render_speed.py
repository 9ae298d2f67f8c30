"""How fast training images are rendered, on one core: the figure path against the raster path.

    PYTHONPATH=. .venv/bin/python benchmarks/render_speed.py [--data ../shared/data] [-n 200]

A GPU trains on ~2,000 images/s (training/train_gpu.sh on an H200); its 12 rendering cores
made ~165/s, so rendering decides how much new data a GPU session sees. Times:
- the render step alone for the same corpus formulas: ``render_png`` after a parse check
  (what the builder did: parse, then savefig's tight box, which draws twice) against
  ``render_coverage`` (one parse, no figure);
- whole samples as the shard builder makes them (render, augment, preprocess), printed and
  synthetic handwritten, in images per second.
"""

from __future__ import annotations

import argparse
import random
import time

from matplotlib.mathtext import MathTextParser

from core.errors import RenderError
from core.preprocess import PreprocessConfig
from core.render import mathtext_source, render_coverage, render_png
from training.data.build import handwritten_sample, printed_sample
from training.data.sources import load_formulas, shared_data_root


def _figure_path(latex: str, dpi: float, checker: MathTextParser) -> None:
    checker.parse(f"${mathtext_source(latex)}$")  # the builder's former "does it parse" check
    render_png(latex, dpi=dpi)


def _timed(fn, items) -> float:
    """Median-free mean: the cost per item over the whole list, in ms."""
    start = time.perf_counter()
    for item in items:
        try:
            fn(item)
        except (RenderError, ValueError):
            pass
    return 1000 * (time.perf_counter() - start) / len(items)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="default: ../shared/data")
    p.add_argument("-n", type=int, default=200)
    args = p.parse_args()
    pool = load_formulas(shared_data_root(args.data), split="train")
    rng = random.Random(0)
    items = [(rng.choice(pool), rng.uniform(60, 200)) for _ in range(args.n)]
    items = [(f, d) for f, d in items if "\\begin" not in f]
    checker = MathTextParser("path")
    render_coverage("x")  # load fonts and parsers before timing
    render_png("x")
    old = _timed(lambda it: _figure_path(it[0], it[1], checker), items)
    new = _timed(lambda it: render_coverage(it[0], dpi=it[1]), items)
    print(f"render step, {len(items)} corpus formulas: figure path {old:.1f} ms, "
          f"raster path {new:.1f} ms ({old / new:.1f}x)")  # fmt: skip
    cfg = PreprocessConfig()
    for name, sampler in (("printed", printed_sample), ("handwritten", handwritten_sample)):
        srng = random.Random(1)
        ms = _timed(lambda _i, s=sampler, r=srng: s(pool, r, cfg), range(args.n))
        print(f"{name} samples: {ms:.1f} ms each, {1000 / ms:.1f} images/s on one core")


if __name__ == "__main__":
    main()

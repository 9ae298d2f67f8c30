"""How well the preprocessor's glyph-size estimate follows the zoom: the dev formulas typeset
by LaTeX at 300 dpi and at lower resolutions, the estimate at each divided by the 300-dpi one
and by the resolution ratio (1.0 = the estimate scales exactly with the zoom).

    PYTHONPATH=. .venv/bin/python benchmarks/glyph_size.py [-n 120] [--seed 0]

Compared: ``preprocess.glyph_height`` (median height of the components above 0.4 ink) and
``preprocess.ink_weighted_glyph_height``, which counts fainter ink (0.2) and weighs each
component by its ink, so the fragments of thin strokes that fade at low resolution count for
little. Input rescaled by an estimate that falls with the resolution ends up larger than a
crisp snip of the same formula. The model is trained on what the first estimate gives, so it
stays the one training uses; the recognizer also reads a snip with small glyphs at the second
(``preprocess.candidates``).
Needs LaTeX (``make texdeps``).
"""

from __future__ import annotations

import argparse
import random
import sys

import numpy as np

from core.preprocess import glyph_height, ink_map, ink_weighted_glyph_height
from training.data.build import LATEX_ENVS
from training.data.latex_render import typeset
from training.data.sources import load_formulas

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from low_resolution import on_paper  # noqa: E402

ESTIMATES = {"glyph_height": glyph_height, "ink-weighted": ink_weighted_glyph_height}


def _estimates(formulas: list[str], dpi: float) -> dict[str, list[float | None]]:
    """Each estimate of each formula typeset at ``dpi`` (None where TeX refused it)."""
    maps = [ink_map(on_paper(i)) if i is not None else None for i in typeset(formulas, dpi=dpi)]
    return {
        name: [estimate(m) if m is not None else None for m in maps]
        for name, estimate in ESTIMATES.items()
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=120)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dpi", type=float, nargs="+", default=[150, 100, 75, 60, 50])
    args = p.parse_args()
    pool = load_formulas(split="dev", environments=LATEX_ENVS)
    if not pool:
        print("no dev formulas: is ../shared/data/formulas there?", file=sys.stderr)
        return 1
    formulas = random.Random(args.seed).sample(pool, min(args.n, len(pool)))
    ref = _estimates(formulas, 300)
    for dpi in args.dpi:
        low = _estimates(formulas, dpi)
        for name in ESTIMATES:
            pairs = zip(ref[name], low[name], strict=True)
            ratios = [gb / ga / (dpi / 300) for ga, gb in pairs if ga and gb]
            q = np.percentile(ratios, [25, 50, 75])
            print(f"{dpi:4.0f} dpi {name:>13}: median {q[1]:.2f} (quartiles {q[0]:.2f}-{q[2]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

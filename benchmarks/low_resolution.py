"""How well a model reads printed formulas snipped at low zoom: the dev formulas typeset by
LaTeX (Computer Modern, inline) at a crisp and at low resolutions.

    PYTHONPATH=. .venv/bin/python benchmarks/low_resolution.py [--model DIR] [-n 200]
        [--dpi 120 80 60] [--seed 1] [--data ../shared/data]

At 120 dpi the glyphs measure about 9 px (``preprocess.glyph_height``), as im2latex-100k's do;
at 60 dpi about 3 px, as im2latex's at half scale (issue #3's robustness bar). The formulas are
the corpora's dev split (never trained on), so this is a dev measurement, free to use for
choices. Needs LaTeX (``make texdeps``).
"""

from __future__ import annotations

import argparse
import random
import sys

import numpy as np
from PIL import Image

from core.errors import TeXSnapError
from core.metrics import Scores
from core.model_select import open_recognizer
from training.data.build import LATEX_ENVS
from training.data.latex_render import typeset
from training.data.sources import load_formulas


def on_paper(coverage: np.ndarray) -> Image.Image:
    """Coverage (255 = ink) as black ink on white paper, as a snip of a PDF page."""
    return Image.fromarray((255 - coverage).astype(np.uint8)).convert("RGB")


def score_at(rec, formulas: list[str], dpi: float) -> tuple[Scores, int]:
    """Scores of the readings of ``formulas`` typeset at ``dpi``; and how many TeX refused."""
    inks = typeset(formulas, dpi=dpi, font="cm", display=False)
    pairs = [(on_paper(ink), f) for ink, f in zip(inks, formulas, strict=True) if ink is not None]
    scores = Scores()
    results = rec.recognize_batch([img for img, _ in pairs])
    for result, (_, label) in zip(results, pairs, strict=True):
        scores.add("" if isinstance(result, TeXSnapError) else result.latex, label)
    return scores, len(formulas) - len(pairs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    p.add_argument("-n", type=int, default=200, help="dev formulas to typeset")
    p.add_argument("--dpi", type=float, nargs="+", default=[120, 80, 60])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data", default=None, help="default: ../shared/data")
    args = p.parse_args()
    pool = load_formulas(args.data, split="dev", environments=LATEX_ENVS)
    if not pool:
        print("no dev formulas: is ../shared/data/formulas there?", file=sys.stderr)
        return 1
    formulas = random.Random(args.seed).sample(pool, min(args.n, len(pool)))
    rec, _ = open_recognizer(args.model, "cpu", beam=1)
    for dpi in args.dpi:
        scores, refused = score_at(rec, formulas, dpi)
        s = scores.summary()
        print(
            f"{dpi:5.0f} dpi: exact match {s['exact_match']:.1%}, BLEU-4 {s['bleu4']:.3f} "
            f"({s['n']} formulas, {refused} refused by TeX)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

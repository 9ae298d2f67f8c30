"""Would reading the extra glyph sizes only when the standard reading is unsure keep their gain?

    PYTHONPATH=. .venv/bin/python benchmarks/early_exit.py [--model DIR] [-n 150] [--seed 1]

The recognizer reads every snip at three glyph sizes in one batch and keeps the reading the
model is surest of (``Recognizer.surest``: the highest mean log-probability per token). An
early exit would read the standard size alone first and the others only when that reading's
fluency is below a threshold: one reading for the snips the model is sure of, two rounds for
the rest. This reads each candidate input on its own and replays both rules for several
thresholds: how many formulas each reads right, and the share of snips that would still need
the extra sizes.

Dev data only: the corpora's dev formulas typeset by LaTeX at 120 and 100 dpi (as
``benchmarks/low_resolution.py``; needs ``make texdeps``) and CROHME train.zip's dev split
(``training.data.build.crohme_split``), both free to use for choices.
"""

from __future__ import annotations

import argparse
import random
import sys

from low_resolution import on_paper

from core.dataset import Dataset
from core.errors import TeXSnapError
from core.latex import canonicalize
from core.metrics import eval_tokens
from core.model_select import open_recognizer
from core.recognizer import fluency
from training.data.build import LATEX_ENVS, crohme_split
from training.data.latex_render import typeset
from training.data.sources import load_formulas, shared_data_root

THRESHOLDS = (-0.05, -0.08, -0.09, -0.095, -0.10, -0.11, -0.12)


def readings(rec, image, label: str) -> list[tuple[float, bool]] | None:
    """(fluency, right) of each candidate input of ``image``, standard input first."""
    try:
        arrays = rec.candidates(image)
    except TeXSnapError:
        return None
    vocab, out = rec.loaded.vocab, []
    for array in arrays:
        (hyps,) = rec._decode([array], 1, 0)
        best = hyps[0]
        out.append((fluency(best), eval_tokens(vocab.decode(best.ids)) == eval_tokens(label)))
    return out


def surest(cands: list[tuple[float, bool]]) -> bool:
    """Whether the reading the recognizer keeps is right: the most fluent, the first on a tie
    (as ``core.recognizer.surest``)."""
    return max(cands, key=lambda c: c[0])[1]


def replay(rows: list[list[tuple[float, bool]]], threshold: float) -> tuple[int, float]:
    """(formulas read right, share of snips needing the extra sizes) with an early exit."""
    right = more = 0
    for cands in rows:
        if len(cands) == 1 or cands[0][0] >= threshold:
            right += cands[0][1]
        else:
            more += 1
            right += surest(cands)
    return right, more / max(1, len(rows))


def collect(rec, n: int, seed: int, data) -> dict[str, list]:
    sets: dict[str, list] = {}
    pool = load_formulas(data, split="dev", environments=LATEX_ENVS)
    formulas = random.Random(seed).sample(pool, min(n, len(pool)))
    for dpi in (120, 100):
        inks = typeset(formulas, dpi=dpi, font="cm", display=False)
        pairs = [
            (on_paper(i), canonicalize(f))
            for i, f in zip(inks, formulas, strict=True)
            if i is not None
        ]
        sets[f"LaTeX {dpi} dpi"] = [r for img, f in pairs if (r := readings(rec, img, f))]
    ds = Dataset(shared_data_root(data) / "crohme" / "train.zip")
    dev = [s for s in ds if (lab := canonicalize(s.latex)) and crohme_split(lab) == "dev"]
    chosen = random.Random(seed).sample(dev, min(n, len(dev)))
    sets["CROHME dev"] = [
        r for s in chosen if (r := readings(rec, ds.read(s), canonicalize(s.latex)))
    ]
    return sets


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    p.add_argument("-n", type=int, default=150, help="formulas per set")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data", default=None, help="default: ../shared/data")
    args = p.parse_args()
    rec, _ = open_recognizer(args.model, "cpu", beam=1)
    sets = collect(rec, args.n, args.seed, args.data)
    names, rows = list(sets), list(sets.values())

    def line(label: str, cells) -> None:
        print(f"| {label} | " + " | ".join(cells) + " |")

    line("rule", names)
    print("|---|" + "---:|" * len(names))
    line("standard size only", [f"{sum(c[0][1] for c in r)} of {len(r)}" for r in rows])
    line("every size (today)", [f"{sum(surest(c) for c in r)} of {len(r)}" for r in rows])
    for t in THRESHOLDS:
        cells = [replay(r, t) for r in rows]
        line(f"early exit below {t:g}", [f"{right}, {more:.0%} read more" for right, more in cells])
    return 0


if __name__ == "__main__":
    sys.exit(main())

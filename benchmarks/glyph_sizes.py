"""Which glyph sizes should the recognizer read a snip at? Dev data only.

    PYTHONPATH=. .venv/bin/python benchmarks/glyph_sizes.py [--model DIR] [--seed 3] [-n 150]
        [--dpi 100 150 200] [--sizes 16 20 14.5] [--crohme] [--subsets] [--joint]

Typesets ``n`` formulas of the corpora's dev split (never trained on) by LaTeX in Computer
Modern at each ``--dpi``, inline and displayed, and reads every image with its median glyph
(``preprocess.glyph_height``) rescaled to each of ``--sizes`` px (the first is the model's
standard, ``target_glyph``), all sizes of one image in one greedy batch, as the recognizer
does. ``--crohme`` adds the CROHME train images whose formulas fall in the CROHME dev split
(by hash, ``training.data.build.crohme_split``; real handwriting no run trains on).

For each group of images it prints how many are read exactly at each size alone, and by the
recognizer's rule, the surest reading (highest mean log-probability per token) over all sizes;
``--subsets`` also prints the surest over every subset of the sizes; ``--joint`` a joint greedy
decoding that averages the sizes' token log-probabilities at every step. The choice of
``PreprocessConfig.also_read_at`` (docs/model/selection-rules.md) was made with it. Needs LaTeX
(``make texdeps``) for the printed groups.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections import Counter, defaultdict

import torch
from low_resolution import on_paper  # benchmarks/ is on sys.path when run as a script

from core.dataset import Dataset
from core.decoding import _ruled_out, one_cpu_thread
from core.latex import canonicalize
from core.metrics import eval_tokens
from core.model_select import open_recognizer
from core.preprocess import _cropped_ink, _rescale_and_pad, glyph_height
from core.recognizer import _surest_index, batch_images
from training.data.build import LATEX_ENVS, crohme_split
from training.data.latex_render import typeset
from training.data.sources import load_formulas, shared_data_root


def printed(args):
    """(group, image, label) of the dev formulas typeset at each resolution."""
    pool = load_formulas(args.data, split="dev", environments=LATEX_ENVS)
    formulas = random.Random(args.seed).sample(pool, min(args.n, len(pool)))
    for dpi in args.dpi:
        for display in (False, True):
            inks = typeset(formulas, dpi=dpi, font="cm", display=[display] * len(formulas))
            for ink, label in zip(inks, formulas, strict=True):
                if ink is not None:
                    yield f"printed {dpi:g} dpi", on_paper(ink), label


def crohme_dev(args):
    ds = Dataset(shared_data_root(args.data) / "crohme" / "train.zip")
    for sample in ds:
        try:
            label = canonicalize(sample.latex)
        except Exception:  # noqa: BLE001 - a label the canonical form rejects is skipped
            continue
        if label and crohme_split(label) == "dev":
            yield "CROHME dev", ds.read(sample), label


@torch.inference_mode()
def joint_greedy(rec, arrays) -> list[int]:
    """One greedy reading of all ``arrays`` together: the mean of their log-probabilities
    picks each token."""
    model = rec.loaded.model
    images, sizes = batch_images(arrays, rec.device)
    _, mask, cross = model.encode(images, sizes)
    state = model.start_decoding(cross, mask, len(arrays))
    ruled_out = _ruled_out(model, images.device)
    tok = torch.full((len(arrays),), model.cfg.bos_id, dtype=torch.long)
    ids = []
    with one_cpu_thread(images.device):
        for _ in range(model.cfg.max_len - 1):
            logp = (state.step(tok).float() + ruled_out).log_softmax(-1)
            nxt = int(logp.mean(0).argmax())
            if nxt == model.cfg.eos_id:
                break
            ids.append(nxt)
            tok = torch.full((len(arrays),), nxt, dtype=torch.long)
    return ids


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    p.add_argument("--seed", type=int, default=3, help="which dev formulas")
    p.add_argument("-n", type=int, default=150, help="dev formulas to typeset")
    p.add_argument("--dpi", type=float, nargs="+", default=[100, 150, 200])
    p.add_argument("--sizes", type=float, nargs="+", default=[16.0, 20.0, 14.5])
    p.add_argument("--crohme", action="store_true", help="add the CROHME dev formulas' images")
    p.add_argument("--subsets", action="store_true", help="surest over every subset of sizes")
    p.add_argument("--joint", action="store_true", help="joint greedy over all sizes")
    p.add_argument("--data", default=None, help="default: ../shared/data")
    args = p.parse_args()
    rec, _ = open_recognizer(args.model, "cpu", beam=1)
    cfg, vocab = rec.loaded.preprocess, rec.loaded.vocab
    sets = [(i,) for i in range(len(args.sizes))] + [tuple(range(len(args.sizes)))]
    if args.subsets:
        n = len(args.sizes)
        sets = [s for r in range(1, n + 1) for s in itertools.combinations(range(n), r)]
    right: dict[str, Counter] = defaultdict(Counter)
    sources = itertools.chain(printed(args), crohme_dev(args) if args.crohme else ())
    for group, image, label in sources:
        ink = _cropped_ink(image, cfg)
        glyph = glyph_height(ink)
        arrays = [_rescale_and_pad(ink, cfg, glyph, size) for size in args.sizes]
        readings = rec._decode(arrays, 1, 0)
        ok = [eval_tokens(vocab.decode(r[0].ids)) == eval_tokens(label) for r in readings]
        right[group]["images"] += 1
        for s in sets:  # the recognizer's pick among the sizes of s
            right[group][s] += ok[s[_surest_index([readings[i] for i in s])]]
        if args.joint:
            ids = joint_greedy(rec, arrays)
            right[group]["joint"] += eval_tokens(vocab.decode(ids)) == eval_tokens(label)
    total = Counter()
    for counts in right.values():
        total.update(counts)
    for group, counts in [*sorted(right.items()), ("all", total)]:
        print(f"{group}: {counts['images']} images, read exactly:")
        for s in sets:
            what = " + ".join(f"{args.sizes[i]:g}" for i in s)
            kind = "alone" if len(s) == 1 else "surest of"
            print(f"  {kind} {what} px: {counts[s]}")
        if args.joint:
            print(f"  joint greedy over all sizes: {counts['joint']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build the training shards: printed formulas rendered by mathtext or typeset by real LaTeX
where it is installed (training/data/latex_render.py), CROHME handwriting, and synthetic
handwriting (training/data/handwriting.py).

Every shard is a pure function of (kind, seed, shard index), so a build is reproducible and an
interrupted build resumes by skipping the shards already on disk. Workers render in parallel.

Never reads the evaluation sets (im2latex100k/val.zip, crohme/test*.zip).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import random
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from core.dataset import Dataset
from core.errors import TeXSnapError
from core.latex import canonicalize, tokenize
from core.preprocess import PreprocessConfig, preprocess
from core.render import FONTSETS, render_coverage
from training.data.augment import screenshot_like
from training.data.display_math import display_fractions
from training.data.handwriting import handwritten_image
from training.data.latex_render import available_fonts, require_latex, typeset
from training.data.shards import write_shard
from training.data.sources import (
    CLOSING_MARKS,
    LATEX_ENVS,
    MAX_TOKENS,
    generate_formula,
    load_formulas,
    shared_data_root,
)
from training.data.stable_pick import StablePool

log = logging.getLogger(__name__)

GENERATED_SHARE = 0.2  # printed samples from the grammar generator instead of the corpora
DISPLAY_SHARE = 0.5  # printed samples drawn as display math (full-size top-level fractions)
# Computer Modern is what LaTeX papers, textbooks and most PDFs are set in: drawn most often
FONTSET_WEIGHTS = {"cm": 3.0, "stix": 1.0, "stixsans": 1.0, "dejavusans": 1.0, "dejavuserif": 1.0}
CROHME_DEV_PERCENT = 3
LATEX_BATCH = 50  # formulas per LaTeX document: one latex and one dvipng run for all
LATEX_FONT_WEIGHTS = {"cm": 4.0, "times": 1.0, "palatino": 1.0}
LATEX_DISPLAY_SHARE = 0.75  # the rest inline ($...$: smaller fractions and limits at the side)
# 12 pt type at 50 dpi has the small, blurred glyphs of downsampled page images, which mathtext
# at 20 pt and >= 60 dpi never drew; 250 dpi is a crisp screenshot
LATEX_DPI = (50, 250)
LATEX_EMPTY_BATCHES = 20  # this many batches in a row with nothing typeset: TeX is broken
# A displayed equation in a paper closes its sentence, and a snip of it takes the comma or full
# stop along; the corpora's formulas come with it stripped (sources.clean_formula), so a model
# never saw one and read it as nothing or \cdot. A third of the printed *training* formulas get
# one back (a round prior, not fitted to any test set); dev slices stay as they were drawn.
CLOSING_SHARE = 1 / 3
CLOSER_WEIGHTS = (0.45, 0.45, 0.1)  # for CLOSING_MARKS: what sources.clean_formula strips
# Hands range from neat (glyphs close to the font's) to loose (reshape_glyph). Training shards
# that only reshaped every glyph cost 2-3 points on the neat, unreshaped synthetic dev slice
# (rule (19) in docs/model/selection-rules.md); half of the training formulas keep the font's
# glyph shapes (a round prior), so both kinds of hand are seen.
RESHAPE_SHARE = 0.5


def printed_sample(
    formula_pool: tuple[str, ...] | StablePool,
    rng: random.Random,
    cfg: PreprocessConfig,
    closing: float = 0.0,
):
    """(ink map, label) for one printed formula, or None when it cannot be drawn. ``closing``:
    the chance that it ends with sentence punctuation (:data:`CLOSING_SHARE` for training)."""
    return _sample(formula_pool, rng, cfg, _draw_printed, closing)


def handwritten_sample(
    formula_pool: tuple[str, ...] | StablePool,
    rng: random.Random,
    cfg: PreprocessConfig,
    reshape: float = 1.0,
):
    """(ink map, label) for one synthetic handwritten formula, or None. ``reshape``: the chance
    that its glyphs get shapes of their own (:data:`RESHAPE_SHARE` for training; 0 or 1 draw
    nothing for it, so the dev slice and older callers see the random stream they always did)."""
    return _sample(formula_pool, rng, cfg, partial(_draw_handwritten, reshape=reshape))


def _draw_handwritten(latex: str, rng: random.Random, reshape: float) -> Image.Image:
    if 0.0 < reshape < 1.0:
        reshape = rng.random() < reshape
    return handwritten_image(latex, rng, reshape=bool(reshape))


def latex_samples(
    formula_pool: tuple[str, ...] | StablePool,
    rng: random.Random,
    cfg: PreprocessConfig,
    closing: float = 0.0,
) -> list[tuple[np.ndarray, str]]:
    """(ink map, label) pairs for one document of :data:`LATEX_BATCH` formulas typeset by
    LaTeX in one font at one resolution; the ones TeX refuses are missing. ``closing`` as for
    :func:`printed_sample`."""
    formulas = [_pick_formula(formula_pool, rng, closing) for _ in range(LATEX_BATCH)]
    fonts = available_fonts()
    font = rng.choices(fonts, weights=[LATEX_FONT_WEIGHTS[f] for f in fonts])[0]
    display = [rng.random() < LATEX_DISPLAY_SHARE for _ in formulas]
    inks = typeset(formulas, dpi=rng.uniform(*LATEX_DPI), font=font, display=display)
    out = []
    for latex, ink in zip(formulas, inks, strict=True):
        if ink is None:
            continue
        try:
            out.append((preprocess(screenshot_like(_on_transparent(ink), rng), cfg), latex))
        except TeXSnapError:
            continue
    return out


def _draw_printed(latex: str, rng: random.Random) -> Image.Image:
    if rng.random() < DISPLAY_SHARE:
        latex = display_fractions(latex)
    fontset = rng.choices(FONTSETS, weights=[FONTSET_WEIGHTS[f] for f in FONTSETS])[0]
    ink = render_coverage(latex, fontset=fontset, dpi=rng.uniform(60, 200), fontsize=20)
    return screenshot_like(_on_transparent(ink), rng)


def _on_transparent(ink: np.ndarray) -> Image.Image:
    """Coverage (255 = ink) as black ink on a transparent RGBA image."""
    black = Image.new("L", (ink.shape[1], ink.shape[0]), 0)
    return Image.merge("RGBA", (black, black, black, Image.fromarray(ink)))


def _pick_formula(formula_pool, rng: random.Random, closing: float = 0.0) -> str:
    if rng.random() < GENERATED_SHARE or not formula_pool:
        latex = generate_formula(rng)
    else:
        latex = _choose(formula_pool, rng)
    # no draw at all when closing is 0: callers without punctuation keep their random streams
    if closing and rng.random() < closing:
        latex = canonicalize(latex + rng.choices(CLOSING_MARKS, weights=CLOSER_WEIGHTS)[0])
    return latex


def _choose(formula_pool, rng: random.Random) -> str:
    if isinstance(formula_pool, StablePool):
        return formula_pool.pick(rng)
    return rng.choice(formula_pool)


def _sample(formula_pool, rng: random.Random, cfg: PreprocessConfig, draw, closing: float = 0.0):
    for _ in range(20):
        latex = _pick_formula(formula_pool, rng, closing)
        if "\\begin" in latex:
            continue
        try:  # a formula mathtext cannot parse raises RenderError here
            ink = preprocess(draw(latex, rng), cfg)
        except TeXSnapError:
            continue
        return ink, latex
    return None


def build_shard(args) -> str:
    """One shard of ``kind`` (printed / handwritten): a pure function of its arguments."""
    kind, out, index, size, seed, split, data_root = args
    path = Path(out) / f"{kind}-{split}-{seed}-{index:04d}.npz"
    if path.exists():
        return str(path)
    # Every sample (a LaTeX document for kind latex) draws from a stream of its own, and dev
    # slices pick formulas by rendezvous hash: a rebuild after the pool gained or lost a few
    # formulas redraws only the samples those formulas win or had won, where one shared stream
    # and picks by index redrew them all (training/data/stable_pick.py)
    streams = (random.Random(f"{kind}/{split}/{seed}/{index}/{n}") for n in itertools.count())
    cfg = PreprocessConfig()
    closing = CLOSING_SHARE if split == "train" else 0.0
    envs = {"environments": LATEX_ENVS} if kind == "latex" else {}
    pool = load_formulas(data_root, split=split, **envs)
    if split == "dev":
        pool = StablePool(pool)
    if kind == "latex":
        images, labels = _latex_shard(pool, streams, cfg, size, closing)
        write_shard(path, images, labels, [kind] * len(images))
        return str(path)
    samplers = {
        "printed": partial(printed_sample, closing=closing),
        # the dev slice keeps the glyph shapes it was first drawn with, so that its scores
        # compare across sessions (docs/model/selection-rules.md judges by them)
        "handwritten": partial(handwritten_sample, reshape=RESHAPE_SHARE if split != "dev" else 0),
    }
    sampler = samplers[kind]
    images, labels = [], []
    while len(images) < size:
        s = sampler(pool, next(streams), cfg)
        if s:
            images.append(s[0])
            labels.append(s[1])
    write_shard(path, images, labels, [kind] * len(images))
    return str(path)


def _latex_shard(pool, streams, cfg: PreprocessConfig, size: int, closing: float):
    images, labels, empty = [], [], 0
    while len(images) < size:
        batch = latex_samples(pool, next(streams), cfg, closing)
        empty = 0 if batch else empty + 1
        if empty >= LATEX_EMPTY_BATCHES:
            raise TeXSnapError(
                f"LaTeX typeset none of {LATEX_EMPTY_BATCHES * LATEX_BATCH} formulas in a row: "
                "check that `latex` can compile a document with amsmath (texlive-latex-base)."
            )
        for ink, label in batch[: size - len(images)]:
            images.append(ink)
            labels.append(label)
    return images, labels


def crohme_split(label: str) -> str:
    """By formula, not by image: many CROHME formulas are written by several people, and a dev
    set sharing formulas with training measures memory. Split by image, 52 % of the dev images
    had their formula in training; of the CROHME 2016 test set, 1.7 % do
    (benchmarks/crohme_overlap.py)."""
    h = int.from_bytes(hashlib.sha1(label.encode()).digest()[:4], "big")
    return "dev" if h % 100 < CROHME_DEV_PERCENT else "train"


def build_crohme(out: Path, data_root=None) -> list[str]:
    """CROHME train.zip → crohme-train.npz and crohme-dev.npz (3 % of the formulas, chosen by
    hash)."""
    paths = [out / "crohme-train.npz", out / "crohme-dev.npz"]
    if all(p.exists() for p in paths):
        return [str(p) for p in paths]
    src = shared_data_root(data_root) / "crohme" / "train.zip"
    ds = Dataset(src)
    cfg = PreprocessConfig()
    parts = {"train": ([], []), "dev": ([], [])}
    for sample in ds:
        try:
            label = canonicalize(sample.latex)
            if not label or len(tokenize(label)) > MAX_TOKENS:
                continue
            ink = preprocess(ds.read(sample), cfg)
        except Exception as exc:  # noqa: BLE001 - one bad sample must not stop the build
            log.warning("skipping %s: %s", sample.path, exc)
            continue
        imgs, labs = parts[crohme_split(label)]
        imgs.append(ink)
        labs.append(label)
    for split, path in zip(("train", "dev"), paths, strict=True):
        imgs, labs = parts[split]
        write_shard(path, imgs, labs, ["crohme"] * len(imgs))
    return [str(p) for p in paths]


def build_all(
    out,
    printed: int,
    dev: int = 500,
    handwritten: int = 0,
    shard_size: int = 1000,
    seed: int = 0,
    workers: int = 2,
    data_root=None,
    progress=print,
    handwritten_dev: int = 0,
    latex: int = 0,
    latex_dev: int = 0,
) -> None:
    """``latex``: printed training samples typeset by real LaTeX (needs latex and dvipng);
    ``latex_dev``: a dev slice of them, from the corpora's dev split."""
    if latex or latex_dev:
        require_latex()  # before hours of mathtext shards, not after them
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    root = str(data_root) if data_root else None
    counts = {"printed": printed, "handwritten": handwritten, "latex": latex}
    extra_dev = {"handwritten": handwritten_dev, "latex": latex_dev}
    jobs = _jobs(out, counts, dev, shard_size, seed, root, extra_dev)
    with ProcessPoolExecutor(max_workers=workers) as ex:
        try:
            # CROHME is one long job: it runs beside the rendering instead of before it
            crohme = ex.submit(build_crohme, out, data_root)
            for done, path in enumerate(ex.map(build_shard, jobs), 1):
                progress(f"[{done}/{len(jobs)}] {path}")
                if crohme.done():
                    crohme.result()  # a CROHME failure (no train.zip, say) stops the build now
            progress(f"crohme: {crohme.result()}")
        except BaseException:
            ex.shutdown(wait=False, cancel_futures=True)  # not the hours of queued shards
            raise


def _jobs(out, counts: dict[str, int], dev, shard_size, seed, root, extra_dev: dict) -> list:
    """Dev shards first (training evaluates on them from its first step), then the training
    shards of every kind interleaved. ``extra_dev``: dev slices of other kinds than mathtext's,
    drawn from the dev split's formulas. A handwritten one gives handwriting of formulas no run
    has trained on, which the CROHME dev slice cannot offer to a model whose earlier runs saw
    those images (MODEL.md, run (11)); a LaTeX one, TeX's typesetting of unseen formulas."""
    jobs = [("printed", str(out), 0, dev, seed, "dev", root)]
    jobs += [(kind, str(out), 0, n, seed, "dev", root) for kind, n in extra_dev.items() if n]
    return jobs + _interleaved(
        {
            kind: [
                (kind, str(out), i, shard_size, seed, "train", root)
                for i in range(-(-n // shard_size))
            ]
            for kind, n in counts.items()
        }
    )


def _interleaved(jobs_by_kind: dict[str, list]) -> list:
    """Jobs of every kind in proportion, so a build stopped early (or a training run picking up
    shards as they appear) has some of each kind rather than all of the first."""
    keyed = [
        ((i + 0.5) / len(jobs), kind, job)
        for kind, jobs in jobs_by_kind.items()
        for i, job in enumerate(jobs)
    ]
    return [job for *_, job in sorted(keyed, key=lambda k: (k[0], k[1]))]

"""Printed formulas of the base model's domain, for replay during fine-tuning and for the
built-in regression set of the before/after report.

Both are rendered on the fly (mathtext + the same screenshot-like augmentation and
preprocessing as the base training data, via ``training.data.build.printed_sample``) from the
grammar-based formula generator and a fixed seed, so they need nothing outside the app: the
shared formula corpora are not shipped (their licences forbid it), and the installed app has
no ``../shared``. The same seed gives the same images on every machine with the same
matplotlib; the results are cached as shards in the user's cache folder, since rendering a
few hundred formulas takes a while on a laptop and anything in the cache may be deleted.

Replay and regression sets come from different seeds, so a fine-tune never trains on the
formulas that judge it.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from pathlib import Path

from core import paths
from core.errors import DatasetError
from core.preprocess import PreprocessConfig
from core.vocab import Vocab
from training.data.build import printed_sample
from training.data.shards import read_shard, write_shard
from training.data.sources import generate_formula
from training.finetune_plan import REGRESSION_SIZE

REGRESSION_SEED = "texsnap-regression/1"
REPLAY_SEED = "texsnap-replay/1"
MAX_TRIES = 5  # renders per kept sample before giving up (mathtext refuses a few formulas)


def printed_set(
    n: int,
    seed: str,
    cfg: PreprocessConfig,
    vocab: Vocab | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_len: int = 256,
) -> Path:
    """A shard file of ``n`` printed samples (source ``printed``) drawn from ``seed``; it is
    rendered once and then read from the cache.

    With ``vocab``, formulas using a token outside it, or longer than ``max_len`` tokens, are
    passed over (the model could not learn or be judged on them), which keeps the set
    identical for models of one vocabulary and length.
    Samples are sorted by width so that evaluation batches carry little padding.
    """
    path = _cache_path(n, seed, cfg, vocab, max_len)
    if path.exists():
        try:
            read_shard(path)
            return path
        except DatasetError:
            path.unlink(missing_ok=True)  # a damaged cache is rebuilt, never trusted
    rng = random.Random(seed)
    # formulas are checked before they are drawn: drawing is the slow part
    pool = [generate_formula(rng) for _ in range(n * MAX_TRIES)]
    pool = tuple(f for f in pool if vocab is None or _fits(f, vocab, max_len))
    samples: list[tuple] = []
    tries = 0
    while len(samples) < n and tries < n * MAX_TRIES:
        tries += 1
        s = printed_sample(pool, rng, cfg)
        if s is None or (vocab is not None and not _fits(s[1], vocab, max_len)):
            continue
        samples.append(s)
        if progress is not None:
            progress(len(samples), n)
    samples.sort(key=lambda s: (s[0].shape[1], s[0].shape[0]))
    write_shard(path, [s[0] for s in samples], [s[1] for s in samples], ["printed"] * len(samples))
    return path


def regression_set(cfg: PreprocessConfig, vocab: Vocab | None = None, n=REGRESSION_SIZE, **kw):
    """The built-in printed regression set of the before/after report."""
    return printed_set(n, REGRESSION_SEED, cfg, vocab, **kw)


def replay_set(n: int, cfg: PreprocessConfig, vocab: Vocab | None = None, **kw) -> Path:
    """``n`` base-domain samples mixed into every fine-tune against forgetting."""
    return printed_set(n, REPLAY_SEED, cfg, vocab, **kw)


def _fits(latex: str, vocab: Vocab, max_len: int) -> bool:
    # the same rule as training.batches.TrainData, which would drop the sample otherwise
    return vocab.covers(latex) and len(vocab.encode(latex)) <= max_len - 2


def _cache_path(n, seed, cfg: PreprocessConfig, vocab: Vocab | None, max_len: int) -> Path:
    import matplotlib

    tokens = vocab.tokens if vocab else None
    key = json.dumps([n, seed, cfg.to_dict(), tokens, max_len, matplotlib.__version__])
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
    folder = paths.cache_dir() / "finetune"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"printed-{digest}.npz"

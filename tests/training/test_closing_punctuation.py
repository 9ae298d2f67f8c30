"""Printed training formulas sometimes close their sentence (`x=1,`), as displayed equations
snipped from papers do; dev slices never change."""

import random

import numpy as np
import pytest

from core.preprocess import PreprocessConfig
from training.data import build
from training.data.latex_render import latex_available, typeset
from training.data.shards import read_shard

POOL = ("a+b=c", "\\frac{x}{y}")


@pytest.fixture
def data_root(tmp_path):
    root = tmp_path / "data"
    (root / "formulas").mkdir(parents=True)
    (root / "formulas" / "k12.txt").write_text("\n".join(POOL) + "\n")
    return root


def _shard(tmp_path, data_root, kind, split, size=12):
    out = tmp_path / f"{kind}-{split}"
    out.mkdir()
    return read_shard(build.build_shard((kind, str(out), 0, size, 5, split, str(data_root))))


def _closed(label: str) -> bool:
    return label[-1] in build.CLOSING_MARKS


def test_some_printed_training_labels_end_with_a_comma_or_full_stop(tmp_path, data_root):
    shard = _shard(tmp_path, data_root, "printed", "train")
    closed = [label for label in shard.labels if _closed(label)]
    assert 0 < len(closed) < len(shard.labels)
    # one mark after a whole formula (from the pool, or the grammar generator's)
    assert all(label[:-1] and not _closed(label[:-1]) for label in closed)


def test_dev_slices_never_get_punctuation(tmp_path, data_root):
    shard = _shard(tmp_path, data_root, "printed", "dev")
    assert not any(_closed(label) for label in shard.labels)


def test_without_closing_the_formula_draws_are_the_old_ones():
    # callers without punctuation (fine-tune replay, dev slices) keep their random streams
    rng, old = random.Random(9), random.Random(9)
    picked = [build._pick_formula(POOL, rng, 0.0) for _ in range(50)]
    expected = []
    for _ in range(50):
        generated = old.random() < build.GENERATED_SHARE
        expected.append(build.generate_formula(old) if generated else old.choice(POOL))
    assert picked == expected
    assert rng.getstate() == old.getstate()


def test_a_closed_formula_is_canonical_and_ends_with_one_mark():
    rng = random.Random(2)
    labels = [build._pick_formula(POOL, rng, 1.0) for _ in range(40)]
    assert all(_closed(label) and not _closed(label[:-1]) for label in labels)
    assert all(build.canonicalize(label) == label for label in labels)
    assert {label[-1] for label in labels} >= {",", "."}


@pytest.mark.skipif(not latex_available(), reason="latex and dvipng not installed")
def test_latex_typesets_the_closing_mark_it_labels():
    cfg = PreprocessConfig()
    pairs = build.latex_samples(("a+b=c",), random.Random(4), cfg, closing=1.0)
    assert pairs and all(_closed(label) for _, label in pairs)
    plain = typeset(["a+b=c"], dpi=100)[0]
    closed = typeset(["a+b=c,"], dpi=100)[0]
    assert closed.shape[1] > plain.shape[1]  # the comma is on the image, not only the label
    assert np.count_nonzero(closed) > np.count_nonzero(plain)

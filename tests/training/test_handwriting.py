"""Synthetic handwriting and the shard builder that uses it."""

from __future__ import annotations

import random

import numpy as np

from core.preprocess import PreprocessConfig, preprocess
from training.data.build import build_shard, handwritten_sample
from training.data.handwriting import handwritten_image
from training.data.shards import read_shard


def test_handwriting_is_deterministic_per_seed_and_varies_between_seeds():
    a = np.asarray(handwritten_image(r"\frac{a}{b}", random.Random(1)))
    b = np.asarray(handwritten_image(r"\frac{a}{b}", random.Random(1)))
    c = np.asarray(handwritten_image(r"\frac{a}{b}", random.Random(2)))
    assert np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


def test_handwriting_keeps_every_symbol_visible():
    # small glyphs (subscripts, dots) must survive the pen redraw: the ink map after the real
    # preprocessing holds as many separate marks as the clean render, give or take a few
    img = handwritten_image(r"a_{i}+b_{j}=1", random.Random(0))
    ink = preprocess(img, PreprocessConfig())
    from scipy import ndimage

    _, marks = ndimage.label(ink > 0.3)
    assert 7 <= marks <= 11


def test_handwritten_sample_is_a_labelled_ink_map():
    ink, latex = handwritten_sample((r"x^{2}", r"\sqrt{y}"), random.Random(3), PreprocessConfig())
    assert latex in (r"x^{2}", r"\sqrt{y}") or latex  # the generator may be drawn too
    assert ink.ndim == 2 and ink.max() > 0.5


def test_build_shard_writes_a_handwritten_shard_once(tmp_path):
    data_root = tmp_path / "no-shared-data"  # no corpus: formulas come from the generator
    args = ("handwritten", str(tmp_path), 0, 3, 0, "train", str(data_root))
    path = build_shard(args)
    shard = read_shard(path)
    assert len(shard) == 3 and set(shard.sources) == {"handwritten"}
    mtime = (tmp_path / "handwritten-train-0-0000.npz").stat().st_mtime_ns
    assert build_shard(args) == path
    assert (tmp_path / "handwritten-train-0-0000.npz").stat().st_mtime_ns == mtime


def test_centre_lines_of_a_thick_stroke_are_one_pixel_wide():
    from training.data.handwriting import centre_lines

    bar = np.zeros((30, 60), bool)
    bar[10:19, 5:55] = True  # 9 px thick, 50 px long
    line = centre_lines(bar)
    assert line.sum(axis=0).max() == 1  # one pixel in every column
    assert 40 <= line.sum() <= 50


def test_synthetic_strokes_are_thin_like_pen_ink_not_like_a_font():
    """CROHME strokes are about 6 % of a glyph's height (benchmarks/stroke_width.py); a font's
    are about 16 %."""
    from training.data.handwriting import stroke_ratio

    rng = random.Random(0)
    formulas = (
        r"x^{2}+y",
        r"\frac{a}{b}",
        "f(x)=3x",
        r"\sqrt{a+b}",
        r"\alpha+\beta=\gamma",
        "y=mx+b",
    )
    ratios = [stroke_ratio(handwritten_image(f, rng)) for f in formulas]  # one varies a lot
    assert np.median([r for r in ratios if r]) < 0.11


def test_a_handwritten_dev_slice_is_built_and_read_as_a_dev_shard(tmp_path):
    """`texsnap data build --handwritten-dev N`: a dev shard of pen-stroke formulas that
    training and benchmarks/dev_slices.py evaluate on beside the printed one."""
    from training.data.build import _jobs
    from training.trainer import shard_files

    root = str(tmp_path / "no-shared-data")
    none = {"printed": 0, "handwritten": 0}
    jobs = _jobs(tmp_path, none, 2, 10, 0, root, {"handwritten": 3, "latex": 0})
    assert jobs == [
        ("printed", str(tmp_path), 0, 2, 0, "dev", root),
        ("handwritten", str(tmp_path), 0, 3, 0, "dev", root),
    ]
    assert len(_jobs(tmp_path, none, 2, 10, 0, root, {"handwritten": 0})) == 1
    path = build_shard(jobs[1])
    assert [str(p) for p in shard_files(tmp_path, "dev")] == [path]
    shard = read_shard(path)
    assert len(shard) == 3 and set(shard.sources) == {"handwritten"}


def test_data_build_cli_passes_handwritten_dev_and_latex(monkeypatch, tmp_path):
    import argparse

    import training.data.build as build
    from training.cli import register

    seen = {}
    monkeypatch.setattr(build, "build_all", lambda out, **kw: seen.update(kw))
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(
        ["data", "build", "--out", str(tmp_path), "--handwritten-dev", "4", "--latex", "7"]
        + ["--latex-dev", "3"]
    )
    assert args.func(args) == 0
    assert (seen["handwritten_dev"], seen["latex"], seen["latex_dev"]) == (4, 7, 3)


def test_each_glyph_gets_a_shape_of_its_own_but_stays_one_mark():
    """A hand never repeats a font's letter shapes: every glyph is turned, widened or
    narrowed, slanted and bent on its own, the same way for the same seed."""
    from core.render import render_coverage
    from training.data.handwriting import reshape_glyph

    ink = render_coverage("k", fontset="dejavusans", dpi=300, fontsize=20).astype(np.float32) / 255
    rows, cols = np.nonzero(ink > 0.05)
    glyph = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    a, b = reshape_glyph(glyph, random.Random(1)), reshape_glyph(glyph, random.Random(1))
    c = reshape_glyph(glyph, random.Random(2))
    assert np.array_equal(a, b)
    assert a.shape != c.shape or not np.allclose(a, c)
    assert a.shape != glyph.shape or not np.allclose(a, glyph)
    from scipy import ndimage

    for shaped in (a, c):  # bent, not broken: still one stroke of about the same size
        assert ndimage.label(shaped > 0.3)[1] == 1
        assert 0.7 < shaped.shape[0] / glyph.shape[0] < 1.4


def test_bars_stay_level_and_dots_stay_dots():
    """A fraction bar tilted like a letter would touch the numerator; a dot has no shape."""
    from training.data.handwriting import reshape_glyph

    bar = np.ones((3, 60), np.float32)
    for seed in range(10):
        out = reshape_glyph(bar, random.Random(seed))
        assert out.shape[0] <= 3 + 6 and out.shape[1] >= 50
    dot = np.ones((4, 4), np.float32)
    assert np.array_equal(reshape_glyph(dot, random.Random(0)), dot)


def test_the_handwritten_dev_slice_keeps_its_first_glyph_shapes(tmp_path):
    """Dev shards are drawn without per-glyph reshaping, as they were when the scores in
    docs/model/selection-rules.md were measured; training shards reshape."""
    root = str(tmp_path / "no-shared-data")
    path = build_shard(("handwritten", str(tmp_path), 0, 2, 0, "dev", root))
    cfg = PreprocessConfig()
    streams = [random.Random(f"handwritten/dev/0/0/{n}") for n in range(2)]  # one per sample
    expected = [handwritten_sample((), rng, cfg, reshape=False) for rng in streams]
    shard = read_shard(path)
    for i, (ink, latex) in enumerate(expected):
        assert shard.labels[i] == latex
        assert np.array_equal(shard.image(i), np.clip(ink * 255, 0, 255).astype(np.uint8))


def test_training_shards_draw_neat_and_loose_hands(tmp_path, monkeypatch):
    """Half the training formulas keep the font's glyph shapes (RESHAPE_SHARE): a model
    trained only on reshaped glyphs read the neat dev slice worse (rule (19))."""
    from training.data import build

    flags = []

    def recording(latex, rng, reshape=True):
        flags.append(reshape)
        return handwritten_image(latex, rng, reshape=reshape)

    monkeypatch.setattr(build, "handwritten_image", recording)
    root = str(tmp_path / "no-shared-data")
    build_shard(("handwritten", str(tmp_path), 0, 8, 0, "train", root))
    assert True in flags and False in flags
    flags.clear()
    build_shard(("handwritten", str(tmp_path), 0, 3, 0, "dev", root))
    assert flags and not any(flags)


def test_reshape_share_draws_only_between_never_and_always(monkeypatch):
    from training.data import build

    flags = []
    monkeypatch.setattr(
        build, "handwritten_image", lambda latex, rng, reshape: flags.append(reshape)
    )
    for share, expected in ((0.0, {False}), (1.0, {True})):
        rng = random.Random(1)
        state = rng.getstate()
        for _ in range(20):
            build._draw_handwritten("x", rng, share)
        assert set(flags) == expected and rng.getstate() == state
        flags.clear()
    rng = random.Random(1)
    for _ in range(400):
        build._draw_handwritten("x", rng, 0.5)
    assert 150 < sum(flags) < 250

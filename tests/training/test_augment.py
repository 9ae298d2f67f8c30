import io
import random

import numpy as np
from PIL import Image

from core.preprocess import PreprocessConfig, glyph_height, preprocess
from core.render import render_png
from core.stress import rescale
from training.data.augment import (
    LOW_RES_GLYPH,
    _few_grey_levels,
    distort_ink,
    jitter_ink,
    low_resolution,
    screenshot_like,
)


def _render() -> Image.Image:
    return Image.open(io.BytesIO(render_png(r"\frac{a}{b}+x^{2}", dpi=120))).convert("RGBA")


def test_screenshots_are_deterministic_per_seed_and_keep_the_formula():
    render, cfg = _render(), PreprocessConfig()
    one = np.asarray(screenshot_like(render, random.Random(3)))
    assert np.array_equal(one, np.asarray(screenshot_like(render, random.Random(3))))
    for seed in range(40):  # every variant still preprocesses to a visible formula
        ink = preprocess(screenshot_like(render, random.Random(seed)), cfg)
        assert ink.max() > 0.5 and (ink > 0.5).mean() > 0.02


def test_few_grey_levels_leave_only_that_many_tones():
    ramp = Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (4, 1)))
    for levels in (4, 8, 16):
        assert len(np.unique(np.asarray(_few_grey_levels(ramp, levels)))) == levels


def test_jittered_ink_stays_a_padded_map():
    cfg = PreprocessConfig()
    ink = preprocess(_render(), cfg)
    for seed in range(20):
        out = jitter_ink(ink, random.Random(seed), cfg)
        assert out.dtype == np.float32 and out.max() > 0.5
        assert out.shape[0] % cfg.multiple == 0 and out.shape[1] % cfg.multiple == 0


def _handwritten_like() -> np.ndarray:
    """A preprocessed-looking ink map: two strokes on a padded canvas."""
    ink = np.zeros((48, 96), np.float32)
    ink[10:38, 20:23] = 1.0  # a vertical bar
    ink[22:25, 40:80] = 1.0  # a horizontal bar
    return ink


def test_distorted_ink_keeps_all_of_the_formula_and_is_deterministic_per_seed():
    ink = _handwritten_like()
    for seed in range(20):
        out = distort_ink(ink, random.Random(seed), 1.0)
        assert out.dtype == np.float32 and 0.0 <= out.min() and out.max() <= 1.0
        # nothing falls off the canvas: the ink's total stays about the same (the stretch
        # changes it by at most 12 % per axis), and no ink touches the border
        assert 0.7 < out.sum() / ink.sum() < 1.4
        assert out[0].max() == out[-1].max() == out[:, 0].max() == out[:, -1].max() == 0.0
        again = distort_ink(ink, random.Random(seed), 1.0)
        assert np.array_equal(out, again)
    assert not np.array_equal(
        distort_ink(ink, random.Random(1), 1.0), distort_ink(ink, random.Random(2), 1.0)
    )


def test_distortion_of_nothing_is_the_image_itself():
    ink = _handwritten_like()
    out = distort_ink(ink, random.Random(0), 0.0)
    h, w = ink.shape
    top, left = (out.shape[0] - h) // 2, (out.shape[1] - w) // 2
    assert np.allclose(out[top : top + h, left : left + w], ink, atol=1e-5)


def test_distortion_survives_blank_and_one_pixel_images():
    for ink in (np.zeros((16, 16), np.float32), np.ones((1, 1), np.float32)):
        out = distort_ink(ink, random.Random(0), 1.0)
        assert out.ndim == 2 and np.isfinite(out).all()
        cfg = PreprocessConfig()
        assert jitter_ink(ink, random.Random(0), cfg, 1.0, 1.0).ndim == 2


def test_jitter_without_distortion_draws_what_it_always_drew():
    """Base training runs resume bit-for-bit: distort=0 must not consume random numbers."""
    cfg = PreprocessConfig()
    ink = preprocess(_render(), cfg)
    for seed in range(10):
        old = jitter_ink(ink, random.Random(seed), cfg, 0.6)
        assert np.array_equal(old, jitter_ink(ink, random.Random(seed), cfg, 0.6, 0.0))


def test_jitter_without_low_resolution_draws_what_it_always_drew():
    cfg = PreprocessConfig()
    ink = preprocess(_render(), cfg)
    for seed in range(10):
        old = jitter_ink(ink, random.Random(seed), cfg, 0.6)
        assert np.array_equal(old, jitter_ink(ink, random.Random(seed), cfg, 0.6, 0.0, 0.0))


def test_low_resolution_looks_like_a_snip_at_half_the_zoom():
    """What the model trains on is what the preprocessor makes of a small snip: the same
    formula rendered small (glyphs of 3-6 px) and preprocessed comes out about as large and
    as blurred as the augmented clean render."""
    cfg = PreprocessConfig()
    big = Image.open(io.BytesIO(render_png(r"\frac{a}{b}+x^{2}", dpi=200))).convert("RGB")
    clean = preprocess(big, cfg)
    outs = [low_resolution(clean, random.Random(seed), cfg) for seed in range(20)]
    assert all(o.dtype == np.float32 and o.shape[0] % cfg.multiple == 0 for o in outs)
    assert len({o.shape for o in outs}) > 1  # glyph sizes vary with the seed
    assert np.array_equal(outs[0], low_resolution(clean, random.Random(0), cfg))
    # blurred: fewer fully inked pixels per ink pixel than the clean map
    solid = lambda a: (a > 0.9).sum() / max(1, (a > 0.1).sum())  # noqa: E731
    assert np.mean([solid(o) for o in outs]) < solid(clean)
    # never larger than the clean render: the batch planner budgets pixels by stored shapes
    assert all(o.shape[0] <= clean.shape[0] and o.shape[1] <= clean.shape[1] for o in outs)
    # a real small snip (the same formula at a third of the size, through the preprocessor)
    # comes out at least as large, so the sample is the snip at most shrunk to the clean size
    small = preprocess(rescale(big, (sum(LOW_RES_GLYPH) / 2) / glyph_height(clean)), cfg)
    assert max(o.shape[1] for o in outs) <= small.shape[1] + cfg.multiple
    assert max(o.shape[1] for o in outs) >= clean.shape[1] - 2 * cfg.multiple


def test_low_resolution_never_enlarges_a_training_sample():
    """The preprocessor can take faded 3 px glyphs for smaller ones and blow a small snip up
    many times; a training sample seen at low resolution keeps at most its own size (up to
    the usual scale jitter), so one sample cannot pad its whole batch to a multiple of it."""
    cfg = PreprocessConfig()
    for tex in (r"\frac{a}{b}+x^{2}", r"\sum_{i=1}^{n} i^{2}=\frac{n(n+1)(2n+1)}{6}", r"x"):
        ink = preprocess(Image.open(io.BytesIO(render_png(tex, dpi=200))).convert("RGB"), cfg)
        for seed in range(25):
            out = jitter_ink(ink, random.Random(seed), cfg, 0.6, 0.0, 1.0)
            limit = [-(-round(n * 1.15) // cfg.multiple) * cfg.multiple for n in ink.shape]
            assert out.shape[0] <= limit[0] and out.shape[1] <= limit[1], (tex, seed)


def test_low_resolution_of_a_speck_keeps_the_image():
    cfg = PreprocessConfig()
    speck = np.zeros((32, 32), np.float32)
    speck[16, 16] = 0.3  # vanishes when shrunk: the sample stays as it was
    out = low_resolution(speck, random.Random(0), cfg)
    assert out is speck
    blank = np.zeros((32, 48), np.float32)
    assert jitter_ink(blank, random.Random(0), cfg, 1.0, 0.0, 1.0).ndim == 2

import io
import random

import numpy as np
from PIL import Image

from core.preprocess import PreprocessConfig, preprocess
from core.render import render_png
from training.data.augment import _few_grey_levels, jitter_ink, screenshot_like


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

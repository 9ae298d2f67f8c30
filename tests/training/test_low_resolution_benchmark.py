"""benchmarks/low_resolution.py: dev formulas typeset small, and how their readings score."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.errors import InvalidImage
from core.preprocess import glyph_height, ink_map
from training.data.latex_render import latex_available

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import low_resolution  # noqa: E402

pytestmark = pytest.mark.skipif(not latex_available(), reason="latex and dvipng not installed")

FORMULAS = [r"a+b=c", r"\frac{x}{y}", r"\sqrt{2}"]


class ReadsInOrder:
    """Answers with the formulas it is given, except that the first image is unreadable."""

    def __init__(self, answers):
        self.answers, self.sizes = answers, []

    def recognize_batch(self, images):
        self.sizes += [glyph_height(ink_map(img)) for img in images]
        out = [SimpleNamespace(latex=a) for a in self.answers[: len(images)]]
        return [InvalidImage("broken"), *out[1:]]


def test_an_unreadable_image_counts_as_wrong_and_the_rest_are_scored():
    rec = ReadsInOrder(FORMULAS)
    scores, refused = low_resolution.score_at(rec, FORMULAS, 120)
    assert refused == 0 and scores.n == 3 and scores.exact == 2


def test_lower_resolution_gives_smaller_glyphs():
    crisp, small = ReadsInOrder(FORMULAS), ReadsInOrder(FORMULAS)
    low_resolution.score_at(crisp, FORMULAS, 120)
    low_resolution.score_at(small, FORMULAS, 60)
    assert sum(small.sizes) < 0.75 * sum(crisp.sizes)

"""benchmarks/glyph_sizes.py: its joint decoding is greedy decoding when there is one size."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import glyph_sizes  # noqa: E402


def test_joint_greedy_over_one_input_is_plain_greedy(random_model_dir, formula_png):
    from core.recognizer import Recognizer

    rec = Recognizer.from_pretrained(random_model_dir, device="cpu")
    (arr,) = rec.candidates(formula_png, all_sizes=False)
    (alone,) = rec._decode([arr], 1, 0)
    assert glyph_sizes.joint_greedy(rec, [arr]) == alone[0].ids
    # two copies of the same input average to the same log-probabilities
    assert glyph_sizes.joint_greedy(rec, [arr, arr]) == alone[0].ids

"""benchmarks/early_exit.py: replaying "read the other glyph sizes only when unsure"."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import early_exit  # noqa: E402

# (fluency, right) per candidate input, standard input first
SURE_RIGHT = [(-0.02, True), (-0.05, False), (-0.04, False)]
UNSURE_WRONG = [(-0.20, False), (-0.06, True), (-0.30, False)]  # another size reads it
ONE_INPUT = [(-0.50, True)]


def test_the_kept_reading_is_the_most_fluent_and_a_tie_goes_to_the_standard_input():
    assert early_exit.surest(UNSURE_WRONG) is True
    assert early_exit.surest([(-0.1, True), (-0.1, False)]) is True


def test_an_early_exit_reads_more_only_below_the_threshold():
    rows = [SURE_RIGHT, UNSURE_WRONG, ONE_INPUT]
    assert early_exit.replay(rows, -0.1) == (3, 1 / 3)  # only UNSURE_WRONG is read again
    assert early_exit.replay(rows, -0.25) == (2, 0.0)  # nothing read again: it stays wrong
    assert early_exit.replay(rows, 0.0) == (3, 2 / 3)  # a single input is never read again

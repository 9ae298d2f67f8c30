"""Recognition metrics on hand-checked examples; both sides canonicalized the same way."""

from __future__ import annotations

import math

import pytest

from core.metrics import Scores, edit_distance, eval_tokens


@pytest.mark.parametrize(
    "a,b,d",
    [
        ("kitten", "sitting", 3),
        ("", "abc", 3),
        ("abc", "", 3),
        ("abc", "abc", 0),
        ("abc", "acb", 2),
        ("flaw", "lawn", 2),
    ],
)
def test_edit_distance(a, b, d):
    assert edit_distance(list(a), list(b)) == d
    assert edit_distance(list(b), list(a)) == d


def test_edit_distance_on_tokens():
    assert edit_distance([r"\frac", "{", "a", "}"], [r"\frac", "{", "b", "}"]) == 1


@pytest.mark.parametrize(
    "pred,ref",
    [
        ("x^2", "x ^ { 2 }"),
        (r"\left( x \right)", "(x)"),
        (r"\left(\frac{a}{b}\right)", r"(\frac a b)"),
        (r"a \leq b", r"a\le b"),
        (r"\frac{1}{2}\,x", r"\dfrac12 x"),
    ],
)
def test_label_conventions_do_not_count_as_errors(pred, ref):
    scores = Scores()
    assert scores.add(pred, ref) == 0.0
    summary = scores.summary()
    assert summary["exact_match"] == 1.0 and summary["edit_distance"] == 0.0
    assert summary["cer"] == 0.0 and summary["token_accuracy"] == 1.0
    # corpus BLEU-4 as papers report it: a corpus without any 4-gram scores 0, even if right
    assert summary["bleu4"] == pytest.approx(1.0 if len(eval_tokens(ref)) >= 4 else 0.0)


def test_bleu4_by_hand():
    """abcde vs abcdf: n-gram precisions 4/5, 3/4, 2/3, 1/2, equal lengths (no penalty)."""
    scores = Scores()
    scores.add("abcde", "abcdf")
    assert scores.bleu() == pytest.approx((0.8 * 0.75 * (2 / 3) * 0.5) ** 0.25)
    assert scores.bleu() == pytest.approx(0.6687, abs=1e-4)


def test_bleu4_brevity_penalty_by_hand():
    """A correct but short prediction: all precisions 1, penalty exp(1 - 6/4)."""
    scores = Scores()
    scores.add("abcd", "abcdef")
    assert scores.bleu() == pytest.approx(math.exp(-0.5))


def test_bleu4_is_a_corpus_score():
    """Counts are pooled over the corpus, not averaged per sentence."""
    scores = Scores()
    scores.add("abcde", "abcdf")
    scores.add("abcd", "abcd")
    p = [(4 + 4) / (5 + 4), (3 + 3) / (4 + 3), (2 + 2) / (3 + 2), (1 + 1) / (2 + 1)]
    assert scores.bleu() == pytest.approx(math.prod(p) ** 0.25)


def test_bleu4_without_any_four_gram_match_is_zero():
    scores = Scores()
    scores.add("abc", "abd")
    assert scores.bleu() == 0.0
    assert Scores().bleu() == 0.0


def test_one_wrong_token():
    scores = Scores()
    ned = scores.add(r"\frac{a}{c}", r"\frac{a}{b}")
    assert ned == pytest.approx(1 / 7)
    s = scores.summary()
    assert s["n"] == 1 and s["exact_match"] == 0.0
    assert s["token_accuracy"] == pytest.approx(6 / 7)
    assert s["cer"] == pytest.approx(1 / len(r"\frac{a}{b}"))


def test_summary_averages_over_samples():
    scores = Scores()
    scores.add("x", "x")
    scores.add("y", "x")
    scores.add("", "ab")
    s = scores.summary()
    assert s["n"] == 3
    assert s["exact_match"] == pytest.approx(1 / 3)
    assert s["edit_distance"] == pytest.approx((0 + 1 + 1) / 3)
    assert s["token_accuracy"] == pytest.approx(1 / 4)  # 1 of x, x, a, b


def test_empty_scores_summary():
    s = Scores().summary()
    assert s == {
        "n": 0,
        "exact_match": 0.0,
        "bleu4": 0.0,
        "edit_distance": 0.0,
        "cer": 0.0,
        "token_accuracy": 0.0,
    }


def test_eval_tokens_of_broken_latex():
    assert eval_tokens(r"\frac{a") == [r"\frac", "{", "a", "}", "{", "}"]
    assert eval_tokens("") == []

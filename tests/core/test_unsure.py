"""Where in a reading the model was unsure: token offsets in the LaTeX and the stretches under
even odds, as the app underlines them and `predict --json` and the API report them."""

from __future__ import annotations

import json

import pytest

from core.latex import canonical_tokens, detokenize, token_spans
from core.result import Result, unsure_spans

FRACTION = ["\\frac", "{", "a", "}", "{", "b", "}", "+", "x", "^", "{", "2", "}"]


@pytest.mark.parametrize(
    "latex",
    [
        r"\frac{a}{b}+x^{2}",
        r"\alpha x+\beta \gamma y",
        r"\begin{pmatrix}a&b\\c&d\end{pmatrix}",
        r"\sum_{i=1}^{n}\mathrm{d}x\,\sin x",
        r"\text{if } x>0",
    ],
)
def test_token_spans_point_at_each_token_in_the_joined_latex(latex):
    tokens = canonical_tokens(latex)
    text = detokenize(tokens)
    spans = token_spans(tokens)
    assert [text[s:e] for s, e in spans] == tokens
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_unsure_stretches_are_the_tokens_under_even_odds_merged_with_neighbours():
    probs = [0.9, 0.9, 0.3, 0.9, 0.9, 0.9, 0.9, 0.4, 0.2, 0.9, 0.9, 0.45, 0.9, 0.95]  # + EOS
    spans = unsure_spans(FRACTION, probs)
    latex = detokenize(FRACTION)
    assert [(s.text, s.probability) for s in spans] == [("a", 0.3), ("+x", 0.2), ("2", 0.45)]
    assert all(latex[s.start : s.end] == s.text for s in spans)


def test_control_words_one_space_apart_merge_into_one_stretch():
    tokens = ["\\alpha", "x", "=", "1"]  # "\alpha x=1": the space belongs to the stretch
    spans = unsure_spans(tokens, [0.2, 0.3, 0.9, 0.9])
    assert [(s.text, s.probability) for s in spans] == [("\\alpha x", 0.2)]


def test_a_sure_reading_has_no_unsure_stretch():
    assert unsure_spans(FRACTION, [0.9] * 14) == []


def test_unknown_tokens_are_left_out_as_the_latex_leaves_them_out():
    tokens = ["x", "<unk>", "+", "y"]
    spans = unsure_spans(tokens, [0.9, 0.1, 0.9, 0.2])
    assert detokenize(["x", "+", "y"]) == "x+y"
    assert [(s.start, s.end, s.text) for s in spans] == [(2, 3, "y")]


def test_probabilities_that_do_not_match_the_tokens_mark_nothing():
    assert unsure_spans(FRACTION, [0.1, 0.1]) == []  # fewer than tokens: not this reading
    assert unsure_spans([], []) == []


def test_result_reports_unsure_stretches_in_its_json():
    result = Result(detokenize(FRACTION), 0.4, tokens=FRACTION, token_probs=[0.9] * 7 + [0.2] * 7)
    d = json.loads(json.dumps(result.to_dict()))
    assert d["unsure"] == [
        {"start": 11, "end": 17, "text": "+x^{2}", "probability": 0.2},
    ]
    assert Result("x", 0.9).to_dict()["unsure"] == []  # no tokens (e.g. from history)

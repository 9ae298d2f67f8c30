"""The Recognizer API every front end uses: results, alternatives, confidence, bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from core.decoding import Hypothesis
from core.errors import InvalidImage, ModelError
from core.preprocess import candidates
from core.recognizer import (
    MAX_BEAM,
    Recognizer,
    alternative_confidences,
    default_model_dir,
    surest,
)
from core.result import Result


@pytest.fixture(scope="module")
def rec(random_model_dir) -> Recognizer:
    return Recognizer.from_pretrained(random_model_dir, device="cpu")


def test_info_describes_the_model(rec, random_model_dir):
    info = rec.info
    assert info["name"] == "random-test"
    assert info["device"] == "cpu" and info["path"] == str(random_model_dir)
    assert info["parameters"] > 10_000 and info["created"]


def check_result(res: Result) -> None:
    assert isinstance(res.latex, str)
    assert 0.0 <= res.confidence <= 1.0
    assert res.ms > 0
    assert res.empty_reason is None
    assert len(res.token_probs) in (len(res.tokens), len(res.tokens) + 1)  # + EOS if finished
    latexes = [a.latex for a in res.alternatives]
    assert len(set(latexes)) == len(latexes) and res.latex not in latexes
    assert all(a.latex and 0.0 <= a.confidence <= 1.0 for a in res.alternatives)
    d = res.to_dict()
    assert set(d) == {"latex", "confidence", "alternatives", "unsure", "ms"}
    for part in d["unsure"]:  # offsets into the LaTeX the user sees
        assert res.latex[part["start"] : part["end"]] == part["text"]


def test_recognize_a_file(rec, formula_png):
    res = rec.recognize(formula_png)
    check_result(res)
    assert len(res.alternatives) == 0  # greedy: no beam, no alternatives


@pytest.mark.parametrize("beam,n_alt", [(3, 2), (5, 3), (MAX_BEAM + 20, 4)])
def test_beam_alternatives_are_distinct(rec, formula_png, beam, n_alt):
    res = rec.recognize(formula_png, beam=beam, alternatives=n_alt)
    check_result(res)
    assert len(res.alternatives) <= n_alt


def test_every_source_kind_gives_the_same_answer(rec, formula_png):
    data = formula_png.read_bytes()
    pil = Image.open(io.BytesIO(data))
    answers = {
        rec.recognize(src).latex
        for src in (formula_png, str(formula_png), data, pil, np.asarray(pil))
    }
    assert len(answers) == 1


def test_blank_image_gives_an_empty_result_with_a_reason(rec):
    res = rec.recognize(Image.new("RGB", (200, 80), "white"))
    assert res.latex == "" and res.confidence == 0.0 and res.alternatives == []
    assert "blank" in res.empty_reason
    assert res.to_dict()["empty_reason"] == res.empty_reason


@pytest.mark.parametrize("bad", [b"", b"not an image", "/no/such/file.png"])
def test_unreadable_image_raises_invalid_image(rec, bad):
    with pytest.raises(InvalidImage):
        rec.recognize(bad)


def test_batch_keeps_order_and_carries_on_past_bad_inputs(rec, formula_png, tmp_path):
    data = formula_png.read_bytes()
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(data[: len(data) // 2])
    inputs = [
        formula_png,
        b"",
        Image.new("L", (120, 60), 255),
        tmp_path / "missing.png",
        data,
        truncated,
        Image.new("L", (1, 400), 0),
        np.asarray(Image.open(formula_png)),
    ]
    out = rec.recognize_batch(inputs, beam=2, alternatives=1, batch_size=2)
    assert len(out) == len(inputs)
    kinds = [
        "ok" if isinstance(r, Result) and not r.empty_reason else type(r).__name__ for r in out
    ]
    assert kinds == [
        "ok",
        "InvalidImage",
        "Result",  # blank: an empty Result with its reason
        "InvalidImage",
        "ok",
        "InvalidImage",
        "InvalidImage",
        "ok",
    ]
    assert out[2].latex == "" and "blank" in out[2].empty_reason
    assert all(str(r) for r in out if isinstance(r, InvalidImage))
    single = rec.recognize(formula_png, beam=2, alternatives=1)
    for i in (0, 4, 7):
        check_result(out[i])
        assert out[i].latex == single.latex


def test_batch_of_nothing(rec):
    assert rec.recognize_batch([]) == []


def test_batch_of_only_bad_inputs(rec):
    out = rec.recognize_batch([b"", b"x"])
    assert all(isinstance(r, InvalidImage) for r in out)


def test_the_surest_reading_is_the_most_fluent_per_token():
    def reading(n_tokens: int, logprob: float, finished: bool = True) -> list[Hypothesis]:
        return [Hypothesis(list(range(n_tokens)), [0.5] * (n_tokens + 1), logprob, finished)]

    short_unsure = reading(1, -1.0)  # -0.5 a token
    long_sure = reading(9, -2.0)  # -0.2 a token: longer, but read more surely
    assert surest([short_unsure, long_sure]) is long_sure
    tie = reading(9, -2.0)
    assert surest([long_sure, tie]) is long_sure  # the standard input keeps a tie
    cut_off = reading(3, -0.1, finished=False)  # ran into the length cap
    assert surest([cut_off, short_unsure]) is short_unsure


@pytest.fixture(scope="module")
def low_zoom_png(tmp_path_factory, crisp_and_low_zoom):
    """A formula snipped at low zoom, as a PNG file."""
    path = tmp_path_factory.mktemp("low-zoom") / "small.png"
    crisp_and_low_zoom[1].save(path)
    assert len(candidates(path)) == 4  # three glyph sizes and the ink-weighted one
    return path


def test_a_low_zoom_snip_gives_the_surest_of_its_readings(rec, low_zoom_png, formula_png):
    inputs = candidates(low_zoom_png, rec.loaded.preprocess)
    greedy = [rec._decode([arr], 1, 0)[0] for arr in inputs]
    chosen = inputs[[r is surest(greedy) for r in greedy].index(True)]
    # greedy: the surest of the readings of every input
    alone = rec.recognize(low_zoom_png, beam=1, alternatives=0)
    assert alone.latex == rec._result(surest(greedy), 0, 0.0).latex
    # with a beam, greedy picks the input and the beam reads that one alone
    expected = rec._result(rec._decode([chosen], 2, 1)[0], 1, 0.0)
    single = rec.recognize(low_zoom_png, beam=2, alternatives=1)
    check_result(single)
    assert (single.latex, single.confidence) == (expected.latex, expected.confidence)
    # the attention maps are drawn on the input the reading came from
    assert np.array_equal(rec.model_input(low_zoom_png), chosen)
    crisp = candidates(formula_png, rec.loaded.preprocess)
    assert any(np.array_equal(rec.model_input(formula_png), arr) for arr in crisp)
    # in a batch, its readings are paired up again whatever the batches and their order
    out = rec.recognize_batch(
        [formula_png, low_zoom_png, b"", low_zoom_png], beam=2, alternatives=1, batch_size=2
    )
    assert out[0].latex == rec.recognize(formula_png, beam=2, alternatives=1).latex
    assert out[1].latex == out[3].latex == single.latex
    assert isinstance(out[2], InvalidImage)


def test_confidence_is_a_probability(rec):
    assert rec.confidence(Hypothesis([5], [0.5, 0.5], float(np.log(0.25)))) == pytest.approx(0.25)
    assert rec.confidence(Hypothesis([5], [0.9], float(np.log(0.9)), finished=False)) == 0.0
    assert rec.confidence(Hypothesis([], [1.0], 0.0)) == 1.0


def test_default_beam_is_settable(random_model_dir, formula_png):
    rec = Recognizer.from_pretrained(random_model_dir, device="cpu", beam=3)
    assert rec.beam == 3
    rec.beam = 1
    assert rec.recognize(formula_png).alternatives == []


def test_model_location_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TEXSNAP_MODEL", str(tmp_path))
    assert default_model_dir() == tmp_path
    with pytest.raises(ModelError, match="config.json is missing"):
        Recognizer.from_pretrained()


def test_absent_gpu_is_a_model_error(random_model_dir, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ModelError, match="CUDA"):
        Recognizer.from_pretrained(random_model_dir, device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_recognize_on_cuda(random_model_dir, formula_png):
    rec = Recognizer.from_pretrained(random_model_dir, device="cuda")
    assert rec.info["device"] == "cuda"
    assert next(rec.loaded.model.parameters()).is_cuda
    check_result(rec.recognize(formula_png, beam=3, alternatives=2))
    out = rec.recognize_batch([formula_png, b"", formula_png.read_bytes()])
    assert isinstance(out[1], InvalidImage)
    assert out[0].latex == out[2].latex


def _hyp(p: float, finished: bool = True) -> Hypothesis:
    return Hypothesis([5], [p], float(np.log(p)), finished=finished)


def test_alternatives_without_calibration_keep_their_own_probability():
    best, alts = _hyp(0.5), [_hyp(0.2), _hyp(0.1)]
    assert alternative_confidences(best, alts, 0.5) == pytest.approx([0.2, 0.1])


def test_calibrated_alternatives_keep_the_models_odds_and_never_add_up_past_one():
    # calibration raised the best reading from 0.5 to 0.8: the alternatives share what is left
    best, alts = _hyp(0.5), [_hyp(0.2), _hyp(0.1)]
    shares = alternative_confidences(best, alts, 0.8)
    assert shares[0] == pytest.approx(2 * shares[1])
    assert 0.8 + sum(shares) == pytest.approx(1.0)
    # a small raise leaves room: the alternatives are raised in the same proportion
    assert alternative_confidences(best, alts, 0.6) == pytest.approx([0.24, 0.12])


def test_unfinished_readings_among_alternatives_get_no_confidence():
    assert alternative_confidences(_hyp(0.5), [_hyp(0.3, finished=False)], 0.7) == [0.0]
    assert alternative_confidences(_hyp(0.5, finished=False), [_hyp(0.3)], 0.0) == pytest.approx(
        [0.3]
    )


def test_a_beam_reads_only_the_input_greedy_found_surest(rec, formula_png, monkeypatch):
    # a wider beam costs what it costs on one input, not on every glyph size
    calls = []
    decode = rec._decode

    def counting(arrays, beam, n_alt):
        calls.append((len(arrays), beam))
        return decode(arrays, beam, n_alt)

    monkeypatch.setattr(rec, "_decode", counting)
    n = len(candidates(formula_png, rec.loaded.preprocess))
    assert n == 3
    rec.recognize(formula_png, beam=4, alternatives=2)
    assert calls == [(n, 1), (1, 4)]
    calls.clear()
    rec.recognize_batch([formula_png, b"", formula_png], beam=4, alternatives=2, batch_size=16)
    assert calls == [(2 * n, 1), (2, 4)]
    calls.clear()
    rec.recognize(formula_png, beam=1, alternatives=0)  # greedy: one pass over all of them
    assert calls == [(n, 1)]

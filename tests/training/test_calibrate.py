"""Confidence calibration: the fitted scale makes confidence match how often readings are right,
is stored in the model without touching its weights, and is what the recognizer then shows."""

import json
import math
import random

import pytest

from core.checkpoint import load_model, read_config, update_config
from core.errors import TeXSnapError
from core.recognizer import Recognizer
from training import calibrate
from training.calibrate import confidence, ece, fit_scale, main, read_slices


def synthetic(true_scale: float, n: int = 4000, seed: int = 0):
    """Readings whose chance of being right is exp(true_scale * logprob)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        logprob = -rng.uniform(0.0, 8.0)
        out.append((logprob, True, rng.random() < math.exp(true_scale * logprob)))
    return out


def test_fit_recovers_the_scale_behind_the_readings_and_lowers_the_error():
    readings = synthetic(0.4)
    scale = fit_scale(readings)
    assert scale == pytest.approx(0.4, abs=0.06)
    assert ece(readings, scale) < 0.03 < ece(readings, 1.0)


def test_an_unfinished_reading_has_no_confidence_at_any_scale():
    assert confidence(-0.1, False, 0.5) == 0.0
    assert confidence(0.0, True, 0.5) == 1.0
    with pytest.raises(TeXSnapError, match="No finished readings"):
        fit_scale([(-1.0, False, False)])


def test_stored_scale_is_what_the_recognizer_uses_and_the_weights_still_verify(
    random_model_dir, tmp_path
):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(random_model_dir, model)
    before = read_config(model)
    update_config(model, calibration={"scale": 0.25, "fitted_on": {"printed": 3}})
    after = read_config(model)
    assert after["sha256"] == before["sha256"] and after["vocabulary"] == before["vocabulary"]
    assert load_model(model, "cpu").calibration == 0.25  # loads: the checksum still matches

    class Reading:
        logprob, finished = -2.0, True

    rec = Recognizer.from_pretrained(model, device="cpu")
    assert rec.confidence(Reading()) == pytest.approx(math.exp(-0.5))


def test_dev_slices_are_read_once_each_with_their_log_probability(random_model_dir, tiny_shards):
    by_source = read_slices(random_model_dir, tiny_shards, limit=10)
    assert list(by_source) == ["printed"]
    assert len(by_source["printed"]) == 4  # the tiny dev shard's four formulas
    for logprob, finished, right in by_source["printed"]:
        assert logprob <= 0.0 and isinstance(finished, bool) and isinstance(right, bool)


def test_command_writes_the_fit_into_the_model(random_model_dir, tmp_path, monkeypatch, capsys):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(random_model_dir, model)
    monkeypatch.setattr(
        calibrate, "read_slices", lambda *a: {"printed": synthetic(0.5, 2000), "crohme": []}
    )
    assert main([str(model), "--shards", str(tmp_path), "--write"]) == 0
    stored = read_config(model)["calibration"]
    assert stored == json.loads(capsys.readouterr().out)
    assert stored["scale"] == pytest.approx(0.5, abs=0.08)
    assert stored["fitted_on"] == {"crohme": 0, "printed": 2000}
    assert stored["ece_after"]["printed"] < stored["ece_before"]["printed"]


def test_command_without_dev_shards_says_so_and_leaves_the_model(random_model_dir, tmp_path):
    before = read_config(random_model_dir)
    assert main([str(random_model_dir), "--shards", str(tmp_path), "--write"]) == 1
    assert read_config(random_model_dir) == before


def test_unsure_marks_benchmark_judges_both_warnings_on_the_dev_slices(
    random_model_dir, tiny_shards, tmp_path, capsys
):
    """benchmarks/unsure_marks.py reads the dev slices through the same ``read_dev``."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "unsure_marks.py"
    spec = importlib.util.spec_from_file_location("unsure_marks", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "marks.json"
    assert (
        bench.main(
            ["--shards", str(tiny_shards), "--model", str(random_model_dir), "--json", str(out)]
        )
        == 0
    )
    result = json.loads(out.read_text())["printed"]
    assert result["samples"] == 4
    # a random model reads everything wrong, unsure of its tokens: both warnings catch it all
    assert result["wrong"] == 4 and result["marks_catch_wrong"] == 1.0
    assert result["flag_catches_wrong"] == 1.0
    assert "| printed | 4 | 4 |" in capsys.readouterr().out

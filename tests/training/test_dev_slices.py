"""benchmarks/dev_slices.py: plain and formula-balanced exact match on the dev shards."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from tests.training.conftest import tiny_overrides
from training.config import load_config
from training.trainer import Trainer, evaluate_slices

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import dev_slices  # noqa: E402


def test_every_formula_weighs_once_however_often_it_was_written():
    # one formula written four times and read, one written once and missed: 4 of 5 images
    # read, but only one of the two formulas
    assert dev_slices.formula_balanced({"a": [True] * 4, "b": [False]}) == 0.5
    assert dev_slices.formula_balanced({"a": [True, False]}) == 0.5
    assert dev_slices.formula_balanced({}) == 0.0


def test_each_sample_is_heard_once_and_agrees_with_the_totals(tiny_shards, tmp_path):
    trainer = Trainer(
        load_config(None, tiny_overrides(tiny_shards, tmp_path, "steps=1")),
        device="cpu",
        log=lambda *_: None,
    )
    heard = []
    results = evaluate_slices(
        trainer.model, trainer.dev, 100, torch.device("cpu"), on_sample=lambda *a: heard.append(a)
    )
    for source, scores in results.items():
        mine = [exact for s, _, exact, _ in heard if s == source]
        assert len(mine) == scores["n"]
        assert sum(mine) == round(scores["exact_match"] * scores["n"])
    assert sorted(i for _, i, _, _ in heard) == sorted(trainer.dev.keep)

"""bf16 autocast in CPU training (asked for, and only where the CPU computes bf16 natively),
and steps whose gradients are not finite, which are skipped."""

from __future__ import annotations

import csv
import math

import pytest
import torch

from tests.training.conftest import tiny_overrides
from training import trainer as trainer_module
from training.config import load_config
from training.trainer import Trainer


def _trainer(shards, out, native: bool, monkeypatch, *extra) -> Trainer:
    monkeypatch.setattr(trainer_module, "cpu_has_native_bf16", lambda: native)
    cfg = load_config(None, tiny_overrides(shards, out, "steps=6", "eval_every=1000", *extra))
    return Trainer(cfg, device="cpu", log=lambda *_: None)


@pytest.mark.parametrize(
    ("native", "extra", "expected"),
    [
        (True, ("cpu_bf16=true",), True),
        (False, ("cpu_bf16=true",), False),
        (True, (), False),  # not the default: run (33) turned NaN with it
    ],
)
def test_cpu_mixed_precision_follows_the_cpu_and_the_config(
    tiny_shards, tmp_path, monkeypatch, native, extra, expected
):
    assert _trainer(tiny_shards, tmp_path, native, monkeypatch, *extra).mixed_precision is expected


@pytest.mark.slow
def test_training_in_bf16_on_the_cpu_learns_and_saves_fp32_weights(
    tiny_shards, tmp_path, monkeypatch
):
    seen = []
    real_autocast = torch.autocast

    def spy(device_type, dtype=None, enabled=True, **kw):
        seen.append((device_type, dtype, enabled))
        return real_autocast(device_type, dtype, enabled=enabled, **kw)

    monkeypatch.setattr(torch, "autocast", spy)
    t = _trainer(tiny_shards, tmp_path, True, monkeypatch, "cpu_bf16=true")
    t.run()
    assert ("cpu", torch.bfloat16, True) in seen
    with (tmp_path / "metrics.csv").open() as f:
        losses = [float(row["loss"]) for row in csv.DictReader(f) if row.get("loss")]
    assert losses and all(math.isfinite(x) for x in losses)
    assert all(p.dtype == torch.float32 for p in t.model.parameters())


def _poison(trainer: Trainer, bad) -> None:
    """Make the loss NaN at the training steps (1-based calls) in ``bad``."""
    real, calls = trainer.model.forward, {"n": 0}

    def forward(*args, **kwargs):
        logits, loss = real(*args, **kwargs)
        calls["n"] += 1
        return logits, loss * float("nan") if bad(calls["n"]) else loss

    trainer.model.forward = forward


def _finite(trainer: Trainer) -> bool:
    return all(torch.isfinite(p).all() for p in trainer.model.parameters())


def test_a_step_with_gradients_that_are_not_finite_is_skipped(tiny_shards, tmp_path, monkeypatch):
    logs = []
    t = _trainer(tiny_shards, tmp_path, False, monkeypatch, "ema=0.9")
    t.log = logs.append
    _poison(t, lambda n: n == 3)
    t.run()
    assert _finite(t) and all(torch.isfinite(v).all() for v in t.ema.values())
    assert t.skipped_steps == 1 and t.step == 6
    assert any("step 3 skipped" in line for line in logs)


def test_many_bad_steps_in_a_row_stop_the_run_with_sound_weights(
    tiny_shards, tmp_path, monkeypatch
):
    from safetensors.torch import load_file

    from core.errors import ModelError

    t = _trainer(tiny_shards, tmp_path, False, monkeypatch, "steps=40")
    _poison(t, lambda n: n > 2)
    with pytest.raises(ModelError, match="not finite"):
        t.run()
    assert t.step == 2 + trainer_module.MAX_BAD_STEPS - 1
    saved = load_file(str(tmp_path / "checkpoint" / "model.safetensors"))
    assert all(torch.isfinite(v).all() for v in saved.values() if v.is_floating_point())

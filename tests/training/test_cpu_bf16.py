"""bf16 autocast in CPU training: on where the CPU computes bf16 natively, off where asked."""

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
    [(True, (), True), (False, (), False), (True, ("bf16=false",), False)],
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
    t = _trainer(tiny_shards, tmp_path, True, monkeypatch)
    t.run()
    assert ("cpu", torch.bfloat16, True) in seen
    with (tmp_path / "metrics.csv").open() as f:
        losses = [float(row["loss"]) for row in csv.DictReader(f) if row.get("loss")]
    assert losses and all(math.isfinite(x) for x in losses)
    assert all(p.dtype == torch.float32 for p in t.model.parameters())

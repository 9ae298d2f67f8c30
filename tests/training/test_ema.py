"""EMA of the weights: the exported model holds the averaged weights, and the dev evaluation that
picks the export judges those same weights, so the scores saved with a model are its own."""

from __future__ import annotations

import json

import torch

from core.checkpoint import load_model
from tests.training.conftest import tiny_overrides
from training import trainer as trainer_module
from training.config import load_config
from training.trainer import Trainer


def _run_judged(cfg, monkeypatch):
    """Train; return the trainer, the weights each dev evaluation judged, the exported model."""
    trainer = Trainer(cfg, device="cpu", log=lambda *_: None)
    judged = []
    real = trainer_module.evaluate_slices

    def spy(model, *args, **kwargs):
        judged.append({k: v.clone() for k, v in model.state_dict().items()})
        return real(model, *args, **kwargs)

    monkeypatch.setattr(trainer_module, "evaluate_slices", spy)
    return trainer, judged, trainer.run()


def test_evaluation_and_export_use_the_ema_weights(tiny_shards, tmp_path, monkeypatch):
    cfg = load_config(
        None, tiny_overrides(tiny_shards, tmp_path, "steps=12", "eval_every=12", "ema=0.9")
    )
    trainer, judged, model_dir = _run_judged(cfg, monkeypatch)

    assert len(judged) == 1
    name = next(k for k in trainer.ema if k.endswith("weight"))
    live = trainer.model.state_dict()[name]
    assert not torch.equal(trainer.ema[name], live)  # 12 steps at 0.9: the two have parted
    assert torch.equal(judged[0][name], trainer.ema[name])
    exported = load_model(model_dir, torch.device("cpu")).model.state_dict()[name]
    assert torch.allclose(exported.float(), trainer.ema[name], atol=1e-2, rtol=1e-2)  # fp16
    config = json.loads((model_dir / "config.json").read_text())
    assert config["metrics"]["step"] == 12


def test_without_ema_the_live_weights_are_judged(tiny_shards, tmp_path, monkeypatch):
    cfg = load_config(None, tiny_overrides(tiny_shards, tmp_path, "steps=4", "eval_every=4"))
    trainer = Trainer(cfg, device="cpu", log=lambda *_: None)
    judged = []
    real = trainer_module.evaluate_slices
    monkeypatch.setattr(
        trainer_module,
        "evaluate_slices",
        lambda model, *a, **k: judged.append(model) or real(model, *a, **k),
    )
    trainer.run()
    assert judged == [trainer.model]


def test_bn_batches_recompute_the_judged_statistics_and_leave_training_alone(
    tiny_shards, tmp_path, monkeypatch
):
    """With bn_batches the EMA weights are judged and exported with BatchNorm statistics
    gathered for them; the EMA itself, the live model and the training batches are untouched."""

    def run(out, *extra):
        cfg = load_config(
            None, tiny_overrides(tiny_shards, out, "steps=6", "eval_every=6", "ema=0.9", *extra)
        )
        return _run_judged(cfg, monkeypatch)

    plain, judged_plain, _ = run(tmp_path / "plain")
    fresh, judged, model_dir = run(tmp_path / "bn", "bn_batches=2")
    stat = next(k for k in fresh.ema if k.endswith("running_mean"))
    weight = next(k for k in fresh.ema if k.endswith("weight"))
    assert torch.equal(judged[0][weight], fresh.ema[weight])
    assert not torch.allclose(judged[0][stat], fresh.ema[stat])  # recomputed for the judging
    exported = load_model(model_dir, torch.device("cpu")).model.state_dict()[stat]
    assert torch.allclose(exported.float(), judged[0][stat], atol=1e-2, rtol=1e-2)
    # training itself did not change: the same live weights and EMA as without the option
    for k, v in plain.model.state_dict().items():
        assert torch.equal(v, fresh.model.state_dict()[k]), k
    assert all(torch.equal(v, fresh.ema[k]) for k, v in plain.ema.items())
    assert torch.equal(judged_plain[0][stat], plain.ema[stat])

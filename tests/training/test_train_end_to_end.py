"""The whole path, render → preprocess → train → save → load → decode → CLI, on a tiny model."""

from __future__ import annotations

import json

import pytest

from core.recognizer import Recognizer
from core.render import render_png
from main import main
from tests.training.conftest import FORMULAS, tiny_overrides
from training.config import load_config
from training.trainer import Trainer


@pytest.fixture(scope="module")
def trained(tiny_shards, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    cfg = load_config(
        None,
        tiny_overrides(
            tiny_shards,
            out,
            "steps=250",
            "lr=3e-3",
            "min_lr=1e-3",
            "label_smoothing=0",
            "augment=false",
            "eval_every=50",
            "save_every=100",
            "weight_decay=0",
        ),
    )
    model_dir = Trainer(cfg, device="cpu", log=lambda *_: None).run()
    return out, model_dir


@pytest.mark.slow
def test_tiny_model_learns_to_read_its_formulas(trained):
    out, model_dir = trained
    rec = Recognizer.from_pretrained(model_dir, device="cpu")
    read = [rec.recognize(render_png(f, dpi=120, fontsize=20)).latex for f in FORMULAS]
    assert read == FORMULAS
    config = json.loads((model_dir / "config.json").read_text())
    assert config["metrics"]["dev"]["printed"]["exact_match"] == 1.0
    assert config["training"]["steps"] > 0


@pytest.mark.slow
def test_trained_model_works_from_the_command_line(trained, tmp_path, capsys):
    _, model_dir = trained
    img = tmp_path / "f.png"
    img.write_bytes(render_png(FORMULAS[1], dpi=120, fontsize=20))
    assert main(["predict", "--model", str(model_dir), "--json", str(img)]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["latex"] == FORMULAS[1]


@pytest.mark.slow
def test_run_writes_metrics_plots_and_tensorboard(trained):
    out, _ = trained
    assert (out / "metrics.csv").read_text().startswith("step,loss")
    assert (out / "eval.csv").exists()
    assert (out / "loss.png").stat().st_size > 1000
    assert (out / "eval.png").stat().st_size > 1000
    assert any((out / "tensorboard").iterdir())


@pytest.mark.slow
def test_a_new_run_can_start_from_an_exported_model(trained, tiny_shards, tmp_path):
    import torch

    from core.checkpoint import load_model

    _, model_dir = trained
    cfg = load_config(
        None, tiny_overrides(tiny_shards, tmp_path, "steps=1", f"init_model={model_dir}")
    )
    trainer = Trainer(cfg, device="cpu", log=lambda *_: None)
    exported = load_model(model_dir, "cpu")
    assert trainer.vocab.tokens == exported.vocab.tokens
    for name, value in exported.model.state_dict().items():
        assert torch.equal(trainer.model.state_dict()[name], value.float()), name

"""A run's last checkpoint weights (what a GPU lender hands back) become a loadable model."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from core.checkpoint import load_model
from core.errors import ModelError
from training.export_weights import export_weights, main


@pytest.fixture
def last_weights(random_model_dir, tmp_path):
    """Checkpoint-style weights (fp32, tied head stored once) that differ from the export."""
    model = load_model(random_model_dir).model
    state = {
        k: v + 0.01 if v.is_floating_point() else v
        for k, v in model.state_dict().items()
        if k != "head.weight"
    }
    path = tmp_path / "checkpoint-model.safetensors"
    save_file(state, path)
    return path, state


def test_last_weights_become_a_model(random_model_dir, last_weights, tmp_path):
    path, state = last_weights
    csv = tmp_path / "eval.csv"
    csv.write_text("step,crohme_exact_match,printed_bleu4\n1000,0.5,0.7\n2925,0.56,0.75\n")
    out = export_weights(path, random_model_dir, tmp_path / "out", csv)
    loaded = load_model(out)
    for k, v in state.items():  # stored in fp16
        got = loaded.model.state_dict()[k]
        assert torch.allclose(got.float(), v.half().float() if v.is_floating_point() else v.float())
    assert loaded.config["metrics"] == {
        "dev": {"crohme": {"exact_match": 0.56}, "printed": {"bleu4": 0.75}},
        "step": 2925,
    }
    assert loaded.config["training"]["steps"] == 2925


def test_weights_of_another_model_are_a_clear_error(random_model_dir, tmp_path, capsys):
    path = tmp_path / "other.safetensors"
    save_file({"embed.weight": torch.zeros(3, 3)}, path)
    with pytest.raises(ModelError, match="do not fit"):
        export_weights(path, random_model_dir, tmp_path / "out")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not safetensors")
    assert main([str(broken), str(random_model_dir), str(tmp_path / "out")]) == 2
    assert "Cannot read the weights" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_runs_average_of_the_weights_replaces_the_last(
    random_model_dir, last_weights, tmp_path
):
    path, state = last_weights
    averaged = {k: v - 0.02 for k, v in state.items() if v.is_floating_point()}
    optim = tmp_path / "optim.safetensors"
    save_file({"step.0": torch.zeros(1), **{f"ema.{k}": v for k, v in averaged.items()}}, optim)
    loaded = load_model(export_weights(path, random_model_dir, tmp_path / "out", ema=optim))
    for k, v in averaged.items():
        assert torch.allclose(loaded.model.state_dict()[k].float(), v.half().float())


def test_a_checkpoint_without_an_average_is_a_clear_error(
    random_model_dir, last_weights, tmp_path, capsys
):
    path, _ = last_weights
    optim = tmp_path / "optim.safetensors"
    save_file({"step.0": torch.zeros(1)}, optim)
    args = [str(path), str(random_model_dir), str(tmp_path / "out"), "--ema", str(optim)]
    assert main(args) == 2
    assert "did not use ema" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_checkpoints_own_step_is_recorded(random_model_dir, last_weights, tmp_path):
    """A run stopped after its last evaluation: the config says how far the weights trained,
    not where the last dev evaluation was; a broken state.json falls back to the evaluation."""
    path, _ = last_weights
    csv = tmp_path / "eval.csv"
    csv.write_text("step,printed_bleu4\n3000,0.75\n")
    state = tmp_path / "state.json"
    state.write_text('{"step": 3687, "epoch": 0}')
    loaded = load_model(export_weights(path, random_model_dir, tmp_path / "a", csv))
    assert loaded.config["training"]["steps"] == 3687
    assert loaded.config["metrics"]["step"] == 3000
    state.write_text("{not json")
    loaded = load_model(export_weights(path, random_model_dir, tmp_path / "b", csv))
    assert loaded.config["training"]["steps"] == 3000

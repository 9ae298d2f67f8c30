"""Two models of one architecture average into a loadable model; mismatches are refused."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from core.checkpoint import load_model
from core.errors import ModelError
from training.average_models import average_models, main


@pytest.fixture
def two_models(random_model_dir, tmp_path):
    """The random model and a copy whose float weights are all 0.5 higher."""
    other = tmp_path / "other"
    shutil.copytree(random_model_dir, other)
    path = other / "model.safetensors"
    state = {k: v + 0.5 if v.is_floating_point() else v for k, v in load_file(path).items()}
    save_file(state, path)
    config = json.loads((other / "config.json").read_text())
    config.pop("sha256", None)  # the weights changed on purpose
    (other / "config.json").write_text(json.dumps(config))
    return random_model_dir, other


def test_average_is_the_mean_and_loads(two_models, tmp_path):
    a, b = two_models
    dev = tmp_path / "dev.txt"
    dev.write_text(
        'crohme {"n": 320, "exact_match": 0.52}\nprinted {"n": 500, "exact_match": 0.5}\n'
    )
    out = average_models(a, b, tmp_path / "soup", dev)
    soup = load_model(out)
    wa = load_model(a).model.state_dict()
    for k, v in soup.model.state_dict().items():
        if v.is_floating_point():
            assert torch.allclose(v.float(), wa[k].float() + 0.25, atol=2e-3), k
    assert soup.config["metrics"]["dev"]["crohme"]["exact_match"] == 0.52
    assert "uniform average" in soup.config["training"]["averaged"]


def test_different_vocabularies_are_refused(two_models, tmp_path):
    a, b = two_models
    config = json.loads((b / "config.json").read_text())
    config["vocabulary"] = config["vocabulary"][:-1]
    (b / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="vocabulary"):
        average_models(a, b, tmp_path / "soup")
    assert not (tmp_path / "soup").exists()


def test_cli_reports_damaged_weights(two_models, tmp_path, capsys):
    a, b = two_models
    (b / "model.safetensors").write_bytes(b"not safetensors")
    assert main([str(a), str(b), str(tmp_path / "soup")]) == 2
    assert "Cannot read the weights" in capsys.readouterr().err
    assert not (tmp_path / "soup").exists()


def test_damaged_dev_slices_file_writes_nothing(two_models, tmp_path):
    a, b = two_models
    dev = tmp_path / "dev.txt"
    dev.write_text("crohme {not json\n")
    with pytest.raises(ModelError, match="not JSON"):
        average_models(a, b, tmp_path / "soup", dev)
    dev.write_text("Traceback: nothing measured\n")
    with pytest.raises(ModelError, match="no dev-slice results"):
        average_models(a, b, tmp_path / "soup", dev)
    assert not (tmp_path / "soup").exists()


def test_weighted_average_leans_to_the_weight(two_models, tmp_path):
    a, b = two_models
    out = average_models(a, b, tmp_path / "soup", weight=0.25)
    soup = load_model(out)
    wa = load_model(a).model.state_dict()
    for k, v in soup.model.state_dict().items():
        if v.is_floating_point():
            assert torch.allclose(v.float(), wa[k].float() + 0.125, atol=2e-3), k
    assert "weighted average (0.75 / 0.25)" in soup.config["training"]["averaged"]


@pytest.mark.parametrize("weight", ["0", "1", "1.5", "-0.2", "nan"])
def test_cli_refuses_a_weight_outside_0_1(two_models, tmp_path, capsys, weight):
    a, b = two_models
    assert main([str(a), str(b), str(tmp_path / "soup"), "--weight", weight]) == 2
    assert "between 0 and 1" in capsys.readouterr().err
    assert not (tmp_path / "soup").exists()

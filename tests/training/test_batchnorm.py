"""Recomputing BatchNorm statistics: pooled over every element of training batches, weights
untouched."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.checkpoint import load_model, read_config
from training.batches import TrainData
from training.batchnorm import main, recompute_batchnorm
from training.data.shards import read_shards
from training.trainer import shard_files


def _data(loaded, shards) -> TrainData:
    shard = read_shards(shard_files(shards, "train"))
    return TrainData(shard, loaded.vocab, loaded.model.cfg.max_len, 1.0, 32)


def test_statistics_become_those_of_the_batches_and_nothing_else_moves(
    random_model_dir, tiny_shards
):
    loaded = load_model(random_model_dir)
    model, data = loaded.model, _data(loaded, tiny_shards)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    first = norms[0]
    seen = []
    first.register_forward_hook(lambda m, args, out: seen.append(args[0].detach().clone()))
    before = {k: v.clone() for k, v in model.state_dict().items()}

    assert recompute_batchnorm(model, data, [[0, 1, 2]]) == len(norms)

    (x,) = seen  # one batch: its own mean and (unbiased) variance, per channel
    assert torch.allclose(first.running_mean, x.mean(dim=(0, 2, 3)), atol=1e-5)
    assert torch.allclose(first.running_var, x.var(dim=(0, 2, 3)), rtol=1e-4, atol=1e-6)
    after = model.state_dict()
    for k, v in before.items():
        stat = k.endswith(("running_mean", "running_var", "num_batches_tracked"))
        assert torch.equal(v, after[k]) != stat or (stat and k.endswith("tracked")), k
    assert all(m.momentum == 0.1 for m in norms)  # the layers train as before afterwards
    assert not model.training and not any(m.training for m in model.modules())


def test_every_element_counts_the_same_whatever_its_batch(random_model_dir, tiny_shards):
    """A batch of one image weighs as its pixels do, not as much as a batch of many: averaged
    over batches, a few odd small batches decided run (37)'s statistics."""
    loaded = load_model(random_model_dir)
    model, data = loaded.model, _data(loaded, tiny_shards)
    first = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    seen = []
    first.register_forward_hook(lambda m, args, out: seen.append(args[0].detach().clone()))
    recompute_batchnorm(model, data, [[0], [2, 3, 4, 5, 6]])
    pixels = torch.cat([x.permute(1, 0, 2, 3).flatten(1) for x in seen], dim=1).double()
    assert seen[0].shape[0] == 1 and seen[1].shape[0] == 5
    assert torch.allclose(first.running_mean.double(), pixels.mean(1), atol=1e-5)
    assert torch.allclose(first.running_var.double(), pixels.var(1), rtol=1e-4, atol=1e-6)
    by_batch = torch.stack([x.mean(dim=(0, 2, 3)) for x in seen]).mean(0)
    assert not torch.allclose(first.running_mean, by_batch, atol=1e-5)


def test_command_line_writes_a_model_that_says_what_was_done(
    random_model_dir, tiny_shards, tmp_path
):
    out = tmp_path / "bn"
    assert main([str(random_model_dir), str(tiny_shards), str(out), "--batches", "2"]) == 0
    config = read_config(out)
    assert "recomputed from 2 training batches" in config["batchnorm"]
    assert config["metrics"] == {}  # the old dev metrics described other statistics
    new, old = load_model(out).model.state_dict(), load_model(random_model_dir).model.state_dict()
    conv = next(k for k in old if k.endswith("weight") and old[k].dim() == 4)
    assert torch.allclose(new[conv].float(), old[conv].float(), atol=1e-3)  # fp16 both ways
    bn = next(k for k in old if k.endswith("running_mean"))
    assert not torch.allclose(new[bn].float(), old[bn].float())


def test_command_line_refuses_a_folder_without_shards_or_model(random_model_dir, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([str(random_model_dir), str(empty), str(tmp_path / "a")]) == 1
    assert "no training shards" in capsys.readouterr().err
    assert main([str(empty), str(empty), str(tmp_path / "b")]) == 1
    assert capsys.readouterr().err.startswith("error:")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_failing_batch_leaves_the_old_statistics(random_model_dir, tiny_shards, monkeypatch):
    loaded = load_model(random_model_dir)
    model, data = loaded.model, _data(loaded, tiny_shards)
    before = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    collate = data.collate

    def broken(batch, key, *ids):
        if key == "bn/1":
            raise OSError("shard vanished")
        return collate(batch, key, *ids)

    monkeypatch.setattr(data, "collate", broken)
    with pytest.raises(OSError, match="vanished"):
        recompute_batchnorm(model, data, [[0, 1], [2, 3]])
    after = model.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())
    assert not model.training

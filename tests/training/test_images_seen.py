"""The images-seen count the model card quotes: replaying a run's plans gives the images its
steps really trained on, across epoch boundaries, and a run without shards is a message."""

import json
import sys
from pathlib import Path

import pytest

from tests.training.conftest import tiny_overrides
from training.config import load_config
from training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import images_seen  # noqa: E402


def _train(shards, out, steps, monkeypatch) -> list[int]:
    """Train ``steps`` steps of batches of at most 3 images; return each step's image count."""
    sizes = []
    step = Trainer._train_step

    def counted(self, batches):
        loss, n = step(self, batches)
        sizes.append(n)
        return loss, n

    monkeypatch.setattr(Trainer, "_train_step", counted)
    cfg = load_config(
        None, tiny_overrides(shards, out, f"steps={steps}", "max_batch=3", "eval_every=1000")
    )
    Trainer(cfg, device="cpu", log=lambda *_: None).run()
    return sizes


def test_count_matches_the_images_training_drew(tiny_shards, tmp_path, monkeypatch, capsys):
    sizes = _train(tiny_shards, tmp_path, 7, monkeypatch)  # 8 images: epochs of 3 batches
    assert len(sizes) == 7 and len(set(sizes)) > 1
    r = images_seen.images_seen(tmp_path)
    assert r["steps"] == 7 and r["epochs"] == 3
    assert r["images"] == sum(sizes)
    assert images_seen.images_seen(tmp_path, steps=2)["images"] == sum(sizes[:2])
    assert images_seen.main([str(tmp_path)]) == 0
    assert f"{sum(sizes)} images in 7 steps" in capsys.readouterr().out


def test_folder_without_checkpoint_is_a_message(tmp_path):
    with pytest.raises(SystemExit, match="no readable training checkpoint"):
        images_seen.images_seen(tmp_path)
    (tmp_path / "checkpoint").mkdir()
    (tmp_path / "checkpoint" / "state.json").write_text("{not json")
    with pytest.raises(SystemExit, match="no readable training checkpoint"):
        images_seen.images_seen(tmp_path)


def test_run_whose_shards_are_gone_is_a_message(tiny_shards, tmp_path, monkeypatch):
    _train(tiny_shards, tmp_path, 1, monkeypatch)
    state = tmp_path / "checkpoint" / "state.json"
    data = json.loads(state.read_text())
    data["config"]["shards"] = str(tmp_path / "nowhere")
    state.write_text(json.dumps(data))
    with pytest.raises(SystemExit, match="no training shards"):
        images_seen.images_seen(tmp_path)


def test_a_torchrun_run_counts_every_process(tiny_shards, tmp_path, monkeypatch, capsys):
    """Under DDP a step takes one batch of each process, dealt from the epoch's plan in turn;
    the batch left over when an epoch's plan does not go round is not drawn."""
    sizes = _train(tiny_shards, tmp_path, 7, monkeypatch)  # one process: epochs of 3 batches
    two = images_seen.images_seen(tmp_path, steps=2, world=2)
    # step 1: batches 0 and 1 of epoch 0 (batch 2 dropped); step 2: batches 0 and 1 of epoch 1
    assert two["images"] == sizes[0] + sizes[1] + sizes[3] + sizes[4]
    assert two["batches"] == 4 and two["epochs"] == 2 and two["world"] == 2
    model = tmp_path / "model" / "config.json"
    meta = json.loads(model.read_text())
    assert meta["training"]["world_size"] == 1  # the run itself says how many processes
    assert images_seen.images_seen(tmp_path)["world"] == 1
    meta["training"]["world_size"] = 2
    model.write_text(json.dumps(meta))
    assert images_seen.images_seen(tmp_path, steps=2) == two
    assert images_seen.main([str(tmp_path), "--steps", "2"]) == 0
    assert f"{two['images']} images in 2 steps (4 batches, 2 processes" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        images_seen.main([str(tmp_path), "--world", "0"])

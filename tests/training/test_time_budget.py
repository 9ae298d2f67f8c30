"""Runs sized in seconds, batches collated by worker processes, shards picked up mid-run: the
features a short run on a borrowed GPU relies on."""

from __future__ import annotations

import json
import shutil

import torch

from tests.training.conftest import make_shards, tiny_overrides
from training.config import load_config
from training.data.build import _interleaved
from training.trainer import Trainer, lr_at, training_data


def _trainer(shards, out, *extra):
    cfg = load_config(None, tiny_overrides(shards, out, *extra))
    return Trainer(cfg, device="cpu", log=lambda *_: None)


def _take(gen, n):
    return [next(gen) for _ in range(n)]


def test_worker_processes_collate_exactly_the_batches_of_the_loop(tiny_shards, tmp_path):
    plain = _take(_trainer(tiny_shards, tmp_path / "a", "max_batch=2").batches(), 6)
    pooled = _take(
        _trainer(tiny_shards, tmp_path / "b", "max_batch=2", "loader_workers=2").batches(), 6
    )
    for x, y in zip(plain, pooled, strict=True):
        for a, b in zip(x, y, strict=True):
            assert torch.equal(a, b)


def test_a_time_budget_ends_the_run_evaluates_and_exports(tiny_shards, tmp_path):
    trainer = _trainer(
        tiny_shards, tmp_path, "steps=1000000", "time_budget_s=2", "eval_every=999999"
    )
    model_dir = trainer.run()
    assert 2 <= trainer.elapsed < 30
    assert trainer.step < 1000000
    assert (tmp_path / "eval.csv").read_text().count("\n") == 2  # header + the final evaluation
    config = json.loads((model_dir / "config.json").read_text())
    assert config["metrics"]["step"] == trainer.step
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    assert state["elapsed"] == trainer.elapsed  # a resumed run keeps the budget's clock


def test_with_a_time_budget_the_cosine_runs_on_time():
    cfg = load_config(None, ["time_budget_s=100", "warmup=10", "lr=1e-3", "min_lr=1e-5"])
    assert lr_at(5, cfg, 0.0) < 1e-3  # warm-up still counts steps
    assert lr_at(50, cfg, 50.0) == lr_at(10**6, cfg, 50.0)  # the step count no longer matters
    assert abs(lr_at(50, cfg, 100.0) - 1e-5) < 1e-12


def test_shards_added_during_a_run_join_at_the_next_epoch(tmp_path):
    shards = make_shards(tmp_path / "shards")
    trainer = _trainer(shards, tmp_path / "run", "grow_shards=true", "max_batch=2")
    before = len(trainer.train.keep)
    gen = trainer.batches()
    next(gen)
    shutil.copy(shards / "printed-train-0-0000.npz", shards / "printed-train-0-0001.npz")
    while trainer.epoch == 0:
        next(gen)
    next(gen)
    assert len(trainer.train.keep) == 2 * before


def test_a_build_interleaves_kinds_so_an_early_stop_has_some_of_each():
    jobs = _interleaved({"printed": list("pppppp"), "handwritten": list("hh")})
    assert sorted(jobs) == sorted("pppppphh")
    assert "h" in jobs[:4]


def test_a_new_run_in_a_folder_holding_a_run_is_refused(tiny_shards, tmp_path):
    import pytest

    from core.errors import SettingsError

    _trainer(tiny_shards, tmp_path, "steps=2").run()
    with pytest.raises(SettingsError, match="--resume"):
        _trainer(tiny_shards, tmp_path, "steps=4").run()
    _trainer(tiny_shards, tmp_path, "steps=4").run(resume=True)  # continuing is fine


def test_profile_steps_write_where_the_time_goes(tiny_shards, tmp_path):
    _trainer(tiny_shards, tmp_path, "steps=14", "profile_steps=3", "eval_every=999").run()
    text = (tmp_path / "profile.txt").read_text()
    assert text.startswith("3 steps in ")
    assert "ms/step" in text and "aten::" in text


def test_a_run_ending_inside_the_profiled_steps_stops_the_profiler(tiny_shards, tmp_path):
    _trainer(tiny_shards, tmp_path, "steps=12", "profile_steps=5", "eval_every=999").run()
    assert (tmp_path / "profile.txt").read_text().startswith("2 steps in ")
    assert not torch._C._autograd._profiler_enabled()  # no hooks left on the process


def test_shape_buckets_pad_batches_to_few_shapes_without_changing_sizes(tmp_path):
    from training.batches import TrainData

    shards = make_shards(tmp_path / "shards", copies=6)
    trainer = _trainer(shards, tmp_path / "run", "shape_bucket=64")
    shard, vocab = trainer.train.shard, trainer.vocab
    plain, bucketed = TrainData(shard, vocab, 32), TrainData(shard, vocab, 32, bucket=64)
    plan = bucketed.epoch_plan(0, 0, 10**7, 3)
    for batch in plan:
        pi, ps, pin, _ = plain.collate(batch, "k", *trainer._ids())
        bi, bs, bin_, _ = bucketed.collate(batch, "k", *trainer._ids())
        assert bi.shape[-2] % 64 == 0 and bi.shape[-1] % 64 == 0
        assert torch.equal(ps, bs) and torch.equal(pin, bin_)  # real sizes and labels unchanged
        assert torch.equal(bi[..., : pi.shape[-2], : pi.shape[-1]], pi)
        assert not bi[..., pi.shape[-2] :, :].any() and not bi[..., pi.shape[-1] :].any()
    shapes = {(len(b), *bucketed.collate(b, None, *trainer._ids())[0].shape[-2:]) for b in plan}
    assert len(shapes) < len(plan)  # batches share shapes


def test_a_build_without_crohme_data_fails_fast_with_a_clear_error(tmp_path):
    import time

    import pytest

    from core.errors import TeXSnapError
    from training.data.build import build_all

    root = tmp_path / "data"
    (root / "formulas").mkdir(parents=True)
    (root / "formulas" / "k12.txt").write_text("x+1\n")
    started = time.perf_counter()
    with pytest.raises(TeXSnapError, match="train.zip"):
        build_all(
            tmp_path / "shards", printed=200_000, dev=1, shard_size=1, workers=1, data_root=root
        )
    assert time.perf_counter() - started < 60  # not 200,000 queued shards first


def test_low_res_reaches_the_printed_kinds_and_keeps_growing_shards(tiny_shards, tmp_path):
    """A run with low_res shows printed and LaTeX-typeset samples small, CROHME never, and
    the setting survives the rebuild of the training data when shards join mid-run."""
    trainer = _trainer(tiny_shards, tmp_path, "low_res=0.25")
    assert trainer.train.low_res == {"printed": 0.25, "latex": 0.25}
    rebuilt = training_data(
        trainer.train.shard, trainer.vocab, trainer.model.cfg.max_len, trainer.cfg
    )
    assert rebuilt.low_res == trainer.train.low_res
    assert _trainer(tiny_shards, tmp_path / "off").train.low_res == {}

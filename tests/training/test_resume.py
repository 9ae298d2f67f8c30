"""Interrupted training resumes bit-for-bit; torchrun with gloo and 2 processes works."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from core.errors import Cancelled
from tests.training.conftest import tiny_overrides
from training.config import load_config
from training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]


def _weights(out: Path) -> dict:
    return load_file(str(out / "checkpoint" / "model.safetensors"))


def _run(shards, out, steps=12, should_stop=lambda: False, resume=False):
    cfg = load_config(None, tiny_overrides(shards, out, f"steps={steps}", "eval_every=1000"))
    Trainer(cfg, device="cpu", log=lambda *_: None, should_stop=should_stop).run(resume=resume)


def _cli_run(shards, out, *extra) -> tuple[list[str], dict]:
    """``--set`` arguments and environment for ``main.py train`` in a child process."""
    sets = []
    for item in tiny_overrides(shards, out, *extra):
        sets += ["--set", item]
    return sets, {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


@pytest.mark.slow
def test_resume_after_interruption_is_bit_exact(tiny_shards, tmp_path):
    _run(tiny_shards, tmp_path / "straight")
    calls = {"n": 0}

    def stop_after_7():
        calls["n"] += 1
        return calls["n"] > 7

    with pytest.raises(Cancelled):
        _run(tiny_shards, tmp_path / "split", should_stop=stop_after_7)
    _run(tiny_shards, tmp_path / "split", resume=True)
    a, b = _weights(tmp_path / "straight"), _weights(tmp_path / "split")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_cancel_keeps_a_checkpoint_to_resume_from(tiny_shards, tmp_path):
    with pytest.raises(Cancelled):
        _run(tiny_shards, tmp_path, should_stop=lambda: True)
    assert (tmp_path / "checkpoint" / "state.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "length",
    [("steps=4", "log_every=2"), ("steps=100000", "time_budget_s=3")],  # both stop at one step
    ids=["steps", "time-budget"],
)
def test_torchrun_gloo_two_processes(tiny_shards, tmp_path, length):
    sets, env = _cli_run(tiny_shards, tmp_path, *length, "eval_every=1000")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(ROOT / "main.py"),
        "train",
        "--config",
        "",
        "--device",
        "cpu",
        *sets,
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "checkpoint" / "state.json").exists()
    if "log_every=2" in length:
        # logging under DDP: every rank joins the count of images (none waits alone for the
        # others), and rank 0 alone writes the rows
        with open(tmp_path / "metrics.csv", newline="") as f:
            rows = [r for r in csv.DictReader(f) if r.get("samples_per_s")]
        assert [int(r["step"]) for r in rows] == [2, 4]
        assert all(float(r["samples_per_s"]) > 0 for r in rows)


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_says_how_to_resume(tiny_shards, tmp_path):
    import json
    import signal
    import time

    sets, env = _cli_run(tiny_shards, tmp_path, "steps=100000", "eval_every=100000")
    cmd = [sys.executable, str(ROOT / "main.py"), "train", "--config", "", "--device", "cpu"]
    proc = subprocess.Popen([*cmd, *sets], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (tmp_path / "metrics.csv").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "--resume" in err
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    assert state["step"] >= 5

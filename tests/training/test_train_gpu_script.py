"""training/train_gpu.sh, the command a lent GPU machine runs: a broken script there costs a
whole session's device time, so it runs here first, on the CPU, with tiny shards and model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.training.conftest import TINY_MODEL, make_shards
from training.data.shards import read_shard, write_shard

ROOT = Path(__file__).resolve().parents[2]


def _data_root(tmp_path: Path) -> Path:
    """DATA_ROOT as the device gets it: no corpora, the dev and train shards carried."""
    shards = make_shards(tmp_path / "data" / "shards")
    printed = read_shard(shards / "printed-dev-0-0000.npz")
    images = [printed.image(i) for i in range(len(printed.labels))]
    write_shard(shards / "crohme-dev.npz", images, printed.labels, ["crohme"] * len(images))
    return tmp_path / "data"


@pytest.mark.skipif(
    shutil.which("bash") is None or not Path("/proc").is_dir(), reason="needs bash and /proc"
)
def test_the_gpu_script_trains_exports_and_collects_everything_in_out(tmp_path):
    out, shards = tmp_path / "out", tmp_path / "shards"
    shims = tmp_path / "bin"  # as on a machine without procps: no pkill
    shims.mkdir()
    (shims / "pkill").write_text("#!/bin/sh\nexit 127\n")
    (shims / "pkill").chmod(0o755)
    env = dict(
        os.environ,
        PATH=f"{shims}{os.pathsep}{os.environ['PATH']}",
        PYTHON=sys.executable,
        PYTHONPATH=str(ROOT),
        SHARDS=str(shards),
        RUN=str(tmp_path / "run"),
        FIRST_SHARDS="1",
        LOADER_WORKERS="0",
        RENDER_WORKERS="1",
        # an 8-second budget plus the usual 60 s is too tight for starting, evaluating and
        # exporting on a machine whose cores are busy (a training run beside the suite)
        STOP_GRACE="180",
    )
    # the vocabulary from the shards alone: canonicalizing the 280 k corpus formulas took most
    # of the budget's margin on a busy machine, and the script, not the vocabulary, is tested
    tiny = [
        "vocab_corpus=false",
        "vocab_min_count=1",
        "max_batch=4",
        "warmup=2",
        "eval_samples=4",
        "threads=1",
    ]
    sets = [a for kv in (*tiny, *TINY_MODEL) for a in ("--set", kv)]
    cmd = ["bash", "training/train_gpu.sh", str(out), str(_data_root(tmp_path)), "8", *sets]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    log = (out / "train.log").read_text() if (out / "train.log").exists() else done.stdout
    assert done.returncode == 0, log + done.stderr
    assert "training exit 0" in log
    for name in ("metrics.csv", "eval.csv", "data.log", "model/config.json"):
        assert (out / name).is_file(), name
    assert (out / "model" / "model.safetensors").stat().st_size > 0
    # the carried shards were used as they are, and the renderer beside the run was stopped
    assert np.array_equal(
        read_shard(shards / "crohme-dev.npz").image(0),
        read_shard(tmp_path / "data" / "shards" / "crohme-dev.npz").image(0),
    )
    time.sleep(0.5)
    assert not any(str(shards) in args for args in _command_lines())


def _command_lines() -> list[str]:
    """Every running process's command line (from /proc: a fresh machine may lack ps)."""
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            lines.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:  # the process ended meanwhile
            pass
    return lines

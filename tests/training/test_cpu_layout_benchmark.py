"""benchmarks/cpu_layout.py: the settings it trains with, and how it reads the rate."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import cpu_layout  # noqa: E402

from training.config import load_config  # noqa: E402


def test_the_rate_leaves_out_the_first_interval(tmp_path):
    metrics = tmp_path / "metrics.csv"
    metrics.write_text("step,loss,lr,samples_per_s,epoch\n20,1,0.1,5.0,0\n40,1,0.1,20.0,0\n")
    assert cpu_layout.images_per_second(metrics) == 20.0
    metrics.write_text("step,loss,lr,samples_per_s,epoch\n20,1,0.1,5.0,0\n")
    assert cpu_layout.images_per_second(metrics) == 5.0  # a single interval is all there is


def test_each_layout_trains_with_its_threads_and_precision():
    argv = cpu_layout.train_args("SHARDS", "OUT", 120, threads=1, bf16=True)
    sets = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "--set")
    cfg = load_config(
        ROOT / argv[argv.index("--config") + 1], [f"{k}={v}" for k, v in sets.items()]
    )
    assert (cfg.threads, cfg.cpu_bf16, cfg.steps, cfg.shards) == (1, True, 120, "SHARDS")
    assert argv[argv.index("--device") + 1] == "cpu"

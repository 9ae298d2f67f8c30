"""How to spend two CPU cores on training: one process with one or two threads, or two
processes of one thread each (DDP over gloo), all in bf16 autocast where the CPU has it.

    PYTHONPATH=. .venv/bin/python benchmarks/cpu_layout.py --shards DIR [--steps 120]
        [--layouts 1x1,1x2,2x1] [--repeats 1] [--fp32]

Each layout runs ``texsnap train`` from the bundled model for ``--steps`` steps on ``--shards``
(a folder of training shards, e.g. a few from ``texsnap data build``), in fresh processes,
layouts interleaved, and reads images a second from its metrics.csv (all ranks' images since
the trainer all-reduces them), the first logged interval left out (start-up). PROCESSESxTHREADS:
``2x1`` is ``torchrun --nproc_per_node=2`` with one thread per process. Under DDP each
optimizer step takes one batch from each process, so a step holds twice the images: the
comparison is images a second, not steps. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def train_args(shards: str, out: str, steps: int, threads: int, bf16: bool) -> list[str]:
    sets = {
        "init_model": "resources/models/base", "shards": shards, "out": out, "steps": steps,
        "threads": threads, "log_every": 20, "eval_every": 1_000_000, "eval_samples": 4,
        "save_every": 1_000_000, "seed": 5, "crohme_share": 0.35, "cpu_bf16": str(bf16).lower(),
        "bn_batches": 0,
    }  # fmt: skip
    argv = ["train", "--config", "training/configs/base.toml", "--device", "cpu"]
    for key, value in sets.items():
        argv += ["--set", f"{key}={value}"]
    return argv


def images_per_second(metrics: Path) -> float:
    rows = metrics.read_text().split()[1:]
    rows = rows[1:] or rows  # the first interval holds the start-up
    return statistics.mean(float(r.split(",")[3]) for r in rows)


def run(layout: str, args) -> float:
    procs, threads = (int(n) for n in layout.split("x"))
    with tempfile.TemporaryDirectory() as work:
        out = str(Path(work) / "run")
        argv = train_args(args.shards, out, args.steps, threads, not args.fp32)
        launch = [sys.executable, str(ROOT / "main.py")]
        if procs > 1:
            launch = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                      f"--nproc_per_node={procs}", str(ROOT / "main.py")]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(threads)}
        done = subprocess.run([*launch, *argv], env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{layout} failed:\n{done.stderr[-3000:]}")
        return images_per_second(Path(out) / "metrics.csv")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shards", required=True)
    p.add_argument("--steps", type=int, default=120)
    p.add_argument("--layouts", default="1x1,1x2,2x1")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--fp32", action="store_true", help="train in fp32 (default: cpu_bf16=true)")
    args = p.parse_args(argv)
    layouts = args.layouts.split(",")
    rates: dict[str, list[float]] = {layout: [] for layout in layouts}
    for _ in range(args.repeats):
        for layout in layouts:
            rates[layout].append(run(layout, args))
            print(f"{layout}: {rates[layout][-1]:.1f} images/s", file=sys.stderr, flush=True)
    kind = "fp32" if args.fp32 else "bf16 where native"
    print(f"| processes x threads ({kind}, {args.steps} steps) | images/s (runs) |")
    print("|---|---|")
    for layout, values in rates.items():
        shown = ", ".join(f"{v:.1f}" for v in values)
        print(f"| {layout} | {statistics.median(values):.1f} ({shown}) |")


if __name__ == "__main__":
    main()

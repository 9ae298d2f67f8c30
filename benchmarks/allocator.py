"""What giving every large buffer its own memory map (core/allocator.py) costs each kind of job.

    PYTHONPATH=. .venv/bin/python benchmarks/allocator.py --shards DIR [--steps 60] [--repeats 1]
    ... --jobs recognize                  (default: train,recognize; train needs --shards)
    ... --allocators default --omp ACTIVE (one setting; OpenMP threads spin while they wait)

``main.py`` applies the setting to the app, the local API and ``texsnap predict`` (which keep
running and read images of every size), and not to batch jobs. This runs each job in fresh
processes with and without it, interleaved, and prints throughput and the CPU time spent in
user and kernel mode:
- train: ``texsnap train`` from the bundled model for ``--steps`` steps on ``--shards`` (a
  folder of training shards, e.g. from ``texsnap data build``), two threads; images a second
  from its metrics.csv, first logged interval left out (start-up);
- recognize: the bundled model reads the benchmark formulas one after another, as the app does.
A mapped buffer is returned to the system when freed, and the next one of its size is mapped
again, so each of its pages faults in anew: the kernel time says what that costs. Children get
``OMP_WAIT_POLICY=PASSIVE`` as ``main.py`` sets it, or what ``--omp`` says: ``ACTIVE`` shows
what spinning OpenMP threads would add on a machine that does nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
setting, job, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
params = json.loads(sys.argv[4])
if setting == "maps":
    from core.allocator import return_freed_memory
    assert return_freed_memory(), "glibc's mallopt is not available here"
from main import build_parser

start = time.perf_counter()
if job == "train":
    out = workdir + "/run"
    argv = ["train", "--config", "training/configs/base.toml",
            "--set", "init_model=resources/models/base", "--set", "shards=" + params["shards"],
            "--set", "out=" + out, "--set", "steps=%d" % params["steps"], "--set", "threads=2",
            "--set", "log_every=20", "--set", "eval_every=1000000", "--set", "eval_samples=4",
            "--set", "save_every=1000000", "--set", "seed=5", "--set", "crohme_share=0.35"]
    args = build_parser().parse_args(argv)
    args.func(args)
    rows = open(out + "/metrics.csv").read().split()[1:]
    rows = rows[1:] or rows  # the first interval holds the start-up
    rate = sum(float(r.split(",")[3]) for r in rows) / len(rows)
else:
    sys.path.insert(0, "benchmarks")
    from _base_model import pick_formulas
    from core.recognizer import Recognizer, default_model_dir
    from core.render import render_png
    rec = Recognizer.from_pretrained(default_model_dir(), device="cpu", beam=1)
    images = [render_png(f, dpi=150) for f in pick_formulas(params["images"])]
    rec.recognize(images[0])  # warm-up
    begin = time.perf_counter()
    for img in images:
        rec.recognize(img)
    rate = len(images) / (time.perf_counter() - begin)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"rate": rate, "user": usage.ru_utime, "sys": usage.ru_stime,
                  "wall": time.perf_counter() - start}))
"""

UNITS = {"train": "images/s", "recognize": "images/s"}


def run(setting: str, job: str, params: dict, omp: str) -> dict:
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_WAIT_POLICY": omp}
        done = subprocess.run(
            [sys.executable, "-c", CHILD, setting, job, work, json.dumps(params)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
    if done.returncode != 0:
        raise SystemExit(f"{job} ({setting}) failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="train,recognize")
    parser.add_argument("--shards", help="training shards for the train job")
    parser.add_argument("--steps", type=int, default=60, help="training steps (default 60)")
    parser.add_argument("--images", type=int, default=20, help="formulas to recognize")
    parser.add_argument("--repeats", type=int, default=1, help="processes per job and setting")
    parser.add_argument("--allocators", default="maps,default", help="maps, default or both")
    parser.add_argument("--omp", default="PASSIVE", choices=("PASSIVE", "ACTIVE"))
    parser.add_argument("--json", metavar="FILE", help="also write the numbers here")
    args = parser.parse_args(argv)
    jobs = [j for j in args.jobs.split(",") if j]
    unknown = set(jobs) - set(UNITS)
    if unknown:
        parser.error(f"unknown job(s): {', '.join(sorted(unknown))}")
    settings = [s for s in args.allocators.split(",") if s]
    if not settings or set(settings) - {"maps", "default"}:
        parser.error("--allocators takes maps, default or maps,default")
    if "train" in jobs and not (args.shards and Path(args.shards).is_dir()):
        parser.error("the train job needs --shards DIR (a folder of training shards)")
    params = {
        "shards": str(Path(args.shards).resolve()) if args.shards else "",
        "steps": args.steps,
        "images": args.images,
    }
    results: dict = {job: {s: [] for s in settings} for job in jobs}
    for _ in range(args.repeats):
        for job in jobs:
            for setting in settings:
                results[job][setting].append(run(setting, job, params, args.omp))
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPU cores, load average {load:.1f}, OMP_WAIT_POLICY={args.omp}")
    print("| job | large buffers | throughput | CPU user s | CPU kernel s |")
    print("|---|---|---|---|---|")
    for job, by_setting in results.items():
        for setting, runs in by_setting.items():
            label = "own memory maps" if setting == "maps" else "glibc default"
            rate = statistics.median(r["rate"] for r in runs)
            user = statistics.median(r["user"] for r in runs)
            kernel = statistics.median(r["sys"] for r in runs)
            print(f"| {job} | {label} | {rate:.1f} {UNITS[job]} | {user:.0f} | {kernel:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

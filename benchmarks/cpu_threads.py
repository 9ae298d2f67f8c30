"""CPU thread settings for recognition on a busy machine: OpenMP wait policy and thread count.

    PYTHONPATH=. .venv/bin/python benchmarks/cpu_threads.py [--repeats 2] [--model DIR]
    PYTHONPATH=. .venv/bin/python benchmarks/cpu_threads.py --write-model DIR  # for load_test

Runs one recognition after another on a worker thread (as the app's model worker and
`texsnap serve` do) in a fresh process per setting, settings interleaved, and prints the
median and best time of each. Without --model it uses a random model of the base model's
size (decoding stops at 48 tokens). Run it while the machine is busy (a training run) to see
the contention that `main.py`'s OMP_WAIT_POLICY=PASSIVE avoids.
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
SETTINGS = {
    "OpenMP default wait, 2 threads": {"OMP_WAIT_POLICY": None, "TEXSNAP_THREADS": "2"},
    "OMP_WAIT_POLICY=PASSIVE, 2 threads": {"OMP_WAIT_POLICY": "PASSIVE", "TEXSNAP_THREADS": "2"},
    "OpenMP default wait, 1 thread": {"OMP_WAIT_POLICY": None, "TEXSNAP_THREADS": "1"},
}

CHILD = r"""
import json, sys, threading, time
from core.recognizer import Recognizer
from core.render import render_png

def work(out):
    rec = Recognizer.from_pretrained(sys.argv[1], device="cpu")
    image = render_png(r"\frac{a}{b}+x^{2}", dpi=150)
    rec.recognize(image)  # warm-up
    for _ in range(int(sys.argv[2])):
        start = time.perf_counter()
        rec.recognize(image)
        out.append(time.perf_counter() - start)

times = []
worker = threading.Thread(target=work, args=(times,))
worker.start()
worker.join()
print(json.dumps(times))
"""


def base_size_model(directory: Path) -> Path:
    import torch

    from core.checkpoint import save_model
    from core.model import Im2Latex, ModelConfig
    from core.preprocess import PreprocessConfig
    from core.vocab import Vocab

    torch.manual_seed(0)
    vocab = Vocab.build([])
    model = Im2Latex(ModelConfig(vocab_size=len(vocab), max_len=48)).eval()
    save_model(directory, model, vocab, PreprocessConfig(), meta={"name": "random-base-size"})
    return directory


def run(model: str, env_changes: dict, n: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    done = subprocess.run(
        [sys.executable, "-c", CHILD, model, str(n)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model directory (default: random, base-size)")
    parser.add_argument("--repeats", type=int, default=2, help="processes per setting")
    parser.add_argument("--n", type=int, default=6, help="recognitions per process")
    parser.add_argument("--write-model", metavar="DIR", help="only save the random model")
    args = parser.parse_args(argv)
    if args.write_model:
        print(base_size_model(Path(args.write_model)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(base_size_model(Path(tmp) / "model"))
        times: dict[str, list[float]] = {name: [] for name in SETTINGS}
        for _ in range(args.repeats):
            for name, env_changes in SETTINGS.items():
                times[name] += run(model, env_changes, args.n)
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPU cores, load average {load:.1f}, {args.repeats}x{args.n} runs")
    for name, ts in times.items():
        print(f"{name:38s} median {statistics.median(ts):6.3f} s   best {min(ts):6.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

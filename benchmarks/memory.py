"""Peak memory of `texsnap predict` on 100 images, as a user would run it.

    PYTHONPATH=. .venv/bin/python benchmarks/memory.py               # bundled base model
    PYTHONPATH=. .venv/bin/python benchmarks/memory.py --model DIR
    PYTHONPATH=. .venv/bin/python benchmarks/memory.py --random      # random base architecture

Renders the images (printed formulas of about 60 tokens, at several sizes) into a temporary
folder, runs ``python main.py predict --json FOLDER`` in a child process and reads the
child's peak resident set size from ``getrusage(RUSAGE_CHILDREN)``. Issue #2's bar: 700 MB.
A random model never emits the end token, so with ``--random`` decoding is capped at the
formulas' length (benchmarks/_capped_predict.py), as a trained model would stop.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _base_model import ROOT, pick_formulas, resolve_model

BAR_MB = 700
# getrusage(RUSAGE_CHILDREN) of a process that has torch loaded would count that process's
# own memory too (the child is forked from it before it runs the command), so a bare Python
# starts the command and reports its peak; ru_maxrss is in kilobytes on Linux.
LAUNCHER = (
    "import resource, subprocess, sys;"
    "code = subprocess.run(sys.argv[2:]).returncode;"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss));"
    "sys.exit(code)"
)
CAP = 65  # tokens: the longest of the formulas rendered
HERE = Path(__file__).resolve().parent


def render_images(folder: Path, n: int) -> None:
    from core.render import render_png

    formulas = pick_formulas(20)
    for i in range(n):
        latex = formulas[i % len(formulas)]
        dpi = (100, 150, 200, 300)[i % 4]  # snips arrive at every zoom level
        (folder / f"{i:03d}.png").write_bytes(render_png(latex, dpi=dpi, background="white"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", metavar="DIR", help="default: the bundled base model")
    parser.add_argument("--random", action="store_true", help="random model, base architecture")
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_dir, is_random = resolve_model(args.model, args.random, tmp)
        images = tmp / "images"
        images.mkdir()
        render_images(images, args.images)
        env = {**os.environ, "TEXSNAP_THREADS": str(args.threads)}
        # a random model is capped at the formulas' length (see _capped_predict.py)
        entry = (
            [str(HERE / "_capped_predict.py"), str(CAP)] if is_random else [str(ROOT / "main.py")]
        )
        cmd = [
            sys.executable,
            *entry,
            "predict",
            "--json",
            "--model",
            str(model_dir),
            "--device",
            "cpu",
            str(images),
        ]
        start = time.perf_counter()
        peak_file = tmp / "peak_kb"
        launcher = [sys.executable, "-c", LAUNCHER, str(peak_file)]
        proc = subprocess.run(launcher + cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        peak_kb = int(peak_file.read_text()) if peak_file.is_file() else 0
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return 1
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    peak_mb = peak_kb / 1024
    result = {
        "model": str(model_dir if not is_random else "random-base"),
        "random": is_random,
        "images": args.images,
        "results": sum("latex" in line for line in lines),
        "errors": sum("error" in line for line in lines),
        "peak_rss_mb": round(peak_mb, 1),
        "seconds": round(seconds, 1),
        "threads": args.threads,
        "bar_mb": BAR_MB,
    }
    print(
        f"texsnap predict on {args.images} images ({'random base-architecture model' if is_random else model_dir}): "
        f"peak RSS {peak_mb:.0f} MB (bar {BAR_MB} MB), {result['results']} results, "
        f"{result['errors']} errors, {seconds:.0f} s"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0 if peak_mb <= BAR_MB else 1


if __name__ == "__main__":
    sys.exit(main())

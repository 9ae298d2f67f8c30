"""Do the app's two warnings point at wrong readings? On the dev slices, greedy.

    PYTHONPATH=. .venv/bin/python benchmarks/unsure_marks.py --shards DIR [--model DIR] [--limit 500]

For each dev slice (built by ``texsnap data build``; never a test set) it reads every sample
and asks of each warning how often it is right:
- the confidence flag: the whole formula's confidence under 0.5 ("low, please check");
- the unsure marks: at least one token under even odds (``core.result.unsure_spans``, the
  wavy underline), or a reading cut off before its end, as the app asks.
For wrong readings it counts how many a warning caught; for right ones, how many it left alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def read(model_dir: Path, shards: Path, limit: int) -> dict[str, list[tuple[bool, bool, bool]]]:
    """{source: [(right, flagged, marked)]} per dev sample."""
    from core.recognizer import calibrated
    from core.result import LOW_CONFIDENCE, unsure_spans
    from training.calibrate import read_dev

    out: dict[str, list] = {}

    def heard(loaded, source, right, hyp):
        confidence = calibrated(hyp.logprob, hyp.finished, loaded.calibration)
        # as the app asks: a token under even odds, or a reading cut off (confidence 0)
        marked = not hyp.finished or bool(
            unsure_spans(loaded.vocab.decode_tokens(hyp.ids), hyp.probs)
        )
        out.setdefault(source, []).append((bool(right), confidence < LOW_CONFIDENCE, marked))

    read_dev(model_dir, shards, limit, heard)
    return out


def summary(rows: list[tuple[bool, bool, bool]]) -> dict:
    wrong = [r for r in rows if not r[0]]
    right = [r for r in rows if r[0]]

    def share(items, test) -> float:
        return round(sum(1 for r in items if test(r)) / len(items), 3) if items else 0.0

    return {
        "samples": len(rows),
        "wrong": len(wrong),
        "flag_catches_wrong": share(wrong, lambda r: r[1]),
        "flag_spares_right": share(right, lambda r: not r[1]),
        "marks_catch_wrong": share(wrong, lambda r: r[2]),
        "marks_spare_right": share(right, lambda r: not r[2]),
    }


def main(argv: list[str] | None = None) -> int:
    from core.recognizer import default_model_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", required=True, type=Path, help="folder with dev shards")
    parser.add_argument("--model", type=Path, default=None, help="default: the bundled model")
    parser.add_argument("--limit", type=int, default=500, help="samples per slice")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers here")
    args = parser.parse_args(argv)
    results = {
        source: summary(rows)
        for source, rows in read(args.model or default_model_dir(), args.shards, args.limit).items()
    }
    print(
        "| dev slice | samples | wrong | flag catches wrong | flag spares right |"
        " marks catch wrong | marks spare right |"
    )
    print("|---|---|---|---|---|---|---|")
    for source, r in results.items():
        print(
            f"| {source} | {r['samples']} | {r['wrong']} | {r['flag_catches_wrong']:.0%} | "
            f"{r['flag_spares_right']:.0%} | {r['marks_catch_wrong']:.0%} | "
            f"{r['marks_spare_right']:.0%} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`texsnap predict` with decoding capped at N tokens, for timing a random (untrained) model.

    python benchmarks/_capped_predict.py N predict ARGS...

A random model never emits the end token and would decode to its length cap (256) on every
image; a trained model reading a ~60-token formula stops after ~60. Capping makes the
random model do the work a trained one would. Everything else is the real command.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import main  # noqa: E402
from core.recognizer import Recognizer  # noqa: E402


def capped_from_pretrained(cap: int):
    original = Recognizer.from_pretrained.__func__

    def from_pretrained(cls, *args, **kwargs):
        rec = original(cls, *args, **kwargs)
        rec.loaded.model.cfg.max_len = min(rec.loaded.model.cfg.max_len, cap + 2)
        return rec

    return classmethod(from_pretrained)


if __name__ == "__main__":
    Recognizer.from_pretrained = capped_from_pretrained(int(sys.argv[1]))
    sys.exit(main.main(sys.argv[2:]))

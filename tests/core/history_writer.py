"""Child process for test_history's kill test: writes records until it is killed.

Usage: python history_writer.py DB_PATH

Alternates history entries and corrections and, after each write has returned (i.e. been
committed), prints "h <id>" or "c <id>" and flushes, so the parent knows exactly which
records the store has promised to keep. Runs until killed (or 100,000 records).
"""

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PIL import Image, ImageDraw  # noqa: E402

from core.history import Store  # noqa: E402


def make_png(i: int) -> bytes:
    img = Image.new("L", (120, 48), 255)
    ImageDraw.Draw(img).text((4, 16), f"x_{i}", fill=0)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def main() -> None:
    store = Store(sys.argv[1])
    print("ready", flush=True)
    for i in range(100_000):
        png = make_png(i)
        hid = store.add_entry(png, f"x_{{{i}}}", 0.9, "draw", alternatives=[f"x{i}"])
        print(f"h {hid}", flush=True)
        cid = store.add_correction(png, f"x_{{{i}}}+1", history_id=hid)
        print(f"c {cid}", flush=True)


if __name__ == "__main__":
    main()

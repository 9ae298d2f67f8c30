"""Fuzz the image loader, preprocessing, the recognizer and the local API with broken files.

Each case is a mutated PNG / JPEG / GIF / TIFF / WebP / BMP (bit flips, overwritten, inserted,
deleted or duplicated bytes, truncation, absurd header dimensions, splices of two files) or
plain random bytes. A case passes when it gives a result or one of TeXSnap's typed errors
(``InvalidImage``, ``BlankImage``) with a message, or, through the API, a 200 answer or a
JSON 400 error; anything else (another exception, a 500, a hang) is a failure.

    PYTHONPATH=. .venv/bin/python benchmarks/fuzz.py --count 5000            # preprocess only
    PYTHONPATH=. .venv/bin/python benchmarks/fuzz.py --count 2000 --recognize --api \\
        --random-model                                                     # + model + API

tests/api/test_fuzz.py runs a few hundred cases of the same generator in the test suite.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _common import random_model  # noqa: E402

from core.errors import BlankImage, InvalidImage  # noqa: E402
from core.preprocess import preprocess  # noqa: E402

EXPECTED_ERRORS = (InvalidImage, BlankImage)


# --- seeds: small valid files of every format and many modes ----------------------------------


def _formula(mode: str, size=(180, 64)) -> Image.Image:
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    draw.text((8, 20), "x^2 + \\frac{a}{b}", fill="black")
    draw.line((8, 50, 150, 50), fill="black", width=2)
    if mode == "RGBA":
        img = img.convert("RGBA")
        img.putalpha(Image.eval(img.convert("L"), lambda v: 255 - v))
        return img
    if mode == "I;16":
        return Image.fromarray(np.asarray(img.convert("L"), np.uint16) * 257)
    return img.convert(mode)


def _save(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def seed_files() -> dict[str, bytes]:
    """name -> bytes of a valid image; the first word of the name is the format."""
    seeds = {}
    for mode in ("RGB", "L", "P", "RGBA", "1", "I;16", "LA"):
        seeds[f"png-{mode}"] = _save(_formula(mode), "PNG")
    seeds["png-interlaced"] = _save(_formula("RGB"), "PNG", optimize=False, interlace=1)
    for mode in ("RGB", "L", "CMYK"):
        seeds[f"jpeg-{mode}"] = _save(_formula(mode), "JPEG", quality=80)
    seeds["jpeg-progressive"] = _save(_formula("RGB"), "JPEG", progressive=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: exercises exif_transpose
    seeds["jpeg-exif"] = _save(_formula("RGB"), "JPEG", exif=exif)
    frames = [_formula("P"), _formula("P", (180, 64)).rotate(180)]
    seeds["gif-P"] = _save(frames[0], "GIF")
    seeds["gif-animated"] = _save(frames[0], "GIF", save_all=True, append_images=frames[1:])
    for comp in ("raw", "tiff_deflate", "packbits", "tiff_lzw"):
        seeds[f"tiff-{comp}"] = _save(_formula("RGB"), "TIFF", compression=comp)
    seeds["tiff-I16"] = _save(_formula("I;16"), "TIFF")
    seeds["tiff-multipage"] = _save(
        _formula("L"), "TIFF", save_all=True, append_images=[_formula("L")]
    )
    seeds["webp-lossy"] = _save(_formula("RGB"), "WEBP", quality=70)
    seeds["webp-lossless-RGBA"] = _save(_formula("RGBA"), "WEBP", lossless=True)
    seeds["bmp-RGB"] = _save(_formula("RGB"), "BMP")
    return seeds


# --- mutations ---------------------------------------------------------------------------------


def _flip_bits(rng: random.Random, data: bytearray) -> str:
    n = rng.randint(1, 24)
    for _ in range(n):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    return f"flip{n}"


def _overwrite(rng, data):
    i = rng.randrange(len(data))
    n = rng.randint(1, 64)
    data[i : i + n] = rng.randbytes(min(n, len(data) - i))
    return "overwrite"


def _interesting(rng, data):
    """Write 0, -1, or huge integers where header fields usually live."""
    i = rng.randrange(min(len(data), 64))
    value = rng.choice([b"\x00\x00", b"\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x01\x00\x00"])
    data[i : i + len(value)] = value
    return "interesting"


def _truncate(rng, data):
    del data[rng.randrange(1, len(data)) :]
    return "truncate"


def _insert(rng, data):
    i = rng.randrange(len(data))
    data[i:i] = rng.randbytes(rng.randint(1, 256))
    return "insert"


def _delete(rng, data):
    i = rng.randrange(len(data))
    del data[i : i + rng.randint(1, 256)]
    return "delete"


def _duplicate(rng, data):
    i = rng.randrange(len(data))
    chunk = data[i : i + rng.randint(1, 512)]
    j = rng.randrange(len(data))
    data[j:j] = chunk * rng.randint(1, 4)
    return "duplicate"


def _huge_dimensions(rng, data):
    """Claim an enormous image in the header (decompression-bomb style)."""
    big = rng.choice([0, 1, 30_000, 65_535, 2**31 - 1, 2**32 - 1])
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        data[16:24] = big.to_bytes(4, "big") * 2
    elif data[:3] == b"GIF":
        data[6:10] = (big & 0xFFFF).to_bytes(2, "little") * 2
    elif data[:2] == b"BM":
        data[18:26] = (big & 0x7FFFFFFF).to_bytes(4, "little") * 2
    else:
        return _interesting(rng, data)
    return "huge-dims"


MUTATORS: list[Callable[[random.Random, bytearray], str]] = [
    _flip_bits,
    _overwrite,
    _interesting,
    _truncate,
    _insert,
    _delete,
    _duplicate,
    _huge_dimensions,
]


@dataclass
class Case:
    name: str
    data: bytes


def cases(count: int, seed: int = 0) -> Iterator[Case]:
    """``count`` deterministic cases: about 1 in 12 random bytes, the rest mutated seeds."""
    rng = random.Random(seed)
    seeds = seed_files()
    names = sorted(seeds)
    for k in range(count):
        roll = rng.random()
        if roll < 0.06:
            yield Case(f"{k}:random", rng.randbytes(rng.randint(0, 4096)))
            continue
        base = rng.choice(names)
        data = bytearray(seeds[base])
        if roll < 0.09:  # a format's magic bytes followed by noise
            yield Case(f"{k}:{base}:magic+noise", bytes(data[:16]) + rng.randbytes(200))
            continue
        if roll < 0.12:  # splice two files
            other = seeds[rng.choice(names)]
            cut = rng.randrange(1, len(data))
            yield Case(f"{k}:{base}:splice", bytes(data[:cut]) + other[rng.randrange(len(other)) :])
            continue
        steps = [rng.choice(MUTATORS)(rng, data) for _ in range(rng.randint(1, 3)) if data]
        yield Case(f"{k}:{base}:{'+'.join(steps)}", bytes(data))


# --- checks ------------------------------------------------------------------------------------


@dataclass
class Report:
    outcomes: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    slowest: tuple[float, str] = (0.0, "")

    def add(self, name: str, outcome: str | None, failure: str | None, seconds: float) -> None:
        self.seconds += seconds
        if seconds > self.slowest[0]:
            self.slowest = (seconds, name)
        if failure:
            self.failures.append(f"{name}: {failure}")
        else:
            self.outcomes[outcome] += 1


def check_preprocess(data: bytes) -> tuple[str | None, str | None]:
    """(outcome, None) when the loader behaved, else (None, what went wrong)."""
    try:
        arr = preprocess(data)
    except EXPECTED_ERRORS as exc:
        if not str(exc):
            return None, f"{type(exc).__name__} without a message"
        return type(exc).__name__, None
    except Exception as exc:  # noqa: BLE001 - this is what we are looking for
        return None, f"{type(exc).__name__}: {exc} (in {_where(exc)})"
    if arr.ndim != 2 or arr.dtype != np.float32 or not np.isfinite(arr).all():
        return None, f"bad array {arr.shape} {arr.dtype}"
    return "ok", None


def _where(exc: BaseException) -> str:
    """``module.function`` of the innermost TeXSnap frame the exception passed through."""
    where = "?"
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        module = frame.f_globals.get("__name__", "")
        if module.startswith(("core.", "training.", "gui.")):
            where = f"{module}.{frame.f_code.co_name}"
    return where


def check_recognize(recognizer, data: bytes) -> tuple[str | None, str | None]:
    try:
        result = recognizer.recognize(data)
    except EXPECTED_ERRORS as exc:
        return type(exc).__name__, None
    except Exception as exc:  # noqa: BLE001
        return None, f"{type(exc).__name__}: {exc} (in {_where(exc)})"
    if not isinstance(result.latex, str) or not 0.0 <= result.confidence <= 1.0:
        return None, f"bad result {result!r}"
    return ("blank" if result.empty_reason else "ok"), None


def check_api(client, data: bytes, headers: dict) -> tuple[str | None, str | None]:
    response = client.post("/v1/recognize", content=data, headers=headers)
    try:
        body = response.json()
    except ValueError:
        return None, f"{response.status_code} with a non-JSON body"
    if response.status_code == 200:
        if not isinstance(body.get("latex"), str):
            return None, f"200 without latex: {body}"
        return "200", None
    error = body.get("error", {})
    if response.status_code != 400 or not error.get("message"):
        return None, f"{response.status_code}: {body}"
    return f"400 {error.get('code')}", None


def run(check: Callable[[bytes], tuple[str | None, str | None]], items: list[Case]) -> Report:
    report = Report()
    for case in items:
        start = time.perf_counter()
        outcome, failure = check(case.data)
        report.add(case.name, outcome, failure, time.perf_counter() - start)
    return report


# --- command line --------------------------------------------------------------------------------


def _print(title: str, report: Report, count: int) -> None:
    print(f"\n{title}: {count} cases in {report.seconds:.1f} s ({count / report.seconds:.0f}/s)")
    print(f"  outcomes: {dict(report.outcomes.most_common())}")
    print(f"  slowest case: {report.slowest[0] * 1000:.0f} ms ({report.slowest[1]})")
    print(f"  failures: {len(report.failures)}")
    kinds = Counter(line.split(": ", 1)[1] for line in report.failures)
    for kind, n in kinds.most_common():
        first = next(line for line in report.failures if line.endswith(kind))
        print(f"    {n} x {kind}  (e.g. case {first.split(':', 1)[0]})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz image loading, the model and the API.")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recognize", action="store_true", help="also Recognizer.recognize")
    parser.add_argument("--api", action="store_true", help="also POST /v1/recognize")
    parser.add_argument("--model", help="model directory (default: bundled base)")
    parser.add_argument("--random-model", action="store_true", help="use a random tiny model")
    args = parser.parse_args(argv)

    items = list(cases(args.count, args.seed))
    kinds = Counter(c.name.split(":")[1].split("-")[0] for c in items)
    print(f"{len(items)} cases (seed {args.seed}): {dict(sorted(kinds.items()))}")
    reports = {"preprocess": run(check_preprocess, items)}
    _print("core.preprocess (the CLI's path)", reports["preprocess"], len(items))
    if args.recognize or args.api:
        from core.recognizer import Recognizer

        with tempfile.TemporaryDirectory() as tmp:
            model = random_model(Path(tmp) / "random") if args.random_model else args.model
            rec = Recognizer.from_pretrained(model, device="cpu")
            print(f"\nmodel: {rec.info['name']} ({model or 'bundled base'})")
            if args.recognize:
                reports["recognize"] = run(lambda d: check_recognize(rec, d), items)
                _print("Recognizer.recognize", reports["recognize"], len(items))
            if args.api:
                reports["api"] = _run_api(rec, items)
                _print("POST /v1/recognize", reports["api"], len(items))
    failed = sum(len(r.failures) for r in reports.values())
    print(f"\nTOTAL failures: {failed}")
    return 1 if failed else 0


def _run_api(rec, items: list[Case]) -> Report:
    from fastapi.testclient import TestClient

    from core.model_worker import ModelWorker
    from core.server import create_app

    worker = ModelWorker(rec)
    app = create_app(worker, token="fuzz")
    try:
        with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
            return run(lambda d: check_api(c, d, {"Authorization": "Bearer fuzz"}), items)
    finally:
        worker.close()


if __name__ == "__main__":
    sys.exit(main())

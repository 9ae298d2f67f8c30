"""Fuzz: a few hundred mutated PNG/JPEG/GIF/TIFF/WebP/BMP files and random bytes go through
core.preprocess (the CLI's path) and POST /v1/recognize; each gives a result or a clear error.

The generator lives in benchmarks/fuzz.py, which runs thousands of cases.
"""

import sys
import time
from pathlib import Path

import pytest
from api_helpers import AUTH

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import fuzz  # noqa: E402

COUNT = 300


@pytest.fixture(scope="module")
def items():
    return list(fuzz.cases(COUNT, seed=1234))


def test_generator_covers_every_format(items):
    kinds = {case.name.split(":")[1].split("-")[0] for case in items}
    assert kinds == {"png", "jpeg", "gif", "tiff", "webp", "bmp", "random"}


def test_preprocess_never_crashes(items):
    report = fuzz.run(fuzz.check_preprocess, items)
    assert report.failures == []
    assert report.outcomes["InvalidImage"] > COUNT // 2  # most mutations break the file
    assert report.outcomes["ok"] > 10  # and some survive: the ok path is exercised too
    assert report.slowest[0] < 10, report.slowest


def test_api_answers_every_case_with_200_or_a_clear_400(model_client, items):
    start = time.monotonic()
    report = fuzz.run(lambda data: fuzz.check_api(model_client, data, AUTH), items)
    assert report.failures == []
    assert report.outcomes["200"] > 10 and report.outcomes["400 invalid_image"] > COUNT // 2
    assert time.monotonic() - start < 240
    assert model_client.get("/v1/health", headers=AUTH).status_code == 200  # still serving


def test_damaged_later_frame_is_invalid_image():
    """A GIF/TIFF whose second frame is damaged: its first frame, or InvalidImage."""
    from core.errors import InvalidImage

    bad = [c for c in fuzz.cases(3000, seed=2) if c.name.split(":")[0] in {"24", "2929"}]
    assert len(bad) == 2
    for case in bad:
        try:
            fuzz.preprocess(case.data)
        except InvalidImage:
            pass

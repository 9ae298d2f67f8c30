"""Shards on disk: what is written is read back exactly, compressed, and damage is a clear error."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import DatasetError
from training.data.shards import read_shard, write_shard


def _ink(h: int, w: int, seed: int) -> np.ndarray:
    """Mostly background with a few strokes, like a preprocessed formula."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w), np.uint8)
    for _ in range(6):
        y, x = rng.integers(0, h - 3), rng.integers(0, w - 20)
        img[y : y + 3, x : x + 20] = 255
    return img


@pytest.fixture
def shard(tmp_path):
    images = [_ink(64, 200 + 10 * i, i) for i in range(20)]
    labels = [f"x^{{{i}}}" for i in range(20)]
    path = tmp_path / "printed-train-0-0000.npz"
    write_shard(path, images, labels, ["printed"] * 20)
    return path, images, labels


def test_round_trip_is_exact(shard):
    path, images, labels = shard
    s = read_shard(path)
    assert s.labels == labels and s.sources == ["printed"] * 20
    for i, img in enumerate(images):
        h, w = s.shapes[i]
        got = s.data[s.offsets[i] : s.offsets[i] + h * w].reshape(h, w)
        assert np.array_equal(got, img)


def test_shards_are_compressed(shard):
    path, images, _ = shard
    raw = sum(img.size for img in images)
    assert path.stat().st_size < raw / 4


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_damaged_shard_is_a_clear_error(shard, damage):
    path = shard[0]
    blob = bytearray(path.read_bytes())
    if damage == "truncate":
        blob = blob[: len(blob) // 2]
    elif damage == "flip":
        mid = len(blob) // 2
        blob[mid : mid + 64] = bytes(255 - b for b in blob[mid : mid + 64])
    else:
        blob = bytearray()
    path.write_bytes(bytes(blob))
    with pytest.raises(DatasetError, match="damaged.*rebuild"):
        read_shard(path)

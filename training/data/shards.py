"""Preprocessed training samples on disk: ``.npz`` shards readable without pickle.

A shard holds N ink maps (uint8, 0 = background) concatenated in ``data`` with their ``shapes``
and ``offsets``, the canonical LaTeX ``labels`` and a ``source`` tag per sample. Storing the
*preprocessed* map means training costs no rendering and no preprocessing, and the maps are
exactly what the model sees at inference. Shards are compressed: ink maps are mostly
background, and a 500-image shard shrinks about 8x (10 MB to 1.2 MB printed, 25 to 1.9 MB
handwritten), small enough to carry pre-rendered data to a lent GPU machine.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import DatasetError


@dataclass
class Shard:
    data: np.ndarray
    offsets: np.ndarray
    shapes: np.ndarray
    labels: list[str]
    sources: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def image(self, i: int) -> np.ndarray:
        h, w = (int(x) for x in self.shapes[i])
        start = int(self.offsets[i])
        return self.data[start : start + h * w].reshape(h, w)


def write_shard(
    path: str | os.PathLike, images: list[np.ndarray], labels: list[str], sources: list[str]
) -> None:
    """Write atomically (temp file + rename) so an interrupted build never leaves half a shard."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    u8 = [
        np.asarray(np.clip(np.asarray(a) * 255 if a.dtype != np.uint8 else a, 0, 255), np.uint8)
        for a in images
    ]
    shapes = np.array([a.shape for a in u8], np.int32).reshape(-1, 2)
    sizes = shapes[:, 0].astype(np.int64) * shapes[:, 1]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    data = np.concatenate([a.ravel() for a in u8]) if u8 else np.zeros(0, np.uint8)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
    os.close(fd)
    try:
        np.savez_compressed(
            tmp,
            data=data,
            offsets=offsets,
            shapes=shapes,
            labels=np.array(labels, dtype=str),
            sources=np.array(sources, dtype=str),
        )
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_shard(path: str | os.PathLike) -> Shard:
    try:
        with np.load(path, allow_pickle=False) as z:
            return Shard(
                z["data"],
                z["offsets"],
                z["shapes"],
                [str(s) for s in z["labels"]],
                [str(s) for s in z["sources"]],
            )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise DatasetError(f"Shard {path} is damaged ({exc}); delete it and rebuild.") from None


def read_shards(paths: list[Path]) -> Shard:
    """Concatenate shards into one (training keeps everything in memory: ~25 kB a sample)."""
    parts = [read_shard(p) for p in paths]
    if not parts:
        raise DatasetError("No training shards found; run `texsnap data build` first.")
    return concat_shards(parts)


def concat_shards(parts: list[Shard]) -> Shard:
    data, offsets, base = [], [], 0
    for s in parts:
        data.append(s.data)
        offsets.append(s.offsets + base)
        base += s.data.size
    return Shard(
        np.concatenate(data),
        np.concatenate(offsets),
        np.concatenate([s.shapes for s in parts]),
        [lab for s in parts for lab in s.labels],
        [src for s in parts for src in s.sources],
    )

"""Tiny rendered data sets for training tests (made on the fly; nothing is committed)."""

from __future__ import annotations

from pathlib import Path

import pytest

FORMULAS = [r"x^{2}", r"\frac{a}{b}", r"\alpha+1", r"\sqrt{y}"]

TINY_MODEL = [
    "model.d_model=64",
    "model.n_heads=2",
    "model.n_layers=1",
    "model.d_ff=128",
    "model.enc_channels=16,24,32,48",
    "model.enc_blocks=1,1,1,1",
    "model.max_len=32",
    "model.dropout=0.0",
]


def make_shards(folder: Path, formulas=FORMULAS, copies: int = 2) -> Path:
    import io

    from PIL import Image

    from core.preprocess import PreprocessConfig, preprocess
    from core.render import render_png
    from training.data.shards import write_shard

    cfg = PreprocessConfig()
    images, labels = [], []
    for f in formulas:
        img = Image.open(io.BytesIO(render_png(f, dpi=120, fontsize=20)))
        ink = preprocess(img, cfg)
        images.extend([ink] * copies)
        labels.extend([f] * copies)
    write_shard(folder / "printed-train-0-0000.npz", images, labels, ["printed"] * len(labels))
    write_shard(
        folder / "printed-dev-0-0000.npz",
        images[::copies],
        labels[::copies],
        ["printed"] * len(formulas),
    )
    return folder


@pytest.fixture(scope="session")
def tiny_shards(tmp_path_factory) -> Path:
    return make_shards(tmp_path_factory.mktemp("shards"))


def tiny_overrides(shards: Path, out: Path, *extra: str) -> list[str]:
    return [
        f"shards={shards}",
        f"out={out}",
        "vocab_min_count=1",
        "batch_pixels=10000000",
        "max_batch=8",
        "warmup=10",
        "eval_samples=8",
        "log_every=5",
        "threads=1",
        *TINY_MODEL,
        *extra,
    ]

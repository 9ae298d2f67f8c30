"""Shared fixtures: small models and images made on the fly (no data is committed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TEXSNAP_THREADS", "1")

SHARED_DATA = Path(
    os.environ.get("TEXSNAP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Every test gets its own config/data/cache dirs: tests never touch the real user's."""
    base = tmp_path_factory.mktemp("userdirs")
    for name in ("CONFIG", "DATA", "CACHE"):
        monkeypatch.setenv(f"TEXSNAP_{name}_DIR", str(base / name.lower()))
    yield


@pytest.fixture(autouse=True)
def allocator_calls(monkeypatch) -> list[bool]:
    """Tests that run ``main.main(["predict", ...])`` in-process must not switch the whole test
    process to one memory map per large buffer (core/allocator.py): it cannot be switched
    back, and every training test after it would run slower. The list records who asked."""
    import core.allocator

    calls: list[bool] = []
    monkeypatch.setattr(core.allocator, "return_freed_memory", lambda: calls.append(True))
    return calls


@pytest.fixture(scope="session")
def random_model_dir(tmp_path_factory) -> Path:
    """A randomly initialised (untrained) model saved in the real on-disk format.

    Its outputs are meaningless; use it to test plumbing (loading, decoding, errors, GUI, API).
    """
    import torch

    from core.checkpoint import save_model
    from core.model import Im2Latex, ModelConfig
    from core.preprocess import PreprocessConfig
    from core.vocab import Vocab

    torch.manual_seed(0)
    vocab = Vocab.build([])
    cfg = ModelConfig(
        vocab_size=len(vocab),
        d_model=64,
        n_heads=2,
        n_layers=1,
        d_ff=128,
        enc_channels=(16, 32, 48, 64),
        enc_blocks=(1, 1, 1, 1),
        max_len=24,
    )
    model = Im2Latex(cfg).eval()
    directory = tmp_path_factory.mktemp("models") / "random"
    save_model(directory, model, vocab, PreprocessConfig(), meta={"name": "random-test"})
    return directory


@pytest.fixture
def formula_png(tmp_path) -> Path:
    """A rendered printed formula as a PNG file."""
    from core.render import render_png

    path = tmp_path / "formula.png"
    path.write_bytes(render_png(r"\frac{a}{b}+x^{2}", dpi=150))
    return path


@pytest.fixture(scope="session")
def crisp_and_low_zoom():
    """One formula with no big operator (its glyphs are all alike) at 300 dpi, and the same
    snipped at a sixth of the zoom: glyphs of a few pixels, so it is read twice."""
    from PIL import Image

    from core.render import render_image

    big = render_image(r"a^{2}+b_{k}=\alpha x+\beta y", dpi=300, background="white").convert("RGB")
    small = big.resize((big.width // 6, big.height // 6), Image.Resampling.LANCZOS)
    return big, small

"""Shared by the benchmarks: a tiny random model in the real on-disk format."""

from __future__ import annotations

from pathlib import Path


def random_model(directory: Path) -> Path:
    """Save a randomly initialised (untrained) model; its answers are meaningless but
    deterministic, which is all a plumbing or load test needs."""
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
    save_model(directory, model, vocab, PreprocessConfig(), meta={"name": "random-benchmark"})
    return directory

"""Shared by the latency and memory benchmarks: which model to time, and formulas to time it on.

Until the trained base model is bundled, ``--random`` times a randomly initialised model of
the real architecture (the ``[model]`` section of training/configs/base.toml): the cost of a
recognition depends on the architecture and on how many tokens come out, not on the weights.
A random model never emits the end token, so callers cap its decoding at the length of the
formula it is shown (``capped``), which is what a trained model that reads it would emit.
"""

from __future__ import annotations

import contextlib
import random
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASE_CONFIG = ROOT / "training" / "configs" / "base.toml"
FORMULAS = Path(__file__).resolve().parents[2] / "shared" / "data" / "formulas" / "corpus.tsv"
# the vocabulary a trained model carries (base tokens + corpus tokens seen >= 3 times) is
# about this size; the output layer's cost per token grows with it
VOCAB_SIZE = 1000

# ~60 canonical tokens each; used when ../shared/data/formulas is not there
BUILTIN = [
    r"\int_{0}^{\infty}\frac{x^{3}}{e^{x}-1}dx=\frac{\pi^{4}}{15}\quad\sum_{n=1}^{\infty}\frac{1}{n^{2}}=\frac{\pi^{2}}{6}",
    r"f(x)=\frac{1}{\sigma\sqrt{2\pi}}\exp\left(-\frac{(x-\mu)^{2}}{2\sigma^{2}}\right)+\alpha_{k}\beta^{k}",
    r"\frac{\partial u}{\partial t}=\alpha\left(\frac{\partial^{2}u}{\partial x^{2}}+\frac{\partial^{2}u}{\partial y^{2}}\right)",
    r"x=\frac{-b\pm\sqrt{b^{2}-4ac}}{2a}\quad\mathrm{and}\quad a x^{2}+b x+c=0\quad(a\neq 0)",
    r"\lim_{n\to\infty}\left(1+\frac{1}{n}\right)^{n}=e=\sum_{k=0}^{\infty}\frac{1}{k!}\approx 2.718",
    r"\nabla\cdot\mathbf{E}=\frac{\rho}{\varepsilon_{0}}\quad\nabla\times\mathbf{B}=\mu_{0}\mathbf{J}+\mu_{0}\varepsilon_{0}\frac{\partial\mathbf{E}}{\partial t}",
    r"\Gamma(z)=\int_{0}^{\infty}t^{z-1}e^{-t}dt,\quad\Gamma(n+1)=n\Gamma(n)=n!",
    r"\hat{H}\psi=-\frac{\hbar^{2}}{2m}\frac{d^{2}\psi}{dx^{2}}+V(x)\psi=E\psi\quad(x\in\mathbb{R})",
]


def bundled_model_dir() -> Path:
    from core.recognizer import default_model_dir

    return default_model_dir()


def random_base_model(directory: Path, vocab_size: int = VOCAB_SIZE) -> Path:
    """Save a random model with the base architecture and a vocabulary of ``vocab_size``."""
    import torch

    from core.checkpoint import save_model
    from core.model import Im2Latex, ModelConfig
    from core.preprocess import PreprocessConfig
    from core.vocab import Vocab

    arch = tomllib.loads(BASE_CONFIG.read_text(encoding="utf-8"))["model"]
    torch.manual_seed(0)
    base = Vocab.build([])
    tokens = base.tokens + [f"\\placeholder{i}" for i in range(vocab_size - len(base))]
    vocab = Vocab(tokens)
    model = Im2Latex(ModelConfig.from_dict({**arch, "vocab_size": len(vocab)})).eval()
    save_model(directory, model, vocab, PreprocessConfig(), meta={"name": "random-base"})
    return directory


def resolve_model(model: str | None, use_random: bool, tmp: Path) -> tuple[Path, bool]:
    """(model dir, is_random). Exits with a message when no model can be had."""
    if use_random:
        return random_base_model(tmp / "random-base"), True
    path = Path(model) if model else bundled_model_dir()
    if not (path / "config.json").is_file():
        sys.exit(
            f"No model at {path}. Pass --model DIR, or --random to time a random model "
            "of the base architecture."
        )
    return path, False


def pick_formulas(n: int = 20, tokens: int = 60, spread: int = 5, seed: int = 0) -> list[str]:
    """``n`` formulas of ``tokens`` ± ``spread`` canonical tokens that mathtext can draw:
    from the shared corpus when present, else the built-in list."""
    from core.errors import RenderError
    from core.latex import canonical_tokens
    from core.render import render_png

    if not FORMULAS.is_file():
        return BUILTIN[:n]
    lines = FORMULAS.read_text(encoding="utf-8", errors="replace").splitlines()
    random.Random(seed).shuffle(lines)
    picked: list[str] = []
    for line in lines:
        latex = line.split("\t", 1)[-1].strip()
        if not latex or len(latex) > 400:
            continue
        try:
            if abs(len(canonical_tokens(latex)) - tokens) > spread:
                continue
            render_png(latex)
        except (RenderError, ValueError, IndexError, KeyError):
            continue  # mathtext cannot draw it (or our parser balks): not a fair test image
        picked.append(latex)
        if len(picked) == n:
            break
    return picked


@contextlib.contextmanager
def capped(rec, n_tokens: int | None):
    """Stop decoding after ``n_tokens`` (+ end token) steps: what a trained model reading
    that formula would do. ``None`` leaves the model alone."""
    cfg = rec.loaded.model.cfg
    old = cfg.max_len
    if n_tokens is not None:
        cfg.max_len = min(old, n_tokens + 2)  # BOS + tokens + EOS
    try:
        yield
    finally:
        cfg.max_len = old

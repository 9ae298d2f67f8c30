"""Models on disk: ``model.safetensors`` + ``config.json`` (+ ``MODEL.md``), nothing else.

The config holds everything needed to rebuild and use the model (architecture, vocabulary,
preprocessing, calibration) and to judge it (metrics, training data), plus the SHA-256 of the
weights file, checked on every load. Only safetensors are read: never pickle.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch.overrides import TorchFunctionMode

from core.errors import ModelError
from core.model import Im2Latex, ModelConfig
from core.preprocess import PreprocessConfig
from core.vocab import Vocab

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
FORMAT = "texsnap-model/1"


@dataclass
class LoadedModel:
    model: Im2Latex
    vocab: Vocab
    preprocess: PreprocessConfig
    config: dict = field(default_factory=dict)  # the whole config.json

    @property
    def calibration(self) -> float:
        """Scale on the log-probability that turns it into a confidence; a damaged or
        hand-edited value falls back to 1 so that confidences stay within [0, 1]."""
        cal = self.config.get("calibration")
        try:
            scale = float(cal.get("scale", 1.0)) if isinstance(cal, dict) else 1.0
        except (TypeError, ValueError):
            return 1.0
        return scale if math.isfinite(scale) and scale > 0 else 1.0


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_model(
    directory: str | os.PathLike,
    model: Im2Latex,
    vocab: Vocab,
    preprocess: PreprocessConfig,
    meta: dict | None = None,
    dtype: torch.dtype = torch.float16,
) -> Path:
    """Write weights (in ``dtype``, fp16 by default) and config atomically into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for name, t in model.state_dict().items():
        if name == "head.weight":  # tied to embed.weight; rebuilt on load
            continue
        t = t.detach().cpu()
        tensors[name] = t.to(dtype) if t.is_floating_point() else t
    tmp = directory / (WEIGHTS + ".tmp")
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))
    os.replace(tmp, directory / WEIGHTS)
    config = {
        "format": FORMAT,
        "name": directory.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **(meta or {}),
        "architecture": model.cfg.to_dict(),
        "vocabulary": vocab.tokens,
        "preprocess": preprocess.to_dict(),
        "sha256": sha256_file(directory / WEIGHTS),
        "dtype": str(dtype).removeprefix("torch."),
    }
    _write_json(directory / CONFIG, config)
    return directory


def update_config(directory: str | os.PathLike, **fields) -> dict:
    """Set top-level ``fields`` of a model's config.json (atomically); the weights and their
    checksum are untouched. Returns the new config."""
    directory = Path(directory)
    config = {**read_config(directory), **fields}
    _write_json(directory / CONFIG, config)
    return config


def _write_json(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
    os.replace(tmp, path)


def read_config(directory: str | os.PathLike) -> dict:
    directory = Path(directory)
    path = directory / CONFIG
    if not path.is_file():
        raise ModelError(f"No model at {directory}: config.json is missing.")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"The model's config.json at {directory} is damaged ({exc}).") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelError(f"{directory} does not hold a TeXSnap model (unknown format).")
    return config


def _check_shapes(model: Im2Latex, state: dict, directory: Path) -> None:
    """Compare the weights with the architecture (a model on the meta device) before
    allocating: a config that says d_ff=10**9 must be an error, not hundreds of gigabytes."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items() if k != "head.weight"}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        odd = sorted(set(expected) ^ set(found)) or [k for k in expected if expected[k] != found[k]]
        raise ModelError(
            f"The model at {directory} does not match its config ({', '.join(odd[:3])})."
        )


class _SkipRandomInit(TorchFunctionMode):
    """Build modules without running their random initialisers, for weights that are
    overwritten anyway. Not ``to_empty`` of a meta model either: the meta kernels of those
    operations are written in Python, and their first use imports torch._dynamo, sympy and
    triton (+150 MB of memory, seconds at start-up). A function mode is per thread, so
    other threads' initialisers are unaffected."""

    SKIPPED = frozenset({"normal_", "uniform_", "kaiming_normal_", "kaiming_uniform_"})

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") in self.SKIPPED:
            tensor = args[0] if args else kwargs.get("tensor")
            if isinstance(tensor, torch.Tensor):
                return tensor
        return func(*args, **kwargs)


def load_model(directory: str | os.PathLike, device: str | torch.device = "cpu") -> LoadedModel:
    """Load and verify a model directory; raises :class:`ModelError` with a clear message."""
    directory = Path(directory)
    config = read_config(directory)
    weights = directory / WEIGHTS
    if not weights.is_file():
        raise ModelError(f"The model at {directory} has no weights file ({WEIGHTS}).")
    if sha256_file(weights) != config.get("sha256"):
        raise ModelError(
            f"The model weights at {directory} are damaged (checksum mismatch). "
            "Reinstall or re-import the model."
        )
    try:
        arch = ModelConfig.from_dict(config["architecture"])
        vocab = Vocab(list(config["vocabulary"]))
        preprocess = PreprocessConfig.from_dict(config.get("preprocess", {}))
        state = load_file(str(weights))
        with torch.device("meta"), _SkipRandomInit():  # shapes only: nothing allocated yet
            model = Im2Latex(arch)
        _check_shapes(model, state, directory)
        with _SkipRandomInit():  # every tensor is then filled from the file
            model = Im2Latex(arch)
    # a hand-edited config can hold anything: lists for dicts, strings for sizes, zeros
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError, SafetensorError) as exc:
        raise ModelError(f"The model at {directory} cannot be read ({exc}).") from None
    state["head.weight"] = state["embed.weight"]
    try:
        model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"The model at {directory} does not match its config ({exc}).") from None
    model.eval().to(device)
    return LoadedModel(model, vocab, preprocess, config)

"""Training configuration: one dataclass, read from a TOML file, overridable from the command line.

The resolved config is stored in every checkpoint and in the exported model's config.json, so a
model always says how it was made.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from core.errors import SettingsError
from core.model import ModelConfig


@dataclass
class TrainConfig:
    name: str = "base"
    shards: str = "data/shards"  # folder of .npz shards (texsnap data build)
    out: str = "runs/base"
    seed: int = 0
    steps: int = 20000
    batch_pixels: int = 400_000  # padded image pixels per batch (memory ~ this)
    max_batch: int = 48
    accumulate: int = 1
    lr: float = 1e-3
    min_lr: float = 2e-5
    warmup: int = 500
    weight_decay: float = 0.02
    label_smoothing: float = 0.1
    clip: float = 1.0
    ema: float = 0.0  # 0 = off; e.g. 0.999
    # >0 (with ema): the EMA weights' BatchNorm statistics are recomputed from this many
    # training batches before each dev evaluation and export (training/batchnorm.py): the
    # averaged statistics were never produced by the averaged weights
    bn_batches: int = 0
    bf16: bool = True  # bf16 autocast on CUDA
    # bf16 autocast on CPUs that compute bf16 natively (core.device): twice the steps per CPU
    # second, but the one CPU run with it (run (33)) turned NaN after 3,800 steps, cause
    # unknown, so it is asked for, not the default
    cpu_bf16: bool = False
    augment: bool = True  # random ink jitter per batch (off for overfitting tests)
    crohme_weight: float = 1.5  # how often a handwritten sample is drawn relative to printed
    # >0: CROHME makes this share of every epoch's draws, however many rendered shards join
    # (grow_shards); it overrides crohme_weight
    crohme_share: float = 0.0
    # chance that a printed or LaTeX-typeset sample is seen as a snip at low zoom (glyphs of
    # 3-6 px, scaled back up by the preprocessor: augment.low_resolution); 0 = never
    low_res: float = 0.0
    eval_every: int = 1000
    eval_samples: int = 200
    save_every: int = 500
    log_every: int = 20
    threads: int = 0  # CPU threads for torch (0 = all cores)
    loader_workers: int = 0  # processes that collate batches (0 = in the training process)
    time_budget_s: float = 0.0  # >0: stop after this many seconds; the cosine runs on time
    grow_shards: bool = False  # pick up shards a build running beside training adds, per epoch
    shape_bucket: int = 0  # >0: pad batches to multiples of this (few shapes for cuDNN on GPU)
    profile_steps: int = 0  # >0: torch.profiler over that many steps (after 10), profile.txt
    vocab_min_count: int = 3
    init_model: str = ""  # start from an exported model dir (its vocabulary and weights)
    vocab_corpus: bool = False  # also count tokens of ../shared/data/formulas (base model)
    model: dict = field(default_factory=dict)  # ModelConfig fields

    def model_config(self, vocab_size: int) -> ModelConfig:
        return ModelConfig.from_dict({**self.model, "vocab_size": vocab_size})

    def to_dict(self) -> dict:
        return asdict(self)


def _coerce(value: str, like):
    if isinstance(like, bool):
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(value)
    if isinstance(like, int):
        return int(value)
    if isinstance(like, float):
        return float(value)
    return value


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> TrainConfig:
    """Config from ``path`` (TOML), then ``key=value`` overrides (``model.n_layers=3`` too)."""
    data: dict = {}
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"Cannot read training config {path}: {exc}") from None
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(data) - known
    if unknown:
        raise SettingsError(f"Unknown training option(s) in {path}: {', '.join(sorted(unknown))}")
    cfg = TrainConfig(**data)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise SettingsError(f"Override {item!r} must look like key=value")
        if key.startswith("model."):
            sub = key[6:]
            default = getattr(ModelConfig(), sub, None)
            if default is None:
                raise SettingsError(f"Unknown model option {sub!r}")
            cfg.model[sub] = (
                _coerce(value, default)
                if not isinstance(default, tuple)
                else [int(x) for x in value.split(",")]
            )
            continue
        if key not in known:
            raise SettingsError(f"Unknown training option {key!r}")
        try:
            setattr(cfg, key, _coerce(value, getattr(cfg, key)))
        except ValueError:
            raise SettingsError(f"Bad value for {key}: {value!r}") from None
    if not 0.0 <= cfg.crohme_share < 1.0:
        raise SettingsError(f"crohme_share must be at least 0 and below 1, not {cfg.crohme_share}.")
    return cfg

"""What a fine-tune run is asked to do and what it reports, without torch: presets, options,
progress events, the before/after report and the rule that decides whether to offer the new
model. The GUI imports this on its own thread, so it must stay light.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from core.errors import DatasetError

REGRESSION_SIZE = 200  # printed formulas in the built-in regression set
MIN_EXAMPLES = 10  # fewer corrections than this cannot show an improvement reliably
PARTS = ("all", "encoder", "decoder")  # which weights a fine-tune may change


REGRESSION_TOLERANCE = 0.01  # the regression set may lose at most one point


@dataclass(frozen=True)
class Preset:
    name: str
    steps: int
    lr: float  # peak; base training peaks at 1e-3
    warmup: int
    batch_pixels: int
    max_batch: int
    evals: int  # held-out evaluations during training (points on the live plot)
    replay_ratio: float = 1.0  # replay draws per training correction
    max_replay: int = 400
    # distinct replay formulas drawn from (0: as many as there are replay draws). A larger
    # pool spreads the same number of draws over more printed formulas instead of repeating
    # a few every pass
    replay_pool: int = 0
    label_smoothing: float = 0.1
    weight_decay: float = 0.01
    clip: float = 1.0
    distort: float = 0.0  # how strongly to bend the corrections' images (distort_ink)
    part: str = "all"  # which weights learn: all, or only the "encoder" or the "decoder"
    # after training, gather the encoder's BatchNorm statistics anew over one pass of the
    # fine-tune's own mix (corrections + replay); training itself keeps them frozen. Off:
    # it read fewer unseen corrections and lost printed ones (docs/model/finetune-recipe.md)
    adapt_bn: bool = False
    # share of the fine-tuned weights kept: the rest is the start model's (1.0: all the
    # fine-tuned weights). Interpolating fine-tuned and start weights ("WiSE-FT", Wortsman et
    # al. 2022) keeps more of what the start model read while keeping much of the new gain
    blend: float = 1.0
    # train each correction at every glyph size the recognizer reads it at
    # (preprocess.candidates), not only the standard one; replay draws scale with the inputs
    all_sizes: bool = False
    # weight of distillation on the replay formulas: besides their labels, they are trained to
    # keep the start model's token distributions (KL divergence at every label position,
    # "learning without forgetting", Li and Hoiem 2016); 0: labels only
    distill: float = 0.0
    # pull of every learning weight back toward its start value after each step, decoupled
    # like AdamW's weight decay but toward the start weights instead of zero:
    # w <- w - lr * anchor * (w - w_start) ("L2-SP", Li et al. 2018); 0: no pull
    anchor: float = 0.0

    @property
    def label(self) -> str:
        return PRESET_LABELS[self.name]


PRESETS = {
    # ~8 passes over 200 corrections; about 4 minutes in all on 2 laptop cores. lr 5e-5, not
    # 1e-4: inside the adaptation benchmark's own 200 corrections (--inside, 2 inner splits) it
    # gained as much or more on unseen handwriting and lost fewer printed formulas, on the
    # bundled base and on a base that reads printed formulas better (README, "A lower rate")
    "quick": Preset(
        "quick", steps=200, lr=5e-5, warmup=10, batch_pixels=150_000, max_batch=16, evals=4
    ),
    "thorough": Preset(
        "thorough", steps=600, lr=1e-4, warmup=30, batch_pixels=250_000, max_batch=24, evals=8
    ),
}
PRESET_LABELS = {
    "quick": "Quick (a few minutes)",
    "thorough": "Thorough (about three times longer, for a few hundred corrections or more)",
}
# Seconds per training step, per scored image and per printed formula drawn (first run
# only; then cached), for the base architecture. CPU: CPU time measured by
# benchmarks/finetune_crohme.py --random on one thread, rounded up; GPUs: guesses. Used only
# for the estimate shown before a run starts.
STEP_SECONDS = {"cpu": 0.6, "cuda": 0.06, "mps": 0.25}
EVAL_SECONDS = {"cpu": 0.08, "cuda": 0.004, "mps": 0.02}
RENDER_SECONDS = 0.13


@dataclass
class Options:
    preset: str = "quick"
    device: str = "auto"
    seed: int = 0
    regression_size: int = REGRESSION_SIZE
    steps: int | None = None  # overrides the preset (tests, experiments)
    lr: float | None = None  # overrides the preset (experiments)
    replay_ratio: float | None = None  # overrides the preset (experiments)
    distort: float | None = None  # overrides the preset (experiments)
    part: str | None = None  # overrides the preset (experiments)
    adapt_bn: bool | None = None  # overrides the preset (experiments)
    blend: float | None = None  # overrides the preset (experiments)
    replay_pool: int | None = None  # overrides the preset (experiments)
    all_sizes: bool | None = None  # overrides the preset (experiments)
    distill: float | None = None  # overrides the preset (experiments)
    anchor: float | None = None  # overrides the preset (experiments)

    def resolved(self) -> Preset:
        if self.preset not in PRESETS:
            raise DatasetError(f"Unknown preset {self.preset!r}: choose {' or '.join(PRESETS)}.")
        changes = {
            name: check(value)
            for name, check in _OVERRIDES.items()
            if (value := getattr(self, name)) is not None
        }
        return replace(PRESETS[self.preset], **changes)


def _part(value: str) -> str:
    if value not in PARTS:
        raise DatasetError(f"Unknown part {value!r}: choose {', '.join(PARTS)}.")
    return value


def _blend(value: float) -> float:
    if not 0.0 < float(value) <= 1.0:
        raise DatasetError(f"The blend must be above 0 and at most 1, not {value}.")
    return float(value)


# the Options that override a preset's field of the same name, each with its check
_OVERRIDES = {
    "steps": lambda v: max(1, int(v)),
    "lr": float,
    "replay_ratio": lambda v: max(0.0, float(v)),
    "distort": lambda v: max(0.0, float(v)),
    "part": _part,
    "adapt_bn": bool,
    "replay_pool": lambda v: max(0, int(v)),
    "all_sizes": bool,
    "blend": _blend,
    "distill": lambda v: max(0.0, float(v)),
    "anchor": lambda v: max(0.0, float(v)),
}


@dataclass
class Progress:
    phase: str  # prepare | before | train | after | save
    done: int = 0
    total: int = 0
    loss: float | None = None
    heldout: float | None = None  # exact match on the held-out corrections, at eval points
    elapsed: float = 0.0
    eta: float | None = None  # seconds left in the whole run
    message: str = ""


@dataclass
class Report:
    model_dir: str
    name: str
    before: dict  # {"user": summary, "regression": summary} of the model in use
    after: dict  # same for the fine-tuned model
    recommended: bool
    reason: str
    train_samples: int
    heldout_samples: int
    replay_samples: int
    steps: int
    preset: str
    device: str
    seconds: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Report:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def rows(self) -> list[tuple[str, float, float]]:
        """(what, before, after) exact-match rows of the report."""
        u, r = self.before["user"], self.before["regression"]
        return [
            (
                f"Your held-out corrections ({u['n']})",
                u["exact_match"],
                self.after["user"]["exact_match"],
            ),
            (
                f"Printed regression set ({r['n']})",
                r["exact_match"],
                self.after["regression"]["exact_match"],
            ),
        ]

    def to_text(self) -> str:
        lines = [
            "| Exact match | Model in use | Fine-tuned |",
            "|---|---:|---:|",
            *(f"| {what} | {b:.1%} | {a:.1%} |" for what, b, a in self.rows()),
            "",
            f"Trained on {self.train_samples} corrections + {self.replay_samples} replay "
            f"samples, {self.steps} steps ({self.preset}) on {self.device} "
            f"in {self.seconds / 60:.1f} min.",
            f"Saved as {self.name} ({self.model_dir}).",
            ("Recommended: " if self.recommended else "Not recommended: ") + self.reason,
        ]
        if self.warnings:
            lines.append(f"{len(self.warnings)} correction(s) skipped:")
            lines += [f"  - {w}" for w in self.warnings[:20]]
        return "\n".join(lines)


def judge(before: dict, after: dict) -> tuple[bool, str]:
    """Whether to offer the fine-tuned model, and why, in a sentence for the user."""
    ub, ua = before["user"]["exact_match"], after["user"]["exact_match"]
    rb, ra = before["regression"]["exact_match"], after["regression"]["exact_match"]
    if ua <= ub:
        return False, (
            f"it does not read your held-out corrections better ({ua:.1%} vs {ub:.1%}). "
            "More corrections, or the thorough preset, may help."
        )
    if ra < rb - REGRESSION_TOLERANCE - 1e-9:
        return False, (
            f"it reads printed formulas worse ({ra:.1%} vs {rb:.1%}, more than one point lost)."
        )
    return True, (
        f"your held-out corrections go from {ub:.1%} to {ua:.1%}, printed formulas from "
        f"{rb:.1%} to {ra:.1%}."
    )


def estimate_seconds(options: Options, n_corrections: int, device: str = "cpu") -> float:
    """A rough duration of a whole run, for the Fine-tune button before it starts."""
    p = options.resolved()
    kind = device if device in STEP_SECONDS else "cpu"
    held = max(3, n_corrections // 5)
    # a held-out correction is read as the app reads it, at three glyph sizes: ~1.5 readings
    evals = 2 * options.regression_size + (2 + p.evals) * held * 1.5
    replay = max(p.replay_pool, round((n_corrections - held) * p.replay_ratio))
    renders = min(p.max_replay, replay) + options.regression_size
    return 10 + p.steps * STEP_SECONDS[kind] + evals * EVAL_SECONDS[kind] + renders * RENDER_SECONDS

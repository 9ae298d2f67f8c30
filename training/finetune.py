"""Fine-tune a model on the user's corrections, safely: the procedure behind the Training tab
and ``texsnap finetune``.

1. Read the corrections; hold ~20 % out by image hash (``training.user_data``).
2. Score the model in use ("before") on the held-out corrections, read as the app reads them
   (every glyph size of the model's config), and on the built-in printed regression set
   (``training.replay``).
3. Train a copy of the starting model (the bundled base model unless told otherwise) on the
   rest, mixed 1:1 with printed replay samples of the base domain, at a learning rate ten
   times below base training, with BatchNorm statistics frozen: the three guards against
   forgetting what the base model could read. Mixed precision on CUDA and Apple GPUs.
4. Score the result ("after") and save it as a new model version, atomically: a cancelled or
   failed run leaves nothing behind and never changes the model in use.
5. :func:`judge` decides whether to offer it: the user's accuracy must improve and the
   regression set must not lose more than one point.

Progress is reported through a callback; ``cancel`` and ``pause`` are anything with
``is_set()`` (``threading.Event`` or ``multiprocessing.Event``), checked between steps.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

from core import paths
from core.checkpoint import LoadedModel, load_model, read_config, save_model
from core.device import select_device
from core.errors import Cancelled, DatasetError, TeXSnapError
from core.metrics import Scores
from core.model import Im2Latex
from core.preprocess import candidates
from core.recognizer import Recognizer
from core.result import Result
from training.batches import TrainData
from training.batchnorm import recompute_batchnorm
from training.config import TrainConfig
from training.data.shards import read_shards, write_shard
from training.finetune_plan import Options, Preset, Progress, Report, judge
from training.replay import regression_set, replay_set
from training.trainer import evaluate_slices, lr_at, param_groups
from training.user_data import heldout_indices, prepare, read_examples


class _Clock:
    """Seconds since the start, time spent paused excluded."""

    def __init__(self):
        self.start = time.perf_counter()
        self.paused = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start - self.paused


def finetune(
    dataset: str | Path,
    start_dir: str | Path,
    current_dir: str | Path,
    out_dir: str | Path,
    options: Options | None = None,
    progress: Callable[[Progress], None] = lambda p: None,
    cancel=None,
    pause=None,
) -> Report:
    """Fine-tune the model at ``start_dir`` on ``dataset``, compare it with ``current_dir``
    (the model in use) and save it to ``out_dir`` (which must not exist yet)."""
    options = options or Options()
    preset = options.resolved()
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise DatasetError(f"{out_dir} already exists; choose a new folder for the model.")
    device = select_device(options.device)
    clock = _Clock()
    run = _Run(preset, options, device, progress, cancel, pause, clock)
    return run.execute(Path(dataset), Path(start_dir), Path(current_dir), out_dir)


class _Run:
    def __init__(self, preset, options, device, progress, cancel, pause, clock):
        self.preset, self.options, self.device = preset, options, device
        self.progress, self.cancel, self.pause, self.clock = progress, cancel, pause, clock
        # the held-out corrections: the images as saved, and their canonical LaTeX (data())
        self.heldout: tuple[list[bytes], list[str]] = ([], [])
        self.n_train = 0  # corrections trained on

    # ---- control ----------------------------------------------------------------------------
    def tell(self, phase: str, message: str = "", **kw) -> None:
        self.check()
        self.progress(Progress(phase, elapsed=self.clock.elapsed(), message=message, **kw))

    def check(self) -> None:
        """Raise Cancelled when asked; wait (not counted as elapsed) while paused."""
        if self.pause is not None and self.pause.is_set():
            t = time.perf_counter()
            while self.pause.is_set() and not self._cancelled():
                time.sleep(0.1)
            self.clock.paused += time.perf_counter() - t
        if self._cancelled():
            raise Cancelled("Fine-tuning was cancelled; the model in use is unchanged.")

    def _cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    # ---- the procedure ----------------------------------------------------------------------
    def execute(self, dataset: Path, start_dir: Path, current_dir: Path, out_dir: Path) -> Report:
        self.tell("prepare", "Reading your corrections…")
        start = load_model(start_dir, "cpu")
        current = start if _same(start_dir, current_dir) else load_model(current_dir, "cpu")
        with tempfile.TemporaryDirectory(prefix="texsnap-finetune-") as tmp:
            train, held, replay_n, warnings = self.data(dataset, start, Path(tmp))
            before = self.evaluate(current, held, "before")
            model = self.train(start, train, held)
            _as_saved(model)  # score exactly the weights that will be saved (fp16)
            after = self.evaluate(LoadedModel(model, start.vocab, start.preprocess), held, "after")
        ok, reason = judge(before, after)
        report = Report(
            str(out_dir), out_dir.name, before, after, ok, reason,
            train_samples=self.n_train,
            heldout_samples=len(self.heldout[1]),
            replay_samples=replay_n,
            steps=self.preset.steps, preset=self.preset.name, device=str(self.device),
            seconds=0.0, warnings=warnings,
        )  # fmt: skip
        self.tell("save", "Saving the new model version…")
        report.seconds = round(self.clock.elapsed(), 1)
        self.save(model, start, report, out_dir, dataset)
        return report

    def data(self, dataset: Path, start: LoadedModel, tmp: Path):
        vocab, max_len, cfg = start.vocab, start.model.cfg.max_len, start.preprocess
        examples, warnings = read_examples(dataset)
        kept, images, labels, bad = prepare(examples, vocab, max_len, cfg)
        warnings += bad
        held_idx = heldout_indices(kept)  # split what is usable, so held-out is never empty
        self.check()
        train_idx = [i for i in range(len(kept)) if i not in held_idx]
        # held-out corrections stay as the images the user saved: they are scored as the app
        # reads a snip (Recognizer), not from one preprocessed input
        self.heldout = (
            [kept[i].image for i in sorted(held_idx)],
            [labels[i] for i in sorted(held_idx)],
        )
        self.n_train = n_train = len(train_idx)
        if n_train < 1 or not self.heldout[1]:
            raise DatasetError(
                "None of the corrections can be used for training (see the warnings)."
            )
        inputs, input_labels = self.training_inputs(kept, images, labels, train_idx, cfg)
        n_replay = min(self.preset.max_replay, round(len(inputs) * self.preset.replay_ratio))
        n_pool = max(n_replay, min(self.preset.replay_pool, self.preset.max_replay))

        def rendering(done, total):
            if done % 20 == 0:
                self.tell("prepare", f"Drawing printed formulas ({done}/{total})…")

        replay = replay_set(n_pool, cfg, vocab, progress=rendering, max_len=max_len)
        regression = regression_set(
            cfg, vocab, n=self.options.regression_size, progress=rendering, max_len=max_len
        )
        write_shard(tmp / "user-train.npz", inputs, input_labels, ["user"] * len(inputs))
        train = TrainData(read_shards([tmp / "user-train.npz", replay]), vocab, max_len)
        train.distort = {"user": self.preset.distort}
        pool = sum(s == "printed" for s in train.shard.sources)
        if pool > n_replay > 0:  # as many replay draws per pass as before, over more formulas
            train.weights = {"printed": n_replay / pool}
        held = TrainData(read_shards([regression]), vocab, max_len)
        n_replay = pool
        self.regression_key = regression.name
        return train, held, n_replay, warnings

    def training_inputs(self, kept, images, labels, idx, cfg) -> tuple[list, list[str]]:
        """The inputs the corrections at ``idx`` are trained on, with their labels: each one's
        standard input, or with ``Preset.all_sizes`` every input the recognizer reads the saved
        image from (``preprocess.candidates``: the extra glyph sizes of the model's config)."""
        if not self.preset.all_sizes:
            return [images[i] for i in idx], [labels[i] for i in idx]
        out, out_labels = [], []
        for i in idx:
            self.check()
            try:
                arrays = candidates(kept[i].image, cfg)
            except TeXSnapError:  # preprocess read it once already; keep that input
                arrays = [images[i]]
            out += arrays
            out_labels += [labels[i]] * len(arrays)
        return out, out_labels

    def evaluate(self, loaded: LoadedModel, held: TrainData, phase: str) -> dict:
        """Exact match etc. on the held-out corrections (as the app reads them) and on the
        regression set (one reading of each preprocessed formula, before and after alike). A
        model's regression score is remembered by the checksum of its weights: the model in use
        was usually scored when it was made, which saves a quarter of a quick run."""
        what = "the model in use" if phase == "before" else "the fine-tuned model"
        self.tell(phase, f"Scoring {what}…")
        model = loaded.model.to(self.device)
        user = self.read_heldout(loaded)  # its own vocabulary and preprocessing
        self.check()
        sha = loaded.config.get("sha256", "")  # none yet for the fine-tuned model
        key, scores = f"{sha}:{self.regression_key}", _ScoreCache()
        reg = scores.get(key) if sha else None
        if reg is None:
            # the model in use may be an imported one with another vocabulary: decode with its own
            reg = self.score(model, _slice(held, "printed", loaded.vocab))
            if sha:
                scores.put(key, reg)
        return {"user": user, "regression": reg}

    def score(self, model: Im2Latex, data: TrainData) -> dict:
        """Greedy scores of ``model`` on ``data`` (one source)."""
        with self._one_thread():
            by_source = evaluate_slices(model, data, 10**9, self.device)
        return next(iter(by_source.values()), Scores().summary())

    def read_heldout(self, loaded: LoadedModel) -> dict:
        """Greedy scores on the held-out corrections, each read the way the app reads the
        image the user saved (``Recognizer``: at every glyph size of ``loaded``'s config, the
        surest reading kept). An image that cannot be read counts as wrong."""
        images, labels = self.heldout
        loaded.model.eval()
        with self._one_thread():
            results = Recognizer(loaded, self.device).recognize_batch(images, 1, alternatives=0)
        scores = Scores()
        for result, label in zip(results, labels, strict=True):
            scores.add(result.latex if isinstance(result, Result) else "", label)
        return scores.summary()

    @contextlib.contextmanager
    def _one_thread(self):
        """Scoring on the CPU uses one thread: decoding is a long chain of tiny operations,
        and with two threads each of them waits for the other thread, which any other busy
        program delays (measured on a loaded 2-core machine with OpenMP's default waiting:
        greedy decoding 12x slower in wall time with two threads than with one)."""
        threads = torch.get_num_threads()
        if self.device.type == "cpu":
            torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)

    def train(self, start: LoadedModel, data: TrainData, held: TrainData) -> Im2Latex:
        p, device = self.preset, self.device
        torch.manual_seed(self.options.seed)
        model = Im2Latex(start.model.cfg)
        model.load_state_dict(start.model.state_dict())
        model.to(device)
        _learn_only(model, p.part)
        opt = torch.optim.AdamW(param_groups(model, p.weight_decay), lr=p.lr, betas=(0.9, 0.98))
        sched = TrainConfig(steps=p.steps, lr=p.lr, min_lr=p.lr / 10, warmup=p.warmup)
        amp, scaler = _mixed_precision(device)
        as_trained = LoadedModel(model, start.vocab, start.preprocess)
        after = partial(_after_seconds, held, len(self.heldout[1]))
        eval_at = {round(p.steps * (k + 1) / p.evals) for k in range(p.evals)}
        batches = _batches(data, self.options.seed, p, model.cfg)
        # the start model, frozen, is the teacher of the replay formulas (Preset.distill)
        teacher = start.model.to(device).eval() if p.distill > 0 else None
        anchor = _Anchor(model, p.anchor) if p.anchor > 0 else None
        _train_mode(model)
        t0, steps_t0 = self.clock.elapsed(), 0
        for step in range(p.steps):
            self.check()
            lr = lr_at(step, sched)
            for g in opt.param_groups:
                g["lr"] = lr
            images, sizes, inputs, targets, replay = (t.to(device) for t in next(batches))
            with amp():
                logits, loss = model(images, inputs, sizes, targets, p.label_smoothing)
                if teacher is not None and replay.any():
                    batch = (images[replay], inputs[replay], sizes[replay], targets[replay])
                    kl = _distillation(teacher, logits[replay], *batch, model.cfg.pad_id)
                    loss = loss + p.distill * kl
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), p.clip)
            scaler.step(opt)
            scaler.update()
            opt.zero_grad(set_to_none=True)
            if anchor is not None:
                anchor.pull(lr)
            heldout = None
            if step + 1 in eval_at:
                heldout = self.read_heldout(as_trained)["exact_match"]
                _train_mode(model)
            steps_t0 += 1
            rate = (self.clock.elapsed() - t0) / steps_t0
            self.progress(
                Progress(
                    "train", step + 1, p.steps, float(loss.detach()), heldout,
                    self.clock.elapsed(), rate * (p.steps - step - 1) + after(rate),
                    f"Training step {step + 1} of {p.steps}",
                )
            )  # fmt: skip
        if p.adapt_bn:
            self.adapt_statistics(model, data)
        if p.blend < 1.0:
            _blend(model, start.model, p.blend)
        return model.eval()

    def adapt_statistics(self, model: Im2Latex, data: TrainData) -> None:
        """Gather the encoder's BatchNorm statistics anew over one pass of the fine-tune's
        mix (an experiment: ``docs/model/finetune-recipe.md`` found it costs more than it
        gives, so no preset does it)."""
        p = self.preset
        self.tell(
            "train", "Adapting the model's image statistics to your corrections…",
            done=p.steps, total=p.steps,
        )  # fmt: skip
        plan = data.epoch_plan(self.options.seed, 0, p.batch_pixels, p.max_batch)
        recompute_batchnorm(model, data, plan)

    def save(self, model, start: LoadedModel, report: Report, out_dir: Path, dataset) -> None:
        """Write to a hidden sibling folder, then rename: a crash never leaves half a model."""
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = out_dir.parent / f".staging-{out_dir.name}"
        shutil.rmtree(staging, ignore_errors=True)
        cfg = start.config
        meta = {
            "name": out_dir.name,
            "calibration": cfg.get("calibration", {"scale": 1.0}),
            "finetuned_from": {"name": cfg.get("name", ""), "sha256": cfg.get("sha256", "")},
            "metrics": {"finetune": {"before": report.before, "after": report.after}},
            "training": {
                "kind": "finetune",
                "dataset": Path(dataset).name,
                "samples": report.train_samples,
                "heldout": report.heldout_samples,
                "replay": report.replay_samples,
                "preset": report.preset,
                "steps": report.steps,
                "device": report.device,
                "seconds": report.seconds,
                "recommended": report.recommended,
                "reason": report.reason,
            },
        }
        try:
            save_model(staging, model.cpu(), start.vocab, start.preprocess, meta=meta)
            sha = read_config(staging).get("sha256", "")
            _ScoreCache().put(f"{sha}:{self.regression_key}", report.after["regression"])
            (staging / "MODEL.md").write_text(_model_card(report, cfg), encoding="utf-8")
            staging.rename(out_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _same(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        return a.resolve() == b.resolve()
    return False


def _slice(held: TrainData, source: str, vocab=None) -> TrainData:
    """The samples of one source of ``held`` (the regression set's "printed"), decoded
    with ``vocab`` when given (scores compare LaTeX strings, not token ids)."""
    view = TrainData.__new__(TrainData)
    view.__dict__.update(held.__dict__)
    view.keep = [i for i in held.keep if held.shard.sources[i] == source]
    view.vocab = vocab or held.vocab
    return view


def _blend(model: Im2Latex, start: Im2Latex, keep: float) -> None:
    """``model``'s floating-point weights become ``keep`` of themselves plus the rest of
    ``start``'s (the same architecture: the fine-tune began from it). A tensor shared by two
    names (tied embedding and output weights) is blended once."""
    original, done = start.state_dict(), set()
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.is_floating_point() and t.data_ptr() not in done:
                done.add(t.data_ptr())
                t.mul_(keep).add_(original[name].to(t.device, t.dtype), alpha=1.0 - keep)


def _as_saved(model: Im2Latex) -> None:
    """Round the weights to fp16 and back, as ``save_model`` stores them."""
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.copy_(t.half().float())


class _ScoreCache:
    """Regression scores by model checksum, in the cache folder (safe to delete)."""

    def __init__(self):
        self.path = paths.cache_dir() / "finetune" / "regression-scores.json"

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict | None:
        value = self._read().get(key)
        return value if isinstance(value, dict) and "exact_match" in value else None

    def put(self, key: str, scores: dict) -> None:
        data = self._read()
        data[key] = scores
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(data), encoding="utf-8")


def _after_seconds(held: TrainData, n_heldout: int, step_rate: float) -> float:
    # scoring an image greedily costs about a sixth of a training step (measured on CPU); a
    # held-out correction, read at three glyph sizes as the app reads, about half as much again
    return (len(held.keep) + 1.5 * n_heldout) * step_rate / 6


def _batches(data: TrainData, seed: int, p: Preset, cfg):
    """Endless training batches: (images, sizes, inputs, targets, which rows are replay)."""
    epoch = 0
    while True:
        plan = data.epoch_plan(seed, epoch, p.batch_pixels, p.max_batch)
        for b, batch in enumerate(plan):
            key = f"ft/{seed}/{epoch}/{b}"
            replay = torch.tensor([data.shard.sources[i] == "printed" for i in batch])
            yield (*data.collate(batch, key, cfg.pad_id, cfg.bos_id, cfg.eos_id), replay)
        epoch += 1


class _Anchor:
    """The learning weights' start values, and the pull back toward them (Preset.anchor)."""

    def __init__(self, model: Im2Latex, strength: float):
        self.strength = strength
        self.pairs = [(w, w.detach().clone()) for w in model.parameters() if w.requires_grad]

    @torch.no_grad()
    def pull(self, lr: float) -> None:
        for w, start in self.pairs:
            w.lerp_(start, lr * self.strength)  # w - lr * strength * (w - start), in place


def _distillation(teacher: Im2Latex, logits, images, inputs, sizes, targets, pad_id: int):
    """Mean KL divergence from the frozen ``teacher``'s token distributions to ``logits``
    (the student's, on the same teacher-forced rows), over the label positions."""
    with torch.no_grad():
        t_logits, _ = teacher(images, inputs, sizes)
        t_log = t_logits.float().log_softmax(-1)
    kl = (t_log.exp() * (t_log - logits.float().log_softmax(-1))).sum(-1)
    return kl[targets != pad_id].mean()


def _learn_only(model: Im2Latex, part: str) -> None:
    """Freeze every weight outside ``part``: "encoder" (what the model sees), "decoder"
    (everything after it: embeddings, attention, output) or "all"."""
    for name, param in model.named_parameters():
        in_encoder = name.startswith("encoder.")
        param.requires_grad_(part == "all" or in_encoder == (part == "encoder"))


def _train_mode(model: Im2Latex) -> None:
    """Train, but keep BatchNorm's running statistics: a few hundred images of one person's
    handwriting would otherwise drag them away from everything else the model reads."""
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()


def _mixed_precision(device: torch.device):
    """(autocast context factory, grad scaler): bf16 on CUDA where supported, else fp16 with
    loss scaling; fp16 on Apple MPS; full precision on CPU."""
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return (lambda: torch.autocast("cuda", dtype=torch.bfloat16)), _NoScaler()
        return (lambda: torch.autocast("cuda", dtype=torch.float16)), torch.amp.GradScaler("cuda")
    if device.type == "mps":
        return (lambda: torch.autocast("mps", dtype=torch.float16)), torch.amp.GradScaler("mps")
    return contextlib.nullcontext, _NoScaler()


class _NoScaler:
    """GradScaler's interface without scaling (full precision or bf16)."""

    def scale(self, loss):
        return loss

    def unscale_(self, opt):
        pass

    def step(self, opt):
        opt.step()

    def update(self):
        pass


def _model_card(report: Report, base_cfg: dict) -> str:
    table = "\n".join(f"| {w} | {b:.1%} | {a:.1%} |" for w, b, a in report.rows())
    return (
        f"# {report.name}\n\nFine-tuned by TeXSnap from `{base_cfg.get('name', 'base')}` on "
        f"{report.train_samples} of the user's corrections ({report.replay_samples} printed "
        f"replay samples mixed in), preset {report.preset}, {report.steps} steps on "
        f"{report.device}.\n\n| Exact match | Before | After |\n|---|---:|---:|\n{table}\n"
    )

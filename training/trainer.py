"""The training loop: AdamW, warm-up + cosine decay, label smoothing, clipping, accumulation,
bf16 autocast (CUDA; CPUs with native bf16 when asked), optional EMA, resumable checkpoints, DDP
under torchrun.

One command for every setup: ``texsnap train --config training/configs/base.toml`` on CPU or one
GPU, ``torchrun --nproc_per_node=N -m training.cli train ...`` on several (gloo on CPU, NCCL on
CUDA). Rank 0 alone logs, evaluates and writes files.
"""

from __future__ import annotations

import csv
import gc
import json
import math
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from core.checkpoint import load_model, read_config, save_model
from core.decoding import greedy
from core.device import cpu_has_native_bf16, select_device
from core.errors import Cancelled, ModelError, SettingsError
from core.metrics import Scores
from core.model import Im2Latex, count_parameters
from core.preprocess import PreprocessConfig
from core.vocab import Vocab
from training.batches import TrainData
from training.batchnorm import recompute_batchnorm, statistics_plan
from training.checkpoints import load_checkpoint, save_checkpoint
from training.config import TrainConfig
from training.data.shards import concat_shards, read_shards
from training.plots import plot_run
from training.profiling import StepProfiler

MAX_BAD_STEPS = 20  # steps in a row with gradients that are not finite before a run stops


def append_csv(path: Path, row: dict) -> None:
    """Append ``row`` to the CSV at ``path``. A row with columns the file lacks rewrites it with
    them added (empty in the earlier rows): dev slices can appear mid-run (shards taken in as
    they are built, a resume), and appended without a header of their own their numbers sat
    in unlabelled columns. A column a row lacks stays empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = list(row)
    if path.exists():
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            header = list(reader.fieldnames or [])
            rows = list(reader) if set(fields) - set(header) else None
        if rows is not None:  # new columns: write the file again under the wider header
            header += [k for k in fields if k not in header]
            with open(path, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=header, restval="", extrasaction="ignore")
                w.writeheader()
                w.writerows(rows)
        fields = header
    new = not path.exists()
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, restval="", extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerow(row)


@dataclass
class Dist:
    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: torch.device) -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size())


def lr_at(step: int, cfg: TrainConfig, elapsed: float = 0.0) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to ``min_lr``: over the remaining
    steps, or over the time budget when the run has one (a run sized in minutes, not steps)."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    if cfg.time_budget_s > 0:
        t = min(1.0, elapsed / cfg.time_budget_s)
    else:
        t = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * t))


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """No weight decay on norms, biases and embeddings (standard for Transformers). Frozen
    weights (``requires_grad`` False) are left out."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "embed" in name or "pos" in name else decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def shard_files(folder: Path, split: str) -> list[Path]:
    return sorted(p for p in Path(folder).glob(f"*-{split}*.npz") if ".tmp" not in p.name)


class Trainer:
    def __init__(
        self,
        cfg: TrainConfig,
        device: str = "auto",
        log=print,
        should_stop=lambda: False,
        on_step=None,
    ):
        self.cfg = cfg
        self.log = log
        self.should_stop = should_stop
        self.on_step = on_step  # on_step(step, row) after each logged step (progress bars)
        self.tb = None
        self.device = select_device(device)
        if self.device.type == "cpu" and cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.dist = setup_distributed(self.device)
        self.mixed_precision = (self.device.type == "cuda" and cfg.bf16) or (
            self.device.type == "cpu" and cfg.cpu_bf16 and cpu_has_native_bf16()
        )
        # an autocast device type every torch >= 2.4 knows (MPS training runs in fp32)
        self._autocast_type = "cuda" if self.device.type == "cuda" else "cpu"
        self.bad_steps = 0  # steps in a row skipped for gradients that are not finite
        self.skipped_steps = 0
        if cfg.grow_shards and self.dist.world > 1:
            # ranks reading the folder at different moments would plan different epochs
            raise SettingsError("grow_shards works in single-process runs only (not torchrun).")
        self.out = Path(cfg.out)
        self.shard_paths = shard_files(Path(cfg.shards), "train")
        train = read_shards(self.shard_paths)
        dev_files = shard_files(Path(cfg.shards), "dev")
        self.vocab = self._vocab(train.labels)
        mcfg = cfg.model_config(len(self.vocab))
        self.train = training_data(train, self.vocab, mcfg.max_len, cfg)
        self.dev = (
            TrainData(read_shards(dev_files), self.vocab, mcfg.max_len) if dev_files else None
        )
        torch.manual_seed(cfg.seed)
        self.model = Im2Latex(mcfg).to(self.device)
        self._init_from_model()
        self.net = self.model
        if self.dist.world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(self.model)
        fused = self.device.type == "cuda"
        self.opt = torch.optim.AdamW(
            param_groups(self.model, cfg.weight_decay),
            lr=cfg.lr,
            betas=(0.9, 0.98),
            fused=fused or None,
        )
        self.ema = None
        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0
        self.elapsed = 0.0  # training seconds so far (the time budget's clock; kept on resume)
        self.best = -1.0
        self.history: list[dict] = []

    def _init_from_model(self) -> None:
        """Continue from an exported model (e.g. the bundled one) when no checkpoint exists:
        the next session's run builds on this one even without its optimizer state."""
        if not self.cfg.init_model or (self.out / "checkpoint" / "state.json").exists():
            return
        loaded = load_model(self.cfg.init_model, "cpu")
        try:
            self.model.load_state_dict(loaded.model.float().state_dict())
        except RuntimeError as exc:
            raise SettingsError(
                f"init_model {self.cfg.init_model} has another architecture than this "
                f"config's [model] section: {str(exc)[:200]}"
            ) from None

    def _vocab(self, labels: list[str]) -> Vocab:
        path = self.out / "vocab.json"
        if path.exists():
            return Vocab(json.loads(path.read_text()))
        vocab = self._new_vocab(labels)
        if self.dist.main:
            self.out.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")  # other ranks may read it meanwhile
            tmp.write_text(json.dumps(vocab.tokens, ensure_ascii=False))
            os.replace(tmp, path)
        return vocab

    def _new_vocab(self, labels: list[str]) -> Vocab:
        if self.cfg.init_model:  # the initial model's vocabulary, unchanged
            return Vocab(read_config(self.cfg.init_model)["vocabulary"])
        if self.cfg.vocab_corpus:
            # the whole formula corpus, not just the shards built so far: later runs that add
            # data can continue from this model without unknown tokens
            from training.data.sources import load_formulas

            labels = [*labels, *load_formulas(split="train")]
        return Vocab.build(labels, min_count=self.cfg.vocab_min_count)

    # ---- checkpoints -------------------------------------------------------------------
    def resume(self) -> bool:
        folder = self.out / "checkpoint"
        if not (folder / "state.json").exists():
            return False
        state, ema = load_checkpoint(folder, self.model, self.opt, self.device)
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch"]
        self.elapsed = state.get("elapsed", 0.0)
        self.best = state.get("best", -1.0)
        self.ema = ema
        self.log(f"resumed from step {self.step}")
        return True

    def save(self) -> None:
        if not self.dist.main:
            return
        state = {
            "step": self.step,
            "epoch": self.epoch,
            "batch": self.batch_in_epoch,
            "elapsed": self.elapsed,
            "best": self.best,
            "config": self.cfg.to_dict(),
        }
        save_checkpoint(self.out / "checkpoint", self.model, self.opt, self.ema, state)

    def export(self, folder: Path, metrics: dict, model: Im2Latex | None = None) -> Path:
        """The deployable model: fp16 safetensors + config.json (EMA weights when enabled).
        ``model``: those weights, when the caller has already built them."""
        model = self._deployable() if model is None else model
        meta = {
            "name": self.cfg.name,
            "metrics": metrics,
            "training": {
                "config": self.cfg.to_dict(),
                "steps": self.step,
                "device": str(self.device),
                "world_size": self.dist.world,
                "samples": len(self.train.keep),
                "data": self._data_summary(),
            },
        }
        return save_model(
            folder,
            model.cpu().eval() if model is not self.model else _cpu_copy(model),
            self.vocab,
            PreprocessConfig(),
            meta=meta,
        )

    def _deployable(self) -> Im2Latex:
        """The weights an export writes: the EMA average when enabled, else the live model.
        Evaluation judges these same weights, so the dev-best export is chosen by its own
        score, not by the noisier live weights'."""
        if self.ema is None:
            return self.model
        model = Im2Latex(self.model.cfg).to(self.device)
        model.load_state_dict({**self.model.state_dict(), **self.ema})
        if self.cfg.bn_batches > 0:
            # a seed of their own, so that the training batches and their order are untouched
            plan = statistics_plan(self.train, self.cfg.bn_batches, self.cfg.seed + 1, self.epoch)
            recompute_batchnorm(model, self.train, plan)
        return model

    def _data_summary(self) -> dict:
        """Samples per source and the shard files: a model says what it learned from."""
        names = [p.name for p in self.shard_paths]
        return {"samples_per_source": self.train.samples_per_source(), "shards": names}

    # ---- the loop ----------------------------------------------------------------------
    def batches(self):
        cfg = self.cfg
        while True:
            if cfg.grow_shards:
                self._grow_shards()
            plan = self.train.epoch_plan(cfg.seed, self.epoch, cfg.batch_pixels, cfg.max_batch)
            mine = split_plan(plan, self.dist.rank, self.dist.world)
            start = self.batch_in_epoch
            keys = [
                f"aug/{cfg.seed}/{self.epoch}/{b}/{self.dist.rank}" if cfg.augment else None
                for b in range(start, len(mine))
            ]
            for batch in self._collated(PlanBatches(self.train, mine[start:], keys, self._ids())):
                self.batch_in_epoch += 1
                yield batch
            self.epoch += 1
            self.batch_in_epoch = 0

    def _collated(self, items: PlanBatches):
        """The epoch's batches in order: collated here, or by ``loader_workers`` processes ahead
        of the GPU (collating and jittering images on one core starves a GPU)."""
        if not self.cfg.loader_workers:
            return (items[b] for b in range(len(items)))
        return iter(
            torch.utils.data.DataLoader(
                items,
                batch_size=None,
                shuffle=False,
                num_workers=self.cfg.loader_workers,
                prefetch_factor=4,
                pin_memory=self.device.type == "cuda",
            )
        )

    def _grow_shards(self) -> None:
        """Append the shards a build running beside the run has finished since the last epoch
        (only those are read; the ones in memory stay)."""
        new = [p for p in shard_files(Path(self.cfg.shards), "train") if p not in self.shard_paths]
        if not new:
            return
        shard = concat_shards([self.train.shard, read_shards(new)])
        self.train = training_data(shard, self.vocab, self.model.cfg.max_len, self.cfg)
        self.shard_paths += new
        if self.dist.main:
            self.log(
                f"epoch {self.epoch}: +{len(new)} shards, {len(self.train.keep)} samples, "
                f"CROHME drawn {self.train.crohme_weight:.2f}x"
            )

    def _ids(self):
        c = self.model.cfg
        return c.pad_id, c.bos_id, c.eos_id

    def run(self, resume: bool = False) -> Path | None:
        cfg = self.cfg
        if resume:
            self.resume()
        elif (self.out / "checkpoint" / "state.json").exists():
            # starting over here would overwrite that run and silently skip init_model
            raise SettingsError(
                f"{self.out} already holds a training run: continue it with --resume, "
                "or give this run another out folder."
            )
        if self.dist.main:
            self.log(
                f"{count_parameters(self.model) / 1e6:.2f}M parameters, "
                f"{len(self.train.keep)} training samples, vocab {len(self.vocab)}, "
                f"device {self.device}" + (", bf16 autocast" if self.mixed_precision else "")
            )
        metrics_file = self.out / "metrics.csv"
        seen, last = 0, time.perf_counter()
        started = last - self.elapsed
        batches = self.batches()
        self.net.train()
        evaluated = -1
        profiler = StepProfiler(
            self.out, cfg.profile_steps if self.dist.main else 0, self.device, self.log
        )
        try:
            while self.step < cfg.steps and not self._out_of_time():
                if self.should_stop():
                    raise Cancelled("Training stopped by the user.")
                with profiler.step(self.step):
                    loss, n = self._train_step(batches)
                seen += n
                self.step += 1
                self.elapsed = self._agreed(time.perf_counter() - started)
                if self.step % cfg.log_every == 0:
                    now = time.perf_counter()
                    # every rank takes part: the rate counts the images of all of them
                    rate = self._summed(seen) / (now - last)
                    if self.dist.main:
                        self._report_step(metrics_file, loss, rate, (now - last) / cfg.log_every)
                    seen, last = 0, now
                if self.step % cfg.eval_every == 0 or self.step == cfg.steps:
                    self._evaluate(metrics_file)
                    evaluated = self.step
                if self.step % cfg.save_every == 0:
                    self.save()
            if evaluated != self.step and self._out_of_time():
                self._evaluate(metrics_file)  # the time budget ended the run: judge its end
        finally:
            profiler.close()
            self.save()
            if self.tb:
                self.tb.close()
        if self.dist.main:
            try:
                plot_run(self.out)
            except Exception as exc:  # noqa: BLE001 - pictures of a finished run, not the run
                self.log(f"warning: the learning-curve plots could not be drawn ({exc})")
        self._leave_process_group()
        return self.out / "model" if self.dist.main else None

    def _leave_process_group(self) -> None:
        """Ranks leave together, and leave nothing of the group to interpreter shutdown.

        A rank that exited while rank 0 still evaluated and exported sometimes aborted at exit
        (SIGABRT, "terminate called without an active exception"), and torchrun then failed
        the whole run: hence the barrier. It happened once more after a time-budget stop on a
        loaded machine (session (13)) and did not reproduce. The likely path: the DDP wrapper's
        reducer still held the gloo group, so destroy_process_group only unregistered it, and
        its worker threads were torn down during interpreter finalization. Dropping the
        wrapper first lets the group be freed, and its threads joined, while Python is fully
        alive."""
        if self.dist.world > 1 and dist.is_initialized():
            self.net = self.model  # the DDP reducer holds a reference to the process group
            gc.collect()
            dist.barrier()
            dist.destroy_process_group()

    def _report_step(self, metrics_file: Path, loss: float, rate: float, step_s: float):
        """One row of metrics.csv, and the progress line (or the GUI's callback)."""
        cfg = self.cfg
        budget = cfg.time_budget_s > 0
        eta = cfg.time_budget_s - self.elapsed if budget else (cfg.steps - self.step) * step_s
        row = {
            "step": self.step,
            "loss": round(loss, 4),
            "lr": lr_at(self.step, cfg, self.elapsed),
            "samples_per_s": round(rate, 2),
            "epoch": self.epoch,
        }
        self._csv(metrics_file, row)
        if self.on_step:
            self.on_step(self.step, row)
        else:
            self.log(
                f"step {self.step}/{cfg.steps} loss {loss:.3f} "
                f"lr {row['lr']:.2e} {rate:.1f} img/s eta {_hms(eta)}"
            )

    def _summed(self, count: int) -> int:
        """``count`` added up over the DDP ranks (each draws its own share of the batches)."""
        if self.dist.world == 1:
            return count
        t = torch.tensor([count], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return int(t.item())

    def _agreed(self, seconds: float) -> float:
        """Under DDP every rank uses rank 0's clock: the same learning rate (replicas stay
        identical) and the same last step (a rank that stopped alone would hang the others)."""
        if self.dist.world == 1 or not self.cfg.time_budget_s:
            return seconds
        t = torch.tensor([seconds], dtype=torch.float64, device=self.device)
        dist.broadcast(t, src=0)
        return float(t.item())

    def _out_of_time(self) -> bool:
        return 0 < self.cfg.time_budget_s <= self.elapsed

    def _train_step(self, batches) -> tuple[float, int]:
        cfg = self.cfg
        for g in self.opt.param_groups:
            g["lr"] = lr_at(self.step, cfg, self.elapsed)
        total, n = 0.0, 0
        for _ in range(cfg.accumulate):
            images, sizes, inputs, targets = (t.to(self.device) for t in next(batches))
            with torch.autocast(self._autocast_type, torch.bfloat16, enabled=self.mixed_precision):
                _, loss = self.net(images, inputs, sizes, targets, cfg.label_smoothing)
            (loss / cfg.accumulate).backward()
            total += float(loss.detach())
            n += images.shape[0]
        mean_loss = total / cfg.accumulate
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip)
        if not torch.isfinite(norm):
            self._skip_step(mean_loss)
            return mean_loss, n
        self.bad_steps = 0
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        self._update_ema()
        return mean_loss, n

    def _skip_step(self, loss: float) -> None:
        """Leave the weights, optimizer state and EMA as they are after a step whose gradients
        are not finite: one such update makes every weight NaN, and the checkpoints and EMA
        with it (run (33) lost an hour of training so). Every rank sees the same all-reduced
        gradients, so all skip together. Many in a row mean the run itself has gone wrong:
        stop, with the last checkpoint still sound."""
        self.opt.zero_grad(set_to_none=True)
        self.bad_steps += 1
        self.skipped_steps += 1
        if self.dist.main:
            self.log(
                f"warning: step {self.step + 1} skipped, its gradients are not finite "
                f"(loss {loss:.3g}; {self.skipped_steps} skipped in this session)"
            )
        if self.bad_steps >= MAX_BAD_STEPS:
            raise ModelError(
                f"Training stopped: {MAX_BAD_STEPS} steps in a row had gradients that are not "
                "finite. They changed no weight and the checkpoint is sound: resume with a "
                "lower learning rate, or with cpu_bf16 or bf16 off."
            )

    def _update_ema(self) -> None:
        if not self.cfg.ema:
            return
        with torch.no_grad():
            sd = self.model.state_dict()
            if self.ema is None:
                self.ema = {k: v.detach().clone() for k, v in sd.items() if v.is_floating_point()}
            for k, v in self.ema.items():
                v.lerp_(sd[k], 1 - self.cfg.ema)

    def _evaluate(self, metrics_file: Path) -> None:
        if not self.dist.main or self.dev is None:
            return
        try:
            model = self._deployable()
            results = evaluate_slices(model, self.dev, self.cfg.eval_samples, self.device)
        except Exception:  # noqa: BLE001 - a broken evaluation must not end hours of training
            self.log(f"eval step {self.step} failed; training goes on:\n{traceback.format_exc()}")
            self.net.train()
            return
        # exact match decides; BLEU breaks ties (early on every model reads 0 % exactly)
        score = sum(r["exact_match"] + 0.01 * r["bleu4"] for r in results.values()) / max(
            1, len(results)
        )
        row = {
            "step": self.step,
            **{
                f"{k}_{m}": round(v, 4)
                for k, r in results.items()
                for m, v in r.items()
                if m != "n"
            },
        }
        self._csv(metrics_file.with_name("eval.csv"), row)
        self.log(
            f"eval step {self.step}: "
            + ", ".join(
                f"{k} EM {r['exact_match']:.3f} BLEU {r['bleu4']:.3f}" for k, r in results.items()
            )
        )
        if score > self.best:
            self.best = score
            self.export(self.out / "model", {"dev": results, "step": self.step}, model)
        self.net.train()

    def _csv(self, path: Path, row: dict) -> None:
        self._tensorboard(path.stem, row)
        append_csv(path, row)

    def _tensorboard(self, group: str, row: dict) -> None:
        """Mirror every CSV row to TensorBoard (optional: absent in the packaged app)."""
        if self.tb is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                self.tb = False
                return
            self.tb = SummaryWriter(str(self.out / "tensorboard"))
        if self.tb:
            for k, v in row.items():
                if k != "step":
                    self.tb.add_scalar(f"{group}/{k}", v, int(row["step"]))


class PlanBatches(torch.utils.data.Dataset):
    """An epoch's remaining batches as a dataset: item ``b`` is batch ``b`` collated with its
    own augmentation key, so worker processes produce exactly what the loop would."""

    def __init__(self, data: TrainData, plan: list, keys: list, ids: tuple):
        self.data, self.plan, self.keys, self.ids = data, plan, keys, ids

    def __len__(self) -> int:
        return len(self.plan)

    def __getitem__(self, b: int):
        return self.data.collate(self.plan[b], self.keys[b], *self.ids)


def training_data(shard, vocab: Vocab, max_len: int, cfg: TrainConfig) -> TrainData:
    """The training samples as ``cfg`` draws them: CROHME's weight or share, shape buckets and
    low-resolution copies (``benchmarks/images_seen.py`` replays a run's plans with it)."""
    data = TrainData(shard, vocab, max_len, cfg.crohme_weight, cfg.shape_bucket, cfg.crohme_share)
    if cfg.low_res > 0:
        data.low_res = {"printed": cfg.low_res, "latex": cfg.low_res}
    return data


def split_plan(plan: list, rank: int, world: int) -> list:
    """This rank's batches. Every rank gets the same number (DDP steps in lockstep: one rank
    with a batch more would wait forever for the others), even when there are fewer batches
    than ranks (tiny fine-tune sets)."""
    if world == 1:
        return plan
    while len(plan) < world:
        plan = plan * 2
    n = len(plan) // world * world
    return plan[:n][rank::world]


def evaluate_slices(
    model: Im2Latex, dev: TrainData, limit: int, device, batch: int = 16, on_sample=None
) -> dict:
    """Greedy exact match / BLEU on the first ``limit`` dev samples of each source.
    ``on_sample(source, index, exact, hypothesis)``, if given, hears how each sample was read
    (the hypothesis carries its log-probability: ``training/calibrate.py`` fits confidence on it)."""
    model.eval()
    by_source: dict[str, list[int]] = {}
    for i in dev.keep:
        by_source.setdefault(dev.shard.sources[i], []).append(i)
    out = {}
    c = model.cfg
    for source, idx in sorted(by_source.items()):
        idx = idx[:limit]
        scores = Scores()
        for b in range(0, len(idx), batch):
            chunk = idx[b : b + batch]
            images, sizes, _, _ = dev.collate(chunk, None, c.pad_id, c.bos_id, c.eos_id)
            hyps = greedy(model, images.to(device), sizes.to(device))
            for i, h in zip(chunk, hyps, strict=True):
                exact = scores.exact
                scores.add(dev.vocab.decode(h.ids), dev.shard.labels[i])
                if on_sample:
                    on_sample(source, i, scores.exact > exact, h)
        out[source] = scores.summary()
    return out


def _cpu_copy(model: Im2Latex) -> Im2Latex:
    copy = Im2Latex(model.cfg)
    copy.load_state_dict({k: v.detach().cpu() for k, v in model.state_dict().items()})
    return copy.eval()


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

"""Recompute a model's BatchNorm statistics on training batches, nothing else changed.

    PYTHONPATH=. python -m training.batchnorm MODEL SHARDS OUT_DIR [--batches 60]
        [--crohme-share 0.35] [--batch-pixels 400000] [--max-batch 48] [--seed 0]

The encoder normalizes with running means and variances that training gathers batch by batch.
An EMA or an average of two models averages those statistics as it averages the weights, but
the weights it ends with never produced them, and a run at a high rate moves its live weights
(whose statistics they are) far from its averaged ones. Run (25), a GPU run at 3e-4, read
31.7 % of the synthetic handwriting dev slice as exported and 40.3 % once this module had
gathered its statistics anew from 60 batches of training data (MODEL.md, BA25). This is what
``torch.optim.swa_utils.update_bn`` does for weight averaging (pooled over the batches'
elements rather than averaged over batches, see ``recompute_batchnorm``), on our batches: the
training mix (``--crohme-share``, as the run drew it), the training augmentation, padded as
the trainer pads them. SHARDS is a folder of training shards (``*-train*.npz``), as for
``texsnap train``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

from core.checkpoint import load_model, save_model
from core.errors import TeXSnapError
from training.batches import TrainData
from training.data.shards import read_shards

_CONFIG_OWN = {"format", "name", "created", "architecture", "vocabulary", "preprocess"}
# the batches BA25's statistics were recomputed from; small, as CPU training draws them
BATCH_PIXELS, MAX_BATCH = 400_000, 48


def statistics_plan(
    data: TrainData,
    n_batches: int,
    seed: int,
    epoch: int = 0,
    batch_pixels: int = BATCH_PIXELS,
    max_batch: int = MAX_BATCH,
) -> list[list[int]]:
    """``n_batches`` batches of ``data`` drawn as training draws them, from ``epoch`` on (a
    small folder gives fewer batches an epoch than asked, so later epochs add theirs)."""
    plan: list[list[int]] = []
    for e in range(epoch, epoch + n_batches):
        plan += data.epoch_plan(seed, e, batch_pixels, max_batch)
        if len(plan) >= n_batches:
            break
    return plan[:n_batches]


def recompute_batchnorm(model: nn.Module, data: TrainData, batches: list[list[int]]) -> int:
    """Set every BatchNorm layer's statistics of ``model`` to the mean and (unbiased) variance
    of its input over every element of ``batches`` (indices into ``data``, collated with
    training's augmentation; each layer normalizes with its batch's own statistics meanwhile,
    as in training). Weights are untouched; the model is left in eval mode. Returns the number
    of layers set.

    Pooled over elements, not averaged over batches as ``torch.optim.swa_utils.update_bn``
    does: a plan holds batches of 1 to 48 images, and with every batch counting the same a few
    odd small batches decided the statistics. Recomputed so from 60 batches of run (37)'s
    shards (seed 0), A32 read 50 of the first 100 printed dev formulas instead of 69; pooled
    from the same batches, 69 (docs/model/selection-rules.md, result of rule (37))."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    sums: dict[nn.Module, list] = {m: [0.0, 0.0, 0] for m in norms}

    def gather(layer: nn.Module, inputs: tuple) -> None:
        x = inputs[0].detach().double()  # float64: sums of squares over millions of elements
        dims = [d for d in range(x.dim()) if d != 1]
        acc = sums[layer]
        acc[0] = acc[0] + x.sum(dims)
        acc[1] = acc[1] + (x * x).sum(dims)
        acc[2] += x.numel() // x.shape[1]

    momenta = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 0.0  # the forwards leave the running statistics be: an error keeps them
    hooks = [m.register_forward_pre_hook(gather) for m in norms]
    model.eval()
    for m in norms:
        m.train()
    cfg = model.cfg
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            for k, batch in enumerate(batches):
                images, sizes, _, _ = data.collate(
                    batch, f"bn/{k}", cfg.pad_id, cfg.bos_id, cfg.eos_id
                )
                model.encoder(images.to(device), sizes.to(device))
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        for h in hooks:
            h.remove()
        model.eval()
    for m in norms:
        _set_statistics(m, *sums[m])
    return len(norms)


def _set_statistics(layer: nn.Module, total, squares, n: int) -> None:
    if n < 2:
        return  # nothing seen: the layer keeps what it had
    mean = total / n
    var = (squares / n - mean * mean).clamp_min(0) * (n / (n - 1))
    layer.running_mean.copy_(mean.to(layer.running_mean.dtype))
    layer.running_var.copy_(var.to(layer.running_var.dtype))


def recalibrate(
    model_dir: Path,
    shards: Path,
    out: Path,
    n_batches: int = 60,
    crohme_share: float = 0.35,
    batch_pixels: int = BATCH_PIXELS,
    max_batch: int = MAX_BATCH,
    seed: int = 0,
) -> Path:
    from training.trainer import shard_files  # the trainer uses this module

    loaded = load_model(model_dir)
    files = shard_files(shards, "train")
    if not files:
        raise TeXSnapError(f"{shards} holds no training shards (*-train*.npz).")
    c = loaded.model.cfg
    data = TrainData(read_shards(files), loaded.vocab, c.max_len, 1.0, 32, crohme_share)
    plan = statistics_plan(data, n_batches, seed, 0, batch_pixels, max_batch)
    layers = recompute_batchnorm(loaded.model, data, plan)
    meta = {k: v for k, v in loaded.config.items() if k not in _CONFIG_OWN | {"sha256", "dtype"}}
    meta["metrics"] = {}  # the old dev metrics describe other statistics
    meta["batchnorm"] = (
        f"statistics of {layers} BatchNorm layers recomputed from {len(plan)} training batches "
        f"of {shards.name} (crohme_share {crohme_share}, <= {batch_pixels} pixels / "
        f"{max_batch} images, seed {seed}); weights of {model_dir.name} unchanged"
    )
    return save_model(out, loaded.model, loaded.vocab, loaded.preprocess, meta=meta)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path)
    p.add_argument("shards", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--batches", type=int, default=60)
    p.add_argument("--crohme-share", type=float, default=0.35)
    p.add_argument("--batch-pixels", type=int, default=BATCH_PIXELS)
    p.add_argument("--max-batch", type=int, default=MAX_BATCH)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        out = recalibrate(
            args.model,
            args.shards,
            args.out,
            args.batches,
            args.crohme_share,
            args.batch_pixels,
            args.max_batch,
            args.seed,
        )
    except (TeXSnapError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

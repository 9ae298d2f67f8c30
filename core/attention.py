"""Where the decoder looks for each token: cross-attention maps (``texsnap eval --attention``).

Greedy decoding as in ``core.decoding.greedy``, but asking the last decoder layer for its
cross-attention weights at every step. The weights over the encoder grid (H/16 x W/16) are
averaged over heads and drawn over the preprocessed image, one panel per output token: a
quick way to see whether the model reads left to right or loses its place.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch

from core.dataset import Dataset
from core.errors import TeXSnapError
from core.preprocess import preprocess
from core.recognizer import batch_images

MAX_PANELS = 40  # tokens drawn per image; long formulas are cut off here
COLUMNS = 4


@torch.inference_mode()
def attention_maps(rec, image) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Preprocessed image (H, W), the greedy tokens, and their maps (T, H/16, W/16)."""
    model, vocab = rec.loaded.model, rec.loaded.vocab
    cfg = model.cfg
    arr = preprocess(image, rec.loaded.preprocess)
    images, sizes = batch_images([arr], rec.device)
    _, mask, cross = model.encode(images, sizes)
    gh, gw = math.ceil(arr.shape[0] / cfg.stride), math.ceil(arr.shape[1] / cfg.stride)
    caches: list[dict] = [{} for _ in model.layers]
    tok = torch.full((1, 1), cfg.bos_id, dtype=torch.long, device=rec.device)
    ids, maps = [], []
    for step in range(cfg.max_len - 1):
        logits, weights = model.decode(tok, cross, mask, caches, start=step, need_weights=True)
        nxt = int(logits[0, -1].argmax())
        if nxt == cfg.eos_id:
            break
        ids.append(nxt)
        maps.append(weights[-1][0, :, -1].mean(0).float().reshape(gh, gw).cpu().numpy())
        tok = torch.tensor([[nxt]], device=rec.device)
    tokens = [vocab.tokens[i] if 0 <= i < len(vocab) else "<unk>" for i in ids]
    grid = np.stack(maps) if maps else np.zeros((0, gh, gw), np.float32)
    return arr, tokens, grid


def save_attention_png(path: str | os.PathLike, arr: np.ndarray, tokens, maps) -> Path:
    """One panel per token (at most MAX_PANELS): the image in grey, attention in colour."""
    from matplotlib.figure import Figure  # the Agg canvas, no pyplot state

    n = max(1, min(len(tokens), MAX_PANELS))
    rows = math.ceil(n / COLUMNS)
    h, w = arr.shape
    panel_w = 3.5
    panel_h = panel_w * h / w + 0.35
    fig = Figure(figsize=(panel_w * COLUMNS, panel_h * rows), dpi=100)
    extent = (0, w, h, 0)
    for i in range(rows * COLUMNS):
        ax = fig.add_subplot(rows, COLUMNS, i + 1)
        ax.set_axis_off()
        if i >= n:
            continue
        ax.imshow(1.0 - arr, cmap="gray", vmin=0, vmax=1, extent=extent)
        if i < len(tokens):
            ax.imshow(maps[i], cmap="inferno", alpha=0.55, extent=extent, interpolation="bilinear")
            ax.set_title(tokens[i], fontsize=9, parse_math=False)
        else:
            ax.set_title("(no tokens)", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, format="png")
    return path


def write_attention(rec, dataset: Dataset, out_dir: str | os.PathLike, n: int = 4) -> list[Path]:
    """Attention PNGs for the first ``n`` readable samples of ``dataset`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for sample in dataset.samples:
        if len(written) >= n:
            break
        try:
            arr, tokens, maps = attention_maps(rec, dataset.read(sample))
        except TeXSnapError:  # damaged or blank: nothing to show, already reported by eval
            continue
        stem = Path(sample.path).stem.replace(os.sep, "_")
        written.append(
            save_attention_png(out_dir / f"{len(written):02d}_{stem}.png", arr, tokens, maps)
        )
    return written

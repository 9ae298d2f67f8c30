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
from PIL import Image

from core.dataset import Dataset
from core.decoding import allowed_logits
from core.errors import TeXSnapError
from core.recognizer import batch_images

MAX_PANELS = 40  # tokens drawn per image; long formulas are cut off here
COLUMNS = 4
PANEL_WIDTH = 320  # px; small images are zoomed up to about this
GAP, TITLE = 8, 16  # px between panels, above each for its token


@torch.inference_mode()
def attention_maps(rec, image) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Preprocessed image (H, W), the greedy tokens, and their maps (T, H/16, W/16)."""
    model, vocab = rec.loaded.model, rec.loaded.vocab
    cfg = model.cfg
    arr = rec.model_input(image)  # a small snip: the input its reading came from
    images, sizes = batch_images([arr], rec.device)
    _, mask, cross = model.encode(images, sizes)
    gh, gw = math.ceil(arr.shape[0] / cfg.stride), math.ceil(arr.shape[1] / cfg.stride)
    caches: list[dict] = [{} for _ in model.layers]
    tok = torch.full((1, 1), cfg.bos_id, dtype=torch.long, device=rec.device)
    ids, maps = [], []
    for step in range(cfg.max_len - 1):
        logits, weights = model.decode(tok, cross, mask, caches, start=step, need_weights=True)
        nxt = int(allowed_logits(logits[:, -1], cfg)[0].argmax())  # as decoding.greedy
        if nxt == cfg.eos_id:
            break
        ids.append(nxt)
        maps.append(weights[-1][0, :, -1].mean(0).float().reshape(gh, gw).cpu().numpy())
        tok = torch.tensor([[nxt]], device=rec.device)
    tokens = [vocab.tokens[i] if 0 <= i < len(vocab) else "<unk>" for i in ids]
    grid = np.stack(maps) if maps else np.zeros((0, gh, gw), np.float32)
    return arr, tokens, grid


def save_attention_png(path: str | os.PathLike, arr: np.ndarray, tokens, maps) -> Path:
    """A grid of panels, one per token (at most MAX_PANELS): the image in grey with the
    token's attention in colour. Drawn as one picture in one Axes: dozens of subplots take
    matplotlib seconds."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure  # the Agg canvas, no pyplot state

    n = max(1, min(len(tokens), MAX_PANELS))
    rows = math.ceil(n / COLUMNS)
    zoom = max(1, PANEL_WIDTH // arr.shape[1])
    h, w = arr.shape[0] * zoom, arr.shape[1] * zoom
    cell_w, cell_h = w + GAP, h + TITLE + GAP
    grid = np.ones((rows * cell_h, COLUMNS * cell_w, 3), np.float32)
    paper = np.repeat(np.repeat(1.0 - arr, zoom, 0), zoom, 1)[..., None]
    for i in range(n):
        y, x = (i // COLUMNS) * cell_h + TITLE, (i % COLUMNS) * cell_w
        panel = np.repeat(paper, 3, axis=2)
        if i < len(tokens):
            heat = np.asarray(
                Image.fromarray(maps[i].astype(np.float32), mode="F").resize(
                    (w, h), Image.Resampling.BILINEAR
                )
            )
            # each map scaled to its own peak: the question is where, not how sharply
            colour = colormaps["inferno"](heat / max(float(heat.max()), 1e-9))[..., :3]
            panel = 0.45 * panel + 0.55 * colour
        grid[y : y + h, x : x + w] = panel
    fig = Figure(figsize=(grid.shape[1] / 100, grid.shape[0] / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.imshow(grid, interpolation="nearest")
    for i in range(n):
        label = tokens[i] if i < len(tokens) else "(no tokens)"
        ax.text(
            (i % COLUMNS) * cell_w + w / 2,
            (i // COLUMNS) * cell_h + TITLE - 3,
            label,
            ha="center",
            va="bottom",
            fontsize=9,
            parse_math=False,
        )
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

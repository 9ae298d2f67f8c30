"""Make any formula image look like the training data: ink map, crop, glyph-size rescale, pad.

The model sees a float "ink" map (1 = ink, 0 = paper) whatever the input looked like:
dark-mode screenshots, coloured text, coloured or uneven backgrounds (whiteboard photos) all
become dark-on-light-equivalent ink. The image is then cropped to its content and rescaled
so that the median glyph lands at ``target_glyph`` pixels: users snip at any zoom level, and
a fixed-size model only reads glyphs of the size it was trained on. A snip with glyphs of a few
pixels, whose size is uncertain, gets one more input, and every snip is also read at other
glyph sizes (:func:`candidates`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from core.errors import BlankImage
from core.imageio import ImageSource, load_image


@dataclass
class PreprocessConfig:
    target_glyph: float = 16.0  # median connected-component height after rescaling, px
    max_height: int = 256  # the model's input limits (after rescaling), px
    max_width: int = 1024
    margin: int = 8  # paper kept around the content, px
    multiple: int = 16  # pad sizes to a multiple of the encoder's stride
    ink_threshold: float = 0.12  # ink below this (noise, JPEG ringing) is paper
    # at or below this glyph height (px, before rescaling) a snip is also read at the
    # ink-weighted glyph size (``candidates``); 0 turns that off
    low_res_glyph: float = 6.0
    # glyph heights (px, after rescaling) at which every snip is read as well as at
    # ``target_glyph``; the recognizer keeps the reading the model is surest of. The size
    # estimate is off by a few pixels often enough that a second and third look pays
    # (docs/model/selection-rules.md, "Reading every snip at three glyph sizes"); () reads once
    also_read_at: tuple[float, ...] = (20.0, 14.5)

    def __post_init__(self):
        # a model's config.json stores this as a list, and a hand-edited one may hold anything
        sizes = tuple(float(x) for x in self.also_read_at)
        if not all(0.0 < x < 1e4 for x in sizes):  # also false for NaN
            raise ValueError(f"also_read_at holds glyph heights in px, not {self.also_read_at!r}")
        self.also_read_at = sizes

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> PreprocessConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def ink_map(img: Image.Image) -> np.ndarray:
    """Float32 map in [0, 1] of how far each pixel is from the local paper colour."""
    rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    h, w = rgb.shape[:2]
    if min(h, w) >= 128:
        bg = _local_background(rgb)
    else:
        bg = _dominant_colour(rgb)[None, None, :]
    dist = np.sqrt(((rgb - bg) ** 2).sum(axis=2)) / np.sqrt(3.0)
    hi = float(np.percentile(dist, 99.9)) if dist.size else 0.0
    if hi < 0.08:
        return np.zeros((h, w), np.float32)
    return np.clip(dist / hi, 0.0, 1.0).astype(np.float32)


def _dominant_colour(rgb: np.ndarray) -> np.ndarray:
    """Mean colour of the most common 16-level colour bin: the paper, on formula images."""
    q = (rgb * 15.999).astype(np.int32)
    keys = q[..., 0] * 256 + q[..., 1] * 16 + q[..., 2]
    counts = np.bincount(keys.ravel(), minlength=4096)
    mask = keys == int(counts.argmax())
    return rgb[mask].mean(axis=0)


def _local_background(rgb: np.ndarray) -> np.ndarray:
    """Paper colour that may vary across the image (photos, gradients): a median filter
    over a downsampled copy, wide enough that strokes do not count."""
    h, w = rgb.shape[:2]
    step = max(1, min(h, w) // 48)
    small = rgb[::step, ::step]
    size = max(3, min(small.shape[:2]) // 3) | 1
    bg_small = np.stack(
        [ndimage.median_filter(small[..., c], size=size, mode="nearest") for c in range(3)],
        axis=2,
    )
    ys = np.minimum(np.arange(h) // step, bg_small.shape[0] - 1)
    xs = np.minimum(np.arange(w) // step, bg_small.shape[1] - 1)
    return bg_small[ys][:, xs]


def glyph_height(ink: np.ndarray) -> float | None:
    """Median height of connected ink components: a zoom-independent glyph size."""
    labels, n = ndimage.label(ink > 0.4)
    if n == 0:
        return None
    heights = np.array([s[0].stop - s[0].start for s in ndimage.find_objects(labels)])
    widths = np.array([s[1].stop - s[1].start for s in ndimage.find_objects(labels)])
    glyph_like = glyph_like_components(heights, widths)
    candidates = heights[glyph_like] if glyph_like.any() else heights
    glyphish = candidates[candidates >= 0.25 * candidates.max()]
    return float(np.median(glyphish))


def ink_weighted_glyph_height(ink: np.ndarray, threshold: float = 0.2) -> float | None:
    """Ink-weighted median height of the glyph-like components above ``threshold`` ink.

    At low resolution thin strokes fade and break into fragments that :func:`glyph_height`
    counts as small glyphs; weighed by their ink they count for little, so this estimate
    follows the zoom where that one falls (``benchmarks/glyph_size.py``)."""
    labels, n = ndimage.label(ink > threshold)
    if n == 0:
        return None
    boxes = ndimage.find_objects(labels)
    heights = np.array([b[0].stop - b[0].start for b in boxes])
    widths = np.array([b[1].stop - b[1].start for b in boxes])
    weight = np.asarray(ndimage.sum_labels(ink, labels, index=np.arange(1, n + 1)))
    glyph_like = glyph_like_components(heights, widths)
    keep = glyph_like if glyph_like.any() else np.ones(n, bool)
    keep &= heights >= 0.25 * heights[keep].max()
    h, w = heights[keep], weight[keep]
    order = np.argsort(h)
    cum = np.cumsum(w[order])
    return float(h[order][np.searchsorted(cum, cum[-1] / 2)])


def glyph_like_components(heights: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Which connected components (by bounding-box size) look like glyphs: dots, bars and
    noise say nothing about glyph size."""
    glyph_like = heights >= widths * 0.3
    stroke = widths < heights * 0.15  # "1", "|", and rules
    letters = heights[glyph_like & ~stroke]
    if letters.size:
        # a stroke far taller than the letters is the border of a sloppy snip or a big
        # delimiter: counting it made the formula tiny
        glyph_like &= ~(stroke & (heights > 2 * np.median(letters)))
    return glyph_like


def preprocess(src: ImageSource, cfg: PreprocessConfig | None = None) -> np.ndarray:
    """Model input for one image: float32 (H, W) ink map, sizes multiples of ``cfg.multiple``.

    Raises :class:`BlankImage` when nothing is drawn and :class:`InvalidImage` for input
    that cannot be read.
    """
    cfg = cfg or PreprocessConfig()
    return _rescale_and_pad(_cropped_ink(src, cfg), cfg)


def candidates(src: ImageSource, cfg: PreprocessConfig | None = None) -> list[np.ndarray]:
    """Model inputs to read ``src`` from: :func:`preprocess`'s first; the same ink with its
    glyphs at each of ``cfg.also_read_at`` px; and, for a snip whose glyphs are at most
    ``cfg.low_res_glyph`` px, the ink rescaled by the ink-weighted glyph size where that is
    larger. An input the model's size limits make identical to an earlier one is left out.

    At a few pixels a glyph's size is uncertain (faded strokes count as small glyphs), and at
    any size the median component is only an estimate of what the model reads best, so the
    recognizer reads them all (in one batch) and keeps the reading the model is surest of.
    Same errors as :func:`preprocess`."""
    cfg = cfg or PreprocessConfig()
    ink = _cropped_ink(src, cfg)
    glyph = glyph_height(ink)
    out = [_rescale_and_pad(ink, cfg, glyph)]
    for target in cfg.also_read_at:
        _append_new(out, _rescale_and_pad(ink, cfg, glyph, target))
    if glyph is not None and glyph <= cfg.low_res_glyph:
        weighted = ink_weighted_glyph_height(ink)
        if weighted is not None and weighted > glyph:
            _append_new(out, _rescale_and_pad(ink, cfg, weighted))
    return out


def _append_new(inputs: list[np.ndarray], new: np.ndarray) -> None:
    if not any(a.shape == new.shape and np.array_equal(a, new) for a in inputs):
        inputs.append(new)


def _cropped_ink(src: ImageSource, cfg: PreprocessConfig) -> np.ndarray:
    """The ink map of ``src``, noise removed, cropped to its content."""
    img = load_image(src)
    if img.width * img.height > 6_000_000:  # analysis at this size only costs time
        factor = int(np.ceil(np.sqrt(img.width * img.height / 6_000_000)))
        img = img.reduce(factor)
    ink = ink_map(img)
    ink[ink < cfg.ink_threshold] = 0.0
    box = _content_box(ink)
    if box is None:
        raise BlankImage("The image is blank: there is no formula to read.")
    y0, y1, x0, x1 = box
    return ink[y0:y1, x0:x1]


def _content_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    strong = ink > 0.3
    if strong.sum() < 4:
        return None
    rows = np.flatnonzero(strong.any(axis=1))
    cols = np.flatnonzero(strong.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _rescale_and_pad(
    ink: np.ndarray, cfg: PreprocessConfig, glyph: float | None = None, target: float = 0.0
) -> np.ndarray:
    """``ink`` rescaled so that glyphs of ``glyph`` px (default: :func:`glyph_height`'s
    estimate) land at ``target`` px (default ``cfg.target_glyph``), within the model's limits,
    and padded."""
    h, w = ink.shape
    gh = glyph or glyph_height(ink) or h
    scale = (target or cfg.target_glyph) / max(gh, 1.0)
    inner_h, inner_w = cfg.max_height - 2 * cfg.margin, cfg.max_width - 2 * cfg.margin
    scale = min(scale, inner_h / h, inner_w / w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    if (new_h, new_w) != (h, w):
        resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BICUBIC
        ink = np.asarray(Image.fromarray(ink, mode="F").resize((new_w, new_h), resample))
        ink = np.clip(ink, 0.0, 1.0)
    m = cfg.margin
    out_h = _round_up(new_h + 2 * m, cfg.multiple)
    out_w = _round_up(new_w + 2 * m, cfg.multiple)
    out = np.zeros((out_h, out_w), np.float32)
    out[m : m + new_h, m : m + new_w] = ink
    return out


def _round_up(x: int, multiple: int) -> int:
    return -(-x // multiple) * multiple


def to_pil(arr: np.ndarray) -> Image.Image:
    """A preprocessed ink map as a black-on-white picture (for debugging and the GUI)."""
    return Image.fromarray(((1.0 - arr) * 255).round().astype(np.uint8), "L")

"""Make clean renders look like what users snip, and vary ink maps at training time.

Two stages, both seeded so a run is reproducible:

* :func:`screenshot_like` works on the rendered picture *before* preprocessing: colours, dark
  mode, padding, edge clutter, scale, blur, noise, few grey levels, JPEG. The real
  preprocessor then has to undo all of it, exactly as it will for a user's snip, so training
  data = inference input.
* :func:`jitter_ink` works on preprocessed ink maps at training time (cheap): glyph-size jitter,
  stroke thickening/thinning, small shifts; where asked, :func:`distort_ink` bends the
  whole image as another hand might write it (turn, slant, stretch, elastic wobble), and
  :func:`low_resolution` shows it as a snip of a page at low zoom would arrive.
"""

from __future__ import annotations

import io
import math
import random

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

from core.errors import TeXSnapError
from core.preprocess import PreprocessConfig, preprocess

DARK_THEMES = [
    ((30, 30, 30), (220, 220, 220)),
    ((40, 44, 52), (171, 178, 191)),
    ((0, 0, 0), (255, 255, 255)),
]


def _colour_pair(rng: random.Random) -> tuple[tuple, tuple]:
    r = rng.random()
    if r < 0.65:
        g = rng.randint(235, 255)
        return (g, g, g), tuple([rng.randint(0, 40)] * 3)
    if r < 0.8:
        return rng.choice(DARK_THEMES)
    bg = tuple(rng.randint(200, 255) for _ in range(3))
    fg = tuple(rng.randint(0, 120) for _ in range(3))
    return bg, fg


def screenshot_like(rgba: Image.Image, rng: random.Random) -> Image.Image:
    """A transparent render (RGBA, ink in alpha) turned into a plausible screenshot."""
    bg, fg = _colour_pair(rng)
    alpha = rgba.getchannel("A")
    pad = [rng.randint(0, 24) for _ in range(4)]
    w, h = alpha.width + pad[0] + pad[2], alpha.height + pad[1] + pad[3]
    canvas = Image.new("RGB", (w, h), bg)
    canvas.paste(Image.new("RGB", alpha.size, fg), (pad[0], pad[1]), alpha)
    if rng.random() < 0.1:
        _edge_clutter(canvas, fg, rng)
    if rng.random() < 0.3:
        f = rng.uniform(0.6, 1.6)
        canvas = canvas.resize(
            (max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BILINEAR
        )
    if rng.random() < 0.2:
        canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    if rng.random() < 0.1:
        arr = np.asarray(canvas, np.float32)
        arr += np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(2, 10), arr.shape)
        canvas = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < 0.15:
        canvas = _few_grey_levels(canvas, rng.choice((4, 8, 16)))
    if rng.random() < 0.25:
        buf = io.BytesIO()
        canvas.save(buf, "JPEG", quality=rng.randint(35, 90))
        canvas = Image.open(io.BytesIO(buf.getvalue()))
        canvas.load()
    return canvas


def _few_grey_levels(img: Image.Image, levels: int) -> Image.Image:
    """Quantized tones, as 8-bit palette PNGs and GIFs on web pages (and the im2latex-100k
    images, stored with 8 grey levels) have."""
    step = 255 / (levels - 1)
    arr = np.round(np.asarray(img, np.float32) / step) * step
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _edge_clutter(img: Image.Image, colour: tuple, rng: random.Random) -> None:
    """A thin border line or a cut-off glyph fragment at one edge, as sloppy snips have."""
    d = ImageDraw.Draw(img)
    w, h = img.size
    side = rng.randrange(4)
    if side == 0:
        d.line([(0, 0), (w, 0)], fill=colour, width=1)
    elif side == 1:
        d.line([(0, h - 1), (w, h - 1)], fill=colour, width=1)
    elif side == 2:
        d.line([(0, 0), (0, h)], fill=colour, width=1)
    else:
        d.line([(w - 1, 0), (w - 1, h)], fill=colour, width=1)


def jitter_ink(
    ink: np.ndarray,
    rng: random.Random,
    cfg: PreprocessConfig,
    strength: float = 1.0,
    distort: float = 0.0,
    low_res: float = 0.0,
) -> np.ndarray:
    """Training-time variation of a preprocessed ink map (uint8 or float, 0 = background).
    ``distort`` > 0 first bends the whole image (:func:`distort_ink`); ``low_res`` is the
    chance that it is then seen at low resolution (:func:`low_resolution`). At 0 neither draws
    a random number, so runs without them see exactly the batches they always saw."""
    if distort > 0:
        ink = distort_ink(_as_float(ink), rng, distort)
    if low_res > 0 and rng.random() < low_res:
        ink = low_resolution(_as_float(ink), rng, cfg)
    if ink.dtype != np.uint8:
        ink = np.clip(ink * 255.0, 0, 255).astype(np.uint8)
    img = Image.fromarray(ink, mode="L")
    if rng.random() < 0.5 * strength:
        f = rng.uniform(0.85, 1.15)
        w, h = img.size
        img = img.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BILINEAR)
    r = rng.random()
    if r < 0.15 * strength:
        img = img.filter(ImageFilter.MaxFilter(3))  # bolder strokes
    elif r < 0.3 * strength:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.7)))
    out = np.asarray(img, np.float32) / 255.0
    return _fit(out, cfg)


# Glyph heights (px) a snip at low zoom arrives with: im2latex-100k's formulas at half scale
# (the robustness bar of issue #3) measure 3 px by preprocess.glyph_height, LaTeX at 60 dpi
# too; 6 px is where the model already reads most formulas
LOW_RES_GLYPH = (3.0, 6.0)


def low_resolution(ink: np.ndarray, rng: random.Random, cfg: PreprocessConfig) -> np.ndarray:
    """The formula as a snip at low zoom would reach the model: shrunk (area averaging, as a
    PDF viewer draws a page) until its glyphs are :data:`LOW_RES_GLYPH` pixels high, sometimes
    stored with few grey levels, then through the real preprocessor, which scales it back up
    (blurred, and by what its glyph-size estimate makes of the small glyphs: the model must
    read what inference will give it). ``ink``: float (H, W) in [0, 1], glyphs at
    ``cfg.target_glyph``. Returns the preprocessed float map; the input if nothing is left."""
    f = rng.uniform(*LOW_RES_GLYPH) / cfg.target_glyph
    h, w = ink.shape
    paper = Image.fromarray(np.clip((1.0 - ink) * 255.0, 0, 255).astype(np.uint8), mode="L")
    small = paper.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX)
    if rng.random() < 0.5:
        small = _few_grey_levels(small, 8)
    try:
        out = preprocess(small, cfg)
    except TeXSnapError:  # blank at this size: too faint to count as ink
        return ink
    return _within(out, ink.shape, cfg)


def _within(arr: np.ndarray, shape: tuple[int, int], cfg: PreprocessConfig) -> np.ndarray:
    """``arr`` shrunk, if it must be, to fit ``shape``. The preprocessor can take faded 3 px
    glyphs for smaller ones and enlarge a small snip up to 16 times its size (half as large
    again at the median); the batch planner budgets pixels by the stored shapes, so one such
    sample padded its whole batch to its size and cut an H200's training from 2,049 to
    829-1,116 images/s (session (18)). The recognizer reads a small snip at the ink-weighted
    glyph size too (``preprocess.candidates``), which this size is close to."""
    if arr.shape[0] <= shape[0] and arr.shape[1] <= shape[1]:
        return arr
    rows = np.flatnonzero(arr.max(axis=1) > 0.05)
    cols = np.flatnonzero(arr.max(axis=0) > 0.05)
    if rows.size == 0:
        return arr[: shape[0], : shape[1]]
    arr = arr[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = arr.shape
    # the content inside the margins _fit adds back, so the padded map fits too
    f = min(1.0, (shape[0] - 2 * cfg.margin) / h, (shape[1] - 2 * cfg.margin) / w)
    img = Image.fromarray(np.ascontiguousarray(arr, np.float32), mode="F")
    img = img.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BILINEAR)
    return _fit(np.asarray(img, np.float32), cfg)


def _as_float(ink: np.ndarray) -> np.ndarray:
    return ink.astype(np.float32) / 255.0 if ink.dtype == np.uint8 else ink.astype(np.float32)


def distort_ink(ink: np.ndarray, rng: random.Random, amount: float = 1.0) -> np.ndarray:
    """The same formula as another hand might write it: a small turn (up to 3 degrees), a
    slant (shear up to 0.2), width and height scaled apart (up to 12 %), and a smooth elastic
    wobble of about a pixel every glyph's height (16 px after preprocessing). For a few hundred
    of one person's corrections, which fine-tuning would otherwise learn by heart.
    ``ink``: float (H, W) in [0, 1]; returns a float map on a canvas that holds all of it."""
    h, w = ink.shape
    a = amount
    turn = math.radians(rng.uniform(-3.0, 3.0) * a)
    shear = rng.uniform(-0.2, 0.2) * a
    sx, sy = math.exp(rng.uniform(-0.12, 0.12) * a), math.exp(rng.uniform(-0.12, 0.12) * a)
    # forward map (pixels, about the centre): rotate @ shear @ scale
    c, s = math.cos(turn), math.sin(turn)
    fwd = np.array([[c, -s], [s, c]]) @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sx, sy])
    corners = np.array([[-w, -h], [w, -h], [-w, h], [w, h]], np.float64).T / 2
    span = np.abs(fwd @ corners).max(axis=1)
    wobble = 1.2 * a
    out_w = int(math.ceil(2 * span[0] + 2 * wobble)) + 2
    out_h = int(math.ceil(2 * span[1] + 2 * wobble)) + 2
    # where each output pixel comes from: the inverse map, plus a smooth random field
    inv = np.linalg.inv(fwd)
    ys, xs = np.mgrid[0:out_h, 0:out_w].astype(np.float64)
    xs -= (out_w - 1) / 2
    ys -= (out_h - 1) / 2
    src_x = inv[0, 0] * xs + inv[0, 1] * ys
    src_y = inv[1, 0] * xs + inv[1, 1] * ys
    if wobble > 0:
        src_x += _smooth_field(out_h, out_w, rng, wobble)
        src_y += _smooth_field(out_h, out_w, rng, wobble)
    grid = torch.from_numpy(
        np.stack([src_x / ((w - 1) / 2 or 1), src_y / ((h - 1) / 2 or 1)], axis=-1)
    ).float()[None]
    img = torch.from_numpy(np.ascontiguousarray(ink, np.float32))[None, None]
    out = torch.nn.functional.grid_sample(img, grid, align_corners=True, padding_mode="zeros")
    return out[0, 0].clamp_(0, 1).numpy()


def _smooth_field(h: int, w: int, rng: random.Random, size: float) -> np.ndarray:
    """Random offsets (pixels) on a grid of knots every 16 px, interpolated smoothly."""
    gh, gw = max(2, h // 16 + 2), max(2, w // 16 + 2)
    knots = torch.tensor([[rng.gauss(0.0, size / 2) for _ in range(gw)] for _ in range(gh)])
    field = torch.nn.functional.interpolate(
        knots[None, None], size=(h, w), mode="bicubic", align_corners=True
    )
    return field[0, 0].double().numpy()


def _fit(arr: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    """Crop to content, pad by the margin to a multiple of ``cfg.multiple`` within max size."""
    rows = np.flatnonzero(arr.max(axis=1) > 0.05)
    cols = np.flatnonzero(arr.max(axis=0) > 0.05)
    if rows.size == 0:
        return arr
    arr = arr[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    m, mult = cfg.margin, cfg.multiple
    h = min(-(-(arr.shape[0] + 2 * m) // mult) * mult, cfg.max_height)
    w = min(-(-(arr.shape[1] + 2 * m) // mult) * mult, cfg.max_width)
    out = np.zeros((h, w), np.float32)
    ch, cw = min(arr.shape[0], h - 2 * m), min(arr.shape[1], w - 2 * m)
    out[m : m + ch, m : m + cw] = arr[:ch, :cw]
    return out

"""Synthetic handwriting: printed renders turned into pen-like ink for breadth beyond CROHME.

CROHME has ~9k real handwritten formulas, too few symbols and structures for a general model.
Here a formula is rendered large in a sans-serif font set (its strokes are closest to a pen's),
then each glyph (connected component) wobbles on its own baseline and size, the whole formula
gets a slant and a smooth elastic warp, and the strokes are thinned to their centre lines and
redrawn with one thin pen, the way CROHME's InkML strokes and our drawing pad draw them: a
CROHME stroke is about 6 % of a glyph's height, a sans-serif font's 16 %, these strokes 7 %
(benchmarks/stroke_width.py). Every step is seeded: a sample is a pure function of
(formula, rng state).
"""

from __future__ import annotations

import random

import numpy as np
from PIL import Image
from scipy import ndimage

from core.preprocess import glyph_height, ink_map
from core.render import render_coverage

HAND_FONTSETS = ("dejavusans", "stixsans")


def ink_of_render(latex: str, rng: random.Random, dpi: float) -> np.ndarray:
    """Ink (float32, 1 = ink) of ``latex`` rendered in a handwriting-like font."""
    ink = render_coverage(latex, fontset=rng.choice(HAND_FONTSETS), dpi=dpi, fontsize=20)
    return ink.astype(np.float32) / 255.0


def wobble_glyphs(ink: np.ndarray, rng: random.Random, scale: float = 1.0) -> np.ndarray:
    """Move and rescale each connected component a little: uneven baselines and sizes.
    ``scale``: the render's size relative to a 20 pt formula at 115 dpi."""
    labels, n = ndimage.label(ink > 0.3)
    h, w = ink.shape
    pad = round(6 * scale)
    shift = max(1, round(scale))
    out = np.zeros((h + 2 * pad, w + 2 * pad), np.float32)
    boxes = ndimage.find_objects(labels)
    for k, box in enumerate(boxes, 1):
        if box is None:
            continue
        glyph = np.where(labels[box] == k, ink[box], 0.0)
        f = rng.uniform(0.88, 1.12)
        if min(glyph.shape) > 3:
            glyph = ndimage.zoom(glyph, f, order=1)
        dy, dx = rng.randint(-2, 2) * shift, rng.randint(-1, 1) * shift
        y0 = min(max(0, box[0].start + pad + dy), out.shape[0] - 1)
        x0 = min(max(0, box[1].start + pad + dx), out.shape[1] - 1)
        gh = min(glyph.shape[0], out.shape[0] - y0)
        gw = min(glyph.shape[1], out.shape[1] - x0)
        region = out[y0 : y0 + gh, x0 : x0 + gw]
        np.maximum(region, glyph[:gh, :gw], out=region)
    return out


def slant_and_warp(ink: np.ndarray, rng: random.Random, scale: float = 1.0) -> np.ndarray:
    """A shear (slanted writing) plus a smooth random displacement field (elastic distortion)."""
    h, w = ink.shape
    shear = rng.uniform(-0.25, 0.15)
    margin = int(abs(shear) * h) + 4
    canvas = np.zeros((h + 8, w + 2 * margin), np.float32)
    canvas[4 : 4 + h, margin : margin + w] = ink
    ch, cw = canvas.shape
    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    noise = np.random.default_rng(rng.getrandbits(32))
    sigma, alpha = rng.uniform(4, 8) * scale, rng.uniform(1.0, 3.0)
    dy = ndimage.gaussian_filter(noise.uniform(-1, 1, (ch, cw)), sigma) * alpha * sigma
    dx = ndimage.gaussian_filter(noise.uniform(-1, 1, (ch, cw)), sigma) * alpha * sigma
    src_x = xx + shear * (yy - ch / 2) + dx
    src_y = yy + dy
    return ndimage.map_coordinates(canvas, [src_y, src_x], order=1, mode="constant")


def pen_strokes(ink: np.ndarray, rng: random.Random) -> np.ndarray:
    """Redraw the shapes with one thin pen: the strokes' centre lines (a font's thick and thin
    parts alike) at a width of 1 to 3 pixels, with a soft edge like an anti-aliased pen line."""
    mask = centre_lines(ink > 0.35)
    width = rng.choice((1, 1, 2, 3))
    if width > 1:
        mask = ndimage.binary_dilation(mask, np.ones((width, width), bool))
    return ndimage.gaussian_filter(mask.astype(np.float32), rng.uniform(0.4, 0.8))


def centre_lines(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: the one-pixel-wide centre lines of a binary mask (vectorized: one
    numpy pass per half-iteration, a few per stroke width)."""
    img = np.pad(mask.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            # the 8 neighbours, clockwise from north: P2 .. P9 in Zhang and Suen's paper
            n = [img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:],
                 img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2]]  # fmt: skip
            count = sum(x.astype(np.int32) for x in n)
            crossings = sum((n[i] == 0) & (n[(i + 1) % 8] == 1) for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                side = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            kill = (img[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6) & (crossings == 1) & side
            if kill.any():
                img[1:-1, 1:-1][kill] = 0
                changed = True
    return img[1:-1, 1:-1].astype(bool)


def stroke_ratio(img: Image.Image) -> float | None:
    """Stroke width over glyph height: ink pixels / centre-line pixels / the preprocessor's
    glyph height. None when nothing is drawn."""
    ink = ink_map(img)
    mask = ink > 0.4
    line, height = centre_lines(mask).sum(), glyph_height(ink)
    return float(mask.sum() / line / height) if line and height else None


def handwritten_image(latex: str, rng: random.Random) -> Image.Image:
    """A grey image (dark strokes on white) of ``latex`` as if written with a pen."""
    # large enough that a thin pen line is a few per cent of a glyph's height
    dpi = rng.uniform(160, 280)
    scale = dpi / 115
    ink = ink_of_render(latex, rng, dpi)
    ink = pen_strokes(slant_and_warp(wobble_glyphs(ink, rng, scale), rng, scale), rng)
    grey = 255 - np.clip(ink * 255, 0, 255).astype(np.uint8)
    return Image.fromarray(grey, mode="L")

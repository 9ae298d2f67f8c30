"""Synthetic handwriting: printed renders turned into pen-like ink for breadth beyond CROHME.

CROHME has ~9k real handwritten formulas, too few symbols and structures for a general model.
Here a formula is rendered in a sans-serif font set (its strokes are closest to a pen's), then
each glyph (connected component) wobbles on its own baseline and size, the whole formula gets
a slant and a smooth elastic warp, and the strokes are redrawn at one random pen width, the way
CROHME's InkML strokes and our drawing pad draw them. Every step is seeded: a sample is a pure
function of (formula, rng state).
"""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image
from scipy import ndimage

from core.render import render_png

HAND_FONTSETS = ("dejavusans", "stixsans")


def ink_of_render(latex: str, rng: random.Random) -> np.ndarray:
    """Ink (float32, 1 = ink) of ``latex`` rendered at a handwriting-like size."""
    png = render_png(
        latex, fontset=rng.choice(HAND_FONTSETS), dpi=rng.uniform(90, 140), fontsize=20
    )
    alpha = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA").getchannel("A"), np.float32)
    return alpha / 255.0


def wobble_glyphs(ink: np.ndarray, rng: random.Random) -> np.ndarray:
    """Move and rescale each connected component a little: uneven baselines and sizes."""
    labels, n = ndimage.label(ink > 0.3)
    h, w = ink.shape
    pad = 6
    out = np.zeros((h + 2 * pad, w + 2 * pad), np.float32)
    boxes = ndimage.find_objects(labels)
    for k, box in enumerate(boxes, 1):
        if box is None:
            continue
        glyph = np.where(labels[box] == k, ink[box], 0.0)
        f = rng.uniform(0.88, 1.12)
        if min(glyph.shape) > 3:
            glyph = ndimage.zoom(glyph, f, order=1)
        dy, dx = rng.randint(-2, 2), rng.randint(-1, 1)
        y0 = min(max(0, box[0].start + pad + dy), out.shape[0] - 1)
        x0 = min(max(0, box[1].start + pad + dx), out.shape[1] - 1)
        gh = min(glyph.shape[0], out.shape[0] - y0)
        gw = min(glyph.shape[1], out.shape[1] - x0)
        region = out[y0 : y0 + gh, x0 : x0 + gw]
        np.maximum(region, glyph[:gh, :gw], out=region)
    return out


def slant_and_warp(ink: np.ndarray, rng: random.Random) -> np.ndarray:
    """A shear (slanted writing) plus a smooth random displacement field (elastic distortion)."""
    h, w = ink.shape
    shear = rng.uniform(-0.25, 0.15)
    margin = int(abs(shear) * h) + 4
    canvas = np.zeros((h + 8, w + 2 * margin), np.float32)
    canvas[4 : 4 + h, margin : margin + w] = ink
    ch, cw = canvas.shape
    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    noise = np.random.default_rng(rng.getrandbits(32))
    sigma, alpha = rng.uniform(4, 8), rng.uniform(1.0, 3.0)
    dy = ndimage.gaussian_filter(noise.uniform(-1, 1, (ch, cw)), sigma) * alpha * sigma
    dx = ndimage.gaussian_filter(noise.uniform(-1, 1, (ch, cw)), sigma) * alpha * sigma
    src_x = xx + shear * (yy - ch / 2) + dx
    src_y = yy + dy
    return ndimage.map_coordinates(canvas, [src_y, src_x], order=1, mode="constant")


def pen_strokes(ink: np.ndarray, rng: random.Random) -> np.ndarray:
    """Redraw the shapes with one pen: font stroke contrast (thick and thin parts) is evened out
    by thickening thin strokes to the pen width; a soft edge like an anti-aliased pen line."""
    mask = ink > 0.35
    if rng.random() < 0.5:
        mask = ndimage.binary_dilation(mask, iterations=1)
    return ndimage.gaussian_filter(mask.astype(np.float32), rng.uniform(0.4, 0.8))


def handwritten_image(latex: str, rng: random.Random) -> Image.Image:
    """A grey image (dark strokes on white) of ``latex`` as if written with a pen."""
    ink = ink_of_render(latex, rng)
    ink = pen_strokes(slant_and_warp(wobble_glyphs(ink, rng), rng), rng)
    grey = 255 - np.clip(ink * 255, 0, 255).astype(np.uint8)
    return Image.fromarray(grey, mode="L")

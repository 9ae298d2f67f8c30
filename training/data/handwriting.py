"""Synthetic handwriting: printed renders turned into pen-like ink for breadth beyond CROHME.

CROHME has ~9k real handwritten formulas, too few symbols and structures for a general model.
Here a formula is rendered large in a sans-serif font set (its strokes are closest to a pen's),
then each glyph (connected component) wobbles on its own baseline and size and gets a shape of
its own (turned, widened or narrowed, slanted, bent: ``reshape_glyph``), the whole formula
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


def wobble_glyphs(
    ink: np.ndarray, rng: random.Random, scale: float = 1.0, reshape: bool = True
) -> np.ndarray:
    """Move and rescale each connected component a little: uneven baselines and sizes; with
    ``reshape``, each also gets a shape of its own (``reshape_glyph``).
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
        top, left = box[0].start, box[1].start
        if reshape:  # anchored at the glyph's centre: reshaping changes its box
            glyph = reshape_glyph(glyph, rng)
            top = round((box[0].start + box[0].stop - glyph.shape[0]) / 2)
            left = round((box[1].start + box[1].stop - glyph.shape[1]) / 2)
        dy, dx = rng.randint(-2, 2) * shift, rng.randint(-1, 1) * shift
        y0 = min(max(0, top + pad + dy), out.shape[0] - 1)
        x0 = min(max(0, left + pad + dx), out.shape[1] - 1)
        gh = min(glyph.shape[0], out.shape[0] - y0)
        gw = min(glyph.shape[1], out.shape[1] - x0)
        region = out[y0 : y0 + gh, x0 : x0 + gw]
        np.maximum(region, glyph[:gh, :gw], out=region)
    return out


def reshape_glyph(glyph: np.ndarray, rng: random.Random) -> np.ndarray:
    """One glyph drawn as a hand would, not as the font does: turned a few degrees, wider or
    narrower, slanted on its own, and bent by an elastic warp on the glyph's own scale (the
    formula-wide warp of ``slant_and_warp`` is too smooth to change a letter's shape). People's
    letters vary between writers and within one formula (CROHME's more than this); a font's
    never do.
    Long thin marks (fraction bars, minus signs, overlines) only bend and tilt a little."""
    h, w = glyph.shape
    if max(h, w) < 6:
        return glyph  # dots and commas: nothing to reshape
    thin = max(h, w) > 4 * min(h, w)
    angle = np.radians(rng.uniform(-2, 2) if thin else rng.uniform(-8, 8))
    sx = 1.0 if thin else rng.uniform(0.82, 1.18)
    shear = 0.0 if thin else rng.uniform(-0.18, 0.18)
    pad = max(h, w) // 4 + 2
    g = np.pad(glyph, pad)
    gh, gw = g.shape
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float32)
    y, x = yy - gh / 2, xx - gw / 2
    # output pixel -> source pixel: undo the rotation, then the width change and the slant
    cos, sin = np.cos(angle), np.sin(angle)
    ry, rx = cos * y - sin * x, sin * y + cos * x
    src_y, src_x = ry + gh / 2, rx / sx + shear * ry + gw / 2
    noise = np.random.default_rng(rng.getrandbits(32))
    sigma = max(2.0, max(h, w) / 5)
    amp = rng.uniform(0.02, 0.06) * max(h, w)  # the largest bend, a few per cent of the glyph
    for src in (src_y, src_x):
        field = ndimage.gaussian_filter(noise.uniform(-1, 1, (gh, gw)), sigma)
        src += field / (np.abs(field).max() + 1e-6) * amp
    out = ndimage.map_coordinates(g, [src_y, src_x], order=1, mode="constant")
    rows, cols = np.nonzero(out > 0.05)
    if not len(rows):
        return glyph
    return out[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


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


def handwritten_image(latex: str, rng: random.Random, reshape: bool = True) -> Image.Image:
    """A grey image (dark strokes on white) of ``latex`` as if written with a pen.
    ``reshape=False`` draws as before glyphs got shapes of their own (session (9)): the
    synthetic handwriting dev slice, so that its scores compare with earlier ones."""
    # large enough that a thin pen line is a few per cent of a glyph's height
    dpi = rng.uniform(160, 280)
    scale = dpi / 115
    ink = ink_of_render(latex, rng, dpi)
    ink = pen_strokes(slant_and_warp(wobble_glyphs(ink, rng, scale, reshape), rng, scale), rng)
    grey = 255 - np.clip(ink * 255, 0, 255).astype(np.uint8)
    return Image.fromarray(grey, mode="L")

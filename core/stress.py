"""The robustness set (``texsnap eval --stress``): the same images the way users really snip them.

- ``dark``: a dark-mode screenshot, light coloured ink on a dark editor background;
- ``half`` / ``double``: snipped at half and at double the zoom;
- ``jpeg``: passed through JPEG at quality 60, as web pages and chat apps do.

Each variant is scored on exactly the samples that scored clean, and an image a variant makes
unreadable (too small, say) counts as wrong: that is a robustness failure, not bad data.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial

import numpy as np
from PIL import Image

from core.evaluate import Report, evaluate
from core.imageio import load_image

VARIANTS = ("dark", "half", "double", "jpeg")
JPEG_QUALITY = 60
# (background, ink) of common dark editor themes, cycled over the samples
DARK_THEMES = (
    ((30, 30, 30), (212, 212, 212)),
    ((39, 40, 34), (230, 219, 116)),
    ((40, 44, 52), (97, 175, 239)),
    ((0, 43, 54), (133, 153, 0)),
)


def dark_mode(img: Image.Image, index: int = 0) -> Image.Image:
    """Paper becomes the theme's background, ink its (coloured) text colour."""
    bg, ink = (np.array(c, np.float32) for c in DARK_THEMES[index % len(DARK_THEMES)])
    paper = np.asarray(img.convert("L"), np.float32)[..., None] / 255.0  # 1 = paper, 0 = ink
    out = paper * bg + (1.0 - paper) * ink
    return Image.fromarray(out.round().astype(np.uint8), "RGB")


def rescale(img: Image.Image, factor: float) -> Image.Image:
    size = (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
    resample = Image.Resampling.LANCZOS if factor < 1 else Image.Resampling.BICUBIC
    return img.resize(size, resample)


def jpeg(img: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def variant(name: str, data: bytes, index: int = 0) -> Image.Image | bytes:
    """Image ``data`` turned into stress variant ``name``; raises InvalidImage if unreadable."""
    img = load_image(data)
    if name == "dark":
        return dark_mode(img, index)
    if name == "half":
        return rescale(img, 0.5)
    if name == "double":
        return rescale(img, 2.0)
    if name == "jpeg":
        return jpeg(img)
    raise ValueError(f"unknown stress variant {name!r}")


def run_stress(
    rec,
    dataset,
    clean: Report,
    beam: int = 1,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Exact match and BLEU-4 of each variant, and its exact-match drop (percentage points)
    against ``clean``."""
    clean_summary = clean.scores.summary()
    base = clean_summary["exact_match"]
    out = {
        "clean": {
            "n": clean.scores.n,
            "exact_match": base,
            "bleu4": clean_summary["bleu4"],
            "drop_points": 0.0,
        }
    }
    for name in VARIANTS:
        report = evaluate(
            rec,
            dataset,
            beam=beam,
            worst=0,
            samples=clean.scored,
            transform=partial(variant, name),
            unreadable_is_wrong=True,
            progress=progress,
        )
        summary = report.scores.summary()
        exact = summary["exact_match"]
        out[name] = {
            "n": report.scores.n,
            "exact_match": exact,
            # exact match of a weak model can sit at 0 on a variant while it still reads
            # most of each formula: BLEU-4 shows the change there
            "bleu4": summary["bleu4"],
            "drop_points": round((base - exact) * 100, 2),
        }
    return out

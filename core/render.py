"""Render LaTeX with matplotlib mathtext: the preview, ``texsnap render`` and training images.

mathtext is a subset of TeX (no environments, a fixed set of commands). When it cannot draw a
formula we raise :class:`RenderError` naming the command it choked on, so the user knows the
LaTeX itself is fine and only the preview is limited.
"""

from __future__ import annotations

import functools
import io
import re
import threading

import numpy as np
from PIL import Image

from core.errors import RenderError

FONTSETS = ("cm", "stix", "stixsans", "dejavusans", "dejavuserif")

# mathtext spells a few things differently from LaTeX; these rewrites keep the meaning.
_MATHTEXT_REWRITES = {
    "\\operatorname*": "\\operatorname",
    "\\lvert": "|",
    "\\rvert": "|",
    "\\Vert": "\\|",
    "\\emptyset": "\\varnothing",
}

# matplotlib's figure machinery is not thread-safe; renders are short, so serialize them.
_LOCK = threading.Lock()


def mathtext_source(latex: str) -> str:
    """The string mathtext should parse for ``latex`` (without surrounding ``$``)."""
    src = latex.strip()
    if src.startswith("$") and src.endswith("$"):
        src = src.strip("$")
    if src.startswith("\\[") and src.endswith("\\]"):
        src = src[2:-2]
    for old, new in _MATHTEXT_REWRITES.items():
        src = re.sub(re.escape(old) + r"(?![a-zA-Z])", lambda _m, new=new: new, src)
    return src


def unsupported_command(message: str, latex: str) -> str | None:
    """The command mathtext rejected, from its error text or the source; None when the
    formula is malformed rather than using something mathtext lacks."""
    env = re.search(r"(\\begin\{[a-zA-Z*]+\})", latex)
    if env:
        return env.group(1)
    m = re.search(r"Unknown symbol: (\\[a-zA-Z]+)", message)
    if m:
        return m.group(1)
    # "Expected \text, found 'bf'": mathtext read a known prefix of a longer command
    at = _error_position(message)
    if at is not None:
        src = mathtext_source(latex)
        for word in re.finditer(r"\\[a-zA-Z]+", src):
            if word.start() < at < word.end():
                return word.group(0)
    return None


def _error_position(message: str) -> int | None:
    m = re.search(r"\(at char (\d+)\)", message)
    return int(m.group(1)) if m else None


def _syntax_problem(message: str) -> str:
    """A short reading of mathtext's parse error: what it expected and where."""
    m = re.search(r"Expected (.*?), found (.*?)\s+\(at char (\d+)\)", message)
    if not m:
        lines = message.strip().splitlines()
        return lines[-1] if lines else "unknown error"
    expected, found, at = (g.replace("\\\\", "\\") for g in m.groups())
    if len(expected) > 40:  # mathtext lists its whole grammar when an argument is missing
        expected = "an argument"
    found = "the end of the formula" if found == "end of text" else found
    return f"expected {expected} at character {int(at) + 1}, found {found}"


def _check_request(latex: str, fontset: str) -> None:
    if not latex.strip():
        raise RenderError("There is no formula to render.")
    if fontset not in FONTSETS:
        raise ValueError(f"fontset must be one of {', '.join(FONTSETS)}")


def render_png(
    latex: str,
    *,
    fontsize: float = 20,
    dpi: float = 100,
    fontset: str = "cm",
    color: str = "black",
    background: str | None = None,
    pad_inches: float = 0.05,
) -> bytes:
    """PNG bytes of ``latex`` drawn by mathtext. ``background=None`` means transparent."""
    _check_request(latex, fontset)
    src = mathtext_source(latex)
    from matplotlib import rcParams
    from matplotlib.figure import Figure

    with _LOCK:
        old = rcParams["mathtext.fontset"]
        rcParams["mathtext.fontset"] = fontset
        try:
            fig = Figure(figsize=(0.01, 0.01), dpi=dpi)
            fig.text(0, 0, f"${src}$", fontsize=fontsize, color=color)
            buf = io.BytesIO()
            fig.savefig(
                buf,
                format="png",
                dpi=dpi,
                bbox_inches="tight",
                pad_inches=pad_inches,
                transparent=background is None,
                facecolor=background or "none",
            )
        except (ValueError, RuntimeError) as exc:
            raise _render_error(str(exc), latex) from None
        finally:
            rcParams["mathtext.fontset"] = old
    return buf.getvalue()


def render_coverage(
    latex: str,
    *,
    fontsize: float = 20,
    dpi: float = 100,
    fontset: str = "cm",
    pad_inches: float = 0.05,
) -> np.ndarray:
    """The ink of ``latex`` as coverage (uint8, 255 = ink), for training images.

    The same parser and glyph rasterizer as :func:`render_png`, without a figure: one parse
    instead of three (a caller's "does it parse" check, then savefig's tight bounding box,
    which draws twice): 4.3x faster (benchmarks/render_speed.py), which makes more training data
    per rendering core. Placement may differ from render_png by a pixel."""
    _check_request(latex, fontset)
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(size=fontsize, math_fontfamily=fontset)
    with _LOCK:
        try:
            parsed = _raster_parser().parse(f"${mathtext_source(latex)}$", dpi=dpi, prop=prop)
        except Exception as exc:  # noqa: BLE001 - mathtext raises ValueError and friends
            raise _render_error(str(exc), latex) from None
    ink = np.asarray(parsed.image, dtype=np.uint8)
    pad = max(0, round(pad_inches * dpi))
    return np.pad(ink, pad)


@functools.lru_cache(maxsize=1)
def _raster_parser():
    from matplotlib.mathtext import MathTextParser

    return MathTextParser("agg")


def _render_error(message: str, latex: str) -> RenderError:
    cmd = unsupported_command(message, latex)
    if cmd:
        return RenderError(
            f"The preview cannot draw {cmd} (matplotlib mathtext does not support it)."
        )
    return RenderError(f"The preview cannot draw this formula: {_syntax_problem(message)}.")


def render_image(latex: str, **kwargs) -> Image.Image:
    """Like :func:`render_png` but returns a PIL image (RGBA, or RGB with a background)."""
    img = Image.open(io.BytesIO(render_png(latex, **kwargs)))
    img.load()
    return img

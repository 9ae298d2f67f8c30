"""Rendering with matplotlib mathtext: PNGs for the preview, and errors that name the problem."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.errors import RenderError
from core.render import mathtext_source, render_coverage, render_image, render_png


def test_render_png_draws_the_formula():
    data = render_png(r"\frac{a}{b}+x^{2}", dpi=120)
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.mode == "RGBA"
    alpha = np.asarray(img)[..., 3]
    assert alpha.min() == 0 and alpha.max() == 255  # transparent paper, opaque ink
    assert img.width > img.height > 20


def test_dpi_scales_the_picture():
    small = render_image("x+y", dpi=50)
    big = render_image("x+y", dpi=200)
    assert big.width == pytest.approx(4 * small.width, rel=0.15)


def test_background_and_colour():
    img = render_image("x", dpi=100, color="white", background="black")
    arr = np.asarray(img.convert("RGB"))
    assert tuple(arr[0, 0]) == (0, 0, 0)
    assert arr.max() == 255


@pytest.mark.parametrize("fontset", ["cm", "stix", "stixsans", "dejavusans", "dejavuserif"])
def test_every_fontset(fontset):
    assert render_image(r"\alpha+\int_0^1 f", fontset=fontset, dpi=60).width > 10


def test_unknown_fontset_is_refused():
    with pytest.raises(ValueError, match="fontset"):
        render_png("x", fontset="comic")


@pytest.mark.parametrize(
    "latex",
    [
        r"\operatorname*{max}_x",
        r"\lvert x\rvert",
        r"\Vert v\Vert",
        r"\emptyset",
        "$x^2$",
        r"\[x^2\]",
        r"\mathbb{R}\mathcal{L}\binom{n}{k}\sqrt[3]{x}",
        r"\left(\frac{a}{b}\right)",
    ],
)
def test_latex_spellings_mathtext_lacks_are_rewritten(latex):
    assert render_png(latex, dpi=60)


def test_mathtext_source_strips_math_delimiters():
    assert mathtext_source("  $x$ ") == "x"
    assert mathtext_source(r"\[x\]") == "x"
    assert mathtext_source(r"\emptyset\emptysetx") == r"\varnothing\emptysetx"


@pytest.mark.parametrize(
    "latex,named",
    [
        (r"\begin{pmatrix}a\end{pmatrix}", r"\begin{pmatrix}"),
        (r"x=\foo y", r"\foo"),
        (r"\overbrace{x+y}", r"\overbrace"),
        (r"\textbf{x}", r"\textbf"),  # mathtext knows \text, not \textbf
        (r"a \over b", r"\over"),
    ],
)
def test_unsupported_command_is_named(latex, named):
    with pytest.raises(RenderError) as info:
        render_png(latex)
    message = str(info.value)
    assert named in message and "does not support" in message


@pytest.mark.parametrize(
    "latex,words",
    [
        (r"\frac{a}", r"\frac{num}{den}"),
        ("x^", "the end of the formula"),
        (r"\left( x", r"'\right'"),
        ("{x", "'}'"),
    ],
)
def test_malformed_latex_says_what_is_missing_not_that_a_command_is_unsupported(latex, words):
    with pytest.raises(RenderError) as info:
        render_png(latex)
    message = str(info.value)
    assert words in message and "does not support" not in message
    assert len(message) < 200  # not mathtext's whole grammar


def test_empty_formula():
    with pytest.raises(RenderError, match="no formula"):
        render_png("   ")


def test_failed_render_leaves_the_fontset_setting_alone():
    from matplotlib import rcParams

    before = rcParams["mathtext.fontset"]
    with pytest.raises(RenderError):
        render_png(r"\foo", fontset="stix")
    assert rcParams["mathtext.fontset"] == before


@pytest.mark.parametrize("fontset", ["cm", "dejavusans"])
def test_coverage_is_the_same_ink_as_the_png(fontset):
    """Training images come from render_coverage, the preview from render_png: the same
    glyphs at the same size, whatever the rasterization path."""
    latex = r"\frac{a+b}{\sqrt{x^{2}}}\int_{0}^{1}f(t)\,dt"
    png = Image.open(io.BytesIO(render_png(latex, dpi=137, fontset=fontset)))
    alpha = np.asarray(png.getchannel("A"), np.float64)
    ink = render_coverage(latex, dpi=137, fontset=fontset).astype(np.float64)

    def box(a):
        ys, xs = np.nonzero(a > 0)
        return ys.max() - ys.min(), xs.max() - xs.min()

    assert np.allclose(box(ink), box(alpha), atol=2)
    # the figure places the glyphs at a sub-pixel offset, which spreads the ink a little
    assert ink.sum() == pytest.approx(alpha.sum(), rel=0.1)
    pad = round(0.05 * 137)
    assert not ink[:pad].any() and not ink[:, :pad].any()  # a margin, as render_png leaves


def test_coverage_errors_read_like_the_previews():
    with pytest.raises(RenderError, match=r"cannot draw \\foo"):
        render_coverage(r"\foo{x}")
    with pytest.raises(RenderError, match="no formula"):
        render_coverage("  ")
    with pytest.raises(ValueError, match="fontset"):
        render_coverage("x", fontset="comic")

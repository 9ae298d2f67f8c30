"""Preprocessing: any snip of a formula becomes the same ink map the model was trained on."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from core.errors import BlankImage, InvalidImage
from core.preprocess import (
    PreprocessConfig,
    candidates,
    glyph_height,
    ink_map,
    ink_weighted_glyph_height,
    preprocess,
    to_pil,
)
from core.render import render_image

FORMULA = r"\frac{a+b}{c}=\sum_{i=1}^{n}x_{i}^{2}"
CFG = PreprocessConfig()


@pytest.fixture(scope="module")
def light() -> Image.Image:
    return render_image(FORMULA, dpi=120, background="white").convert("RGB")


@pytest.fixture(scope="module")
def reference(light) -> np.ndarray:
    return preprocess(light)


def assert_same_ink(a: np.ndarray, b: np.ndarray, mean_tol: float = 0.01) -> None:
    assert a.shape == b.shape
    assert float(np.abs(a - b).mean()) < mean_tol


def content_rows_cols(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    strong = arr > 0.3
    return np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))


def test_output_is_a_padded_float_ink_map(reference):
    assert reference.dtype == np.float32
    assert reference.ndim == 2
    assert reference.shape[0] % CFG.multiple == 0 and reference.shape[1] % CFG.multiple == 0
    assert 0.0 <= reference.min() and reference.max() == pytest.approx(1.0)
    # ink, not paper, is 1: a formula covers a small part of its box
    assert 0.02 < float((reference > 0.5).mean()) < 0.5


def test_dark_mode_screenshot_gives_the_same_ink_map(light, reference):
    dark = render_image(FORMULA, dpi=120, color="#e0e0e0", background="#1e1e1e")
    assert_same_ink(preprocess(dark), reference)


def test_inverted_image_gives_the_same_ink_map(light, reference):
    assert_same_ink(preprocess(ImageOps.invert(light)), reference, mean_tol=1e-4)


def test_coloured_text_on_coloured_paper(reference):
    img = render_image(FORMULA, dpi=120, color="#c02020", background="#fff8d0")
    assert_same_ink(preprocess(img), reference)


def test_transparent_png_with_light_ink_reads_like_dark_ink(reference):
    """A dark-mode app's transparent export: white ink on nothing."""
    img = render_image(FORMULA, dpi=120, color="white")  # background=None: transparent
    assert img.mode == "RGBA"
    assert_same_ink(preprocess(img), reference)


def test_uneven_background_like_a_photo(light, reference):
    """A shaded page: the paper's colour drifts across the image, the ink does not change."""
    arr = np.asarray(light, np.float32)
    h, w = arr.shape[:2]
    shade = np.linspace(1.0, 0.7, w)[None, :, None] * np.linspace(1.0, 0.85, h)[:, None, None]
    photo = Image.fromarray((arr * shade).astype(np.uint8))
    out = preprocess(photo)
    assert out.shape == reference.shape
    assert float(np.abs((out > 0.5).astype(float) - (reference > 0.5)).mean()) < 0.02


def test_jpeg_artefacts_do_not_become_ink(light, reference):
    buf = io.BytesIO()
    light.save(buf, format="JPEG", quality=60)
    out = preprocess(buf.getvalue())
    assert out.shape == reference.shape
    assert float(np.abs((out > 0.5).astype(float) - (reference > 0.5)).mean()) < 0.02


def test_crop_to_content_keeps_a_margin(light, reference):
    canvas = Image.new("RGB", (light.width + 500, light.height + 300), "white")
    canvas.paste(light, (370, 40))
    out = preprocess(canvas)
    assert_same_ink(out, reference, mean_tol=1e-3)
    rows, cols = content_rows_cols(out)
    m = CFG.margin
    # content starts right after the margin; the margin itself is paper
    assert rows[0] in (m, m + 1) and cols[0] in (m, m + 1)
    assert not out[:m].any() and not out[:, :m].any()
    assert out.shape[0] - 1 - rows[-1] >= m and out.shape[1] - 1 - cols[-1] >= m


@pytest.mark.parametrize("dpi", [100, 600])
def test_glyph_size_is_normalized_whatever_the_zoom(dpi, reference):
    """The same formula snipped at 100 and 600 dpi (6× zoom) reaches the model at one size."""
    img = render_image(FORMULA, dpi=dpi, background="white")
    out = preprocess(img)
    rows, cols = content_rows_cols(out)
    ref_rows, ref_cols = content_rows_cols(reference)
    assert abs(len(rows) - len(ref_rows)) <= 0.1 * len(ref_rows)
    assert abs(len(cols) - len(ref_cols)) <= 0.1 * len(ref_cols)


def test_glyph_height_measures_letters_not_bars():
    ink = np.zeros((100, 300), np.float32)
    for x in range(10, 250, 30):  # letters 20 px tall
        ink[40:60, x : x + 12] = 1.0
    ink[70:72, 10:290] = 1.0  # a fraction bar: wide, 2 px tall
    ink[20:22, 50:52] = 1.0  # a dot
    assert glyph_height(ink) == 20.0
    assert glyph_height(np.zeros((10, 10), np.float32)) is None


def test_ink_weighted_glyph_size_follows_the_zoom_where_glyph_height_falls(crisp_and_low_zoom):
    big, small = (ink_map(img) for img in crisp_and_low_zoom)
    # faded thin strokes break into fragments that glyph_height counts as small glyphs
    assert glyph_height(small) < 0.8 * glyph_height(big) / 6
    # weighed by their ink the fragments count for little
    assert ink_weighted_glyph_height(small) == pytest.approx(
        ink_weighted_glyph_height(big) / 6, rel=0.2
    )
    assert ink_weighted_glyph_height(np.zeros((10, 10), np.float32)) is None


def test_the_ink_weighted_estimate_ignores_faint_fragments():
    ink = np.zeros((40, 120), np.float32)
    for x in (5, 30, 55):
        ink[10:30, x : x + 12] = 1.0  # three glyphs 20 px high
    for x in (80, 90, 100, 110):
        ink[12:17, x : x + 3] = 0.5  # four faint fragments of a thin stroke, 5 px high
    assert ink_weighted_glyph_height(ink) == 20
    assert glyph_height(ink) < 20  # the plain median counts the fragments


def test_a_crisp_snip_is_read_at_three_glyph_sizes(crisp_and_low_zoom):
    big, _ = crisp_and_low_zoom
    standard, larger, smaller = candidates(big)
    assert np.array_equal(standard, preprocess(big))
    # the same formula with its glyphs at 20 and 14.5 px instead of 16
    width = len(content_rows_cols(standard)[1])
    assert len(content_rows_cols(larger)[1]) == pytest.approx(width * 20 / 16, abs=2)
    assert len(content_rows_cols(smaller)[1]) == pytest.approx(width * 14.5 / 16, abs=2)
    # a model whose config says so reads it once
    (only,) = candidates(big, PreprocessConfig(also_read_at=()))
    assert np.array_equal(only, standard)


def test_a_size_the_model_cannot_take_is_not_read_twice():
    # shrunk to the model's width to fit, at any of the glyph sizes: one input, read once
    long = "+".join(f"x_{{{i}}}^{{2}}" for i in range(40))
    (only,) = candidates(render_image(long, dpi=200, background="white"))
    assert only.shape[1] == CFG.max_width


def test_the_extra_glyph_sizes_of_a_hand_edited_config_are_checked():
    # config.json holds a list; a model's config must round-trip to the same config
    assert PreprocessConfig.from_dict({"also_read_at": [20, 14.5]}) == PreprocessConfig()
    for bad in ("big", [0], [-3], [float("nan")], 7, None, [[20]]):
        with pytest.raises((ValueError, TypeError)):
            PreprocessConfig.from_dict({"also_read_at": bad})


def test_a_low_zoom_snip_is_also_read_at_its_ink_weighted_glyph_size(crisp_and_low_zoom):
    big, small = crisp_and_low_zoom
    assert len(candidates(small)) == 4  # standard, two other sizes, ink-weighted
    standard, weighted = candidates(small, PreprocessConfig(also_read_at=()))
    assert np.array_equal(standard, preprocess(small))
    # the second is enlarged less, to about the size the crisp snip reaches the model at
    _, cols = content_rows_cols(weighted)
    _, ref_cols = content_rows_cols(preprocess(big))
    assert len(cols) < len(content_rows_cols(standard)[1])
    assert abs(len(cols) - len(ref_cols)) <= 0.25 * len(ref_cols)
    for arr in (standard, weighted):
        assert arr.shape[0] % CFG.multiple == 0 and arr.shape[1] % CFG.multiple == 0
    # a model whose config turns it off reads the standard input alone
    assert len(candidates(small, PreprocessConfig(low_res_glyph=0, also_read_at=()))) == 1


def test_candidates_of_bad_input_raise_as_preprocess_does():
    with pytest.raises(BlankImage):
        candidates(Image.new("RGB", (50, 30), "white"))
    with pytest.raises(InvalidImage):
        candidates(b"not an image")


def test_a_border_line_at_the_edge_of_a_snip_does_not_shrink_the_formula():
    def screenshot(border: bool) -> Image.Image:
        img = render_image(r"\frac{a}{b}+x^{2}", dpi=120, background="white").convert("RGB")
        canvas = Image.new("RGB", (img.width + 40, img.height + 30), "white")
        canvas.paste(img, (10, 15))
        if border:  # the edge of a table or box the snip cut through
            ImageDraw.Draw(canvas).line(
                [(canvas.width - 1, 0), (canvas.width - 1, canvas.height)], fill="black"
            )
        return canvas

    plain, bordered = preprocess(screenshot(False)), preprocess(screenshot(True))
    # the line stays (it may be a real bar); the glyphs keep their size
    assert (bordered > 0.5).sum() >= 0.9 * (plain > 0.5).sum()


def test_long_formula_is_fitted_into_the_model_input():
    long = "+".join(f"x_{{{i}}}^{{2}}" for i in range(40))
    out = preprocess(render_image(long, dpi=200, background="white"))
    assert out.shape[0] <= CFG.max_height and out.shape[1] <= CFG.max_width


def test_config_round_trip_ignores_unknown_keys():
    cfg = PreprocessConfig(target_glyph=20.0, margin=4)
    assert PreprocessConfig.from_dict({**cfg.to_dict(), "future_key": 1}) == cfg


def test_custom_config_is_honoured(light):
    cfg = PreprocessConfig(margin=2, multiple=8)
    out = preprocess(light, cfg)
    assert out.shape[0] % 8 == 0 and out.shape[1] % 8 == 0
    rows, cols = content_rows_cols(out)
    assert rows[0] in (2, 3) and cols[0] in (2, 3)


@pytest.mark.parametrize(
    "img",
    [
        Image.new("RGB", (300, 120), "white"),
        Image.new("RGB", (300, 120), "black"),
        Image.new("RGB", (40, 20), (120, 200, 90)),
        Image.new("RGBA", (300, 120), (0, 0, 0, 0)),
        Image.fromarray(np.tile(np.linspace(90, 250, 400, dtype=np.uint8), (200, 1))),
        Image.fromarray(
            (245 + np.random.default_rng(0).integers(-4, 5, (150, 300))).astype(np.uint8)
        ),
    ],
    ids=["white", "black", "green", "transparent", "gradient", "paper-noise"],
)
def test_blank_images_raise_blank_image(img):
    with pytest.raises(BlankImage, match="blank"):
        preprocess(img)


def test_unreadable_input_is_invalid_image():
    with pytest.raises(InvalidImage):
        preprocess(b"not an image")


def test_huge_snip_is_analysed_at_reduced_size_and_still_read(light, reference):
    big = light.resize((light.width * 20, light.height * 20), Image.Resampling.NEAREST)
    assert big.width * big.height > 6_000_000
    out = preprocess(big)
    rows, cols = content_rows_cols(out)
    ref_rows, ref_cols = content_rows_cols(reference)
    assert abs(len(rows) - len(ref_rows)) <= 0.15 * len(ref_rows)


def test_to_pil_shows_ink_black_on_white(reference):
    pic = to_pil(reference)
    assert pic.mode == "L" and pic.size == (reference.shape[1], reference.shape[0])
    assert pic.getpixel((0, 0)) == 255
    assert np.asarray(pic).min() == 0


def test_ink_map_of_a_tiny_image_uses_the_dominant_colour():
    img = Image.new("RGB", (30, 20), (30, 30, 60))
    img.paste((250, 250, 200), (10, 5, 14, 15))
    ink = ink_map(img)
    assert ink[10, 12] == pytest.approx(1.0) and ink[0, 0] < 1e-3

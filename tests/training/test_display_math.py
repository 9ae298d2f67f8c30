import io
import random

from PIL import Image

from core.preprocess import PreprocessConfig
from core.render import render_png
from training.data.build import printed_sample
from training.data.display_math import display_fractions


def test_top_level_fractions_are_set_in_display_style():
    assert display_fractions(r"\frac{a}{b}+\frac12") == r"\dfrac{a}{b}+\dfrac12"
    assert display_fractions(r"\sqrt{\frac{a}{b}}") == r"\sqrt{\dfrac{a}{b}}"
    assert display_fractions(r"\left(\frac {1}{2}\right)") == r"\left(\dfrac {1}{2}\right)"


def test_fractions_inside_fractions_and_scripts_stay_small_as_in_latex():
    assert display_fractions(r"\frac{\frac{1}{2}}{x}") == r"\dfrac{\frac{1}{2}}{x}"
    assert display_fractions(r"e^{-\frac{x^2}{2}}") == r"e^{-\frac{x^2}{2}}"
    assert display_fractions(r"x_{\frac{c}{d}}\frac{a}{b}") == r"x_{\frac{c}{d}}\dfrac{a}{b}"


def test_text_without_fractions_or_with_broken_braces_is_left_alone():
    for text in ["x^{2}+1", r"\fraction", "a}b{", r"\frac{a"]:
        assert display_fractions(text).replace(r"\dfrac", r"\frac") == text


def test_display_fractions_are_drawn_full_size():
    def height(latex):
        return Image.open(io.BytesIO(render_png(latex, fontset="cm", dpi=100))).height

    assert height(display_fractions(r"\frac{a}{b}")) > 1.2 * height(r"\frac{a}{b}")


def test_printed_labels_keep_the_plain_fraction():
    rng, cfg = random.Random(1), PreprocessConfig()
    labels = [printed_sample((r"\frac{a}{b}+1",), rng, cfg)[1] for _ in range(12)]
    assert r"\frac{a}{b}+1" in labels
    assert not any(r"\dfrac" in label for label in labels)

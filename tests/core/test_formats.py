"""Copy formats: how recognized LaTeX is wrapped for the clipboard."""

from __future__ import annotations

import xml.dom.minidom

import pytest

from core.formats import COPY_FORMATS, format_latex

LATEX = r"\frac{a}{b}+x^{2}"


@pytest.mark.parametrize(
    "fmt,expected",
    [
        ("raw", LATEX),
        ("inline", f"${LATEX}$"),
        ("display", f"$${LATEX}$$"),
        ("bracket", f"\\[{LATEX}\\]"),
        ("equation", f"\\begin{{equation}}\n{LATEX}\n\\end{{equation}}"),
    ],
)
def test_latex_wrappers(fmt, expected):
    assert format_latex(f"  {LATEX}\n", fmt) == expected


def test_mathml_is_a_well_formed_math_document():
    out = format_latex(LATEX, "mathml")
    doc = xml.dom.minidom.parseString(out)
    root = doc.documentElement
    assert root.tagName == "math" and root.getAttribute("display") == "block"
    assert doc.getElementsByTagName("mfrac") and doc.getElementsByTagName("msup")
    assert LATEX in out  # the source travels along as an annotation


def test_every_offered_format_works():
    assert set(COPY_FORMATS) == {"raw", "inline", "display", "bracket", "equation", "mathml"}
    for fmt in COPY_FORMATS:
        assert "frac" in format_latex(LATEX, fmt) or "mfrac" in format_latex(LATEX, fmt)


@pytest.mark.parametrize("fmt", ["", "Inline", "latex", "md"])
def test_unknown_format_names_the_valid_ones(fmt):
    with pytest.raises(ValueError) as info:
        format_latex(LATEX, fmt)
    message = str(info.value)
    assert repr(fmt) in message
    assert all(name in message for name in COPY_FORMATS)


@pytest.mark.parametrize("fmt", list(COPY_FORMATS))
def test_empty_formula_stays_empty(fmt):
    """A blank image's empty result must not paste "$$" (which opens display math)."""
    assert format_latex("  \n", fmt) == ""

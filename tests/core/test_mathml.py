"""Copy as MathML: well-formed documents that Word and LibreOffice read as math."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from core.formats import format_latex
from core.mathml import MATHML_NS, latex_to_mathml

M = f"{{{MATHML_NS}}}"


def parse(latex: str, display: bool = True) -> ET.Element:
    return ET.fromstring(latex_to_mathml(latex, display=display))


def test_fraction_and_scripts_become_mfrac_and_msubsup():
    root = parse(r"\frac{1}{2}+x_{i}^{2}")
    assert root.get("display") == "block"
    frac = root.find(f".//{M}mfrac")
    assert [e.text for e in frac] == ["1", "2"]
    sub_sup = root.find(f".//{M}msubsup")
    assert [e.text for e in sub_sup] == ["x", "i", "2"]


def test_big_operator_takes_limits_above_and_below_in_display_only():
    assert parse(r"\sum_{n=1}^{\infty}n").find(f".//{M}munderover") is not None
    inline = parse(r"\sum_{n=1}^{\infty}n", display=False)
    assert inline.get("display") == "inline"
    assert inline.find(f".//{M}msubsup") is not None


def test_symbols_roots_fonts_and_text():
    root = parse(r"\alpha\leq\sqrt[3]{x}+\mathbb{R}\text{a b}y")
    texts = [e.text for e in root.iter() if e.text]
    assert "α" in texts and "≤" in texts and "a b" in texts
    assert root.find(f".//{M}mroot") is not None
    assert root.find(f".//{M}mi[@mathvariant='double-struck']").text == "R"


def test_matrix_rows_and_cells():
    root = parse(r"\begin{pmatrix}a&b\\c&d\end{pmatrix}")
    rows = root.findall(f".//{M}mtr")
    assert [[c.find(f"{M}mi").text for c in r] for r in rows] == [["a", "b"], ["c", "d"]]
    fences = [e.text for e in root.iter(f"{M}mo")]
    assert fences == ["(", ")"]


def test_annotation_keeps_the_latex_source_escaped():
    root = parse(r"a<b")
    ann = root.find(f".//{M}annotation")
    assert ann.get("encoding") == "application/x-tex" and ann.text == "a<b"


@pytest.mark.parametrize("latex", [r"\foo{x}", "}{{", r"\frac{1}", "^_", r"\left(", r"\end{x}"])
def test_broken_or_unknown_input_still_gives_a_wellformed_document(latex):
    root = parse(latex)
    assert root.tag == f"{M}math"


def test_unknown_command_is_marked_not_dropped():
    err = parse(r"\foo").find(f".//{M}merror")
    assert err is not None and "\\foo" in "".join(err.itertext())


def test_copy_format_mathml_uses_this_converter():
    out = format_latex("  x^{2} ", "mathml")
    assert out.startswith("<math") and "<msup>" in out

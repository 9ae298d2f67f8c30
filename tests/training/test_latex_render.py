"""Printed training images typeset by real LaTeX (training/data/latex_render.py).

The pure parts (what may enter a document, which page is which formula, which formula TeX
complained about) run everywhere; typesetting runs where ``latex`` and ``dvipng`` are
installed (``make test`` installs them: ``make texdeps``)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from core.errors import SettingsError
from training.data import latex_render
from training.data.latex_render import (
    document,
    failed_formulas,
    latex_available,
    pages_written,
    safe_formula,
    typeset,
)

needs_tex = pytest.mark.skipif(not latex_available(), reason="latex and dvipng not installed")


@pytest.mark.parametrize(
    "latex",
    [
        "\\frac{a}{b}",
        "\\{x\\}",
        "\\begin{pmatrix}a&b\\\\c&d\\end{pmatrix}",
        "\\left(x\\right)^{2}",
        "50\\%",
    ],
)
def test_ordinary_formulas_may_be_typeset(latex):
    assert safe_formula(latex)


@pytest.mark.parametrize(
    "latex",
    [
        "\\input{/etc/passwd}",
        "\\include{x}",
        "\\InputIfFileExists{/etc/passwd}{}{}",
        "\\RequirePackage{shellesc}",
        "\\scantokens{x}",
        "\\immediate\\write18{rm -rf ~}",
        "\\def\\a{\\a}\\a",
        "\\newcommand{\\R}{x}",
        "\\catcode`\\%=11",
        "x % the rest of the line would vanish",
        "#1",
        "^^5cinput",
        "\\end{document}",
        "\\frac{1}{2",
        "}{",
        "",
        "   ",
    ],
)
def test_formulas_that_could_run_code_or_break_the_document_are_refused(latex):
    assert not safe_formula(latex)


def test_each_formula_has_its_own_line_and_page():
    formulas = ["a", "b^{2}", "c"]
    assert document(["a\nb\r\nc"], [True]).splitlines()[latex_render._HEADER_LINES] == (
        "\\null\\[a b c\\]\\clearpage"
    )
    doc = document(formulas, [True, False, True]).splitlines()
    first = latex_render._HEADER_LINES
    assert doc[first] == "\\null\\[a\\]\\clearpage"
    assert doc[first + 1] == "\\null$b^{2}$\\clearpage"
    assert doc[first + 2] == "\\null\\[c\\]\\clearpage"
    assert doc[-1] == "\\end{document}"


def test_an_error_line_in_the_log_names_its_formula():
    first = latex_render._HEADER_LINES + 1  # line of formula 0
    log = (
        "! Undefined control sequence.\n"
        f"l.{first + 1} \\null\\[\\foo\n"
        "! Missing } inserted.\n"
        f"l.{first + 3} \\null\n"
        "l.2 in the preamble: not a formula\n"
        "Output written on f.dvi (4 pages, 884 bytes).\n"
    )
    assert failed_formulas(log, 4) == {1, 3}
    assert pages_written(log) == 4
    assert pages_written("no output") == 0


def test_without_tex_the_error_says_what_to_install(monkeypatch, tmp_path):
    from training.data.build import build_all

    monkeypatch.setattr(latex_render.shutil, "which", lambda name: None)
    with pytest.raises(SettingsError, match="apt-get install .*dvipng"):
        typeset(["x"])
    with pytest.raises(SettingsError, match="latex and dvipng"):
        build_all(tmp_path / "shards", printed=0, dev=0, latex=10, data_root=tmp_path)
    assert not (tmp_path / "shards").exists()  # refused before anything was built


@needs_tex
def test_typesetting_keeps_order_and_drops_what_tex_rejects():
    formulas = [
        "x^{2}",
        "\\frac{a}{b}",
        "\\undefinedmacro x",  # TeX draws the x but not the macro: the label would lie
        "\\begin{pmatrix}a&b\\\\c&d\\end{pmatrix}",
        "\\input{/etc/hostname}",  # refused before TeX sees it
        "\\left( x",  # TeX: missing \right
    ]
    inks = typeset(formulas, dpi=150)
    assert [ink is not None for ink in inks] == [True, True, False, True, False, False]
    square, fraction, matrix = inks[0], inks[1], inks[3]
    for ink in (square, fraction, matrix):
        assert ink.dtype == np.uint8 and ink.max() == 255  # cropped to black ink
    assert fraction.shape[0] > square.shape[0]  # stacked, not side by side
    assert matrix.shape[0] > square.shape[0] and matrix.shape[1] > fraction.shape[1]


@needs_tex
def test_a_formula_that_swallows_the_pages_after_it_costs_only_itself():
    # \iffalse skips the rest of the document: the batch's pages no longer match its
    # formulas, so each is typeset alone
    inks = typeset(["x", "\\iffalse", "y"], dpi=100, display=False)
    assert inks[0] is not None and inks[1] is None and inks[2] is not None


@needs_tex
def test_resolution_and_font_change_the_image():
    low, high = (
        typeset(["\\sum_{i=1}^{n} i"], dpi=60)[0],
        typeset(["\\sum_{i=1}^{n} i"], dpi=240)[0],
    )
    assert high.shape[0] > 3 * low.shape[0]
    fonts = latex_render.available_fonts()
    assert fonts[0] == "cm"
    drawn = {f: typeset(["abc=xyz"], font=f, dpi=120)[0] for f in fonts}
    assert len({d.tobytes() for d in drawn.values()}) == len(fonts)
    with pytest.raises(SettingsError, match="Unknown LaTeX font"):
        typeset(["x"], font="comic")


@needs_tex
def test_a_font_without_bold_math_never_labels_plain_glyphs_bold():
    if "times" not in latex_render.available_fonts():
        pytest.skip("mathptmx not installed")
    assert typeset(["\\boldsymbol{x}", "x"], font="times")[0] is None


@needs_tex
def test_a_latex_shard_is_deterministic_and_labelled_with_what_was_typeset(tmp_path):
    from training.data.build import build_shard
    from training.data.shards import read_shard

    root = tmp_path / "data"
    (root / "formulas").mkdir(parents=True)
    pool = [
        "a+b=c",
        "\\frac{x}{y}",
        "\\begin{cases}1&x>0\\\\0&x\\leq0\\end{cases}",
        "\\undefinedfoo",
    ]
    (root / "formulas" / "k12.txt").write_text("\n".join(pool) + "\n")
    paths = []
    for run in ("one", "two"):
        (tmp_path / run).mkdir()
        paths.append(build_shard(("latex", str(tmp_path / run), 0, 12, 3, "train", str(root))))
    first, second = read_shard(paths[0]), read_shard(paths[1])
    assert paths[0].endswith("latex-train-3-0000.npz")
    assert len(first) == 12 and set(first.sources) == {"latex"}
    assert "\\undefinedfoo" not in first.labels  # never drawn, so never labelled
    assert first.labels == second.labels
    assert all(np.array_equal(first.image(i), second.image(i)) for i in range(12))


@needs_tex
def test_a_broken_tex_installation_stops_the_build_with_a_message(monkeypatch):
    from core.errors import TeXSnapError
    from core.preprocess import PreprocessConfig
    from training.data import build

    monkeypatch.setattr(build, "typeset", lambda formulas, **kw: [None] * len(formulas))
    with pytest.raises(TeXSnapError, match="LaTeX typeset none"):
        streams = (random.Random(n) for n in range(100))
        build._latex_shard(("x",), streams, PreprocessConfig(), 5, 0.0)


@needs_tex
def test_a_tex_run_that_hangs_is_given_up_on(monkeypatch):
    import subprocess

    calls = []

    def hang(command, **kw):
        calls.append(kw["timeout"])
        raise subprocess.TimeoutExpired(command, kw["timeout"])

    monkeypatch.setattr(latex_render.subprocess, "run", hang)
    assert typeset(["x", "y"], timeout=60) == [None, None]
    # the batch, then each formula alone under the shorter limit
    assert calls == [60, latex_render.ALONE_TIMEOUT, latex_render.ALONE_TIMEOUT]


@needs_tex
def test_a_row_that_starts_with_a_bracket_is_typeset_as_its_label_says():
    # TeX reads "\\ [1,2]" as a row break with "1,2" as its optional space, an error it
    # loops on; the label means a row that starts with "[1,2]"
    table = "\\begin{array}{c}x\\\\ [1,2]\\\\[0,1]\\end{array}"
    assert "\\\\{} [1,2]\\\\{}[0,1]" in document([table], [True])
    assert typeset([table], timeout=10)[0] is not None


def test_a_latex_dev_slice_comes_first_and_from_the_dev_split(tmp_path):
    from training.data.build import _jobs

    counts = {"printed": 0, "handwritten": 0, "latex": 2000}
    jobs = _jobs(tmp_path, counts, 10, 1000, 4, None, {"handwritten": 0, "latex": 300})
    assert jobs[:2] == [
        ("printed", str(tmp_path), 0, 10, 4, "dev", None),
        ("latex", str(tmp_path), 0, 300, 4, "dev", None),
    ]
    assert [j[2] for j in jobs[2:]] == [0, 1] and {j[5] for j in jobs[2:]} == {"train"}

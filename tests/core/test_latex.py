"""LaTeX tokenizer and the one canonical form (see core/latex.py's docstring)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.latex import canonical_tokens, canonicalize, detokenize, tokenize


@pytest.mark.parametrize(
    "source,canonical",
    [
        # braces: every argument and script braced, groups that group nothing unwrapped
        ("x^2", "x^{2}"),
        (r"\frac12", r"\frac{1}{2}"),
        (r"\sqrt x", r"\sqrt{x}"),
        (r"\binom nk", r"\binom{n}{k}"),
        ("{x}", "x"),
        ("{{a+b}}", "a+b"),
        ("{}^{14}C", "{}^{14}C"),  # an empty group carries a prescript and stays
        (r"x^{2}_{i}", r"x_{i}^{2}"),
        ("x'", r"x^{\prime}"),
        ("x''", r"x^{\prime\prime}"),
        (r"{a \over b}", r"\frac{a}{b}"),
        ("{a+b}^2", "{a+b}^{2}"),
        # a scripted base keeps its braces: x^{2}^{3} would be a TeX error
        (r"{\Lambda_n^{(1)}}^{-1}", r"{\Lambda_{n}^{(1)}}^{-1}"),
        (r"{x'}^E", r"{x^{\prime}}^{E}"),
        (r"{{x}}^2", "x^{2}"),
        # spacing and style commands are dropped
        (r"a\,b\;c\quad d\qquad e\!f \hspace{3pt} g", "abcdefg"),
        (r"\displaystyle \sum x", r"\sum x"),
        (r"\label{eq1} x % comment", "x"),
        (r"\kern3mu x\mkern-2mu y\hskip 2pt z\mskip\thinmuskip w", "xyzw"),
        (r"\Big( x \Big)", "(x)"),
        # \left/\right only where the delimiters grow
        (r"\left( x \right)", "(x)"),
        (r"\left( \frac{a}{b} \right)", r"\left(\frac{a}{b}\right)"),
        (r"\left[ \sum_{i} x \right]", r"\left[\sum_{i}x\right]"),
        (r"\left. \frac{a}{b} \right|", r"\left.\frac{a}{b}\right|"),
        (r"\left( x \left( y \right) \right)", "(x(y))"),
        (r"\left( \left( \frac{a}{b} \right) \right)", r"\left(\left(\frac{a}{b}\right)\right)"),
        (r"\left\{ x \right.", r"\{x"),
        # synonyms
        (r"\le \ge \ne \to \gets", r"\leq\geq\neq\rightarrow\leftarrow"),
        (r"\dfrac{a}{b} + \tfrac12", r"\frac{a}{b}+\frac{1}{2}"),
        (r"\lbrace x \rbrace", r"\{x\}"),
        (r"\iff \implies", r"\Leftrightarrow\Rightarrow"),
        (r"{\rm d}x", r"\mathrm{d}x"),
        (r"\operatorname{sin}x", r"\sin x"),
        (r"\operatorname*{max}_x", r"\max_{x}"),
        (r"\genfrac{(}{)}{0pt}{}{n}{k}", r"\binom{n}{k}"),
        # big operators with limits
        (r"\sum_{i=1}^n \prod_{k=0}^\infty", r"\sum_{i=1}^{n}\prod_{k=0}^{\infty}"),
        (r"\int\limits_a^b f", r"\int_{a}^{b}f"),
        (r"\lim_{x\to0}", r"\lim_{x\rightarrow0}"),
        # text
        (r"\text{if } x>0", r"\text{if}x>0"),
        (r"\textrm{for all}", r"\text{for\ all}"),
        (r"\text{a  b}", r"\text{a\ b}"),
        # im2latex labels space every token, text included
        (r"\textrm { a n d } x", r"\text{and}x"),
        (r"\text{a b}", r"\text{a\ b}"),  # a person's two words stay two words
        (r"\mathrm { T r } \, \textrm { T r }", r"\mathrm{Tr}\text{Tr}"),
        (r"\text{\tt Ans}", r"\text{\tt Ans}"),
        # environments
        (
            r"\begin{matrix} a & b \\ c & d \end{matrix}",
            r"\begin{matrix}a & b \\ c & d\end{matrix}",
        ),
        (r"\begin{pmatrix} a \\ \end{pmatrix}", r"\begin{pmatrix}a\end{pmatrix}"),
        (r"\begin{align*} a &= b \end{align*}", r"\begin{aligned}a & =b\end{aligned}"),
        (r"\begin{array}{c c} 1 & 2 \end{array}", r"\begin{array}{cc}1 & 2\end{array}"),
        (r"\begin{equation} x=1 \end{equation}", "x=1"),
        (
            r"f(x)=\begin{cases} 1 & x>0 \\ 0 & \text{otherwise} \end{cases}",
            r"f(x)=\begin{cases}1 & x>0 \\ 0 & \text{otherwise}\end{cases}",
        ),
        (
            r"\left\{ \begin{array}{ll} 1 & x \\ 0 & y \end{array} \right.",
            r"\left\{\begin{array}{ll}1 & x \\ 0 & y\end{array}\right.",
        ),
        (r"a &= b \\[2pt] c &= d", r"a & =b \\ c & =d"),  # row spacing is layout
        (r"a \\* b", r"a \\ b"),
        (r"a \\ [0,1]", r"a \\ [0,1]"),  # an interval is content
        # commands whose argument must keep its braces, or lose a colour argument
        (r"\mathop{\rm lim}_{n}", r"\mathop{\mathrm{lim}}_{n}"),
        (r"\xrightarrow[g]{fh}", r"\xrightarrow[g]{fh}"),
        (r"\textcolor{red}{x}+\colorbox{blue}{y}", "x+y"),
        (r"{n \choose k}", r"\binom{n}{k}"),
        (r"\left( {n \choose d}^{2} \right)", r"\left(\binom{n}{d}^{2}\right)"),
        (r"\emph{hi there}", r"\emph{hi\ there}"),
        # fonts, accents, misc
        (
            r"\mathbb{R}\mathcal{L}\mathrm{d}\mathbf{v}\operatorname{rank}A",
            r"\mathbb{R}\mathcal{L}\mathrm{d}\mathbf{v}\operatorname{rank}A",
        ),
        (
            r"\hat{x}\bar{y}\vec v\tilde{z}\dot{a}\ddot b",
            r"\hat{x}\bar{y}\vec{v}\tilde{z}\dot{a}\ddot{b}",
        ),
        (r"\alpha x", r"\alpha x"),  # a space only where TeX needs one
        (r"\alpha_x", r"\alpha_{x}"),
        (r"100\%", r"100\%"),
        ("", ""),
        # plain TeX names, as im2latex's physics labels write them
        (r"b _ { m } ^ { \dag } \ddag", r"b_{m}^{\dagger}\ddagger"),
        (r"A \sb \mu = F \sb { \mu \nu } x \sp \nu", r"A_{\mu}=F_{\mu\nu}x^{\nu}"),
        (r"a \cdotp b", r"a\cdot b"),
        (r"a \ast b^{*}", r"a*b^{*}"),
        (r"x \not = y \not \in A \not< 0", r"x\neq y\notin A\not<0"),
    ],
)
def test_canonical_form(source, canonical):
    assert canonicalize(source) == canonical
    assert canonicalize(canonical) == canonical  # the canonical form is a fixed point


@pytest.mark.parametrize(
    "broken",
    [
        r"\frac{a}",
        "}}x{",
        r"\left( x",
        r"x \right)",
        "^2",
        r"\begin{matrix} a & b",
        r"\end{cases}",
        r"\sqrt[",
        r"\text{unclosed",
        "x_1_2",
        r"\\ & \\",
    ],
)
def test_broken_latex_never_crashes(broken):
    out = canonicalize(broken)
    assert isinstance(out, str)


def test_for_eval_drops_left_right_but_keeps_delimiters():
    assert canonical_tokens(r"\left(\frac{a}{b}\right)", for_eval=True) == [
        "(",
        r"\frac",
        "{",
        "a",
        "}",
        "{",
        "b",
        "}",
        ")",
    ]


def test_canonical_tokens_accepts_a_token_list():
    assert canonical_tokens(["x", "^", "2"]) == ["x", "^", "{", "2", "}"]


def test_environment_name_is_one_token():
    toks = canonical_tokens(r"\begin{pmatrix}a\end{pmatrix}")
    assert toks == [r"\begin", "{", "pmatrix", "}", "a", r"\end", "{", "pmatrix", "}"]


# --- the tokenizer covers what users meet -------------------------------------------------------


@pytest.mark.parametrize(
    "source,tokens",
    [
        (r"\alpha\beta\Gamma\varepsilon", [r"\alpha", r"\beta", r"\Gamma", r"\varepsilon"]),
        (r"a\pm b\times c\leq d", ["a", r"\pm", "b", r"\times", "c", r"\leq", "d"]),
        (r"x\to\infty\Rightarrow y", ["x", r"\to", r"\infty", r"\Rightarrow", "y"]),
        (r"\hat x\vec{v}", [r"\hat", "x", r"\vec", "{", "v", "}"]),
        (r"\frac{a}{b}", [r"\frac", "{", "a", "}", "{", "b", "}"]),
        (r"\sqrt[3]{x}", [r"\sqrt", "[", "3", "]", "{", "x", "}"]),
        (r"\binom{n}{k}", [r"\binom", "{", "n", "}", "{", "k", "}"]),
        (r"\sum_{i}^{n}", [r"\sum", "_", "{", "i", "}", "^", "{", "n", "}"]),
        (r"\left( x \right)", [r"\left", "(", "x", r"\right", ")"]),
        (r"\left\{ x \right.", [r"\left", r"\{", "x", r"\right", "."]),
        (r"\mathbb{R}", [r"\mathbb", "{", "R", "}"]),
        (r"\operatorname*{argmax}", [r"\operatorname*", "{", *"argmax", "}"]),
        (r"\text{if } x", [r"\text", "{", "i", "f", "\\ ", "}", "x"]),
        (r"\text{a{b}c}", [r"\text", "{", "a", "{", "b", "}", "c", "}"]),
        (r"a \\ b & c", ["a", "\\\\", "b", "&", "c"]),
        (r"100\% % a comment", ["1", "0", "0", r"\%"]),
        (r"\foo* x", [r"\foo", "*", "x"]),  # a starred unknown command: the star is a token
        (r"\hspace*{1em}", [r"\hspace*", "{", "1", "e", "m", "}"]),
        ("αβ", ["α", "β"]),  # unicode letters are single-character tokens
    ],
)
def test_tokenize(source, tokens):
    assert tokenize(source) == tokens


@pytest.mark.parametrize(
    "tokens,text",
    [
        ([r"\alpha", "x"], r"\alpha x"),
        ([r"\alpha", "2"], r"\alpha2"),
        ([r"\alpha", r"\beta"], r"\alpha\beta"),
        (["a", "&", "b", "\\\\", "c"], r"a & b \\ c"),
        ([r"\tt", "\\ ", "A"], r"\tt \ A"),
    ],
)
def test_detokenize_spaces_only_where_tex_needs_them(tokens, text):
    assert detokenize(tokens) == text
    assert tokenize(text) == tokens


def real_formulas(n: int) -> list[str]:
    """Every k-th line of the shared formula corpora (training text, read-only)."""
    default = Path(__file__).resolve().parents[3] / "shared" / "data"  # as tests/conftest.py
    shared = Path(os.environ.get("TEXSNAP_SHARED_DATA", default))
    out = []
    for name, column in (("corpus.tsv", 1), ("k12.txt", 0)):
        path = shared / "formulas" / name
        if not path.is_file():
            pytest.skip(f"needs {path}")
        lines = path.read_text(encoding="utf-8").splitlines()
        out += [line.split("\t")[column] for line in lines[:: max(1, len(lines) // n)]]
    return out


@pytest.mark.data
def test_real_formulas_canonicalize_to_a_fixed_point():
    """All 288k formulas of ../shared/data pass (checked once); a sample guards regressions."""
    for formula in real_formulas(1500):
        once = canonicalize(formula)
        assert canonicalize(once) == once, formula

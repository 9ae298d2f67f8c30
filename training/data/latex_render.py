"""Printed formulas typeset by real LaTeX (``latex`` + ``dvipng``), for training images.

Optional: the app never needs TeX, and a data build uses it only when asked (``texsnap data
build --latex N``). Why it is worth having where it is installed: the papers, textbooks and
PDFs users snip from are typeset by TeX, whose fonts, spacing and delimiters differ from
matplotlib's mathtext, and mathtext cannot draw matrices, ``cases`` or arrays at all.

Debian/Ubuntu: ``apt-get install texlive-latex-base texlive-latex-recommended
texlive-fonts-recommended dvipng`` (``make texdeps``).

A batch of formulas is one document with one formula a page, so one ``latex`` run and one
``dvipng`` run typeset them all (about 0.1 s each for a small batch). A formula TeX reports an
error on is dropped, since its page may lack a symbol its label has; the error's line number
says which formula it was. Formulas come from text corpora, so anything that would let TeX
read or write files or redefine commands is refused before TeX sees it.

A shard of these images is a pure function of its arguments on one TeX installation; another
TeX Live release may place a glyph a pixel differently.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from core.errors import SettingsError

# Font families a document can be set in: the package that selects each (Computer Modern is
# LaTeX's default and what most papers use, hence its weight in training/data/build.py).
FONT_PACKAGES = {"cm": None, "times": "mathptmx", "palatino": "mathpazo"}
# What a font cannot draw as its label says: mathptmx has no bold math, so \boldsymbol{x}
# comes out as a plain x there
_FONT_CANNOT = {"times": re.compile(r"\\(boldsymbol|bm|boldmath)(?![a-zA-Z])")}

_HEADER = (
    "\\documentclass[12pt]{{article}}\n"
    "\\usepackage{{amsmath,amssymb,bm}}\n"
    "{font}\n"
    "\\pagestyle{{empty}}\n"
    "\\begin{{document}}\n"
)
_HEADER_LINES = _HEADER.count("\n")

# Primitives and macros that read or write files, run code, or change how TeX reads the rest
# of the document. Corpus text is data, not a program.
_FORBIDDEN = re.compile(
    r"\\(input|include|includeonly|InputIfFileExists|IfFileExists|RequirePackage|LoadClass|"
    r"scantokens|openin|openout|read|readline|write|immediate|message|"
    r"def|edef|gdef|xdef|let|futurelet|expandafter|catcode|csname|endcsname|newcommand|"
    r"renewcommand|providecommand|newenvironment|renewenvironment|special|usepackage|"
    r"documentclass|jobname|loop|makeatletter|everypar|everymath|everydisplay|output|"
    r"batchmode|nonstopmode|scrollmode|errorstopmode|end\s*\{document\}|begin\s*\{document\})"
    r"(?![a-zA-Z])"
)
_UNESCAPED = re.compile(r"(?<!\\)[%#]|\^\^")  # comments, macro parameters, ^^-escapes
_ERROR_LINE = re.compile(r"^l\.(\d+)", re.MULTILINE)
_PAGES = re.compile(r"Output written on .*?\((\d+) pages?")
ALONE_TIMEOUT = 5.0  # seconds for one formula typeset alone (a batch gets `timeout`)
# "\\ [1,2]" is a row break and then "[1,2]" in the label; TeX would read "[1,2]" as the
# break's optional space (and loop on the error): an empty group between keeps them apart
_BREAK_THEN_BRACKET = re.compile(r"(\\\\)(\s*)\[")
INK_MIN = 64  # a page whose darkest pixel is lighter than this has nothing on it


def latex_available() -> bool:
    """Whether ``latex`` and ``dvipng`` are both on PATH."""
    return bool(shutil.which("latex") and shutil.which("dvipng"))


def require_latex() -> None:
    if not latex_available():
        raise SettingsError(
            "Typesetting with LaTeX needs the programs latex and dvipng. On Debian or Ubuntu: "
            "apt-get install texlive-latex-base texlive-latex-recommended "
            "texlive-fonts-recommended dvipng (or: make texdeps)."
        )


@functools.lru_cache(maxsize=1)
def available_fonts() -> tuple[str, ...]:
    """The :data:`FONT_PACKAGES` whose package this TeX installation has."""
    kpsewhich = shutil.which("kpsewhich")
    return tuple(
        font
        for font, package in FONT_PACKAGES.items()
        if package is None or kpsewhich and _installed(kpsewhich, f"{package}.sty")
    )


def _installed(kpsewhich: str, file: str) -> bool:
    found = subprocess.run(
        [kpsewhich, file], capture_output=True, text=True, timeout=30, check=False
    )
    return found.returncode == 0 and bool(found.stdout.strip())


def safe_formula(latex: str) -> bool:
    """Whether ``latex`` may go into a document: balanced braces, no file or macro commands."""
    if not latex.strip() or _FORBIDDEN.search(latex) or _UNESCAPED.search(latex):
        return False
    depth = 0
    for i, ch in enumerate(latex):
        if i and latex[i - 1] == "\\" and (i < 2 or latex[i - 2] != "\\"):
            continue  # \{ and \} are braces drawn, not groups
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return depth == 0


def document(formulas: Sequence[str], display: Sequence[bool], font: str = "cm") -> str:
    """A LaTeX document with formula ``i`` alone on line ``_HEADER_LINES + i + 1`` and page
    ``i + 1`` (``\\null`` gives every page a box, so an empty formula still makes one)."""
    package = FONT_PACKAGES[font]
    lines = [_HEADER.format(font=f"\\usepackage{{{package}}}" if package else "")]
    for latex, disp in zip(formulas, display, strict=True):
        # one line each, or an error's line number would name the wrong formula
        latex = " ".join(latex.splitlines())
        latex = _BREAK_THEN_BRACKET.sub(r"\1{}\2[", latex)
        math = f"\\[{latex}\\]" if disp else f"${latex}$"
        lines.append(f"\\null{math}\\clearpage\n")
    lines.append("\\end{document}\n")
    return "".join(lines)


def failed_formulas(log: str, count: int) -> set[int]:
    """Indices of the formulas TeX reported an error on (``l.N`` after each ``!`` message)."""
    bad = set()
    for m in _ERROR_LINE.finditer(log):
        i = int(m.group(1)) - _HEADER_LINES - 1
        if 0 <= i < count:
            bad.add(i)
    return bad


def pages_written(log: str) -> int:
    m = _PAGES.search(log)
    return int(m.group(1)) if m else 0


def typeset(
    formulas: Sequence[str],
    *,
    dpi: float = 120,
    font: str = "cm",
    display: bool | Sequence[bool] = True,
    timeout: float = 30,
) -> list[np.ndarray | None]:
    """The ink of each formula as coverage (uint8, 255 = ink, cropped to it), or None where
    it is refused, TeX reports an error, or nothing is drawn."""
    require_latex()
    if font not in FONT_PACKAGES:
        raise SettingsError(f"Unknown LaTeX font {font!r}; choose one of {sorted(FONT_PACKAGES)}.")
    disp = [display] * len(formulas) if isinstance(display, bool) else list(display)
    out: list[np.ndarray | None] = [None] * len(formulas)
    cannot = _FONT_CANNOT.get(font)
    todo = [
        i for i, f in enumerate(formulas) if safe_formula(f) and not (cannot and cannot.search(f))
    ]
    if not todo:
        return out
    inks = _typeset_batch([formulas[i] for i in todo], [disp[i] for i in todo], dpi, font, timeout)
    if inks is None:  # the batch went wrong as a whole (a runaway group): one at a time
        alone = min(timeout, ALONE_TIMEOUT)
        inks = [
            (_typeset_batch([formulas[i]], [disp[i]], dpi, font, alone) or [None])[0] for i in todo
        ]
    for i, ink in zip(todo, inks, strict=True):
        out[i] = ink
    return out


def _typeset_batch(formulas, display, dpi, font, timeout) -> list[np.ndarray | None] | None:
    """One document: the inks, or None when its pages no longer match its formulas."""
    with tempfile.TemporaryDirectory(prefix="texsnap-tex-") as tmp:
        folder = Path(tmp)
        (folder / "f.tex").write_text(document(formulas, display, font), encoding="utf-8")
        latex = ["latex", "-interaction=nonstopmode", "-no-shell-escape", "f.tex"]
        if not _run(latex, folder, timeout) or not (folder / "f.log").exists():
            return None
        log = (folder / "f.log").read_text(encoding="utf-8", errors="replace")
        if pages_written(log) != len(formulas):
            return None
        dvipng = ["dvipng", "-q", "-T", "tight", "-D", str(round(dpi)), "-z", "0"]
        if not _run(
            dvipng + ["-bg", "White", "-fg", "Black", "-o", "p%d.png", "f.dvi"], folder, timeout
        ):
            return None
        bad = failed_formulas(log, len(formulas))
        return [None if i in bad else _ink(folder / f"p{i + 1}.png") for i in range(len(formulas))]


def _run(command: list[str], folder: Path, timeout: float) -> bool:
    """Run a TeX program in ``folder``; False when it ran out of time (a formula that loops)."""
    try:
        subprocess.run(command, cwd=folder, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return False
    return True


def _ink(png: Path) -> np.ndarray | None:
    if not png.exists():
        return None
    with Image.open(png) as im:
        ink = 255 - np.asarray(im.convert("L"), dtype=np.uint8)
    return ink if ink.size and ink.max() >= INK_MIN else None

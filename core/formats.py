"""How recognized LaTeX is wrapped when it goes to the clipboard.

Users paste into very different places: a LaTeX document wants ``\\[...\\]`` or an
``equation`` environment, Markdown/Jupyter wants ``$...$``, Word and LibreOffice want MathML.
``COPY_FORMATS`` is the single list the settings dialog offers and ``Settings.copy_format``
is validated against.
"""

from __future__ import annotations

COPY_FORMATS: dict[str, str] = {
    "raw": "LaTeX",
    "inline": "Inline math  $…$",
    "display": "Display math  $$…$$",
    "bracket": "Display math  \\[…\\]",
    "equation": "Equation environment",
    "mathml": "MathML (Word, LibreOffice)",
}

_WRAPPERS: dict[str, tuple[str, str]] = {
    "raw": ("", ""),
    "inline": ("$", "$"),
    "display": ("$$", "$$"),
    "bracket": ("\\[", "\\]"),
    "equation": ("\\begin{equation}\n", "\n\\end{equation}"),
}


def format_latex(latex: str, fmt: str) -> str:
    """Return ``latex`` wrapped for pasting in format ``fmt`` (a key of COPY_FORMATS).

    Surrounding whitespace is dropped so that wrappers sit tight against the formula; an
    empty formula stays empty in every format.
    Raises ValueError for an unknown format, naming the valid ones, because a typo in a
    settings file should be reported, not silently turned into raw LaTeX.
    """
    if fmt not in COPY_FORMATS:
        valid = ", ".join(COPY_FORMATS)
        raise ValueError(f"Unknown copy format {fmt!r}; valid formats are: {valid}.")
    body = latex.strip()
    if not body:  # nothing recognized: "$$" would open display math where it is pasted
        return ""
    if fmt == "mathml":
        from core.mathml import latex_to_mathml

        return latex_to_mathml(body, display=True)
    start, end = _WRAPPERS[fmt]
    return f"{start}{body}{end}"

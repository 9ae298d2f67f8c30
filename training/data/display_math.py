"""Render a formula the way LaTeX sets it in display math (``\\[ … \\]``, ``equation``).

Formulas snipped from papers and textbooks are mostly display math, where a top-level
``\\frac`` is set at full size; mathtext sets every ``\\frac`` in text style (small). Drawing
some training images with ``\\dfrac`` at the top level, and the plain ``\\frac`` label, teaches
the model both looks. Fractions inside a fraction or a sub/superscript stay small, as in LaTeX.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\\[a-zA-Z]+|\\.|\s+|.", re.S)
_ARGS = {"\\frac": 2, "^": 1, "_": 1}  # arguments set in a smaller style


def display_fractions(latex: str) -> str:
    out: list[str] = []
    pending = 0  # arguments still to come of the last \frac, ^ or _
    stack: list[tuple[bool, int]] = []  # per open brace: (is a small argument, outer pending)
    small = 0  # how many small arguments enclose this point
    for tok in _TOKEN.findall(latex):
        if tok.isspace():
            out.append(tok)
            continue
        if tok == "{":
            is_arg = pending > 0
            stack.append((is_arg, pending - is_arg))
            small += is_arg
            pending = 0
        elif tok == "}":
            if stack:
                is_arg, pending = stack.pop()
                small -= is_arg
        elif pending:  # a one-token argument: x^2, \frac12
            pending -= 1
        else:
            pending = _ARGS.get(tok, 0)
            if tok == "\\frac" and not small:
                tok = "\\dfrac"
        out.append(tok)
    return "".join(out)

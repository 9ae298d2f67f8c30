"""LaTeX -> presentation MathML, for "copy as MathML" (Word and LibreOffice paste it as math).

A small recursive-descent translator over ``core.latex.tokenize`` tokens. It covers what the
model writes (the canonical form: scripts, fractions, roots, accents, fonts, text, fences,
matrices and cases, named functions, symbols); an unknown command becomes an ``<merror>`` with
its name instead of failing, so a copy always produces a well-formed document. The LaTeX
source travels along as an ``annotation`` so a round trip back to LaTeX stays possible.

Plain Python, no Qt.
"""

from __future__ import annotations

from functools import cache
from xml.sax.saxutils import escape

from core.latex import NAMED_FUNCTIONS, tokenize

MATHML_NS = "http://www.w3.org/1998/Math/MathML"

FONTS = {
    "\\mathbb": "double-struck",
    "\\mathcal": "script",
    "\\mathscr": "script",
    "\\mathfrak": "fraktur",
    "\\mathrm": "normal",
    "\\mathbf": "bold",
    "\\mathit": "italic",
    "\\mathsf": "sans-serif",
    "\\mathtt": "monospace",
    "\\boldsymbol": "bold-italic",
}
ACCENTS = {
    "\\hat": "^",
    "\\widehat": "^",
    "\\check": "ˇ",
    "\\tilde": "~",
    "\\widetilde": "~",
    "\\acute": "´",
    "\\grave": "`",
    "\\dot": "˙",
    "\\ddot": "¨",
    "\\dddot": "⃛",
    "\\breve": "˘",
    "\\bar": "¯",
    "\\vec": "→",
    "\\mathring": "˚",
    "\\overrightarrow": "→",
    "\\overleftarrow": "←",
    "\\overleftrightarrow": "↔",
    "\\overline": "‾",
    "\\overbrace": "⏞",
}
UNDER_ACCENTS = {"\\underline": "_", "\\underbrace": "⏟", "\\underrightarrow": "→"}
# Operators whose scripts go above/below in display style.
LIMIT_OPERATORS = {
    "\\sum",
    "\\prod",
    "\\coprod",
    "\\bigcup",
    "\\bigcap",
    "\\bigoplus",
    "\\bigotimes",
    "\\bigvee",
    "\\bigwedge",
    "\\lim",
    "\\limsup",
    "\\liminf",
    "\\max",
    "\\min",
    "\\sup",
    "\\inf",
}
MATRIX_FENCES = {
    "matrix": ("", ""),
    "smallmatrix": ("", ""),
    "pmatrix": ("(", ")"),
    "bmatrix": ("[", "]"),
    "Bmatrix": ("{", "}"),
    "vmatrix": ("|", "|"),
    "Vmatrix": ("‖", "‖"),
    "cases": ("{", ""),
}
# Symbols matplotlib does not name, or names differently from LaTeX.
EXTRA_SYMBOLS = {
    "\\{": "{",
    "\\}": "}",
    "\\|": "‖",
    "\\Vert": "‖",
    "\\%": "%",
    "\\$": "$",
    "\\&": "&",
    "\\#": "#",
    "\\_": "_",
    "\\ldots": "…",
    "\\cdots": "⋯",
    "\\vdots": "⋮",
    "\\ddots": "⋱",
    "\\varnothing": "∅",
    "\\emptyset": "∅",
    "\\langle": "⟨",
    "\\rangle": "⟩",
    "\\lceil": "⌈",
    "\\rceil": "⌉",
    "\\lfloor": "⌊",
    "\\rfloor": "⌋",
}
SPACES = {"\\,", "\\;", "\\:", "\\!", "\\quad", "\\qquad", "\\ ", "~"}
OPERATOR_CHARS = set("+-=<>()[]|/,;:!.'*") | {"−"}


@cache
def _tex_symbols() -> dict[str, str]:
    """\\alpha -> α etc. matplotlib's table is the most complete one we already depend on
    (a private module, so a failure to import it only costs the symbols, not the copy)."""
    try:
        from matplotlib._mathtext_data import tex2uni
    except Exception:  # noqa: BLE001
        return dict(EXTRA_SYMBOLS)
    table = {f"\\{name}": chr(code) for name, code in tex2uni.items()}
    table.update(EXTRA_SYMBOLS)
    return table


def _el(tag: str, content: str, **attrs: str) -> str:
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f"<{tag}{extra}>{content}</{tag}>"


def _mo(text: str, **attrs: str) -> str:
    return _el("mo", escape(text), **attrs)


def _row(items: list[str]) -> str:
    return items[0] if len(items) == 1 else _el("mrow", "".join(items))


class _Parser:
    def __init__(self, tokens: list[str], display: bool):
        self.toks = tokens
        self.i = 0
        self.display = display

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self) -> str | None:
        tok = self.peek()
        self.i += 1
        return tok

    # -- sequences ---------------------------------------------------------------------------
    def sequence(self, stop: set[str]) -> list[str]:
        """Atoms with their scripts until a token in ``stop`` (not consumed) or the end."""
        out: list[str] = []
        while self.peek() is not None and self.peek() not in stop:
            tok = self.peek()
            if tok == "}":  # an unbalanced brace: skip it rather than loop forever
                self.i += 1
                continue
            base, limits = self.atom()
            if base is None:
                continue
            out.append(self.scripts(base, limits))
        return out

    def scripts(self, base: str, limits: bool) -> str:
        sub, sup = None, []
        while self.peek() in ("_", "^", "'"):
            tok = self.next()
            if tok == "'":
                sup.append(_mo("′"))
            elif tok == "_":
                sub = self.argument()
            else:
                sup.append(self.argument())
        if sub is None and not sup:
            return base
        under, over = ("munder", "mover") if limits and self.display else ("msub", "msup")
        if sub is not None and sup:
            tag = "munderover" if under == "munder" else "msubsup"
            return _el(tag, base + sub + _row(sup))
        if sub is not None:
            return _el(under, base + sub)
        return _el(over, base + _row(sup))

    def argument(self) -> str:
        """One braced group or a single atom, as one MathML element."""
        if self.peek() == "{":
            self.i += 1
            items = self.sequence({"}"})
            self.i += 1
            return _el("mrow", "".join(items)) if len(items) != 1 else items[0]
        base, _ = self.atom()
        return base or _el("mrow", "")

    def raw_group(self) -> str:
        """The plain text of a braced group (environment names, \\text content)."""
        if self.peek() != "{":
            tok = self.next()
            return tok or ""
        self.i += 1
        chars = []
        while self.peek() not in ("}", None):
            tok = self.next()
            chars.append(" " if tok == "\\ " else tok.lstrip("\\") if len(tok) == 2 else tok)
        self.i += 1
        return "".join(chars)

    # -- atoms -------------------------------------------------------------------------------
    def atom(self) -> tuple[str | None, bool]:
        """Return (element, takes limits above/below) for the next token."""
        tok = self.next()
        if tok is None:  # input ended where an argument was due (``\frac{1}``)
            return None, False
        if tok == "{":
            items = self.sequence({"}"})
            self.i += 1
            return _el("mrow", "".join(items)), False
        if tok.isdigit() or tok == ".":
            digits = tok
            while (self.peek() or "").isdigit() or (self.peek() == "." and digits[-1] != "."):
                digits += self.next()
            return _el("mn", digits), False
        if not tok.startswith("\\") or len(tok) == 2 and not tok[1].isalpha():
            return self.character(tok), False
        return self.command(tok)

    def character(self, tok: str) -> str | None:
        if tok in SPACES:
            return _el("mspace", "", width="0.3em")
        if tok in ("&", "\\\\"):
            return None
        text = _tex_symbols().get(tok, tok.lstrip("\\") if len(tok) == 2 else tok)
        if tok == "-":
            text = "−"
        if tok.isalpha() and len(tok) == 1:
            return _el("mi", escape(text))
        if tok in OPERATOR_CHARS or len(tok) == 2:
            return _mo(text)
        return _el("mi", escape(text))

    def command(self, tok: str) -> tuple[str | None, bool]:
        name = tok.rstrip("*")
        handler = _HANDLERS.get(name)
        if handler is not None:
            return handler(self, name), False
        if name in FONTS:
            return self.font(FONTS[name]), False
        if name in ACCENTS:
            return _el("mover", self.argument() + _mo(ACCENTS[name]), accent="true"), False
        if name in UNDER_ACCENTS:
            body = self.argument() + _mo(UNDER_ACCENTS[name])
            return _el("munder", body, accentunder="true"), False
        if name[1:] in NAMED_FUNCTIONS:
            return _el("mi", name[1:]), name in LIMIT_OPERATORS
        if name in SPACES:
            return _el("mspace", "", width="1em"), False
        symbol = _tex_symbols().get(name)
        if symbol is None:
            return _el("merror", _el("mtext", escape(name))), False
        if symbol.isalpha():
            return _el("mi", escape(symbol)), False
        return _mo(symbol), name in LIMIT_OPERATORS

    def font(self, variant: str) -> str:
        if self.peek() != "{":
            return self.argument()
        start = self.i
        text = self.raw_group()
        if text.isalnum():  # the common case: one identifier in one font
            tag = "mn" if text.isdigit() else "mi"
            return _el(tag, escape(text), mathvariant=variant)
        self.i = start
        return _el("mstyle", self.argument(), mathvariant=variant)

    def frac(self, name: str) -> str:
        num, den = self.argument(), self.argument()
        if name == "\\binom":
            return _row([_mo("("), _el("mfrac", num + den, linethickness="0"), _mo(")")])
        return _el("mfrac", num + den)

    def sqrt(self, _name: str) -> str:
        if self.peek() == "[":
            self.i += 1
            index = _row(self.sequence({"]"}) or [_el("mrow", "")])
            self.i += 1
            return _el("mroot", self.argument() + index)
        return _el("msqrt", self.argument())

    def text(self, _name: str) -> str:
        return _el("mtext", escape(self.raw_group()))

    def operatorname(self, _name: str) -> str:
        return _el("mi", escape(self.raw_group()), mathvariant="normal")

    def fence(self, _name: str) -> str:
        """\\left X ... \\right Y as one row with stretchy fences."""
        left = self.delimiter()
        items = self.sequence({"\\right"})
        self.i += 1
        right = self.delimiter()
        return _el("mrow", left + "".join(items) + right)

    def delimiter(self) -> str:
        tok = self.next() or "."
        if tok == ".":
            return ""
        return _mo(_tex_symbols().get(tok, tok.lstrip("\\")), fence="true", stretchy="true")

    def environment(self, _name: str) -> str:
        env = self.raw_group()
        rows, cells, cell = [], [], []
        end = False
        while self.peek() is not None and not end:
            cell.extend(self.sequence({"&", "\\\\", "\\end"}))
            tok = self.next()
            cells.append(_el("mtd", "".join(cell)))
            cell = []
            if tok in ("\\\\", "\\end", None):
                rows.append(_el("mtr", "".join(cells)))
                cells = []
            if tok == "\\end":
                self.raw_group()
                end = True
        table = _el("mtable", "".join(rows), columnalign="left" if env == "cases" else "center")
        left, right = MATRIX_FENCES.get(env, ("", ""))
        fences = [_mo(c, fence="true", stretchy="true") for c in (left, right)]
        return _row(([fences[0]] if left else []) + [table] + ([fences[1]] if right else []))

    def stacked(self, name: str) -> str:
        top, body = self.argument(), self.argument()
        return _el("munder" if name == "\\underset" else "mover", body + top)

    def ignore(self, _name: str) -> str | None:
        return None


_HANDLERS = {
    "\\frac": _Parser.frac,
    "\\binom": _Parser.frac,
    "\\sqrt": _Parser.sqrt,
    "\\text": _Parser.text,
    "\\textit": _Parser.text,
    "\\textbf": _Parser.text,
    "\\operatorname": _Parser.operatorname,
    "\\left": _Parser.fence,
    "\\begin": _Parser.environment,
    "\\overset": _Parser.stacked,
    "\\underset": _Parser.stacked,
    "\\stackrel": _Parser.stacked,
    "\\displaystyle": _Parser.ignore,
    "\\limits": _Parser.ignore,
    "\\nolimits": _Parser.ignore,
    "\\right": _Parser.ignore,  # an unmatched \right: drop it rather than fail
}


def latex_to_mathml(latex: str, display: bool = True) -> str:
    """A complete ``<math>`` element for ``latex`` (one line, UTF-8 text, never raises for
    odd input: unknown commands are marked with ``<merror>``)."""
    tokens = tokenize(latex)
    items = _Parser(tokens, display).sequence(set())
    body = _el("mrow", "".join(items))
    annotation = _el("annotation", escape(latex.strip()), encoding="application/x-tex")
    return _el(
        "math",
        _el("semantics", body + annotation),
        xmlns=MATHML_NS,
        display="block" if display else "inline",
    )

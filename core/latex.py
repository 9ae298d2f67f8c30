"""LaTeX tokenizing and the one canonical form TeXSnap reads, writes and compares.

Plain Python, no torch: the tokenizer is shared by the model, the training data, the
metrics and the tests.

The canonical form (what the model is trained to output and what ``texsnap eval`` compares):

* tokens are control words (``\\frac``), control symbols (``\\{``), or single characters;
* synonyms are unified (``\\le`` -> ``\\leq``, ``\\lt`` -> ``<``, ``\\to`` -> ``\\rightarrow``,
  ``\\dfrac`` -> ``\\frac``, ``{\\rm x}`` -> ``\\mathrm{x}``, ``\\textrm`` -> ``\\text`` ...);
* every argument of a command and every script is braced: ``x^2`` -> ``x^{2}``,
  ``\\frac12`` -> ``\\frac{1}{2}``; braces that group nothing are dropped (``{x}`` -> ``x``);
* pure spacing and style commands are dropped (``\\,``, ``\\quad``, ``\\hspace{..}``,
  ``\\displaystyle``, ``\\label{..}``);
* ``\\left``/``\\right`` stay only around content that grows the delimiters (a fraction,
  big operator, root of a fraction, matrix...); elsewhere ``\\left(`` becomes ``(``;
* a subscript comes before a superscript on the same base (``x^{2}_{i}`` -> ``x_{i}^{2}``);
* ``\\text{..}`` keeps its characters; a space inside it is the token ``\\ `` and spaces at
  its ends are dropped (``\\text{if }`` -> ``\\text{if}``);
  single characters each between single spaces (braces included) are a space-tokenized
  word, as im2latex labels write text (``\\textrm { a n d }`` -> ``\\text{and}``);
* environments keep their rows and cells; synonyms are unified (``align*``, ``split`` ->
  ``aligned``), wrappers (``equation``) are dropped and a trailing ``\\\\`` goes.

Canonicalizing is idempotent: ``canonicalize(canonicalize(s)) == canonicalize(s)``.

The string form joins tokens with no spaces except where TeX needs one (after a control word
followed by a letter), so ``\\frac{a}{b}+\\alpha x``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN_RE = re.compile(r"\\[a-zA-Z]+\*?|\\[^a-zA-Z]|\S", re.DOTALL)
_TEXT_TOKEN_RE = re.compile(r"\\[a-zA-Z]+|\\[^a-zA-Z]|[^\\]", re.DOTALL)

# Commands that take one argument that is text, not math.
TEXT_COMMANDS = {
    "\\text",
    "\\textrm",
    "\\mbox",
    "\\textnormal",
    "\\textit",
    "\\textbf",
    "\\textsf",
    "\\texttt",
    "\\emph",
    "\\hbox",
    "\\fbox",
}

SYNONYMS = {
    "\\lt": "<",
    "\\gt": ">",
    "\\le": "\\leq",
    "\\ge": "\\geq",
    "\\leqslant": "\\leq",
    "\\geqslant": "\\geq",
    "\\leqq": "\\leq",
    "\\geqq": "\\geq",
    "\\ne": "\\neq",
    "\\to": "\\rightarrow",
    "\\gets": "\\leftarrow",
    "\\lbrace": "\\{",
    "\\rbrace": "\\}",
    "\\lbrack": "[",
    "\\rbrack": "]",
    "\\vert": "|",
    "\\lvert": "|",
    "\\rvert": "|",
    "\\|": "\\Vert",
    "\\lVert": "\\Vert",
    "\\rVert": "\\Vert",
    "\\dfrac": "\\frac",
    "\\tfrac": "\\frac",
    "\\cfrac": "\\frac",
    "\\dbinom": "\\binom",
    "\\tbinom": "\\binom",
    "\\land": "\\wedge",
    "\\lor": "\\vee",
    "\\lnot": "\\neg",
    "\\owns": "\\ni",
    "\\bigcdot": "\\cdot",
    "\\centerdot": "\\cdot",
    "\\dots": "\\ldots",
    "\\dotsc": "\\ldots",
    "\\dotsb": "\\cdots",
    "\\dotsm": "\\cdots",
    "\\dotso": "\\ldots",
    "\\textrm": "\\text",
    "\\mbox": "\\text",
    "\\textnormal": "\\text",
    "\\hbox": "\\text",
    "\\bm": "\\boldsymbol",
    "\\pmb": "\\boldsymbol",
    "\\Bbb": "\\mathbb",
    "\\mathds": "\\mathbb",
    "\\bold": "\\mathbf",
    "\\rightarrowfill": "\\rightarrow",
    "\\implies": "\\Rightarrow",
    "\\impliedby": "\\Leftarrow",
    "\\iff": "\\Leftrightarrow",
    "\\colon": ":",
    "\\slash": "/",
    "\\textless": "<",
    "\\textgreater": ">",
    "\\hdots": "\\ldots",
    "\\mathellipsis": "\\ldots",
    "\\varnothing": "\\emptyset",
    "\\vartriangle": "\\triangle",
    "\\bigtriangleup": "\\triangle",
    "\\triangleup": "\\triangle",
    "\\over": "\\over",
    # plain TeX's names for the same glyphs (im2latex's physics labels write A^{\\dag})
    "\\dag": "\\dagger",
    "\\ddag": "\\ddagger",
    "\\cdotp": "\\cdot",
    "\\ast": "*",  # one glyph: TeX gives * the math code of \\ast
}

# ``\\not`` before these is the one negated symbol (plain TeX defines \\neq as \\not=)
NEGATED = {"=": "\\neq", "\\in": "\\notin"}

# Plain TeX's script commands: ``x \\sp 2`` is ``x^2``. Replaced before parsing, since the
# parser reads scripts from the ``^`` and ``_`` tokens.
SCRIPT_COMMANDS = {"\\sp": "^", "\\sb": "_"}

# Old-style font switches ``{\rm x}`` and the command they mean.
FONT_SWITCHES = {
    "\\rm": "\\mathrm",
    "\\bf": "\\mathbf",
    "\\it": "\\mathit",
    "\\cal": "\\mathcal",
    "\\sf": "\\mathsf",
    "\\tt": "\\mathtt",
    "\\mit": "\\mathit",
    "\\frak": "\\mathfrak",
    "\\boldmath": "\\boldsymbol",
}

# Dropped everywhere: spacing, style and bookkeeping that do not change what is read.
DROPPED = {
    "\\,",
    "\\;",
    "\\:",
    "\\!",
    "\\ ",
    "~",
    "\\quad",
    "\\qquad",
    "\\enspace",
    "\\thinspace",
    "\\medspace",
    "\\thickspace",
    "\\negthinspace",
    "\\negmedspace",
    "\\negthickspace",
    "\\displaystyle",
    "\\textstyle",
    "\\scriptstyle",
    "\\scriptscriptstyle",
    "\\nonumber",
    "\\notag",
    "\\limits",
    "\\nolimits",
    "\\strut",
    "\\mathstrut",
    "\\smallskip",
    "\\medskip",
    "\\bigskip",
    "\\relax",
    "\\noindent",
    "\\protect",
    "\\left.",
    "\\right.",
    "\\vphantom",
    "\\cr",
    "\\ensuremath",
    "\\nobreak",
    "\\allowbreak",
    "\\hfill",
    "\\hfil",
    "\\normalsize",
    "\\small",
    "\\large",
    "\\Large",
    "\\LARGE",
    "\\huge",
    "\\Huge",
    "\\tiny",
    "\\footnotesize",
    "\\scriptsize",
    "\\hline",
}

# Commands whose (braced) arguments are dropped together with them.
DROPPED_WITH_ARGS = {
    "\\hspace": 1,
    "\\hspace*": 1,
    "\\vspace": 1,
    "\\vspace*": 1,
    "\\label": 1,
    "\\tag": 1,
    "\\phantom": 1,
    "\\hphantom": 1,
    "\\vphantom": 1,
    "\\kern": 0,
    "\\mkern": 0,
    "\\hskip": 0,
    "\\mskip": 0,
    "\\color": 1,
    "\\textcolor": 1,  # \textcolor{red}{x}: the colour goes, {x} stays
    "\\colorbox": 1,
    "\\eqref": 1,
    "\\ref": 1,
}

TEX_UNITS = {"pt", "pc", "in", "bp", "cm", "mm", "dd", "cc", "sp", "em", "ex", "mu", "px"}

# Delimiter-size commands: dropped (the size is a rendering choice, not content).
SIZERS = {
    "\\big",
    "\\Big",
    "\\bigg",
    "\\Bigg",
    "\\bigl",
    "\\bigr",
    "\\Bigl",
    "\\Bigr",
    "\\biggl",
    "\\biggr",
    "\\Biggl",
    "\\Biggr",
    "\\bigm",
    "\\Bigm",
    "\\biggm",
    "\\Biggm",
}

ARITY = {
    "\\frac": 2,
    "\\binom": 2,
    "\\genfrac": 6,
    "\\stackrel": 2,
    "\\overset": 2,
    "\\underset": 2,
    "\\sqrt": 1,
    "\\overline": 1,
    "\\underline": 1,
    "\\widehat": 1,
    "\\widetilde": 1,
    "\\hat": 1,
    "\\check": 1,
    "\\tilde": 1,
    "\\acute": 1,
    "\\grave": 1,
    "\\dot": 1,
    "\\ddot": 1,
    "\\dddot": 1,
    "\\breve": 1,
    "\\bar": 1,
    "\\vec": 1,
    "\\mathring": 1,
    "\\overrightarrow": 1,
    "\\overleftarrow": 1,
    "\\overleftrightarrow": 1,
    "\\underrightarrow": 1,
    "\\overbrace": 1,
    "\\underbrace": 1,
    "\\mathbb": 1,
    "\\mathcal": 1,
    "\\mathscr": 1,
    "\\mathfrak": 1,
    "\\mathrm": 1,
    "\\mathbf": 1,
    "\\mathit": 1,
    "\\mathsf": 1,
    "\\mathtt": 1,
    "\\boldsymbol": 1,
    "\\operatorname": 1,
    "\\operatorname*": 1,
    "\\mathop": 1,  # atom-class commands: \mathop{\mathrm{lim}} must keep its braces
    "\\mathbin": 1,
    "\\mathrel": 1,
    "\\mathord": 1,
    "\\mathopen": 1,
    "\\mathclose": 1,
    "\\mathpunct": 1,
    "\\mathinner": 1,
    "\\xrightarrow": 1,  # \xrightarrow[below]{above}
    "\\xleftarrow": 1,
    "\\overparen": 1,
    "\\underparen": 1,
    "\\textsf": 1,
    "\\texttt": 1,
    "\\emph": 1,
    "\\fbox": 1,
    "\\text": 1,
    "\\textit": 1,
    "\\textbf": 1,
    "\\not": 0,
    "\\boxed": 1,
    "\\cancel": 1,
    "\\pmod": 1,
    "\\substack": 1,
    "\\begin": 1,
    "\\end": 1,
}

# Commands with an optional first argument in brackets.
OPTIONAL_ARG = {"\\sqrt", "\\xrightarrow", "\\xleftarrow"}

# ``\\[2pt]`` after a row break is spacing, not an interval.
_ROW_SPACING_RE = re.compile(r"-?[0-9.,]*(pt|pc|in|bp|cm|mm|dd|cc|sp|em|ex|mu|px)|\\[a-z]+")

# Constructs that make \left ... \right delimiters grow visibly.
TALL = {
    "\\frac",
    "\\binom",
    "\\sum",
    "\\prod",
    "\\int",
    "\\iint",
    "\\iiint",
    "\\oint",
    "\\coprod",
    "\\bigcup",
    "\\bigcap",
    "\\bigoplus",
    "\\bigotimes",
    "\\bigvee",
    "\\bigwedge",
    "\\begin",
    "\\overset",
    "\\underset",
    "\\stackrel",
    "\\overbrace",
    "\\underbrace",
    "\\genfrac",
    "\\substack",
}

# \operatorname{sin} -> \sin when the command exists.
NAMED_FUNCTIONS = {
    "arccos",
    "arcsin",
    "arctan",
    "arg",
    "cos",
    "cosh",
    "cot",
    "coth",
    "csc",
    "deg",
    "det",
    "dim",
    "exp",
    "gcd",
    "hom",
    "inf",
    "ker",
    "lg",
    "lim",
    "liminf",
    "limsup",
    "ln",
    "log",
    "max",
    "min",
    "Pr",
    "sec",
    "sin",
    "sinh",
    "sup",
    "tan",
    "tanh",
}

ENVIRONMENTS = {
    "matrix",
    "pmatrix",
    "bmatrix",
    "Bmatrix",
    "vmatrix",
    "Vmatrix",
    "smallmatrix",
    "cases",
    "aligned",
    "array",
    "align",
    "align*",
    "gathered",
    "split",
    "eqnarray",
    "eqnarray*",
    "equation",
    "equation*",
}
ENV_SYNONYMS = {
    "align": "aligned",
    "align*": "aligned",
    "split": "aligned",
    "eqnarray": "aligned",
    "eqnarray*": "aligned",
    "gathered": "aligned",
    "smallmatrix": "matrix",
}
# Environments that only wrap the math and are dropped.
WRAPPER_ENVS = {"equation", "equation*", "displaymath", "math"}


def tokenize(latex: str) -> list[str]:
    """Split LaTeX into tokens; ``\\text{..}`` content is split into single characters.

    ``%`` comments are removed. Whitespace separates tokens and is otherwise ignored, except
    inside text arguments where a space becomes the token ``\\ ``.
    """
    latex = _strip_comments(latex)
    tokens: list[str] = []
    pos = 0
    n = len(latex)
    while pos < n:
        m = _TOKEN_RE.search(latex, pos)
        if not m:
            break
        tok = m.group(0)
        pos = m.end()
        if tok.startswith("\\") and tok[1:2].isalpha() and tok.endswith("*"):
            if tok not in ARITY and tok not in DROPPED_WITH_ARGS:
                tokens.append(tok[:-1])
                tokens.append("*")
                continue
        tokens.append(tok)
        if tok in TEXT_COMMANDS:
            pos = _tokenize_text_arg(latex, pos, tokens)
    return tokens


def _is_control_word(tok: str) -> bool:
    return tok.startswith("\\") and tok[1:].isalpha()


def _strip_comments(latex: str) -> str:
    return re.sub(r"(?<!\\)%[^\n]*", "", latex)


# im2latex-style labels separate every token by one space, text and braces too:
# ``\textrm { a n d }``. A person's ``\text{a b}`` (no spaces inside the braces) stays two words.
_SPACED_LETTERS = re.compile(r" [^\s\\{}](?: [^\s\\{}])+ $")


def _tokenize_text_arg(latex: str, pos: int, tokens: list[str]) -> int:
    """Tokenize ``{...}`` after a text command character by character. Single characters each
    between single spaces are one space-tokenized word (``\\textrm { a n d }`` is "and")."""
    while pos < len(latex) and latex[pos].isspace():
        pos += 1
    if pos >= len(latex) or latex[pos] != "{":
        return pos
    depth = 0
    tokens.append("{")
    pos += 1
    start, first = pos, len(tokens)
    while pos < len(latex):
        m = _TEXT_TOKEN_RE.match(latex, pos)
        if not m:
            break
        tok = m.group(0)
        pos = m.end()
        if tok == "{":
            depth += 1
        elif tok == "}":
            if depth == 0:
                if _SPACED_LETTERS.match(latex, start, pos - 1):
                    tokens[first:] = [t for t in tokens[first:] if t != "\\ "]
                tokens.append("}")
                return pos
            depth -= 1
        if tok.isspace():
            # a space right after a control word only ends its name (TeX ignores it)
            if tokens[-1] not in ("\\ ", "{") and not _is_control_word(tokens[-1]):
                tokens.append("\\ ")
            continue
        tokens.append(tok)
    tokens.append("}")
    return pos


# ---------------------------------------------------------------------------------------
# Parsing to a small tree, so that braces and scripts can be normalized structurally.


@dataclass
class Group:
    """A sequence of nodes; ``braced`` remembers explicit braces (kept only where needed)."""

    items: list = field(default_factory=list)
    braced: bool = False


@dataclass
class Command:
    name: str
    args: list[Group] = field(default_factory=list)
    optional: Group | None = None  # \sqrt[n]{x}


@dataclass
class Script:
    """A base with optional subscript and superscript."""

    base: object
    sub: Group | None = None
    sup: Group | None = None


@dataclass
class Delimited:
    """``\\left X ... \\right Y``."""

    left: str
    body: Group
    right: str


@dataclass
class Environment:
    name: str
    spec: str  # column spec of array, else ""
    body: Group


class _Parser:
    def __init__(self, tokens: list[str]):
        self.toks = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str | None:
        tok = self.peek()
        if tok is not None:
            self.i += 1
        return tok

    def parse_sequence(self, stop: set[str]) -> Group:
        group = Group()
        while True:
            tok = self.peek()
            if tok is None or tok in stop:
                _over_to_frac(group)  # now, so that size and brace decisions see a \frac
                return group
            self.parse_item(group)

    def parse_item(self, group: Group) -> None:
        tok = self.take()
        if tok in ("^", "_", "'"):
            self.attach_script(group, tok)
            return
        node = self.parse_atom(tok)
        if node is not None:
            group.items.append(node)

    def attach_script(self, group: Group, tok: str) -> None:
        if group.items and isinstance(group.items[-1], Script):
            target = group.items[-1]
        else:
            base = group.items.pop() if group.items else Group(braced=True)
            target = Script(base)
            group.items.append(target)
        if tok == "'":
            arg = Group(["\\prime"])
            if target.sup is None:
                target.sup = arg
            else:
                target.sup.items.append("\\prime")
            return
        arg = self.parse_argument()
        if tok == "_":
            if target.sub is not None:  # x_a_b is an error in TeX; keep both readable
                target.sub.items.extend(arg.items)
            else:
                target.sub = arg
        else:
            if target.sup is not None:
                target.sup.items.extend(arg.items)
            else:
                target.sup = arg

    def parse_argument(self) -> Group:
        """One argument: a braced group or a single token (with its own argument if any)."""
        while self.peek() in DROPPED:
            self.take()
        tok = self.take()
        if tok is None:
            return Group()
        if tok == "{":
            group = self.parse_sequence({"}"})
            self.take()
            return group
        node = self.parse_atom(tok)
        return Group([node] if node is not None else [])

    def parse_text_argument(self) -> Group:
        """Text keeps its characters and inner spaces verbatim (no math rules apply)."""
        if self.peek() != "{":
            return Group([self.take()] if self.peek() is not None else [])
        self.take()
        items: list[str] = []
        depth = 0
        while (tok := self.take()) is not None:
            if tok == "{":
                depth += 1
            elif tok == "}":
                if depth == 0:
                    break
                depth -= 1
            items.append(tok)
        while items and items[-1] == "\\ ":
            items.pop()
        while items and items[0] == "\\ ":
            items.pop(0)
        return Group(items)

    def skip_dimension(self) -> None:
        """``-3.5mu`` or ``{2pt}`` after ``\\kern`` and friends; the math after it stays."""
        if self.peek() == "{":
            self.parse_argument()
            return
        if (self.peek() or "").endswith("skip"):  # \mskip\thinmuskip: a named length
            self.take()
            return
        while self.peek() is not None and re.fullmatch(r"[-+0-9.,]", self.peek()):
            self.take()
        if "".join(self.toks[self.i : self.i + 2]) in TEX_UNITS:
            self.i += 2

    def skip_row_spacing(self) -> None:
        """``\\\\*`` and ``\\\\[2pt]``: the star and the extra space are layout."""
        if self.peek() == "*":
            self.take()
        if self.peek() != "[" or "]" not in self.toks[self.i :]:
            return
        end = self.toks.index("]", self.i)
        if _ROW_SPACING_RE.fullmatch("".join(self.toks[self.i + 1 : end])):
            self.i = end + 1

    def parse_optional(self) -> Group | None:
        if self.peek() != "[":
            return None
        self.take()
        group = self.parse_sequence({"]"})
        self.take()
        return group

    def parse_atom(self, tok: str):
        if tok == "{":
            group = self.parse_sequence({"}"})
            self.take()
            group.braced = True
            return group
        if tok == "}":
            return None  # stray closing brace
        if tok in FONT_SWITCHES:
            return Command(FONT_SWITCHES[tok], [self.parse_sequence({"}", "&", "\\\\"})])
        if tok in DROPPED or tok in SIZERS:
            return None
        if tok in DROPPED_WITH_ARGS:
            for _ in range(DROPPED_WITH_ARGS[tok]):
                self.parse_argument()
            if DROPPED_WITH_ARGS[tok] == 0:  # \kern3mu: drop the dimension too
                self.skip_dimension()
            return None
        tok = SYNONYMS.get(tok, tok)
        if tok == "\\\\":
            self.skip_row_spacing()
            return tok
        if tok == "\\left":
            return self.parse_delimited()
        if tok == "\\right":
            self.take()
            return None
        if tok == "\\begin":
            return self.parse_environment()
        if tok == "\\end":
            self.parse_argument()
            return None
        if tok in ARITY:
            return self.parse_command(tok)
        return tok

    def parse_command(self, name: str):
        optional = self.parse_optional() if name in OPTIONAL_ARG else None
        if name in ("\\operatorname", "\\operatorname*"):
            arg = self.parse_argument()
            word = "".join(x for x in arg.items if isinstance(x, str))
            if word in NAMED_FUNCTIONS and len(arg.items) == len(word):
                return "\\" + word
            return Command("\\operatorname", [arg])
        if name in TEXT_COMMANDS or name == "\\text":
            return Command(name, [self.parse_text_argument()])
        args = [self.parse_argument() for _ in range(ARITY[name])]
        if name == "\\genfrac":  # \genfrac{(}{)}{0pt}{}{a}{b} -> \binom / \frac
            name, args = ("\\binom" if _flat(args[0]) == "(" else "\\frac"), args[4:6]
        return Command(name, args, optional)

    def parse_delimited(self) -> Delimited:
        left = self.take() or "."
        left = SYNONYMS.get(left, left)
        body = self.parse_sequence({"\\right"})
        self.take()
        right = self.take() or "."
        return Delimited(left, body, SYNONYMS.get(right, right))

    def parse_environment(self):
        name = _flat(self.parse_argument())
        spec = ""
        if name == "array":
            spec = _flat(self.parse_argument())
        body = self.parse_sequence({"\\end"})
        self.take()
        self.parse_argument()
        if name in WRAPPER_ENVS:
            return body
        return Environment(ENV_SYNONYMS.get(name, name), spec, body)


def _flat(group: Group) -> str:
    return "".join(x for x in group.items if isinstance(x, str))


def _over_to_frac(group: Group) -> None:
    """``{a \\over b}`` -> ``\\frac{a}{b}``, ``{n \\choose k}`` -> ``\\binom{n}{k}``, in place."""
    for idx, item in enumerate(group.items):
        if item in ("\\over", "\\choose"):
            num = Group(group.items[:idx])
            den = Group(group.items[idx + 1 :])
            name = "\\frac" if item == "\\over" else "\\binom"
            group.items = [Command(name, [num, den])]
            return


# ---------------------------------------------------------------------------------------
# Writing the tree back as canonical tokens.


def _emit_group_items(group: Group, out: list[str]) -> None:
    _over_to_frac(group)
    for item in group.items:
        _emit_node(item, out, in_sequence=True)


def _emit_arg(group: Group, out: list[str]) -> None:
    out.append("{")
    _emit_group_items(group, out)
    out.append("}")


def _is_tall(node) -> bool:
    if isinstance(node, str):
        return node in TALL
    if isinstance(node, Command):
        return node.name in TALL or any(_is_tall(a) for a in node.args)
    if isinstance(node, Group):
        return any(_is_tall(x) for x in node.items)
    if isinstance(node, Script):
        return _is_tall(node.base)
    if isinstance(node, Delimited):  # grows only if its own content does
        return _is_tall(node.body)
    if isinstance(node, Environment):
        return True
    return False


def _base_needs_braces(base) -> bool:
    """``{a+b}^{2}`` and ``{x^{2}}^{3}`` keep their braces: without them the script would
    bind to the last atom only, or be a double script (a TeX error)."""
    while isinstance(base, Group) and len(base.items) == 1:
        if isinstance(base.items[0], Script):
            return True
        base = base.items[0]
    return isinstance(base, Group) and len(base.items) > 1


def _emit_node(node, out: list[str], in_sequence: bool = False) -> None:
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, Group):
        _over_to_frac(node)
        # A braced group in running math groups nothing: unwrap it. Empty groups carry
        # prescripts ({}^{14}C) and stay.
        if not node.items:
            out.extend(["{", "}"])
        else:
            _emit_group_items(node, out)
    elif isinstance(node, Command):
        out.append(node.name)
        if node.optional is not None and node.optional.items:
            out.append("[")
            _emit_group_items(node.optional, out)
            out.append("]")
        for arg in node.args:
            _emit_arg(arg, out)
    elif isinstance(node, Script):
        base = node.base
        if _base_needs_braces(base):
            out.append("{")
            _emit_group_items(base, out)
            out.append("}")
        else:
            _emit_node(base, out)
        if node.sub is not None:
            out.append("_")
            _emit_arg(node.sub, out)
        if node.sup is not None:
            out.append("^")
            _emit_arg(node.sup, out)
    elif isinstance(node, Delimited):
        if _is_tall(node.body):
            out.extend(["\\left", node.left])
            _emit_group_items(node.body, out)
            out.extend(["\\right", node.right])
        else:
            if node.left != ".":
                out.append(node.left)
            _emit_group_items(node.body, out)
            if node.right != ".":
                out.append(node.right)
    elif isinstance(node, Environment):
        out.extend(["\\begin", "{", node.name, "}"])
        if node.spec:
            out.append("{")
            out.extend(c for c in node.spec if not c.isspace())
            out.append("}")
        body: list[str] = []
        _emit_group_items(node.body, body)
        while body and body[-1] == "\\\\":  # a trailing row break adds nothing
            body.pop()
        out.extend(body)
        out.extend(["\\end", "{", node.name, "}"])


def canonical_tokens(latex: str | list[str], for_eval: bool = False) -> list[str]:
    """Canonical token list of ``latex`` (a string or a token list).

    ``for_eval`` also drops ``\\left``/``\\right`` (keeping the delimiters), because data sets
    disagree on when to write them; used on both sides of every comparison.
    """
    tokens = tokenize(latex) if isinstance(latex, str) else list(latex)
    tokens = _merge_env_names(_unify_negations([SCRIPT_COMMANDS.get(t, t) for t in tokens]))
    tree = _Parser(tokens).parse_sequence(set())
    out: list[str] = []
    _emit_group_items(tree, out)
    if for_eval:
        out = [t for t in out if t not in ("\\left", "\\right")]
    return out


def _unify_negations(tokens: list[str]) -> list[str]:
    """``\\not =`` -> ``\\neq``, ``\\not \\in`` -> ``\\notin``; other negations stay."""
    out: list[str] = []
    for tok in tokens:
        if out and out[-1] == "\\not" and tok in NEGATED:
            out[-1] = NEGATED[tok]
        else:
            out.append(tok)
    return out


def _merge_env_names(tokens: list[str]) -> list[str]:
    """``\\begin { p m a t r i x }`` -> ``\\begin { pmatrix }``: an environment name is one token."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        out.append(tok)
        i += 1
        if tok in ("\\begin", "\\end") and i < len(tokens) and tokens[i] == "{":
            j = tokens.index("}", i) if "}" in tokens[i:] else len(tokens)
            name = "".join(tokens[i + 1 : j])
            out.extend(["{", name, "}"])
            i = j + 1
    return out


def canonicalize(latex: str) -> str:
    """The canonical string form of ``latex`` (see the module docstring)."""
    return detokenize(canonical_tokens(latex))


def detokenize(tokens: list[str]) -> str:
    """Join tokens into LaTeX, with a space only where TeX needs one.

    ``\\begin`` and ``\\end`` names arrive as one token between braces and are written as is.
    """
    parts: list[str] = []
    prev = ""
    for tok in tokens:
        if prev and _needs_space(prev, tok):
            parts.append(" ")
        parts.append(tok)
        prev = tok
    return "".join(parts)


def token_spans(tokens: list[str]) -> list[tuple[int, int]]:
    """Where each token sits in ``detokenize(tokens)``: (start, end) character offsets."""
    spans: list[tuple[int, int]] = []
    pos, prev = 0, ""
    for tok in tokens:
        if prev and _needs_space(prev, tok):
            pos += 1
        spans.append((pos, pos + len(tok)))
        pos += len(tok)
        prev = tok
    return spans


def _needs_space(prev: str, tok: str) -> bool:
    if prev.startswith("\\") and prev[1:].isalpha():
        return tok[:1].isalpha() or tok == "\\ "
    if tok in ("&", "\\\\") or prev in ("&", "\\\\"):
        return True
    return False

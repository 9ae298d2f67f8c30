"""Formula text for printed training images: the shared corpora plus a grammar-based generator.

* :func:`load_formulas` reads ``formulas/corpus.tsv`` and ``formulas/k12.txt`` from the shared
  data folder, cleans each formula (quotes, ``$``, ``\\displaystyle``, labels, sentence
  punctuation), keeps the ones of at most :data:`MAX_TOKENS` tokens and splits them into train
  and dev by a hash of their canonical form (so duplicates always land on the same side).
* Whether mathtext can draw a formula is found out when it is drawn (a failed render is
  skipped): parsing all 280k corpus formulas ahead would take over an hour.
* :func:`generate_formula` produces formulas with structures the corpora under-represent.

Never read the evaluation sets here (``im2latex100k/val.zip``, ``crohme/test*.zip``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
import re
from pathlib import Path

from core.latex import canonicalize, tokenize

MAX_TOKENS = 150
DEV_PERCENT = 2  # share of the corpora held out as a dev split, by hash
# Sentence punctuation after a displayed formula: stripped from the corpora's text here, and
# put back on a share of training formulas by training/data/build.py (CLOSING_SHARE)
CLOSING_MARKS = (",", ".", ";")

# Environments we compose ourselves (mathtext has none).
ROW_SEP = " \\\\ "  # LaTeX row separator
COMPOSED_ENVS = (
    "matrix",
    "pmatrix",
    "bmatrix",
    "Bmatrix",
    "vmatrix",
    "Vmatrix",
    "cases",
    "aligned",
)
# ...and the ones only real LaTeX typesets (training/data/latex_render.py) adds to them
LATEX_ENVS = COMPOSED_ENVS + ("array", "smallmatrix", "gathered", "split")


def shared_data_root(data_root: str | os.PathLike | None = None) -> Path:
    """``data_root``, else ``$TEXSNAP_SHARED_DATA``, else ``../shared/data`` beside the repo."""
    if data_root is not None:
        return Path(data_root)
    env = os.environ.get("TEXSNAP_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


_LABEL_RE = re.compile(r"\\(label|tag\*?|eqref|ref)\s*\{[^{}]*\}")
_DROP_RE = re.compile(r"\\(displaystyle|textstyle|nonumber|notag)(?![a-zA-Z])")


def clean_formula(text: str) -> str:
    """Strip wrapping quotes, ``$``/``\\[``, ``\\displaystyle``, labels and trailing punctuation."""
    s = text.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        s = s[1:-1].strip()
    while len(s) >= 2 and s.startswith("$") and s.endswith("$"):
        s = s[1:-1].strip()
    if s.startswith("\\[") and s.endswith("\\]"):
        s = s[2:-2].strip()
    if s.startswith("\\(") and s.endswith("\\)"):
        s = s[2:-2].strip()
    s = _LABEL_RE.sub(" ", s)
    s = _DROP_RE.sub(" ", s)
    s = re.sub(r"\s+", " ", s).strip()
    # Sentence punctuation that closes a displayed formula is not part of the math.
    while s and s[-1] in CLOSING_MARKS and not s.endswith("\\,") and not s.endswith("\\;"):
        s = s[:-1].rstrip()
    return s


def split_of(canonical: str) -> str:
    """``"dev"`` for a stable :data:`DEV_PERCENT` % of formulas, else ``"train"``."""
    h = int.from_bytes(hashlib.sha1(canonical.encode("utf-8")).digest()[:4], "big")
    return "dev" if h % 100 < DEV_PERCENT else "train"


@functools.lru_cache(maxsize=4)
def load_formulas(
    data_root: str | None = None,
    split: str = "train",
    source: str = "all",
    environments: tuple[str, ...] = COMPOSED_ENVS,
) -> tuple[str, ...]:
    """Cleaned, canonical formulas of ``split`` (``train``/``dev``) from ``source``.

    ``source`` is ``corpus``, ``k12`` or ``all``; formulas with a ``\\begin{…}`` are kept only
    when every environment is one of ``environments``. Returns canonical LaTeX strings (what the
    labels are and what gets rendered), deduplicated, in file order. Empty when the files are
    absent.
    """
    root = shared_data_root(data_root) / "formulas"
    raw: list[str] = []
    if source in ("corpus", "all") and (root / "corpus.tsv").exists():
        with open(root / "corpus.tsv", encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t", 1)
                if len(parts) == 2:
                    raw.append(parts[1])
    if source in ("k12", "all") and (root / "k12.txt").exists():
        with open(root / "k12.txt", encoding="utf-8") as f:
            raw.extend(line.rstrip("\n") for line in f)
    seen: set[str] = set()
    out: list[str] = []
    for text in raw:
        s = clean_formula(text)
        if not s or "\\begin" in s and not _only_envs(s, environments):
            continue
        try:
            canon = canonicalize(s)
        except Exception:  # noqa: BLE001 - a formula the tokenizer cannot read is skipped
            continue
        if not canon or canon in seen or len(tokenize(canon)) > MAX_TOKENS:
            continue
        seen.add(canon)
        if split_of(canon) == split:
            out.append(canon)
    return tuple(out)


def _only_envs(s: str, environments: tuple[str, ...]) -> bool:
    return all(env in environments for env in re.findall(r"\\begin\{([^}]*)\}", s))


# --------------------------------------------------------------------------------------------
# Grammar-based generator

GREEK = (
    "\\alpha \\beta \\gamma \\delta \\epsilon \\varepsilon \\zeta \\eta \\theta \\vartheta \\iota "
    "\\kappa \\lambda \\mu \\nu \\xi \\pi \\rho \\sigma \\tau \\upsilon \\phi \\varphi \\chi \\psi "
    "\\omega \\Gamma \\Delta \\Theta \\Lambda \\Xi \\Pi \\Sigma \\Phi \\Psi \\Omega"
).split()
LATIN = list("abcdefghijklmnopqrstuvwxyz") + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
RELATIONS = (
    "= = = < > \\leq \\geq \\neq \\approx \\equiv \\sim \\simeq \\cong \\propto \\in \\notin "
    "\\subset \\subseteq \\supset \\rightarrow \\Rightarrow \\Leftrightarrow \\mapsto \\leftarrow "
    "\\longrightarrow \\ll \\gg \\perp \\parallel"
).split()
BINOPS = (
    "+ + + - - \\cdot \\times \\pm \\mp \\div \\cup \\cap \\oplus \\otimes \\circ \\wedge".split()
)
ACCENTS = "\\hat \\bar \\vec \\tilde \\dot \\ddot \\overline \\breve \\check".split()
FONTS = "\\mathbb \\mathcal \\mathrm \\mathbf \\mathfrak \\mathsf \\mathit".split()
FUNCS = "\\sin \\cos \\tan \\log \\ln \\exp \\sinh \\cosh \\arctan \\det \\max \\min".split()
BIGOPS = "\\sum \\sum \\prod \\int \\int \\oint \\iint \\bigcup \\bigcap \\coprod".split()
UNITS = "m s kg N J W Hz Pa K mol cm mm km V A \\Omega eV".split()
MISC = "\\infty \\partial \\nabla \\hbar \\ell \\emptyset \\forall \\exists \\ldots \\cdots".split()


def _pick(rng: random.Random, items):
    item = items[rng.randrange(len(items))]
    # A control word followed by a letter would merge with it (``\\ina``): end it with a space.
    if isinstance(item, str) and re.search(r"\\[a-zA-Z]+$", item):
        item += " "
    return item


def _number(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.5:
        return str(rng.randint(0, 9 if rng.random() < 0.6 else 999))
    if r < 0.8:
        return f"{rng.randint(0, 99)}.{rng.randint(0, 999):0{rng.randint(1, 3)}d}"
    if r < 0.9:
        return f"{rng.randint(1, 9)}.{rng.randint(0, 99)}\\times10^{{{rng.randint(-12, 12)}}}"
    return str(rng.randint(1000, 99999))


def _symbol(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.55:
        return _pick(rng, LATIN)
    if r < 0.8:
        return _pick(rng, GREEK)
    if r < 0.95:
        return _number(rng)
    return _pick(rng, MISC)


def _atom(rng: random.Random, depth: int) -> str:
    """A symbol, possibly decorated: accents, fonts, scripts, functions, roots, fractions..."""
    if depth <= 0:
        s = _symbol(rng)
        if rng.random() < 0.25:
            s += f"_{{{_small(rng)}}}"
        return s
    r = rng.random()
    if r < 0.22:
        base = _symbol(rng)
        return _scripts(rng, base, depth)
    if r < 0.32:
        return f"\\frac{{{_expr(rng, depth - 1)}}}{{{_expr(rng, depth - 1)}}}"
    if r < 0.38:
        idx = f"[{_pick(rng, ['3', 'n', '4', 'k', 'm'])}]" if rng.random() < 0.4 else ""
        return f"\\sqrt{idx}{{{_expr(rng, depth - 1)}}}"
    if r < 0.45:
        return f"{_pick(rng, ACCENTS)}{{{_pick(rng, LATIN + GREEK[:10])}}}"
    if r < 0.52:
        font = _pick(rng, FONTS)
        letters = LATIN[26:] if font in ("\\mathbb", "\\mathcal") else LATIN
        body = _pick(rng, letters)
        if font in ("\\mathrm", "\\mathbf") and rng.random() < 0.3:
            body = "".join(_pick(rng, LATIN[:26]) for _ in range(rng.randint(2, 4)))
        return (
            _scripts(rng, f"{font}{{{body}}}", depth) if rng.random() < 0.3 else f"{font}{{{body}}}"
        )
    if r < 0.6:
        f = _pick(rng, FUNCS)
        if rng.random() < 0.3:
            f += f"^{{{_pick(rng, ['2', '-1', 'n'])}}}"
        arg = _expr(rng, depth - 1)
        return f"{f}({arg})" if rng.random() < 0.6 else f"{f}{{{_symbol(rng)}}}"
    if r < 0.66:
        return f"\\binom{{{_small(rng)}}}{{{_small(rng)}}}"
    if r < 0.74:
        inner = f"\\frac{{{_expr(rng, depth - 1)}}}{{{_expr(rng, depth - 1)}}}"
        if rng.random() < 0.5:
            inner = f"{_expr(rng, 0)}+{inner}"
        left, right = _pick(rng, [("(", ")"), ("[", "]"), ("\\{", "\\}"), ("|", "|")])
        tail = f"^{{{_small(rng)}}}" if rng.random() < 0.3 else ""
        return f"\\left{left}{inner}\\right{right}{tail}"
    if r < 0.8:
        return f"({_expr(rng, depth - 1)})"
    if r < 0.86:
        return f"{_number(rng)}\\mathrm{{{_pick(rng, UNITS)}}}"
    if r < 0.92:
        var, to = _pick(rng, LATIN[:26]), _pick(rng, ["0", "\\infty", "a", "1"])
        return f"\\lim_{{{var}\\rightarrow {to}}}{_atom(rng, depth - 1)}"
    return _symbol(rng)


def _small(rng: random.Random) -> str:
    """A short script: ``i``, ``n+1``, ``2``, ``ij``, ``k-1``."""
    r = rng.random()
    if r < 0.4:
        return _pick(rng, list("ijknmtx0123") + ["\\alpha", "\\mu"])
    if r < 0.7:
        return f"{_pick(rng, list('nkmij'))}{_pick(rng, ['+', '-'])}{rng.randint(1, 3)}"
    if r < 0.85:
        return _pick(rng, list("ijk")) + _pick(rng, list("jkl"))
    return str(rng.randint(2, 99))


def _scripts(rng: random.Random, base: str, depth: int) -> str:
    r = rng.random()
    sub = _small(rng) if rng.random() < 0.6 else _expr(rng, max(depth - 2, 0))
    sup = _small(rng) if rng.random() < 0.6 else _expr(rng, max(depth - 2, 0))
    if r < 0.35:
        return f"{base}_{{{sub}}}"
    if r < 0.7:
        return f"{base}^{{{sup}}}"
    if r < 0.9:
        return f"{base}_{{{sub}}}^{{{sup}}}"
    # stacked scripts: x^{a^{b}} or x_{i_{j}}
    inner = _pick(rng, list("abnk2"))
    return (
        f"{base}^{{{_symbol(rng)}^{{{inner}}}}}"
        if rng.random() < 0.5
        else f"{base}_{{{_pick(rng, list('ijk'))}_{{{inner}}}}}"
    )


def _expr(rng: random.Random, depth: int, max_terms: int = 3) -> str:
    n = rng.randint(1, max_terms)
    parts = [_atom(rng, depth)]
    for _ in range(n - 1):
        if rng.random() < 0.7:
            parts.append(_pick(rng, BINOPS))
        parts.append(_atom(rng, depth))
    return "".join(_join(parts))


def _join(parts: list[str]) -> list[str]:
    out: list[str] = []
    for p in parts:
        if out and out[-1][-1:].isalpha() and p[:1].isalpha() and out[-1].startswith("\\"):
            out.append(" ")
        out.append(p)
    return out


def _bigop(rng: random.Random, depth: int) -> str:
    op = _pick(rng, BIGOPS)
    v = _pick(rng, list("iknjm"))
    if op in ("\\int", "\\oint", "\\iint"):
        lo, hi = _pick(
            rng, [("0", "1"), ("a", "b"), ("-\\infty", "\\infty"), ("0", "\\pi"), ("0", "x")]
        )
        region = _pick(rng, ["C", "\\Omega", "S", "D"])
        lim = f"_{{{lo}}}^{{{hi}}}" if op == "\\int" or rng.random() < 0.3 else f"_{{{region}}}"
        dv = _pick(rng, ["dx", "dt", "d\\theta", "\\mathrm{d}x", "dy", "ds"])
        return f"{op}{lim}{_expr(rng, depth)}{dv}"
    start = _pick(rng, ["0", "1", "2", "-\\infty"])
    lo = f"{v}={start}"
    hi = _pick(rng, ["n", "N", "\\infty", "k", "m-1", "2n"])
    if rng.random() < 0.15:
        dom = _pick(rng, ["S", "A", "\\mathbb{N}", "I"])
        return f"{op}_{{{v}\\in{dom}}}{_expr(rng, depth)}"
    return f"{op}_{{{lo}}}^{{{hi}}}{_expr(rng, depth)}"


def _env(rng: random.Random) -> str:
    kind = _pick(
        rng,
        [
            "pmatrix",
            "bmatrix",
            "vmatrix",
            "matrix",
            "Bmatrix",
            "Vmatrix",
            "cases",
            "aligned",
            "pmatrix",
            "cases",
        ],
    )
    if kind == "cases":
        rows = []
        for _ in range(rng.randint(2, 4)):
            rel = _pick(rng, ["<", ">", "\\geq", "\\leq", "="])
            cond = f"{_pick(rng, LATIN[:26])}{rel}{_number(rng)}"
            if rng.random() < 0.2:
                cond = "\\text{otherwise}"
            rows.append(f"{_expr(rng, 1, 2)} & {cond}")
        head, body = _pick(rng, ["f(x)", "y", "|x|", "g(t)", "u_{n}"]), ROW_SEP.join(rows)
        return f"{head}=\\begin{{cases}}{body}\\end{{cases}}"
    if kind == "aligned":
        rows = []
        for i in range(rng.randint(2, 4)):
            lhs = _expr(rng, 1, 2) if i == 0 or rng.random() < 0.4 else ""
            rel = _pick(rng, ["=", "=", "\\leq", "\\geq"])
            rows.append(f"{lhs} & {rel}{_expr(rng, 1, 3)}")
        return f"\\begin{{aligned}}{ROW_SEP.join(rows)}\\end{{aligned}}"
    nr, nc = rng.randint(1, 4), rng.randint(1, 4)
    if nr * nc == 1:
        nr = 2
    depth = 1 if rng.random() < 0.3 else 0
    cell = (
        (lambda: _atom(rng, depth))
        if rng.random() < 0.5
        else (lambda: _number(rng) if rng.random() < 0.7 else _symbol(rng))
    )
    rows = [" & ".join(cell() for _ in range(nc)) for _ in range(nr)]
    body = f"\\begin{{{kind}}}{ROW_SEP.join(rows)}\\end{{{kind}}}"
    r = rng.random()
    if r < 0.3:
        name = _pick(rng, ["A", "M", "\\Sigma", "R", "J"])
        return f"{name}={body}"
    if r < 0.45:
        return f"\\det{body}" if nc == nr else f"{body}^{{T}}"
    return body


def generate_formula(rng: random.Random) -> str:
    """A random formula with structures the corpora under-represent, in canonical form."""
    r = rng.random()
    if r < 0.2:
        s = _env(rng)
    elif r < 0.4:
        s = _bigop(rng, rng.randint(0, 2))
        if rng.random() < 0.5:
            s += f"{_pick(rng, RELATIONS)}{_expr(rng, 1)}"
    else:
        depth = rng.choice([1, 1, 2, 2, 3])
        s = _expr(rng, depth)
        if rng.random() < 0.75:
            s += f"{_pick(rng, RELATIONS)}{_expr(rng, depth - 1)}"
    canon = canonicalize(s)
    if len(tokenize(canon)) > MAX_TOKENS:
        return generate_formula(rng)
    return canon

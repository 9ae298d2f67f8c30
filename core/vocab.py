"""The token vocabulary: plain Python, stored inside every model's config.json."""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterable

from core.latex import canonical_tokens, detokenize

SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
PAD, BOS, EOS, UNK = range(4)

GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu "
    "xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
).split()

SYMBOLS = (
    # operators and relations
    "pm mp times div cdot ast star circ bullet oplus ominus otimes oslash odot cap cup "
    "setminus wedge vee sqcup sqcap uplus amalg dagger ddagger wr diamond triangle "
    "leq geq neq equiv approx sim simeq cong propto ll gg subset supset subseteq supseteq "
    "in ni notin perp parallel mid models vdash dashv prec succ preceq succeq asymp doteq "
    "nsubseteq subsetneq sqsubseteq sqsupseteq bowtie smile frown "
    # arrows
    "rightarrow leftarrow leftrightarrow Rightarrow Leftarrow Leftrightarrow mapsto "
    "longrightarrow longleftarrow longmapsto Longrightarrow Longleftarrow Longleftrightarrow "
    "uparrow downarrow Uparrow Downarrow nearrow searrow swarrow nwarrow hookrightarrow "
    "hookleftarrow rightharpoonup leftharpoonup rightleftharpoons updownarrow "
    # big operators, functions
    "sum prod coprod int iint iiint oint bigcup bigcap bigoplus bigotimes bigodot bigvee "
    "bigwedge bigsqcup lim liminf limsup sup inf max min arg det dim exp gcd hom ker deg "
    "log ln lg sin cos tan cot sec csc sinh cosh tanh coth arcsin arccos arctan Pr "
    # misc
    "infty partial nabla forall exists nexists neg emptyset angle prime hbar ell wp Re Im "
    "aleph imath jmath top bot ldots cdots vdots ddots surd flat natural sharp clubsuit "
    "diamondsuit heartsuit spadesuit checkmark square blacksquare Box degree "
    "langle rangle lfloor rfloor lceil rceil Vert backslash "
    # structure
    "frac binom sqrt overline underline widehat widetilde hat check tilde acute grave dot "
    "ddot breve bar vec mathring overrightarrow overleftarrow overbrace underbrace "
    "stackrel overset underset mathbb mathcal mathscr mathfrak mathrm mathbf mathit mathsf "
    "mathtt boldsymbol operatorname text textit textbf left right begin end not boxed "
    "pmod bmod substack"
).split()

ENVS = "matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix cases aligned array".split()

BASE_TOKENS = (
    list(string.ascii_letters)
    + list(string.digits)
    + list("+-=<>()[]|/*!?.,;:'\"@&^_{}")
    + ["\\{", "\\}", "\\\\", "\\ ", "\\#", "\\$", "\\%", "\\&", "\\_"]
    + ["\\" + g for g in GREEK]
    + ["\\" + s for s in SYMBOLS]
    + ENVS
)


class Vocab:
    def __init__(self, tokens: list[str]):
        if tokens[: len(SPECIALS)] != SPECIALS:
            tokens = SPECIALS + [t for t in tokens if t not in SPECIALS]
        self.tokens = list(dict.fromkeys(tokens))
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(cls, formulas: Iterable[str] = (), min_count: int = 20) -> Vocab:
        """The base tokens plus every token seen ``min_count`` times in ``formulas``."""
        counts = Counter(t for f in formulas for t in canonical_tokens(f))
        extra = sorted(t for t, c in counts.items() if c >= min_count and len(t) < 40)
        return cls(SPECIALS + BASE_TOKENS + extra)

    def encode_tokens(self, tokens: list[str]) -> list[int]:
        return [self.index.get(t, UNK) for t in tokens]

    def encode(self, latex: str) -> list[int]:
        """BOS + canonical token ids + EOS."""
        return [BOS] + self.encode_tokens(canonical_tokens(latex)) + [EOS]

    def decode_tokens(self, ids: Iterable[int]) -> list[str]:
        out = []
        for i in ids:
            if i == EOS:
                break
            if i in (PAD, BOS):
                continue
            out.append(self.tokens[i] if 0 <= i < len(self.tokens) else "<unk>")
        return out

    def decode(self, ids: Iterable[int]) -> str:
        return detokenize([t for t in self.decode_tokens(ids) if t != "<unk>"])

    def covers(self, latex: str) -> bool:
        return all(t in self.index for t in canonical_tokens(latex))

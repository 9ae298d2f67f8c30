"""Recognition metrics, computed on canonical tokens so that label conventions do not count.

Both sides go through ``canonical_tokens(..., for_eval=True)``: ``x ^ { 2 }`` and ``x^2`` are
the same formula, as are ``\\left(`` and ``(``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from core.latex import canonical_tokens


def eval_tokens(latex: str) -> list[str]:
    try:
        return canonical_tokens(latex, for_eval=True)
    except Exception:  # noqa: BLE001 - an unparsable prediction is simply wrong, not a crash
        return latex.split()


def edit_distance(a: list, b: list) -> int:
    """Levenshtein distance between two sequences (O(len(a)*len(b)) time, O(len(b)) memory)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass
class Scores:
    """Running totals; ``summary()`` gives the averages."""

    n: int = 0
    exact: int = 0
    edit_sum: float = 0.0
    char_edits: int = 0
    char_total: int = 0
    tok_correct: int = 0
    tok_total: int = 0
    matches: list[int] = field(default_factory=lambda: [0] * 4)
    possible: list[int] = field(default_factory=lambda: [0] * 4)
    hyp_len: int = 0
    ref_len: int = 0

    def add(self, prediction: str, reference: str) -> float:
        """Score one pair; returns its normalized edit distance (0 = perfect)."""
        hyp, ref = eval_tokens(prediction), eval_tokens(reference)
        self.n += 1
        self.exact += hyp == ref
        dist = edit_distance(hyp, ref)
        ned = dist / max(len(hyp), len(ref), 1)
        self.edit_sum += ned
        hs, rs = "".join(hyp), "".join(ref)
        self.char_edits += edit_distance(list(hs), list(rs))
        self.char_total += max(len(rs), 1)
        self.tok_correct += sum(h == r for h, r in zip(hyp, ref, strict=False))
        self.tok_total += max(len(ref), 1)
        for k in range(4):
            h, r = _ngrams(hyp, k + 1), _ngrams(ref, k + 1)
            self.matches[k] += sum((h & r).values())
            self.possible[k] += max(len(hyp) - k, 0)
        self.hyp_len += len(hyp)
        self.ref_len += len(ref)
        return ned

    def bleu(self) -> float:
        """Corpus BLEU-4 (uniform weights, brevity penalty), as im2latex papers report it."""
        if self.hyp_len == 0 or any(m == 0 for m in self.matches):
            return 0.0
        log_p = sum(math.log(m / p) for m, p in zip(self.matches, self.possible, strict=True)) / 4
        bp = 1.0 if self.hyp_len > self.ref_len else math.exp(1 - self.ref_len / self.hyp_len)
        return bp * math.exp(log_p)

    def summary(self) -> dict:
        n = max(self.n, 1)
        return {
            "n": self.n,
            "exact_match": self.exact / n,
            "bleu4": self.bleu(),
            "edit_distance": self.edit_sum / n,
            "cer": self.char_edits / max(self.char_total, 1),
            "token_accuracy": self.tok_correct / max(self.tok_total, 1),
        }

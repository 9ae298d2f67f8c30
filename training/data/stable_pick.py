"""Formula picks that survive small changes to the formula pool.

A dev slice is scored again in every session, and a session that rebuilds it must get the same
samples back, or the scores before and after compare different formulas. Drawing by index
(``rng.choice(pool)``) does not survive the pool changing at all: a cleaner that drops or adds a
handful of formulas moves every index after them, and so every sample. Session (21) measured it:
the dev pool kept 5,329 of its ~5,370 formulas, yet the rebuilt handwriting slice shared 12 of
its 300 formulas with the old one (docs/model/selection-rules.md, rule (30)).

Rendezvous hashing fixes the pick: a draw is a random key, and the formula chosen is the one
whose hash mixed with the key scores highest. Every formula is equally likely, and a formula
added to or removed from the pool changes only the draws it wins or had won, about one in the
pool's size each.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


class StablePool:
    """A formula pool whose :meth:`pick` depends on the random stream and on each formula's own
    text, never on where the formula sits in the pool."""

    def __init__(self, formulas: Iterable[str]):
        self.formulas = tuple(sorted(set(formulas)))
        self._hashes = np.array([_hash64(f) for f in self.formulas], dtype=np.uint64)

    def __len__(self) -> int:
        return len(self.formulas)

    def pick(self, rng: random.Random) -> str:
        if not self.formulas:
            raise ValueError("cannot pick from an empty formula pool")
        key = np.uint64(rng.getrandbits(64))
        return self.formulas[int(np.argmax(_mix(self._hashes ^ key)))]


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a key XOR a hash is not yet a fair score (formulas whose hashes
    share high bits would tie across keys); mixing spreads every input bit over the output."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))

"""The token vocabulary: canonical LaTeX <-> ids, unknown tokens, building from a corpus."""

from __future__ import annotations

import pytest

from core.latex import canonicalize
from core.vocab import BOS, EOS, PAD, SPECIALS, UNK, Vocab


@pytest.fixture(scope="module")
def vocab() -> Vocab:
    return Vocab.build([])


@pytest.mark.parametrize(
    "latex",
    [
        r"\frac{a}{b}+x^2",
        r"\sum_{i=1}^{n}\alpha_i\leq\int_0^\infty e^{-t}dt",
        r"\left(\frac{1}{2}\right)\rightarrow\mathbb{R}",
        r"f(x)=\begin{cases}1&x>0\\0&\text{else}\end{cases}",
        r"\begin{pmatrix}a&b\\c&d\end{pmatrix}\sqrt[3]{\binom{n}{k}}",
        r"\hat{x}\vec{v}\overline{AB}\operatorname{rank}\mathcal{L}\mathbf{v}",
        r"\Gamma\Delta\omega\varphi\partial\nabla\infty\cdots",
    ],
)
def test_encode_decode_round_trip_gives_the_canonical_form(vocab, latex):
    assert vocab.covers(latex)
    ids = vocab.encode(latex)
    assert ids[0] == BOS and ids[-1] == EOS
    assert UNK not in ids
    assert vocab.decode(ids) == canonicalize(latex)


def test_specials_come_first(vocab):
    assert vocab.tokens[: len(SPECIALS)] == SPECIALS
    assert (PAD, BOS, EOS, UNK) == (0, 1, 2, 3)
    assert len(set(vocab.tokens)) == len(vocab)


def test_unknown_tokens_map_to_unk_and_are_dropped_on_decode(vocab):
    latex = r"x+\weirdsymbol+y"
    assert not vocab.covers(latex)
    ids = vocab.encode(latex)
    assert ids.count(UNK) == 1
    assert vocab.decode(ids) == "x++y"
    assert vocab.decode_tokens(ids) == ["x", "+", "<unk>", "+", "y"]


def test_decode_stops_at_eos_and_skips_pad_and_bos(vocab):
    x, y = vocab.index["x"], vocab.index["y"]
    assert vocab.decode([BOS, x, PAD, y, EOS, x, x]) == "xy"


def test_out_of_range_ids_decode_as_unknown(vocab):
    assert vocab.decode_tokens([len(vocab) + 5, -1]) == ["<unk>", "<unk>"]
    assert vocab.decode([len(vocab) + 5]) == ""


def test_constructor_adds_missing_specials_and_drops_duplicates():
    v = Vocab(["x", "y", "x", "<eos>"])
    assert v.tokens == SPECIALS + ["x", "y"]
    assert v.index["y"] == len(SPECIALS) + 1


def test_build_adds_frequent_corpus_tokens_only():
    corpus = [r"\mathop{lim}\weird x"] * 3 + [r"\rare"]
    v = Vocab.build(corpus, min_count=3)
    assert r"\weird" in v.index and r"\mathop" in v.index
    assert r"\rare" not in v.index
    assert Vocab.build(corpus, min_count=3).tokens == v.tokens  # deterministic order


def test_saved_token_list_rebuilds_the_same_vocab(vocab):
    """config.json stores ``vocab.tokens``; loading must give identical ids."""
    again = Vocab(list(vocab.tokens))
    assert again.tokens == vocab.tokens
    assert again.encode(r"\frac{a}{b}") == vocab.encode(r"\frac{a}{b}")

"""One decoder step per emitted token, for greedy and beam search on a CPU.

At batch size 1 a decoder step of this small model is a few dozen tiny matrix-vector
products; the time goes to calling operators, not to arithmetic (a step through the
``nn.Module`` path cost ~1.8 ms, its matrix products ~0.2 ms). So this path calls the fewest
operators that compute the same thing as ``Im2Latex.decode``: functional calls on the same
weights, keys and values written into buffers allocated once (no concatenation per token),
the embedding scale folded into one table. ``tests/core/test_incremental.py`` checks it
against the teacher-forcing forward pass.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:  # the model imports this module when it starts decoding
    from core.model import DecoderLayer, Im2Latex

CHUNK = 64  # key/value buffers grow by this many positions


class DecodeState:
    """Everything a decoding loop carries between tokens: the image's cross-attention keys and
    values, its padding mask, and the self-attention keys/values of the tokens so far."""

    def __init__(self, model: Im2Latex, cross, mem_mask, batch: int):
        cfg = model.cfg
        ref = cross[0][0]
        self.model = model
        self.cross = cross  # per layer (K, V), batch dim ``batch`` or 1 (shared by beams)
        self.mask = mem_mask[:, None, None, :] if mem_mask is not None else None
        self.embed = model.embed.weight * math.sqrt(cfg.d_model)
        self.length = 0
        shape = (batch, cfg.n_heads, CHUNK, cfg.d_model // cfg.n_heads)
        self.k = [ref.new_empty(shape) for _ in model.layers]
        self.v = [ref.new_empty(shape) for _ in model.layers]

    @property
    def capacity(self) -> int:
        return self.k[0].shape[2]

    def reorder(self, index: torch.Tensor) -> None:
        """Keep (and duplicate) the sequences at ``index``: beam search's parents."""
        n = self.length
        self.k = [_select(k, index, n) for k in self.k]
        self.v = [_select(v, index, n) for v in self.v]

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B,) at position ``self.length`` -> logits (B, V); advances one position."""
        model = self.model
        if self.length == self.capacity:
            self._grow()
        n = self.length
        x = F.embedding(tokens, self.embed) + model.pos.weight[n]
        for i, layer in enumerate(model.layers):
            x = _layer_step(layer, x, self, i, n)
        self.length = n + 1
        return F.linear(_norm(model.norm, x), model.head.weight)

    def _grow(self) -> None:
        def more(t):
            extra = t.new_empty((t.shape[0], t.shape[1], CHUNK, t.shape[3]))
            return torch.cat([t, extra], dim=2)

        self.k = [more(k) for k in self.k]
        self.v = [more(v) for v in self.v]


def _select(buf: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    out = buf.new_empty((len(index), *buf.shape[1:]))
    out[:, :, :n] = buf[:, :, :n].index_select(0, index)
    return out


def _layer_step(layer: DecoderLayer, x: torch.Tensor, state: DecodeState, i: int, n: int):
    """``DecoderLayer.forward`` for one new position, x (B, D) -> (B, D)."""
    b, d = x.shape
    nh = layer.n_heads
    qkv = F.linear(_norm(layer.norm1, x), layer.qkv.weight, layer.qkv.bias).view(b, 3, nh, -1)
    keys, values = state.k[i], state.v[i]
    keys[:, :, n] = qkv[:, 1]
    values[:, :, n] = qkv[:, 2]
    q = qkv[:, 0].unsqueeze(2)  # (B, nh, 1, hs)
    a = F.scaled_dot_product_attention(q, keys[:, :, : n + 1], values[:, :, : n + 1])
    x = x + F.linear(a.reshape(b, d), layer.self_out.weight, layer.self_out.bias)

    q = F.linear(_norm(layer.norm2, x), layer.q_cross.weight, layer.q_cross.bias)
    ck, cv = state.cross[i]
    mask = state.mask
    if ck.shape[0] != b:  # beams share one image
        ck, cv = ck.expand(b, -1, -1, -1), cv.expand(b, -1, -1, -1)
        mask = mask.expand(b, -1, -1, -1) if mask is not None else None
    a = F.scaled_dot_product_attention(q.view(b, nh, 1, -1), ck, cv, attn_mask=mask)
    x = x + F.linear(a.reshape(b, d), layer.cross_out.weight, layer.cross_out.bias)

    up, down = layer.ff[0], layer.ff[2]
    h = F.gelu(
        F.linear(_norm(layer.norm3, x), up.weight, up.bias), approximate=layer.ff[1].approximate
    )
    return x + F.linear(h, down.weight, down.bias)


def _norm(norm, x: torch.Tensor) -> torch.Tensor:
    return F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)

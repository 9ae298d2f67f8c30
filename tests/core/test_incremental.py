"""The one-token-at-a-time decoder (core/incremental.py) computes what the teacher-forcing
forward pass computes: same logits at every position, past the first buffer growth, with
padded images in the batch, and after beam search reorders the sequences."""

from __future__ import annotations

import pytest
import torch

from core import incremental
from core.model import Im2Latex, ModelConfig


@pytest.fixture(scope="module")
def net() -> Im2Latex:
    torch.manual_seed(0)
    cfg = ModelConfig(
        vocab_size=50,
        d_model=32,
        n_heads=4,
        n_layers=2,
        d_ff=64,
        enc_channels=(8, 8, 16, 16),
        enc_blocks=(1, 1, 1, 1),
        max_len=incremental.CHUNK * 2 + 10,
    )
    return Im2Latex(cfg).eval()


@pytest.fixture(scope="module")
def encoded(net):
    torch.manual_seed(1)
    images = torch.rand(2, 1, 48, 128)
    sizes = torch.tensor([[48, 128], [32, 64]])  # the second image is padded: a real mask
    with torch.inference_mode():
        _, mask, cross = net.encode(images, sizes)
    assert mask is not None and not bool(mask.all())
    return cross, mask


def stepwise(state, tokens: torch.Tensor) -> torch.Tensor:
    return torch.stack([state.step(tokens[:, t]) for t in range(tokens.shape[1])], 1)


@torch.inference_mode()
def test_step_logits_equal_the_full_forward_pass_beyond_a_buffer_growth(net, encoded):
    cross, mask = encoded
    n = incremental.CHUNK + 20
    tokens = torch.randint(3, 50, (2, n))
    full = net.decode(tokens, cross, mask)
    state = net.start_decoding(cross, mask, 2)
    assert torch.allclose(stepwise(state, tokens), full, atol=1e-4)
    assert state.length == n and state.capacity == 2 * incremental.CHUNK


@torch.inference_mode()
def test_reorder_continues_the_chosen_sequences(net, encoded):
    cross, mask = encoded
    tokens = torch.randint(3, 50, (2, 12))
    state = net.start_decoding(cross, mask, 2)
    stepwise(state, tokens[:, :8])
    index = torch.tensor([1, 1, 0])  # beam search keeps parent 1 twice, drops nothing
    state.reorder(index)
    state.cross = [(k.index_select(0, index), v.index_select(0, index)) for k, v in cross]
    state.mask = mask.index_select(0, index)[:, None, None, :]
    got = stepwise(state, tokens[index, 8:])
    want = net.decode(tokens[index], *_selected(cross, mask, index))[:, 8:]
    assert torch.allclose(got, want, atol=1e-4)


@torch.inference_mode()
def test_beams_share_one_image(net, encoded):
    """Beam search keeps the image's keys once (batch 1) for any number of beams."""
    cross, mask = encoded
    one = [(k[:1], v[:1]) for k, v in cross]
    tokens = torch.randint(3, 50, (3, 6))
    state = net.start_decoding(one, mask[:1], 1)
    state.step(tokens[:1, 0])
    state.reorder(torch.tensor([0, 0, 0]))
    got = stepwise(state, tokens[:, 1:])
    prefix = torch.cat([tokens[:1, :1].expand(3, 1), tokens[:, 1:]], 1)
    three = [(k.expand(3, -1, -1, -1), v.expand(3, -1, -1, -1)) for k, v in one]
    want = net.decode(prefix, three, mask[:1].expand(3, -1))[:, 1:]
    assert torch.allclose(got, want, atol=1e-4)


def _selected(cross, mask, index):
    return [(k.index_select(0, index), v.index_select(0, index)) for k, v in cross], mask[index]

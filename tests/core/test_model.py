"""The network: shapes, masks, the tied output layer, the size budget, teacher forcing."""

from __future__ import annotations

import pytest
import torch

from core.device import configure_cpu_threads
from core.model import Im2Latex, ModelConfig, count_parameters, positional_2d

SMALL = ModelConfig(
    vocab_size=30,
    d_model=32,
    n_heads=2,
    n_layers=2,
    d_ff=64,
    enc_channels=(8, 8, 16, 16),
    enc_blocks=(1, 1, 1, 1),
    max_len=16,
)


@pytest.fixture(scope="module")
def net() -> Im2Latex:
    configure_cpu_threads()  # TEXSNAP_THREADS=1 from tests/conftest.py
    torch.manual_seed(0)
    return Im2Latex(SMALL).eval()


def test_default_model_is_laptop_sized():
    """A few million parameters, not tens (the issue's CPU budget)."""
    n = count_parameters(Im2Latex(ModelConfig()))
    assert 1_000_000 < n < 10_000_000


def test_config_round_trips_through_json_types():
    d = SMALL.to_dict()
    assert isinstance(d["enc_channels"], list)
    assert ModelConfig.from_dict({**d, "unknown_future_key": 1}) == SMALL
    assert SMALL.stride == 16


def test_encoder_output_and_mask_shapes(net):
    images = torch.zeros(2, 1, 64, 160)
    sizes = torch.tensor([[64, 160], [32, 48]])
    memory, mask, cross = net.encode(images, sizes)
    assert memory.shape == (2, 4 * 10, 32)
    assert mask.shape == (2, 40)
    assert mask[0].all()
    grid = mask[1].view(4, 10)
    assert grid[:2, :3].all() and not grid[2:].any() and not grid[:, 3:].any()
    assert len(cross) == SMALL.n_layers and cross[0][0].shape == (2, 2, 40, 16)


def test_teacher_forcing_gives_logits_and_a_loss(net):
    images = torch.rand(2, 1, 32, 64)
    tokens = torch.tensor([[1, 5, 6, 0], [1, 7, 0, 0]])
    targets = torch.tensor([[5, 6, 2, 0], [7, 2, 0, 0]])
    logits, loss = net(images, tokens, targets=targets)
    assert logits.shape == (2, 4, SMALL.vocab_size)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert loss.item() == pytest.approx(torch.log(torch.tensor(30.0)).item(), rel=0.2)
    _, none = net(images, tokens)
    assert none is None


def test_padding_targets_do_not_count(net):
    images = torch.rand(1, 1, 32, 64)
    tokens = torch.tensor([[1, 5, 6]])
    _, short = net(images, tokens[:, :2], targets=torch.tensor([[5, 6]]))
    _, padded = net(images, tokens, targets=torch.tensor([[5, 6, 0]]))
    assert short.item() == pytest.approx(padded.item(), rel=1e-5)


def test_decoder_is_causal(net):
    """A later token never changes the logits of an earlier position."""
    _, mask, cross = net.encode(torch.rand(1, 1, 32, 64))
    a = net.decode(torch.tensor([[1, 5, 6, 7]]), cross, mask)
    b = net.decode(torch.tensor([[1, 5, 9, 9]]), cross, mask)
    assert torch.allclose(a[:, :2], b[:, :2], atol=1e-5)
    assert not torch.allclose(a[:, 2:], b[:, 2:])


def test_attention_maps_sum_to_one_over_real_cells(net):
    images = torch.rand(1, 1, 32, 64)
    sizes = torch.tensor([[16, 32]])
    _, mask, cross = net.encode(images, sizes)
    logits, maps = net.decode(torch.tensor([[1, 4]]), cross, mask, need_weights=True)
    plain = net.decode(torch.tensor([[1, 4]]), cross, mask)
    assert torch.allclose(logits, plain, atol=1e-5)
    weights = maps[0]  # (B, heads, T, cells)
    assert torch.allclose(weights.sum(-1), torch.ones(1, 2, 2), atol=1e-5)
    assert weights[..., ~mask[0]].abs().max() == 0  # batch padding gets no attention


def test_output_layer_is_tied_to_the_embedding(net):
    assert net.head.weight is net.embed.weight


def test_positional_encoding_distinguishes_rows_and_columns():
    pe = positional_2d(3, 4, 16, "cpu", torch.float32)
    assert pe.shape == (1, 16, 3, 4)
    cells = pe[0].flatten(1).T  # (12, 16)
    assert len({tuple(c.tolist()) for c in cells}) == 12

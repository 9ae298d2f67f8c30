"""The image-to-LaTeX network: a small ResNet encoder with 2D positional encoding and a
Transformer decoder with a key/value cache, sized for a laptop CPU (a few million parameters).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ModelConfig:
    vocab_size: int = 600
    d_model: int = 256  # width of encoder features and decoder
    n_heads: int = 4
    # 2 decoder layers keep greedy decoding of 60 tokens under ~80 ms on one CPU core
    n_layers: int = 2
    d_ff: int = 1024
    dropout: float = 0.1
    enc_channels: tuple[int, ...] = (24, 48, 96, 192)  # one stage per stride-2 step
    enc_blocks: tuple[int, ...] = (1, 1, 2, 2)
    max_len: int = 256  # longest token sequence, BOS/EOS included
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2

    def to_dict(self) -> dict:
        d = asdict(self)
        d["enc_channels"] = list(self.enc_channels)
        d["enc_blocks"] = list(self.enc_blocks)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for key in ("enc_channels", "enc_blocks"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)

    @property
    def stride(self) -> int:
        return 2 ** len(self.enc_channels)


class Encoder(nn.Module):
    """ResNet-style CNN: (B, 1, H, W) -> (B, H/16 * W/16, d_model) plus a validity mask."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c0 = cfg.enc_channels[0]
        self.stem = nn.Sequential(
            nn.Conv2d(1, c0, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(c0),
            nn.ReLU(inplace=True),
        )
        stages, c_in = [], c0
        for i, (c_out, n) in enumerate(zip(cfg.enc_channels, cfg.enc_blocks, strict=True)):
            stride = 1 if i == 0 else 2
            stages.append(_stage(c_in, c_out, n, stride))
            c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.proj = nn.Conv2d(c_in, cfg.d_model, 1)
        self.d_model = cfg.d_model
        self.stride = cfg.stride

    def forward(self, images: torch.Tensor, sizes: torch.Tensor | None = None):
        feat = self.proj(self.stages(self.stem(images)))  # (B, D, h, w)
        b, d, h, w = feat.shape
        feat = feat + positional_2d(h, w, d, feat.device, feat.dtype)
        memory = feat.flatten(2).transpose(1, 2)  # (B, h*w, D)
        mask = None
        if sizes is not None:  # True where a cell holds image, not batch padding
            hs = (sizes[:, 0] + self.stride - 1) // self.stride
            ws = (sizes[:, 1] + self.stride - 1) // self.stride
            ys = torch.arange(h, device=feat.device)[None, :, None] < hs[:, None, None]
            xs = torch.arange(w, device=feat.device)[None, None, :] < ws[:, None, None]
            mask = (ys & xs).flatten(1)  # (B, h*w)
        return memory, mask


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock, same layers and parameter names (a test checks
    both give the same output from the same weights). Not imported from torchvision: that
    import pulls in torch._dynamo, sympy and triton, +165 MB and seconds at every start-up."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


def _stage(c_in: int, c_out: int, n: int, stride: int) -> nn.Sequential:
    down = None
    if stride != 1 or c_in != c_out:
        down = nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
        )
    blocks = [BasicBlock(c_in, c_out, stride=stride, downsample=down)]
    blocks += [BasicBlock(c_out, c_out) for _ in range(n - 1)]
    return nn.Sequential(*blocks)


def positional_2d(h: int, w: int, d: int, device, dtype) -> torch.Tensor:
    """Sinusoidal encoding: half the channels encode the row, half the column. (1, d, h, w)"""
    half = d // 2
    freqs = torch.exp(torch.arange(0, half, 2, device=device) * (-math.log(10000.0) / half))
    ys = torch.arange(h, device=device)[:, None] * freqs[None, :]  # (h, half/2)
    xs = torch.arange(w, device=device)[:, None] * freqs[None, :]
    pe_y = torch.cat([ys.sin(), ys.cos()], dim=1)  # (h, half)
    pe_x = torch.cat([xs.sin(), xs.cos()], dim=1)  # (w, half)
    pe = torch.cat(
        [pe_y[:, None, :].expand(h, w, half), pe_x[None, :, :].expand(h, w, half)], dim=2
    )
    return pe.permute(2, 0, 1).unsqueeze(0).to(dtype)


class DecoderLayer(nn.Module):
    """Pre-norm self-attention, cross-attention and feed-forward, with an optional KV cache."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.d_model
        self.n_heads = cfg.n_heads
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.self_out = nn.Linear(d, d)
        self.q_cross = nn.Linear(d, d)
        self.kv_cross = nn.Linear(d, 2 * d)
        self.cross_out = nn.Linear(d, d)
        self.ff = nn.Sequential(nn.Linear(d, cfg.d_ff), nn.GELU(), nn.Linear(cfg.d_ff, d))
        self.drop = nn.Dropout(cfg.dropout)
        self.p_drop = cfg.dropout

    def heads(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, nh, T, hs)
        b, t, d = x.shape
        return x.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)

    def cross_kv(self, memory: torch.Tensor):
        k, v = self.kv_cross(memory).chunk(2, dim=-1)
        return self.heads(k), self.heads(v)

    def forward(self, x, cross_kv, mem_mask=None, cache=None, need_weights=False):
        """x: (B, T, D). ``cache`` is a dict holding this layer's past self-attention K/V;
        when given, x holds only the new positions."""
        b, t, d = x.shape
        p = self.p_drop if self.training else 0.0
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        q, k, v = self.heads(q), self.heads(k), self.heads(v)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        causal = cache is None or t > 1
        attn = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=causal)
        x = x + self.drop(self.self_out(attn.transpose(1, 2).reshape(b, t, d)))

        q = self.heads(self.q_cross(self.norm2(x)))
        ck, cv = cross_kv
        mask = mem_mask[:, None, None, :] if mem_mask is not None else None
        weights = None
        if need_weights:
            scores = q @ ck.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = scores.softmax(-1)
            attn = weights @ cv
        else:
            attn = F.scaled_dot_product_attention(q, ck, cv, attn_mask=mask, dropout_p=p)
        x = x + self.drop(self.cross_out(attn.transpose(1, 2).reshape(b, t, d)))
        x = x + self.drop(self.ff(self.norm3(x)))
        return x, weights


class Im2Latex(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.max_len, cfg.d_model)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.n_layers))
        self.norm = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.head.weight = self.embed.weight  # tied: fewer parameters, better small-data fit
        self.apply(_init)

    def encode(self, images: torch.Tensor, sizes: torch.Tensor | None = None):
        """images (B, 1, H, W) -> memory (B, S, D), mask (B, S) or None, per-layer cross K/V."""
        memory, mask = self.encoder(images, sizes)
        return memory, mask, [layer.cross_kv(memory) for layer in self.layers]

    def decode(self, tokens, cross, mem_mask=None, caches=None, start=0, need_weights=False):
        """tokens (B, T) at positions start..start+T -> logits (B, T, V) (+ attention maps)."""
        pos = torch.arange(start, start + tokens.shape[1], device=tokens.device)
        x = self.embed(tokens) * math.sqrt(self.cfg.d_model) + self.pos(pos)[None]
        maps = []
        for i, layer in enumerate(self.layers):
            cache = caches[i] if caches is not None else None
            x, w = layer(x, cross[i], mem_mask, cache, need_weights)
            maps.append(w)
        logits = self.head(self.norm(x))
        return (logits, maps) if need_weights else logits

    def start_decoding(self, cross, mem_mask, batch: int):
        """State for decoding one token at a time (``state.step(tokens) -> logits``), the
        fast path of greedy and beam search (core/incremental.py)."""
        from core.incremental import DecodeState

        return DecodeState(self, cross, mem_mask, batch)

    def forward(self, images, tokens, sizes=None, targets=None, label_smoothing=0.0):
        """Teacher forcing: (logits (B, T, V), loss or None)."""
        _, mask, cross = self.encode(images, sizes)
        logits = self.decode(tokens, cross, mask)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.flatten(0, 1).float(),
                targets.flatten(),
                ignore_index=self.cfg.pad_id,
                label_smoothing=label_smoothing,
            )
        return logits, loss


def _init(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, std=0.02)
    elif isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

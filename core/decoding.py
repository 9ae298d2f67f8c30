"""Greedy and beam-search decoding with a key/value cache.

Both return :class:`Hypothesis` objects carrying token ids and per-token probabilities, so that
the caller can compute a confidence and show alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.model import Im2Latex


@dataclass
class Hypothesis:
    ids: list[int]  # without BOS/EOS
    probs: list[float]  # probability of each emitted token, EOS included
    logprob: float  # sum of log-probabilities, EOS included
    finished: bool = True


def _reorder(caches: list[dict], index: torch.Tensor) -> None:
    for cache in caches:
        for key in ("k", "v"):
            if key in cache:
                cache[key] = cache[key].index_select(0, index)


def allowed_logits(logits: torch.Tensor, cfg) -> torch.Tensor:
    """Float logits with padding and BOS ruled out: they are never output, and a model that
    still favours them (untrained, or damaged) must not produce an empty formula that way."""
    logits = logits.float().clone()
    logits[:, [cfg.pad_id, cfg.bos_id]] = float("-inf")
    return logits


@torch.inference_mode()
def greedy(
    model: Im2Latex, images: torch.Tensor, sizes: torch.Tensor, max_len: int | None = None
) -> list[Hypothesis]:
    """Batched greedy decoding. images (B, 1, H, W), sizes (B, 2) real heights and widths."""
    cfg = model.cfg
    max_len = min(max_len or cfg.max_len, cfg.max_len)
    _, mask, cross = model.encode(images, sizes)
    b = images.shape[0]
    caches: list[dict] = [{} for _ in model.layers]
    tok = torch.full((b, 1), cfg.bos_id, dtype=torch.long, device=images.device)
    out_ids = torch.zeros((b, 0), dtype=torch.long, device=images.device)
    out_p = torch.zeros((b, 0), device=images.device)
    done = torch.zeros(b, dtype=torch.bool, device=images.device)
    for step in range(max_len - 1):
        logits = allowed_logits(model.decode(tok, cross, mask, caches, start=step)[:, -1], cfg)
        probs = logits.softmax(-1)
        p, nxt = probs.max(-1)
        nxt = torch.where(done, torch.full_like(nxt, cfg.pad_id), nxt)
        out_ids = torch.cat([out_ids, nxt[:, None]], 1)
        out_p = torch.cat([out_p, torch.where(done, torch.ones_like(p), p)[:, None]], 1)
        done |= nxt == cfg.eos_id
        if bool(done.all()):
            break
        tok = nxt[:, None]
    hyps = []
    for i in range(b):
        ids, probs = out_ids[i].tolist(), out_p[i].tolist()
        finished = cfg.eos_id in ids
        n = ids.index(cfg.eos_id) if finished else len(ids)
        kept_p = probs[: n + 1] if finished else probs[:n]
        logprob = float(torch.tensor(kept_p).clamp_min(1e-12).log().sum())
        hyps.append(Hypothesis(ids[:n], kept_p, logprob, finished))
    return hyps


@torch.inference_mode()
def beam_search(
    model: Im2Latex,
    images: torch.Tensor,
    sizes: torch.Tensor,
    beam: int = 5,
    max_len: int | None = None,
    n_best: int | None = None,
    length_penalty: float = 0.6,
) -> list[list[Hypothesis]]:
    """Beam search for each image; returns up to ``n_best`` hypotheses per image, best first
    (scored by log-probability over a GNMT length penalty)."""
    if beam <= 1:
        return [[h] for h in greedy(model, images, sizes, max_len)]
    _, mask, cross = model.encode(images, sizes)
    results = []
    for i in range(images.shape[0]):
        cross_i = [(k[i : i + 1], v[i : i + 1]) for k, v in cross]
        mask_i = mask[i : i + 1] if mask is not None else None
        results.append(
            _beam_one(model, cross_i, mask_i, beam, max_len, n_best or beam, length_penalty)
        )
    return results


def _beam_one(model, cross, mask, beam, max_len, n_best, alpha) -> list[Hypothesis]:
    cfg = model.cfg
    device = cross[0][0].device
    max_len = min(max_len or cfg.max_len, cfg.max_len)
    caches: list[dict] = [{} for _ in model.layers]
    seqs = [[]]  # token ids per live beam
    probs: list[list[float]] = [[]]
    scores = torch.zeros(1, device=device)
    tok = torch.full((1, 1), cfg.bos_id, dtype=torch.long, device=device)
    finished: list[Hypothesis] = []

    def penalty(n: int) -> float:
        return ((5 + n) / 6) ** alpha

    for step in range(max_len - 1):
        k = len(seqs)
        cross_k = [(ck.expand(k, -1, -1, -1), cv.expand(k, -1, -1, -1)) for ck, cv in cross]
        mask_k = mask.expand(k, -1) if mask is not None else None
        logits = allowed_logits(model.decode(tok, cross_k, mask_k, caches, start=step)[:, -1], cfg)
        logp = logits.log_softmax(-1)  # (k, V)
        total = (scores[:, None] + logp).flatten()
        top_scores, top_idx = total.topk(min(2 * beam, total.numel()))
        vocab = logp.shape[1]
        new_seqs, new_probs, new_scores, parents, next_tok = [], [], [], [], []
        for s, idx in zip(top_scores.tolist(), top_idx.tolist(), strict=True):
            parent, t = divmod(idx, vocab)
            p = float(logp[parent, t].exp())
            if t == cfg.eos_id:
                hyp = Hypothesis(seqs[parent], probs[parent] + [p], s)
                finished.append(hyp)
            else:
                new_seqs.append(seqs[parent] + [t])
                new_probs.append(probs[parent] + [p])
                new_scores.append(s)
                parents.append(parent)
                next_tok.append(t)
            if len(new_seqs) == beam:
                break
        best_live = max(new_scores) / penalty(step + 1) if new_scores else float("-inf")
        done = sorted((h.logprob / penalty(len(h.ids) + 1) for h in finished), reverse=True)
        # stop once the n_best-th finished hypothesis beats every live one: stopping when
        # only the best does would drop better alternatives that are still being built
        if not new_seqs or (len(done) >= n_best and done[n_best - 1] >= best_live):
            break
        _reorder(caches, torch.tensor(parents, device=device))
        seqs, probs = new_seqs, new_probs
        scores = torch.tensor(new_scores, device=device)
        tok = torch.tensor(next_tok, device=device)[:, None]
    else:
        finished.extend(
            Hypothesis(s, p, float(sc), finished=False)
            for s, p, sc in zip(seqs, probs, scores.tolist(), strict=True)
        )
    if not finished:
        finished = [
            Hypothesis(s, p, float(sc), finished=False)
            for s, p, sc in zip(seqs, probs, scores.tolist(), strict=True)
        ]
    finished.sort(key=lambda h: h.logprob / penalty(len(h.ids) + 1), reverse=True)
    return finished[:n_best]

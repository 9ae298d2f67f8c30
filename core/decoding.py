"""Greedy and beam-search decoding with a key/value cache.

Both return :class:`Hypothesis` objects carrying token ids and per-token probabilities, so that
the caller can compute a confidence and show alternatives.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from core.model import Im2Latex


@dataclass
class Hypothesis:
    ids: list[int]  # without BOS/EOS
    probs: list[float]  # probability of each emitted token, EOS included
    logprob: float  # sum of log-probabilities, EOS included
    finished: bool = True


def allowed_logits(logits: torch.Tensor, cfg) -> torch.Tensor:
    """Float logits with padding and BOS ruled out: they are never output, and a model that
    still favours them (untrained, or damaged) must not produce an empty formula that way."""
    logits = logits.float().clone()
    logits[:, [cfg.pad_id, cfg.bos_id]] = float("-inf")
    return logits


def _ruled_out(model: Im2Latex, device) -> torch.Tensor:
    """Added to the logits: -inf for padding and BOS (see ``allowed_logits``)."""
    bias = torch.zeros(model.cfg.vocab_size, device=device)
    bias[[model.cfg.pad_id, model.cfg.bos_id]] = float("-inf")
    return bias


@contextlib.contextmanager
def one_cpu_thread(device: torch.device):
    """The token loop on one CPU thread. A step is ~40 operations on vectors of a few hundred
    numbers; split over threads, each of them costs a wake-up of the other threads, which
    sleep between operations (OMP_WAIT_POLICY=PASSIVE, see core/device.py). Measured with
    benchmarks/latency.py on 2 quiet cores: greedy median 115 ms with 2 threads, 51 ms with
    one. The encoder (convolutions over the whole image) keeps every configured thread."""
    threads = torch.get_num_threads()
    if device.type != "cpu" or threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@torch.inference_mode()
def greedy(
    model: Im2Latex, images: torch.Tensor, sizes: torch.Tensor, max_len: int | None = None
) -> list[Hypothesis]:
    """Batched greedy decoding. images (B, 1, H, W), sizes (B, 2) real heights and widths."""
    cfg = model.cfg
    max_len = min(max_len or cfg.max_len, cfg.max_len)
    _, mask, cross = model.encode(images, sizes)
    b = images.shape[0]
    state = model.start_decoding(cross, mask, b)
    ruled_out = _ruled_out(model, images.device)
    tok = torch.full((b,), cfg.bos_id, dtype=torch.long, device=images.device)
    done = torch.zeros(b, dtype=torch.bool, device=images.device)
    step_ids, step_p = [], []
    with one_cpu_thread(images.device):
        for _ in range(max_len - 1):
            logits = state.step(tok).float() + ruled_out
            p, nxt = logits.softmax(-1).max(-1)
            step_ids.append(nxt.masked_fill(done, cfg.pad_id))
            step_p.append(p.masked_fill(done, 1.0))
            done = done | (nxt == cfg.eos_id)
            if bool(done.all()):
                break
            tok = nxt
    out_ids = torch.stack(step_ids, 1)
    out_p = torch.stack(step_p, 1)
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
        with one_cpu_thread(images.device):
            hyps = _beam_one(model, cross_i, mask_i, beam, max_len, n_best or beam, length_penalty)
        results.append(hyps)
    return results


def _beam_one(model, cross, mask, beam, max_len, n_best, alpha) -> list[Hypothesis]:
    cfg = model.cfg
    device = cross[0][0].device
    max_len = min(max_len or cfg.max_len, cfg.max_len)
    state = model.start_decoding(cross, mask, 1)
    ruled_out = _ruled_out(model, device)
    seqs = [[]]  # token ids per live beam
    probs: list[list[float]] = [[]]
    scores = torch.zeros(1, device=device)
    tok = torch.full((1,), cfg.bos_id, dtype=torch.long, device=device)
    finished: list[Hypothesis] = []

    def penalty(n: int) -> float:
        return ((5 + n) / 6) ** alpha

    for step in range(max_len - 1):
        logits = state.step(tok).float() + ruled_out
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
        state.reorder(torch.tensor(parents, device=device))
        seqs, probs = new_seqs, new_probs
        scores = torch.tensor(new_scores, device=device)
        tok = torch.tensor(next_tok, device=device)
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

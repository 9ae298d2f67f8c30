"""The one Python API every front end uses: ``Recognizer.from_pretrained(path).recognize(img)``.

Not thread-safe: a Recognizer belongs to one thread (the GUI's model worker, the server's
queue). Front ends serialize requests in front of it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from pathlib import Path

import numpy as np
import torch

from core.checkpoint import LoadedModel, load_model
from core.decoding import Hypothesis, beam_search
from core.device import select_device
from core.errors import BlankImage, TeXSnapError
from core.imageio import ImageSource
from core.paths import resources_dir
from core.preprocess import candidates
from core.result import Alternative, Result

MAX_BEAM = 10


def default_model_dir() -> Path:
    return Path(os.environ.get("TEXSNAP_MODEL") or resources_dir() / "models" / "base")


class Recognizer:
    def __init__(self, loaded: LoadedModel, device: torch.device, beam: int = 1, path=None):
        self.loaded = loaded
        self.device = device
        self.beam = beam
        # read at the extra glyph sizes of the model's config (the default of every call)
        self.all_sizes = True
        self.path = Path(path) if path else None
        self.max_len = loaded.model.cfg.max_len

    @classmethod
    def from_pretrained(
        cls, path: str | os.PathLike | None = None, device: str = "auto", beam: int = 1
    ) -> Recognizer:
        path = Path(path) if path else default_model_dir()
        dev = select_device(device)
        return cls(load_model(path, dev), dev, beam=beam, path=path)

    @property
    def info(self) -> dict:
        cfg = self.loaded.config
        return {
            "name": cfg.get("name", "model"),
            "version": cfg.get("version", cfg.get("created", "")),
            "created": cfg.get("created", ""),
            "metrics": cfg.get("metrics", {}),
            "parameters": sum(p.numel() for p in self.loaded.model.parameters()),
            "device": str(self.device),
            "path": str(self.path) if self.path else "",
        }

    def recognize(
        self,
        image: ImageSource,
        beam: int | None = None,
        alternatives: int = 3,
        all_sizes: bool | None = None,
    ) -> Result:
        """Read one image. Blank images give an empty result with ``empty_reason``;
        unreadable ones raise :class:`InvalidImage`. ``all_sizes`` False (default: the
        recognizer's :attr:`all_sizes`) reads it at the standard glyph size only: faster, less
        accurate (:meth:`candidates`)."""
        start = time.perf_counter()
        try:
            arrays = self.candidates(image, all_sizes)
        except BlankImage as exc:
            return Result("", 0.0, ms=_ms(start), empty_reason=str(exc))
        (hyps,) = self._read([arrays], beam, alternatives).values()
        return self._result(hyps, alternatives, _ms(start))

    def candidates(self, image: ImageSource, all_sizes: bool | None = None) -> list[np.ndarray]:
        """The inputs ``image`` is read from (:func:`preprocess.candidates` with this model's
        preprocessing); with ``all_sizes`` False (default: :attr:`all_sizes`), not at the extra
        glyph sizes of ``PreprocessConfig.also_read_at``."""
        cfg = self.loaded.preprocess
        if not (self.all_sizes if all_sizes is None else all_sizes):
            cfg = dataclasses.replace(cfg, also_read_at=())
        return candidates(image, cfg)

    def model_input(self, image: ImageSource, all_sizes: bool | None = None) -> np.ndarray:
        """The preprocessed input that :meth:`recognize`'s reading of ``image`` comes from
        (for the attention maps). Raises as :func:`preprocess.candidates` does."""
        arrays = self.candidates(image, all_sizes)
        if len(arrays) == 1:
            return arrays[0]
        readings = self._decode(arrays, 1, 0)  # greedy picks the input at any beam (_read)
        return arrays[_surest_index(readings)]

    def recognize_batch(
        self,
        images: list[ImageSource],
        beam: int | None = None,
        alternatives: int = 3,
        batch_size: int = 16,
        all_sizes: bool | None = None,
    ) -> list[Result | TeXSnapError]:
        """Read many images; an unreadable one yields its error in place, the rest go on.
        ``ms`` of each result is the batch's time shared out evenly."""
        out: list[Result | TeXSnapError | None] = [None] * len(images)
        inputs: dict[int, list[np.ndarray]] = {}
        start = time.perf_counter()
        for i, img in enumerate(images):
            try:
                inputs[i] = self.candidates(img, all_sizes)
            except BlankImage as exc:
                out[i] = Result("", 0.0, empty_reason=str(exc))
            except TeXSnapError as exc:
                out[i] = exc
        where = list(inputs)  # positions in ``images`` of the readable ones
        for i, hyps in self._read(list(inputs.values()), beam, alternatives, batch_size).items():
            out[where[i]] = self._result(hyps, alternatives, 0.0)
        each = _ms(start) / max(1, len(images))
        for r in out:
            if isinstance(r, Result):
                r.ms = each
        return out  # type: ignore[return-value]

    def _read(
        self, inputs: list[list[np.ndarray]], beam: int | None, n_alt: int, batch_size: int = 16
    ) -> dict[int, list[Hypothesis]]:
        """The reading of each image (by position in ``inputs``, its candidate inputs): the
        surest of its candidates' readings. Greedy reads every candidate; with a beam, greedy
        picks the candidate and only that one is read with the beam, so a wider beam costs
        what it costs on one input (3 glyph sizes: beam 5 in ~210 ms instead of ~310 on this
        project's 2-core box, docs/model/selection-rules.md)."""
        beam = self._beam(beam)
        # candidate order is kept, so that a tie goes to the standard input
        flat = [(i, k, a) for i, arrays in enumerate(inputs) for k, a in enumerate(arrays)]
        if beam == 1:
            read = self._decode_many(flat, 1, n_alt, batch_size)
            return {i: surest([read[i, k] for k in range(len(a))]) for i, a in enumerate(inputs)}
        several = [x for x in flat if len(inputs[x[0]]) > 1]
        greedy = self._decode_many(several, 1, 0, batch_size)
        chosen = []
        for i, arrays in enumerate(inputs):
            readings = [greedy[i, k] for k in range(len(arrays))] if len(arrays) > 1 else []
            k = _surest_index(readings) if readings else 0
            chosen.append((i, k, arrays[k]))
        read = self._decode_many(chosen, beam, n_alt, batch_size)
        return {i: read[i, k] for i, k, _ in chosen}

    def _decode_many(self, items, beam: int, n_alt: int, batch_size: int) -> dict:
        """Readings of (image, candidate, input) items, batched by similar widths (less
        padding, less wasted compute), keyed by (image, candidate)."""
        items = sorted(items, key=lambda x: x[2].shape[1])
        read = {}
        for b in range(0, len(items), batch_size):
            chunk = items[b : b + batch_size]
            hyps = self._decode([a for _, _, a in chunk], beam, n_alt)
            read.update({(i, k): h for (i, k, _), h in zip(chunk, hyps, strict=True)})
        return read

    def _beam(self, beam: int | None) -> int:
        return max(1, min(MAX_BEAM, int(beam or self.beam)))

    def _decode(self, arrays: list[np.ndarray], beam: int | None, n_alt: int):
        beam = self._beam(beam)
        images, sizes = batch_images(arrays, self.device)
        with torch.inference_mode():
            return beam_search(
                self.loaded.model, images, sizes, beam=beam, n_best=max(beam, n_alt + 1)
            )

    def _result(self, hyps: list[Hypothesis], n_alt: int, ms: float) -> Result:
        vocab = self.loaded.vocab
        best = hyps[0]
        tokens = vocab.decode_tokens(best.ids)
        kept, seen = [], {vocab.decode(best.ids)}
        for h in hyps[1:]:
            latex = vocab.decode(h.ids)
            if latex and latex not in seen and len(kept) < n_alt:
                seen.add(latex)
                kept.append((latex, h))
        confidence = self.confidence(best)
        shares = alternative_confidences(best, [h for _, h in kept], confidence)
        return Result(
            latex=vocab.decode(best.ids),
            confidence=confidence,
            alternatives=[
                Alternative(latex, c) for (latex, _), c in zip(kept, shares, strict=True)
            ],
            ms=ms,
            tokens=tokens,
            token_probs=best.probs,
        )

    def confidence(self, hyp: Hypothesis) -> float:
        """Calibrated probability that the whole formula is right (see ``texsnap eval``)."""
        return calibrated(hyp.logprob, hyp.finished, self.loaded.calibration)


def calibrated(logprob: float, finished: bool, scale: float) -> float:
    """A reading's confidence: ``exp(scale * logprob)``, 0 for a reading cut off unfinished
    (``training/calibrate.py`` fits ``scale``)."""
    return float(math.exp(scale * logprob)) if finished else 0.0


def alternative_confidences(
    best: Hypothesis, alternatives: list[Hypothesis], confidence: float
) -> list[float]:
    """Confidences of the alternatives to ``best`` (whose own is ``confidence``): the model's
    odds of each against ``best``, times ``confidence``, scaled down where they would add up to
    more than 1 with it, since at most one of the readings is right. Calibration fits the
    confidence of the best reading only; this keeps the alternatives in the model's order and
    proportions, and without calibration (scale 1) it is each one's own probability."""
    if not best.finished:  # nothing to compare with: each reading's own probability
        return [calibrated(h.logprob, h.finished, 1.0) for h in alternatives]
    odds = [math.exp(h.logprob - best.logprob) if h.finished else 0.0 for h in alternatives]
    total = sum(odds)
    factor = confidence if total == 0 else min(confidence, (1.0 - confidence) / total)
    return [o * factor for o in odds]


def fluency(hyp: Hypothesis) -> float:
    """How fluently the model reads ``hyp``: its mean log-probability per token (end token
    included), -inf for a reading cut off unfinished. Per token, because a longer reading is
    not a worse one."""
    return hyp.logprob / (len(hyp.ids) + 1) if hyp.finished else -math.inf


def surest(readings: list[list[Hypothesis]]) -> list[Hypothesis]:
    """Of one image's readings (one list of hypotheses per candidate input, best first), the
    one whose best hypothesis is the most :func:`fluency`: the candidate the model reads most
    fluently. The first wins a tie."""
    return max(readings, key=lambda hyps: fluency(hyps[0]))


def _surest_index(readings: list[list[Hypothesis]]) -> int:
    best = surest(readings)
    return next(k for k, r in enumerate(readings) if r is best)


def batch_images(arrays: list[np.ndarray], device) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad ink maps to one tensor (B, 1, H, W) and return their real sizes (B, 2)."""
    h = max(a.shape[0] for a in arrays)
    w = max(a.shape[1] for a in arrays)
    batch = np.zeros((len(arrays), 1, h, w), np.float32)
    for i, a in enumerate(arrays):
        batch[i, 0, : a.shape[0], : a.shape[1]] = a
    sizes = torch.tensor([a.shape for a in arrays], dtype=torch.long)
    return torch.from_numpy(batch).to(device), sizes.to(device)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0

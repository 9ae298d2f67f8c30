"""Deterministic batches of similar-sized images under a pixel budget.

The plan for an epoch is a pure function of (seed, epoch), and augmentation randomness of
(seed, epoch, batch, position), so a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from core.preprocess import PreprocessConfig
from core.recognizer import batch_images
from core.vocab import Vocab
from training.data.augment import jitter_ink
from training.data.shards import Shard


class TrainData:
    def __init__(
        self,
        shard: Shard,
        vocab: Vocab,
        max_len: int,
        crohme_weight: float = 1.0,
        bucket: int = 0,
        crohme_share: float = 0.0,
    ):
        self.shard = shard
        # >0: batches padded to multiples of this many pixels, so a GPU sees few distinct
        # shapes (cuDNN builds a plan per new input shape, ~1 ms per convolution)
        self.bucket = bucket
        self.vocab = vocab
        self.ids: list[list[int]] = []
        keep = []
        for i, label in enumerate(shard.labels):
            ids = vocab.encode(label)[1:-1]  # collate adds BOS/EOS (the decoder's framing)
            if 0 < len(ids) <= max_len - 2:
                keep.append(i)
            self.ids.append(ids)
        self.keep = keep
        self.crohme_weight = self._weight_for_share(crohme_share) if crohme_share else crohme_weight
        self.cfg = PreprocessConfig()
        # per source: how strongly to bend its images (distort_ink); fine-tuning sets "user"
        self.distort: dict[str, float] = {}
        # per source: the chance a sample is seen at low resolution (augment.low_resolution)
        self.low_res: dict[str, float] = {}
        # per source: draws per sample and epoch, overriding the CROHME weight (fine-tuning
        # spreads its replay draws over a larger pool of printed formulas)
        self.weights: dict[str, float] = {}

    def _weight_for_share(self, share: float) -> float:
        """How often to draw a CROHME sample for CROHME to make ``share`` of an epoch's draws.

        A GPU run adds rendered shards at every epoch (grow_shards) while CROHME stays the
        same, so a fixed weight let CROHME fall from 67 % of the first epoch's draws to 9.5 %
        of the last, and the model fell 17 points on the CROHME dev slice (run (11) in
        MODEL.md). A share holds. Below 1 a sample is drawn with that probability."""
        n_crohme = self.samples_per_source().get("crohme", 0)
        n_other = len(self.keep) - n_crohme
        if not n_crohme or not n_other:
            return 1.0  # one kind only: nothing to balance
        return share / (1 - share) * n_other / n_crohme

    def samples_per_source(self) -> dict[str, int]:
        """How many kept samples each source (printed, handwritten, crohme) has."""
        counts: dict[str, int] = {}
        for i in self.keep:
            src = self.shard.sources[i]
            counts[src] = counts.get(src, 0) + 1
        return counts

    def epoch_plan(
        self, seed: int, epoch: int, batch_pixels: int, max_batch: int
    ) -> list[list[int]]:
        rng = random.Random(f"plan/{seed}/{epoch}")
        idx = []
        for i in self.keep:
            src = self.shard.sources[i]
            w = self.weights.get(src, self.crohme_weight if src == "crohme" else 1.0)
            idx.extend([i] * int(w) + ([i] if rng.random() < w - int(w) else []))
        rng.shuffle(idx)
        shapes = self.shard.shapes
        batches = []
        chunk = max_batch * 50
        for c in range(0, len(idx), chunk):
            part = sorted(idx[c : c + chunk], key=lambda i: self._shape_key(shapes[i]))
            cur, mh, mw = [], 0, 0
            for i in part:
                h, w = self.padded_shape(i)
                nh, nw = max(mh, h), max(mw, w)
                if cur and (len(cur) >= max_batch or nh * nw * (len(cur) + 1) > batch_pixels):
                    batches.append(cur)
                    cur, nh, nw = [], h, w
                cur.append(i)
                mh, mw = nh, nw
            if cur:
                batches.append(cur)
        rng.shuffle(batches)
        return batches

    def _shape_key(self, shape) -> tuple[int, int]:
        """Packing order: by width (least padding), or by padded (height, width) when
        bucketing, so that most batches of a bucket are full and share one shape."""
        h, w = int(shape[0]), int(shape[1])
        return (self._padded(h), self._padded(w)) if self.bucket else (w, h)

    def _padded(self, n: int) -> int:
        return -(-n // self.bucket) * self.bucket if self.bucket else n

    def padded_shape(self, i: int) -> tuple[int, int]:
        """Sample ``i``'s (height, width) as the batch planner counts it: its stored size
        rounded up to the shape bucket."""
        h, w = self.shard.shapes[i]
        return self._padded(int(h)), self._padded(int(w))

    def batch_shape(self, batch: list[int]) -> tuple[int, int]:
        """The planned (height, width) of a batch: what the planner budgets its pixels by."""
        shapes = [self.padded_shape(i) for i in batch]
        return max(h for h, _ in shapes), max(w for _, w in shapes)

    def collate(self, indices: list[int], rng_key: str | None, pad_id: int, bos: int, eos: int):
        """(images (B,1,H,W), sizes (B,2), inputs (B,T), targets (B,T)); rng_key None = no jitter."""
        arrays = []
        for pos, i in enumerate(indices):
            ink = self.shard.image(i)
            if rng_key is None:
                arrays.append(ink.astype(np.float32) / 255.0)
            else:
                rng = random.Random(f"{rng_key}/{pos}")
                source = self.shard.sources[i]
                strength = 1.0 if source == "crohme" else 0.6
                bend = self.distort.get(source, 0.0)
                low = self.low_res.get(source, 0.0)
                arrays.append(jitter_ink(ink, rng, self.cfg, strength, bend, low))
        images, sizes = batch_images(arrays, "cpu")
        if self.bucket:
            h, w = images.shape[-2:]
            images = torch.nn.functional.pad(
                images, (0, self._padded(w) - w, 0, self._padded(h) - h)
            )
        seqs = [[bos, *self.ids[i], eos] for i in indices]
        t = max(len(s) for s in seqs) - 1
        inputs = torch.full((len(seqs), t), pad_id, dtype=torch.long)
        targets = torch.full((len(seqs), t), pad_id, dtype=torch.long)
        for k, s in enumerate(seqs):
            inputs[k, : len(s) - 1] = torch.tensor(s[:-1])
            targets[k, : len(s) - 1] = torch.tensor(s[1:])
        return images, sizes, inputs, targets

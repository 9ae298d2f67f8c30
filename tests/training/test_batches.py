"""What the decoder is taught must match how it is run: one BOS, the tokens, one EOS."""

from __future__ import annotations

import numpy as np

from core.vocab import BOS, EOS, PAD, Vocab
from training.batches import TrainData
from training.data.shards import Shard


def _data(labels):
    img = np.full((32, 48), 200, np.uint8)
    shard = Shard(
        np.concatenate([img.ravel()] * len(labels)),
        np.arange(len(labels), dtype=np.int64) * img.size,
        np.array([img.shape] * len(labels), np.int32),
        list(labels),
        ["printed"] * len(labels),
    )
    return TrainData(shard, Vocab.build(labels, min_count=1), max_len=32)


def test_teacher_forcing_frames_each_label_with_one_bos_and_one_eos():
    data = _data(["x^{2}", "a+b+c"])
    _, _, inputs, targets = data.collate([0, 1], None, PAD, BOS, EOS)
    for k, label in enumerate(["x^{2}", "a+b+c"]):
        tokens = data.vocab.encode(label)[1:-1]
        n = len(tokens)
        assert inputs[k, 0] == BOS and BOS not in inputs[k, 1:].tolist()
        assert inputs[k, 1 : n + 1].tolist() == tokens
        assert targets[k, :n].tolist() == tokens
        assert targets[k, n] == EOS
        assert set(targets[k, n + 1 :].tolist()) <= {PAD}

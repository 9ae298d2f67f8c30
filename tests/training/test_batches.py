"""Batches: framing of the labels (one BOS, the tokens, one EOS) and how often each source is drawn."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import SettingsError
from core.vocab import BOS, EOS, PAD, Vocab
from training.batches import TrainData
from training.config import load_config
from training.data.shards import Shard


def _data(labels, sources=None, **kwargs):
    img = np.full((32, 48), 200, np.uint8)
    shard = Shard(
        np.concatenate([img.ravel()] * len(labels)),
        np.arange(len(labels), dtype=np.int64) * img.size,
        np.array([img.shape] * len(labels), np.int32),
        list(labels),
        sources or ["printed"] * len(labels),
    )
    return TrainData(shard, Vocab.build(labels, min_count=1), max_len=32, **kwargs)


def _crohme_share_of_draws(data) -> float:
    drawn = [i for batch in data.epoch_plan(0, 0, 10**9, 64) for i in batch]
    return sum(data.shard.sources[i] == "crohme" for i in drawn) / len(drawn)


@pytest.mark.parametrize("n_printed", [40, 400])
def test_crohme_share_holds_however_many_rendered_samples_join(n_printed):
    """A GPU run adds rendered shards every epoch: the share keeps CROHME at 30 % of the draws
    while a fixed weight lets it shrink."""
    sources = ["crohme"] * 20 + ["printed"] * n_printed
    labels = ["x^{2}"] * len(sources)
    shared = _data(labels, sources, crohme_weight=2.0, crohme_share=0.3)
    assert abs(_crohme_share_of_draws(shared) - 0.3) < 0.03
    fixed = _data(labels, sources, crohme_weight=2.0)
    assert _crohme_share_of_draws(fixed) == pytest.approx(40 / (40 + n_printed))


def test_crohme_share_with_one_kind_of_data_draws_each_sample_once():
    data = _data(["x^{2}"] * 10, crohme_share=0.5)
    assert data.crohme_weight == 1.0
    assert sorted(i for b in data.epoch_plan(0, 0, 10**9, 64) for i in b) == list(range(10))


def test_a_source_weight_spreads_its_draws_over_a_larger_pool():
    """Fine-tuning's replay: 400 printed formulas drawn about 100 times a pass, next to 100
    corrections drawn once each."""
    sources = ["user"] * 100 + ["printed"] * 400
    data = _data(["x^{2}"] * len(sources), sources)
    data.weights = {"printed": 0.25}
    drawn = [i for epoch in range(4) for b in data.epoch_plan(0, epoch, 10**9, 64) for i in b]
    printed = [i for i in drawn if data.shard.sources[i] == "printed"]
    assert sum(data.shard.sources[i] == "user" for i in drawn) == 400
    assert abs(len(printed) - 400) < 60
    assert len(set(printed)) > 250  # many distinct formulas, not the same hundred


@pytest.mark.parametrize("share", ["1", "1.5", "-0.1", "nan"])
def test_a_crohme_share_outside_0_1_is_refused(share):
    with pytest.raises(SettingsError, match="crohme_share"):
        load_config(None, [f"crohme_share={share}"])


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


def _one_image_twice(img: np.ndarray, sources: list[str]) -> TrainData:
    """Training data of two samples with the same image, labelled "x" and "y"."""
    labels = ["x", "y"]
    shard = Shard(
        np.concatenate([img.ravel()] * 2),
        np.arange(2, dtype=np.int64) * img.size,
        np.array([img.shape] * 2, np.int32),
        labels,
        sources,
    )
    return TrainData(shard, Vocab.build(labels, min_count=1), max_len=32)


def test_distortion_bends_only_the_sources_it_names():
    img = np.zeros((32, 48), np.uint8)
    img[8:24, 10:38] = 255
    plain, bent = (_one_image_twice(img, ["user", "printed"]) for _ in range(2))
    bent.distort = {"user": 1.0}
    for key in ("k0", "k1", "k2"):
        a = [plain.collate([i], key, PAD, BOS, EOS)[0] for i in (0, 1)]
        b = [bent.collate([i], key, PAD, BOS, EOS)[0] for i in (0, 1)]
        assert not (a[0].shape == b[0].shape and bool((a[0] == b[0]).all()))  # user: bent
        assert a[1].shape == b[1].shape and bool((a[1] == b[1]).all())  # printed: as before


def test_low_resolution_touches_only_the_sources_it_names():
    img = np.zeros((48, 96), np.uint8)
    img[12:36, 10:30] = 255
    img[12:36, 50:80] = 255
    plain, small = (_one_image_twice(img, ["latex", "crohme"]) for _ in range(2))
    small.low_res = {"latex": 1.0}
    changed = 0
    for key in ("k0", "k1", "k2", "k3"):
        a = [plain.collate([i], key, PAD, BOS, EOS)[0] for i in (0, 1)]
        b = [small.collate([i], key, PAD, BOS, EOS)[0] for i in (0, 1)]
        changed += not (a[0].shape == b[0].shape and bool((a[0] == b[0]).all()))
        assert a[1].shape == b[1].shape and bool((a[1] == b[1]).all())  # CROHME: as before
    assert changed == 4

"""Models on disk: safetensors + config.json, verified on load, never unpickled."""

from __future__ import annotations

import json
import pickle
import shutil

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from core.checkpoint import CONFIG, WEIGHTS, LoadedModel, load_model, save_model, sha256_file
from core.errors import ModelError
from core.model import Im2Latex, ModelConfig
from core.preprocess import PreprocessConfig
from core.vocab import Vocab


@pytest.fixture
def model_dir(random_model_dir, tmp_path):
    """A private copy of the random model that a test may damage."""
    return shutil.copytree(random_model_dir, tmp_path / "model")


def edit_config(directory, **changes):
    path = directory / CONFIG
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


def rewrite_weights(directory, state: dict) -> None:
    """Replace the weights and fix the checksum, as a careless tool would."""
    save_file(state, str(directory / WEIGHTS))
    edit_config(directory, sha256=sha256_file(directory / WEIGHTS))


def test_round_trip_keeps_the_model(tmp_path):
    torch.manual_seed(1)
    vocab = Vocab.build([])
    cfg = ModelConfig(
        vocab_size=len(vocab),
        d_model=32,
        n_heads=2,
        n_layers=1,
        d_ff=64,
        enc_channels=(8, 8, 16, 16),
        enc_blocks=(1, 1, 1, 1),
        max_len=16,
    )
    model = Im2Latex(cfg).eval()
    pre = PreprocessConfig(target_glyph=18.0)
    save_model(tmp_path / "m", model, vocab, pre, meta={"version": "1.2", "metrics": {"em": 0.5}})

    with safe_open(str(tmp_path / "m" / WEIGHTS), "pt") as f:  # stored in fp16
        keys = list(f.keys())
        assert f.get_tensor("embed.weight").dtype == torch.float16
    assert "head.weight" not in keys  # tied to the embedding, not stored twice

    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, LoadedModel)
    assert loaded.vocab.tokens == vocab.tokens
    assert loaded.preprocess == pre
    assert loaded.model.cfg == cfg
    assert loaded.config["version"] == "1.2" and loaded.config["metrics"] == {"em": 0.5}
    assert loaded.config["name"] == "m" and loaded.config["dtype"] == "float16"
    assert not loaded.model.training
    assert loaded.model.head.weight is loaded.model.embed.weight  # still tied

    images = torch.rand(1, 1, 32, 64)
    tokens = torch.tensor([[1, 5, 6]])
    with torch.no_grad():
        want, _ = model(images, tokens)
        got, _ = loaded.model(images, tokens)
    assert torch.allclose(want, got, atol=0.05)  # fp16 storage: close, not equal
    for name, t in model.state_dict().items():
        got_t = loaded.model.state_dict()[name].float()
        assert torch.allclose(t.float(), got_t, atol=1e-3, rtol=1e-3)


def test_fp32_storage_is_exact(tmp_path, random_model_dir):
    model = load_model(random_model_dir)
    save_model(tmp_path / "m", model.model, model.vocab, model.preprocess, dtype=torch.float32)
    again = load_model(tmp_path / "m")
    for name, t in model.model.state_dict().items():
        assert torch.equal(t, again.model.state_dict()[name])


def test_save_leaves_no_temporary_files(random_model_dir):
    assert sorted(p.name for p in random_model_dir.iterdir()) == [CONFIG, WEIGHTS]


def test_checksum_mismatch_is_a_clear_error(model_dir):
    data = bytearray((model_dir / WEIGHTS).read_bytes())
    data[-10] ^= 0xFF  # one flipped bit in a weight
    (model_dir / WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged.*checksum mismatch.*Reinstall"):
        load_model(model_dir)


def test_truncated_weights_are_a_clear_error(model_dir):
    data = (model_dir / WEIGHTS).read_bytes()
    (model_dir / WEIGHTS).write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="checksum"):
        load_model(model_dir)


def test_missing_directory_config_and_weights(model_dir, tmp_path):
    with pytest.raises(ModelError, match="config.json is missing"):
        load_model(tmp_path / "nowhere")
    (model_dir / WEIGHTS).unlink()
    with pytest.raises(ModelError, match="no weights file"):
        load_model(model_dir)
    (model_dir / CONFIG).unlink()
    with pytest.raises(ModelError, match="config.json is missing"):
        load_model(model_dir)


@pytest.mark.parametrize(
    "text,words",
    [
        ("{not json", "damaged"),
        ("", "damaged"),
        ("[1, 2, 3]", "does not hold a TeXSnap model"),
        ('{"format": "something-else/9"}', "does not hold a TeXSnap model"),
        (b"\xff\xfe\x00garbage", "damaged"),
    ],
)
def test_malformed_config_json(model_dir, text, words):
    path = model_dir / CONFIG
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ModelError, match=words):
        load_model(model_dir)


@pytest.mark.parametrize(
    "changes",
    [
        {"architecture": None},
        {"architecture": [1, 2]},
        {"architecture": {"d_model": "wide"}},
        {"architecture": {"n_layers": -1}},
        {"vocabulary": 42},
        {"preprocess": "default"},
    ],
    ids=["null-arch", "list-arch", "string-size", "negative", "vocab-int", "preprocess-str"],
)
def test_nonsense_in_config_is_a_model_error(model_dir, changes):
    edit_config(model_dir, **changes)
    with pytest.raises(ModelError, match="cannot be read|does not match"):
        load_model(model_dir)


def test_missing_config_keys_are_a_model_error(model_dir):
    config = json.loads((model_dir / CONFIG).read_text())
    del config["architecture"]
    (model_dir / CONFIG).write_text(json.dumps(config))
    with pytest.raises(ModelError, match="cannot be read"):
        load_model(model_dir)


def test_pickle_disguised_as_weights_is_refused_and_never_unpickled(model_dir, tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):  # what an attacker's pickle does when loaded
            return (open, (str(marker), "w"))

    (model_dir / WEIGHTS).write_bytes(pickle.dumps({"embed.weight": Payload()}))
    with pytest.raises(ModelError, match="checksum"):
        load_model(model_dir)
    # even with a matching checksum it is not a safetensors file, so it is never unpickled
    edit_config(model_dir, sha256=sha256_file(model_dir / WEIGHTS))
    with pytest.raises(ModelError, match="cannot be read"):
        load_model(model_dir)
    assert not marker.exists()


def test_torch_save_file_is_refused(model_dir, random_model_dir):
    torch.save(load_file(str(random_model_dir / WEIGHTS)), model_dir / WEIGHTS)
    edit_config(model_dir, sha256=sha256_file(model_dir / WEIGHTS))
    with pytest.raises(ModelError, match="cannot be read"):
        load_model(model_dir)


def test_wrong_tensor_shapes_are_a_model_error(model_dir):
    state = load_file(str(model_dir / WEIGHTS))
    state["pos.weight"] = torch.zeros(3, 3, dtype=torch.float16)
    rewrite_weights(model_dir, state)
    with pytest.raises(ModelError, match="does not match its config"):
        load_model(model_dir)


def test_architecture_that_disagrees_with_the_weights(model_dir):
    config = json.loads((model_dir / CONFIG).read_text())
    edit_config(model_dir, architecture={**config["architecture"], "d_model": 96})
    with pytest.raises(ModelError, match="does not match its config"):
        load_model(model_dir)


@pytest.mark.parametrize("key,value", [("d_ff", 10**9), ("vocab_size", 10**8), ("max_len", 10**8)])
def test_absurd_sizes_in_config_are_refused_before_allocating(model_dir, key, value):
    config = json.loads((model_dir / CONFIG).read_text())
    edit_config(model_dir, architecture={**config["architecture"], key: value})
    with pytest.raises(ModelError, match="does not match its config"):
        load_model(model_dir)


@pytest.mark.parametrize("drop", ["embed.weight", "norm.weight"])
def test_missing_tensors_are_a_model_error(model_dir, drop):
    state = load_file(str(model_dir / WEIGHTS))
    del state[drop]
    rewrite_weights(model_dir, state)
    with pytest.raises(ModelError, match="does not match its config"):
        load_model(model_dir)


def test_extra_tensors_are_a_model_error(model_dir):
    state = load_file(str(model_dir / WEIGHTS))
    state["backdoor.weight"] = torch.zeros(2)
    rewrite_weights(model_dir, state)
    with pytest.raises(ModelError, match="does not match its config"):
        load_model(model_dir)


@pytest.mark.parametrize(
    "value,scale",
    [(None, 1.0), ({"scale": 0.7}, 0.7), ({"scale": -2}, 1.0), ({"scale": "x"}, 1.0), (3, 1.0)],
)
def test_calibration_scale_is_read_defensively(random_model_dir, value, scale):
    loaded = load_model(random_model_dir)
    loaded.config = {**loaded.config, "calibration": value}
    assert loaded.calibration == scale

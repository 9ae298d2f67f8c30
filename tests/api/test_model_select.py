"""core.model_select: a damaged user model falls back to the bundled base model."""

import shutil

import pytest

from core.errors import ModelError
from core.model_select import open_recognizer


@pytest.fixture
def base_and_user(random_model_dir, tmp_path, monkeypatch):
    base = tmp_path / "base"
    user = tmp_path / "user"
    shutil.copytree(random_model_dir, base)
    shutil.copytree(random_model_dir, user)
    monkeypatch.setenv("TEXSNAP_MODEL", str(base))  # stands in for resources/models/base
    return base, user


def damage(model_dir):
    weights = model_dir / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))


def test_good_user_model_is_used(base_and_user):
    base, user = base_and_user
    rec, notice = open_recognizer(user, device="cpu")
    assert notice is None and rec.path == user


def test_default_is_base(base_and_user):
    base, _ = base_and_user
    rec, notice = open_recognizer(None, device="cpu")
    assert notice is None and rec.path == base


@pytest.mark.parametrize(
    "breakage, words",
    [
        (damage, "checksum"),
        (lambda d: (d / "config.json").write_text("{broken"), "damaged"),
        (lambda d: (d / "model.safetensors").unlink(), "no weights"),
        (lambda d: shutil.rmtree(d), "missing"),
    ],
)
def test_damaged_user_model_falls_back_with_notice(base_and_user, breakage, words, caplog):
    base, user = base_and_user
    breakage(user)
    rec, notice = open_recognizer(user, device="cpu")
    assert rec.path == base
    assert words in notice and "bundled base model" in notice
    assert "falling back" in caplog.text


def test_damaged_base_is_an_error(base_and_user):
    base, user = base_and_user
    damage(user)
    damage(base)
    with pytest.raises(ModelError, match="cannot be loaded either"):
        open_recognizer(user, device="cpu")
    with pytest.raises(ModelError, match="checksum"):
        open_recognizer(None, device="cpu")


def test_device_errors_are_not_hidden(base_and_user):
    _, user = base_and_user
    with pytest.raises(ModelError, match="Unknown device"):
        open_recognizer(user, device="tpu")

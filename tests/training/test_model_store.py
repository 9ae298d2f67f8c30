"""Model versions: list, switch, roll back, delete, export and import (verified, no pickle)."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest

from core import paths
from core.errors import ModelError
from core.settings import load_settings
from training import model_store


@pytest.fixture
def base(random_model_dir, monkeypatch):
    monkeypatch.setenv("TEXSNAP_MODEL", str(random_model_dir))
    return random_model_dir


def add_version(src, name: str, samples: int = 12, created: str = "2026-11-25T07:00:00+00:00"):
    """A user model folder that looks like a fine-tune (config edited, weights untouched)."""
    dest = paths.user_models_dir() / name
    shutil.copytree(src, dest)
    cfg = json.loads((dest / "config.json").read_text())
    cfg.update(
        name=name,
        created=created,
        training={"kind": "finetune", "samples": samples, "recommended": True},
        metrics={
            "finetune": {
                "after": {"user": {"exact_match": 0.5}, "regression": {"exact_match": 0.9}}
            }
        },
    )
    (dest / "config.json").write_text(json.dumps(cfg))
    return dest


def test_list_shows_base_first_then_newest_with_data_size_and_metrics(base):
    add_version(base, "older", created="2026-11-20T07:00:00+00:00")
    add_version(base, "newer", samples=40)
    (paths.user_models_dir() / ".staging-half").mkdir()  # an interrupted save is not listed
    versions = model_store.list_versions()
    assert [v.name for v in versions] == ["base", "newer", "older"]
    assert versions[0].active and versions[0].is_base and versions[0].samples is None
    assert versions[1].samples == 40 and "40 corrections" in versions[1].summary()
    assert "yours 50%, printed 90%" in versions[1].summary()


def test_use_and_rollback_change_the_settings(base):
    add_version(base, "mine")
    assert model_store.use("mine").model == "mine"
    assert load_settings()[0].model == "mine"
    assert [v.name for v in model_store.list_versions() if v.active] == ["mine"]
    assert model_store.rollback().model == "base"
    assert load_settings()[0].model == "base"


def test_a_damaged_model_cannot_be_switched_to(base):
    dest = add_version(base, "broken")
    (dest / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="damaged"):
        model_store.use("broken")
    assert load_settings()[0].model == "base"
    listed = {v.name: v for v in model_store.list_versions()}
    assert "broken" in listed  # still listed, so the user can delete it


def test_delete_refuses_base_and_the_model_in_use(base):
    add_version(base, "mine")
    with pytest.raises(ModelError, match="cannot be deleted"):
        model_store.delete("base")
    model_store.use("mine")
    with pytest.raises(ModelError, match="in use"):
        model_store.delete("mine")
    model_store.rollback()
    model_store.delete("mine")
    assert [v.name for v in model_store.list_versions()] == ["base"]
    with pytest.raises(ModelError, match="no model"):
        model_store.delete("mine")


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "", "x" * 80])
def test_bad_names_are_refused(base, name):
    with pytest.raises(ModelError, match="not a valid model name"):
        model_store.model_dir(name)


def test_export_then_import_round_trip(base, tmp_path):
    add_version(base, "mine")
    zip_path = model_store.export_zip("mine", tmp_path / "out" / "mine.zip")
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
    assert {"config.json", "model.safetensors"} <= names <= {*model_store.MODEL_FILES}
    name = model_store.import_model(zip_path)
    assert name == "mine-2"  # never overwrites an existing version
    assert model_store.use(name).model == "mine-2"
    assert model_store.import_model(base, name="from-folder") == "from-folder"


def test_import_refuses_what_is_not_a_model(base, tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("config.json", "{}")
    with pytest.raises(ModelError, match="needs model.safetensors"):
        model_store.import_model(bad)
    not_zip = tmp_path / "model.zip"
    not_zip.write_bytes(b"PK but not really")
    with pytest.raises(ModelError, match="cannot be read"):
        model_store.import_model(not_zip)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as zf:
        zf.write(base / "config.json", "config.json")
        zf.writestr("model.safetensors", b"\x00" * 64)
    with pytest.raises(ModelError):
        model_store.import_model(tampered)
    assert [p.name for p in paths.user_models_dir().iterdir()] == []  # nothing left behind


def test_new_version_names_are_unique(base):
    first = model_store.new_version_name()
    (paths.user_models_dir() / first).mkdir()
    assert model_store.new_version_name() != first

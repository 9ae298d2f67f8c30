"""core.paths: platformdirs defaults, environment overrides, directories made on demand."""

from pathlib import Path

import pytest

from core import paths


@pytest.fixture
def overrides(tmp_path, monkeypatch):
    """Point all three roots at fresh (not yet existing) folders under tmp_path."""
    roots = {
        "data": tmp_path / "d" / "data",
        "config": tmp_path / "c" / "config",
        "cache": tmp_path / "k" / "cache",
    }
    monkeypatch.setenv(paths.DATA_ENV, str(roots["data"]))
    monkeypatch.setenv(paths.CONFIG_ENV, str(roots["config"]))
    monkeypatch.setenv(paths.CACHE_ENV, str(roots["cache"]))
    return roots


def test_env_overrides_are_used_and_created(overrides):
    assert paths.data_dir() == overrides["data"]
    assert paths.config_dir() == overrides["config"]
    assert paths.cache_dir() == overrides["cache"]
    for root in overrides.values():
        assert root.is_dir()


def test_derived_paths(overrides):
    assert paths.user_models_dir() == overrides["data"] / "models"
    assert paths.user_models_dir().is_dir()
    assert paths.settings_path() == overrides["config"] / "settings.json"
    assert paths.database_path() == overrides["data"] / "texsnap.sqlite3"
    # the files themselves are not created, only their folders
    assert not paths.settings_path().exists()
    assert not paths.database_path().exists()


def test_ensure_false_creates_nothing(overrides):
    assert paths.data_dir(ensure=False) == overrides["data"]
    assert paths.user_models_dir(ensure=False) == overrides["data"] / "models"
    assert paths.settings_path(ensure=False).parent == overrides["config"]
    assert paths.cache_dir(ensure=False) == overrides["cache"]
    assert not any(root.exists() for root in overrides.values())


def test_defaults_come_from_platformdirs(monkeypatch, tmp_path):
    for var in (paths.DATA_ENV, paths.CONFIG_ENV, paths.CACHE_ENV):
        monkeypatch.delenv(var, raising=False)
    # keep the real home untouched: XDG variables steer platformdirs on Linux
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    import platformdirs

    assert paths.data_dir(ensure=False) == Path(platformdirs.user_data_dir("TeXSnap", False))
    assert paths.config_dir(ensure=False) == Path(platformdirs.user_config_dir("TeXSnap", False))
    assert paths.cache_dir(ensure=False) == Path(platformdirs.user_cache_dir("TeXSnap", False))
    assert "TeXSnap" in paths.data_dir(ensure=False).parts


def test_blank_override_falls_back_to_default(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.DATA_ENV, "   ")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.data_dir(ensure=False).name == "TeXSnap"


def test_relative_override_is_made_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(paths.CACHE_ENV, "rel/cache")
    assert paths.cache_dir() == tmp_path / "rel" / "cache"
    assert paths.cache_dir().is_absolute()

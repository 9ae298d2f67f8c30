"""Where TeXSnap keeps its files on this machine.

Every per-user location comes from here so that nothing is ever written next to the
executable (which may be read-only, or shared by several users) and so that tests, portable
installs and power users can redirect each location with an environment variable:

=======================  ==========================================
``TEXSNAP_DATA_DIR``     history database, user models (``data_dir``)
``TEXSNAP_CONFIG_DIR``   ``settings.json`` (``config_dir``)
``TEXSNAP_CACHE_DIR``    throw-away caches (``cache_dir``)
=======================  ==========================================

Directories are created on demand (``ensure=True``) because a first run starts with none of
them, and every caller would otherwise repeat the same ``mkdir``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "TeXSnap"

DATA_ENV = "TEXSNAP_DATA_DIR"
CONFIG_ENV = "TEXSNAP_CONFIG_DIR"
CACHE_ENV = "TEXSNAP_CACHE_DIR"

SETTINGS_FILE = "settings.json"
DATABASE_FILE = "texsnap.sqlite3"
MODELS_DIR = "models"


def _resolve(env_var: str, default: str, ensure: bool) -> Path:
    """Return the override from ``env_var`` when set (and not blank), else ``default``."""
    override = os.environ.get(env_var, "").strip()
    path = Path(override).expanduser() if override else Path(default)
    path = path.absolute()
    if ensure:
        path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir(ensure: bool = True) -> Path:
    """Per-user data (history database, fine-tuned models): worth backing up."""
    default = platformdirs.user_data_dir(APP_NAME, appauthor=False)
    return _resolve(DATA_ENV, default, ensure)


def config_dir(ensure: bool = True) -> Path:
    """Per-user configuration (``settings.json``)."""
    default = platformdirs.user_config_dir(APP_NAME, appauthor=False)
    return _resolve(CONFIG_ENV, default, ensure)


def cache_dir(ensure: bool = True) -> Path:
    """Per-user cache: anything here may be deleted at any time without loss."""
    default = platformdirs.user_cache_dir(APP_NAME, appauthor=False)
    return _resolve(CACHE_ENV, default, ensure)


def user_models_dir(ensure: bool = True) -> Path:
    """Models the user fine-tuned or installed (one sub-directory per model)."""
    path = data_dir(ensure) / MODELS_DIR
    if ensure:
        path.mkdir(parents=True, exist_ok=True)
    return path


def settings_path(ensure: bool = True) -> Path:
    """The settings file; its directory exists when ``ensure`` is true, the file may not."""
    return config_dir(ensure) / SETTINGS_FILE


def database_path(ensure: bool = True) -> Path:
    """The SQLite history database; its directory exists when ``ensure`` is true."""
    return data_dir(ensure) / DATABASE_FILE


def resources_dir() -> Path:
    """``resources/`` (bundled model, icons) of the source tree, or of a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    root = Path(bundle) if bundle else Path(__file__).resolve().parent.parent
    return root / "resources"

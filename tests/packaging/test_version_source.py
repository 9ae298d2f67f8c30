"""The version is written once, in core/__init__.py; everything else reads it from there."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib

from core import __version__
from installer import contents

ROOT = contents.ROOT


def test_version_is_a_release_number():
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_pyproject_reads_the_version_from_core():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "core.__version__"}


def test_installed_metadata_agrees():
    """After `pip install -e .`, the distribution's version is core's."""
    assert importlib.metadata.version("texsnap") == __version__


def test_installers_take_the_version_from_the_build():
    iss = (ROOT / "installer" / "windows" / "texsnap.iss").read_text(encoding="utf-8")
    assert "#define AppVersion" not in iss  # passed in: iscc /DAppVersion=...
    assert "AppVersion={#AppVersion}" in iss
    assert __version__ not in iss
    spec = (ROOT / "installer" / "texsnap.spec").read_text(encoding="utf-8")
    assert "from core import __version__" in spec and __version__ not in spec
    build = (ROOT / "installer" / "build.py").read_text(encoding="utf-8")
    assert 'f"/DAppVersion={__version__}"' in build


def test_bundle_extra_pins_pyinstaller():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (pin,) = project["project"]["optional-dependencies"]["bundle"]
    assert re.fullmatch(r"pyinstaller==\d+\.\d+\.\d+", pin)

"""What the PyInstaller spec puts in the bundle (installer/contents.py), checked without building."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from installer import contents

ROOT = contents.ROOT
SPEC = ROOT / "installer" / "texsnap.spec"


def _optional(node: ast.AST, parents: dict) -> bool:
    """Whether an import sits in a ``try`` that handles its absence (ImportError)."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
            for h in node.handlers
        ):
            return True
    return False


def required_imports() -> set[str]:
    """Module names the bundled code imports unconditionally (optional imports, in a
    ``try: ... except ImportError``, and developer scripts are left out)."""
    files = [ROOT / "main.py"]
    for package in contents.APP_PACKAGES:
        files += (ROOT / package).rglob("*.py")
    dev = {ROOT / (name.replace(".", "/") + ".py") for name in contents.DEV_MODULES}
    names = set()
    for path in set(files) - dev:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if _optional(node, parents):
                continue
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
    return names


def test_unused_qt_and_dev_modules_are_excluded():
    for name in (
        "PySide6.QtWebEngineCore",
        "PySide6.Qt3DCore",
        "PySide6.QtQuick",
        "PySide6.QtQml",
        "PySide6.QtMultimedia",
        "tensorboard",
        "pytest",
        "ruff",
        "tests",
    ):
        assert name in contents.EXCLUDES


def test_nothing_the_app_imports_is_excluded():
    """A new `from PySide6.QtCharts import ...` (say, in the training tab) must not be
    silently left out of the bundle: it fails here first."""
    excluded = set(contents.EXCLUDES)
    clashes = sorted(
        name
        for name in required_imports()
        if any(name == ex or name.startswith(ex + ".") for ex in excluded)
    )
    assert not clashes, f"excluded from the bundle but imported by the app: {clashes}"


def test_training_and_every_command_module_are_bundled():
    hidden = contents.hidden_imports()
    assert set(contents.command_modules()) <= set(hidden)
    assert "training.trainer" in hidden and "gui.main_window" in hidden
    assert not any(name.startswith("tests") for name in hidden)
    assert not set(contents.DEV_MODULES) & set(hidden)


def test_command_modules_are_read_from_main():
    import main

    assert contents.command_modules() == main.COMMAND_MODULES


def test_resources_and_package_data_travel(monkeypatch):
    monkeypatch.delenv(contents.BUNDLE_MODEL_ENV, raising=False)
    pairs = contents.data_files()
    dests = {(Path(src).name, dest) for src, dest in pairs}
    assert ("texsnap-256.png", "resources/icons") in dests
    assert ("base.toml", "training/configs") in dests  # the training tab's configs
    assert all(Path(src).is_file() for src, _ in pairs)
    assert not any(src.endswith(".py") for src, _ in pairs)


def test_bundle_model_comes_from_the_environment(monkeypatch, tmp_path):
    for name in ("config.json", "model.safetensors"):
        (tmp_path / name).write_bytes(b"{}")
    monkeypatch.setenv(contents.BUNDLE_MODEL_ENV, str(tmp_path))
    pairs = contents.data_files()
    model = {Path(src).name for src, dest in pairs if dest == "resources/models/base"}
    assert model == {"config.json", "model.safetensors"}


def test_bundle_model_without_config_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(contents.BUNDLE_MODEL_ENV, str(tmp_path))
    with pytest.raises(SystemExit, match="no config.json"):
        contents.data_files()


def test_resources_models_base_is_picked_up(tmp_path, monkeypatch):
    """Once the lead adds resources/models/base, the spec bundles it without any flag."""
    monkeypatch.delenv(contents.BUNDLE_MODEL_ENV, raising=False)
    base = tmp_path / "resources" / "models" / "base"
    base.mkdir(parents=True)
    (base / "config.json").write_text("{}")
    (base / "model.safetensors").write_bytes(b"x")
    for package in contents.APP_PACKAGES:
        (tmp_path / package).mkdir()
    pairs = contents.data_files(tmp_path)
    assert sorted(dest for _, dest in pairs) == ["resources/models/base"] * 2


def test_spec_wires_contents_into_pyinstaller():
    text = SPEC.read_text(encoding="utf-8")
    compile(text, str(SPEC), "exec")  # valid Python
    for needle in (
        "contents.EXCLUDES",
        "contents.hidden_imports",
        "contents.data_files",
        "contents.HOOKS_CONFIG",
        "contents.BINARY_PACKAGES",
        "copy_metadata",
        "BUNDLE(",
        "info_plist=contents.mac_info_plist",
        "rthook_texsnap.py",
    ):
        assert needle in text


def test_mac_info_plist_asks_for_screen_recording():
    from core import __version__

    plist = contents.mac_info_plist(__version__)
    assert "screen" in plist["NSScreenCaptureUsageDescription"].lower()
    assert plist["CFBundleShortVersionString"] == __version__
    assert plist["NSHighResolutionCapable"] is True


def test_license_metadata_skips_excluded_distributions():
    dists = contents.metadata_distributions()
    assert dists[0] == "texsnap"  # the About dialog walks the requirements from there
    assert "torch" in dists and "pyside6-essentials" in dists
    assert not {"tensorboard", "pytest", "ruff"} & set(dists)

"""Layering (docs/ARCHITECTURE.md): core/ and training/ never import Qt or gui/, and core/ never
imports training/. Checked two ways:

* statically, by parsing every file's imports (also those inside functions, which a plain
  import test never runs, and ``importlib.import_module("...")`` with a literal name);
* dynamically, by importing every module of core/ and training/ in a fresh interpreter and
  looking at ``sys.modules`` (catches a Qt import hidden behind a third-party package).

tests/api/test_layering.py adds the API's own rules (light imports of the server modules).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT = {"PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "shiboken2", "qtpy", "sip"}
FORBIDDEN = {
    "core": QT | {"gui", "training"},
    "training": QT | {"gui"},
}


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    package = package or module_name(path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x / from ..gui import y
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id == "__import__")
            )
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def violations(package: str) -> list[str]:
    bad = []
    for path in python_files(package):
        for line, name in imported_names(path):
            if name.split(".")[0] in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_import_anywhere_in_the_source(package):
    assert python_files(package), f"{package}/ has no Python files?"
    assert violations(package) == []


def test_the_static_check_sees_hidden_imports(tmp_path, monkeypatch):
    """The checker itself: lazy, relative and importlib imports are all found."""
    pkg = tmp_path / "core"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "sneaky.py").write_text(
        "import os\n"
        "def f():\n"
        "    from PySide6.QtCore import QObject\n"
        "def g():\n"
        "    import importlib\n"
        "    return importlib.import_module('gui.app')\n"
        "from ..training import trainer\n"
        "x = __import__('shiboken6')\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = sorted(v.split(" imports ")[1] for v in violations("core"))
    assert found == ["PySide6.QtCore", "gui.app", "shiboken6", "training"]


@pytest.mark.slow  # a fresh interpreter imports torch, matplotlib, fastapi...: ~5-20 s
def test_importing_every_core_and_training_module_loads_no_qt():
    modules = [module_name(p) for pkg in FORBIDDEN for p in python_files(pkg)]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"qt = {sorted(QT | {'gui'})!r}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in qt)\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**_env(), "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]


def _env() -> dict:
    import os

    # no QT_QPA_PLATFORM or display tricks: the point is that nothing asks for Qt at all
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

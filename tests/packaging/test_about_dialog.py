"""Help > About: version, model, the user's folders, bundled components and their licences."""

from __future__ import annotations

import email.message

import pytest

from core import __version__, paths
from gui.about_dialog import (
    AboutDialog,
    Component,
    bundled_components,
    install_help_menu,
    license_of,
    model_summary,
    requirement_closure,
)
from gui.qt import QMainWindow
from gui.worker import WorkerSignals


def meta(**fields) -> email.message.Message:
    message = email.message.Message()
    for key, value in fields.items():
        if isinstance(value, list):
            for item in value:
                message[key.replace("_", "-")] = item
        else:
            message[key.replace("_", "-")] = value
    return message


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"License_Expression": "BSD-3-Clause", "License": "ignored"}, "BSD-3-Clause"),
        ({"License": "MIT"}, "MIT"),
        (
            {"License": "Copyright (c)\nlong text...", "Classifier": ["License :: OSI :: BSD"]},
            "BSD",
        ),
        ({"Classifier": ["Programming Language :: Python"]}, "see the package's licence file"),
    ],
)
def test_license_of(fields, expected):
    assert license_of(meta(**fields)) == expected


def test_requirement_closure_is_runtime_only():
    names = requirement_closure()
    assert {"torch", "pyside6-essentials", "numpy", "matplotlib"} <= set(names)
    assert "sympy" in names  # transitive (torch's), bundled too
    assert not {"pytest", "ruff", "pyinstaller"} & set(names)  # extras: dev, bundle
    assert names == sorted(names)


def test_requirement_closure_skips_a_subtree():
    names = requirement_closure(skip=("torch",))
    assert "torch" not in names and "sympy" not in names


def test_components_list_python_first_with_licences():
    components = bundled_components()
    assert components[0].name == "Python"
    torch = next(c for c in components if c.name == "torch")
    assert torch.version and torch.license
    assert all(c.license for c in components)


def test_model_summary():
    assert model_summary(None) == "No model loaded."
    info = {"name": "base", "version": "2026-11-25", "device": "cpu"}
    assert model_summary(info) == "base 2026-11-25 (cpu)"
    assert model_summary({"name": "mine", "created": "2026-11-20"}) == "mine 2026-11-20"


def test_dialog_shows_version_model_folders_and_components(qtbot, monkeypatch):
    monkeypatch.setattr(
        "gui.about_dialog.bundled_components",
        lambda: [Component("Python", "3.11", "PSF-2.0"), Component("torch", "2", "BSD-3-Clause")],
    )
    dialog = AboutDialog({"name": "base", "version": "v1", "device": "cpu"})
    qtbot.addWidget(dialog)
    dialog.show()
    assert f"TeXSnap {__version__}" in dialog.title.text()
    assert "base v1 (cpu)" in dialog.model_label.text()
    assert dialog.table.rowCount() == 2
    assert [dialog.table.item(1, c).text() for c in range(3)] == ["torch", "2", "BSD-3-Clause"]
    folders = " ".join(label.text() for label in dialog.findChildren(type(dialog.title)))
    assert str(paths.config_dir(ensure=False)) in folders
    assert not paths.config_dir(ensure=False).exists()  # showing them creates nothing


class FakeWindow(QMainWindow):
    """What install_help_menu needs of MainWindow: a menu bar and worker.signals."""

    def __init__(self):
        super().__init__()
        self.worker = type("Worker", (), {})()
        self.worker.signals = WorkerSignals()


def test_help_menu_opens_about_with_the_loaded_model(qtbot):
    window = FakeWindow()
    qtbot.addWidget(window)
    action = install_help_menu(window)
    assert [a.text() for a in window.menuBar().actions()] == ["&Help"]
    window.worker.signals.model_ready.emit(None, {"name": "base", "version": "v2"})
    action.trigger()
    dialog = window.findChild(AboutDialog)
    assert dialog is not None and dialog.isVisible()
    assert "base v2" in dialog.model_label.text()
    dialog.close()
    window.worker.signals.model_failed.emit(None, RuntimeError("gone"))
    assert window.model_info == {}

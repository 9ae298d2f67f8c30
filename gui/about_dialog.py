"""Help > About TeXSnap: app version, the loaded model, where the user's files are, and the
version and licence of every component the app ships with.

The component list is read from installed package metadata (``importlib.metadata``), walking
TeXSnap's own runtime requirements; the desktop bundle carries that metadata for exactly the
packages it contains (installer/contents.py), so the list matches what was shipped.
"""

from __future__ import annotations

import importlib.metadata as metadata
import platform
import re
from dataclasses import dataclass

from core import __version__, paths
from gui.qt import (
    QAbstractItemView,
    QAction,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

APP_DISTRIBUTION = "texsnap"
APP_LICENSE = "MIT"


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    license: str


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _runtime_requirements(dist: str) -> list[str]:
    """Names of ``dist``'s requirements that apply here, extras ("dev", "bundle") excluded."""
    from packaging.requirements import InvalidRequirement, Requirement

    names = []
    for text in metadata.requires(dist) or []:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            names.append(req.name)
    return names


def requirement_closure(root: str = APP_DISTRIBUTION, skip=()) -> list[str]:
    """``root``'s runtime requirements and theirs, recursively: installed ones only, by
    canonical name, sorted. Names in ``skip`` are left out together with what they pull in."""
    skipped = {canonical_name(s) for s in skip}
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        try:
            requirements = _runtime_requirements(name)
        except metadata.PackageNotFoundError:
            continue  # not installed (or not bundled): nothing of it to list
        for req in requirements:
            key = canonical_name(req)
            if key not in seen and key not in skipped:
                seen.add(key)
                todo.append(key)
    return sorted(name for name in seen if _installed(name))


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def license_of(meta) -> str:
    """A short licence name: the SPDX expression, a one-line License field, or the classifier.
    (Some packages put the whole licence text in License; that is not a name.)"""
    expression = meta.get("License-Expression")
    if expression:
        return expression.strip()
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 80:
        return text
    classifiers = [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    if classifiers:
        return classifiers[-1].split("::")[-1].strip()
    return "see the package's licence file"


def bundled_components() -> list[Component]:
    """Python itself, then every installed runtime requirement of TeXSnap, by name."""
    components = [Component("Python", platform.python_version(), "PSF-2.0")]
    for name in requirement_closure():
        meta = metadata.metadata(name)
        components.append(Component(meta["Name"], meta["Version"], license_of(meta)))
    return components


def model_summary(info: dict | None) -> str:
    """'base 2026-11-25 (cpu)' from a Recognizer's info, or why there is none."""
    if not info:
        return "No model loaded."
    version = info.get("version") or info.get("created") or ""
    text = " ".join(part for part in (info.get("name") or "model", version) if part)
    device = info.get("device")
    return text + (f" ({device})" if device else "")


class AboutDialog(QDialog):
    def __init__(self, model_info: dict | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("About TeXSnap")
        self.resize(620, 560)
        layout = QVBoxLayout(self)
        layout.addLayout(self._header())
        self.model_label = QLabel(f"<b>Model:</b> {_escape(model_summary(model_info))}")
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.model_label)
        layout.addWidget(self._folders())
        layout.addWidget(QLabel("<b>Bundled components</b>"))
        self.components = bundled_components()
        self.table = self._table(self.components)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(self.windowIcon().pixmap(64, 64))
        row.addWidget(icon)
        self.title = QLabel(
            f"<h2>TeXSnap {__version__}</h2>"
            "Math in images to LaTeX, on your own machine.<br>"
            f"Released under the {APP_LICENSE} License."
        )
        row.addWidget(self.title, 1)
        return row

    def _folders(self) -> QLabel:
        """Where TeXSnap keeps the user's files: what an uninstall leaves behind."""
        rows = (
            ("Settings", paths.config_dir(ensure=False)),
            ("Data (history, your models)", paths.data_dir(ensure=False)),
            ("Cache and log", paths.cache_dir(ensure=False)),
        )
        text = "<br>".join(f"<b>{name}:</b> {_escape(str(path))}" for name, path in rows)
        label = QLabel(text)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setWordWrap(True)
        return label

    @staticmethod
    def _table(components: list[Component]) -> QTableWidget:
        table = QTableWidget(len(components), 3)
        table.setHorizontalHeaderLabels(["Component", "Version", "Licence"])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for row, comp in enumerate(components):
            for col, value in enumerate((comp.name, comp.version, comp.license)):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                table.setItem(row, col, item)
        table.resizeColumnsToContents()
        return table


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def install_help_menu(window) -> QAction:
    """Add Help > About TeXSnap to ``window`` (a MainWindow); the dialog shows the model its
    worker loaded last."""
    window.model_info = {}

    def remember(_request, info):
        window.model_info = dict(info)

    def forget(_request, _exc):
        window.model_info = {}

    window.worker.signals.model_ready.connect(remember)
    window.worker.signals.model_failed.connect(forget)
    action = QAction("About TeXSnap", window)
    action.setMenuRole(QAction.MenuRole.AboutRole)  # the application menu on macOS

    def show_about():
        dialog = AboutDialog(window.model_info, window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    action.triggered.connect(show_about)
    window.menuBar().addMenu("&Help").addAction(action)
    return action

"""The model versions list of the Training tab: switch, roll back, delete, export, import.

Switching only *asks* for a model (``model_chosen``); the main window saves the setting and
the model worker swaps models between recognitions, so no restart is ever needed.
``training.model_store`` (which imports torch) is imported on first use, not at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gui.history_view import ask_user
from gui.qt import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)

COLUMNS = ("Model", "Date", "Corrections", "Yours", "Printed", "In use")


class VersionsPanel(QWidget):
    model_chosen = Signal(str)  # a verified model name to switch to
    error = Signal(object)
    message = Signal(str)

    def __init__(self, current_model: Callable[[], str], parent=None, confirm=ask_user):
        super().__init__(parent)
        self.current_model = current_model
        self.confirm = confirm
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.use_selected())
        self.use_button = QPushButton("Use", clicked=self.use_selected)
        self.base_button = QPushButton("Roll back to base", clicked=self.rollback)
        self.delete_button = QPushButton("Delete", clicked=self.delete_selected)
        self.export_button = QPushButton("Export…", clicked=self.export_dialog)
        import_button = QPushButton("Import…", clicked=self.import_dialog)
        buttons = QHBoxLayout()
        for b in (self.use_button, self.base_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(import_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.versions: list = []
        self._update_buttons()

    def refresh(self) -> None:
        from core.settings import Settings
        from training import model_store

        selected = self.selected_name()
        try:
            self.versions = model_store.list_versions(Settings(model=self.current_model()))
        except Exception as exc:  # noqa: BLE001 - OSError on the models folder: shown
            self.error.emit(exc)
            return
        self.table.setRowCount(0)
        for v in self.versions:
            self._add_row(v)
            if v.name == selected:
                self.table.selectRow(self.table.rowCount() - 1)
        self._update_buttons()

    def _add_row(self, v) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        user, printed = v.metrics.get("user"), v.metrics.get("regression")
        cells = [
            v.name,
            v.created[:16].replace("T", " "),
            "bundled" if v.is_base else ("" if v.samples is None else str(v.samples)),
            f"{user['exact_match']:.0%}" if user else "",
            f"{printed['exact_match']:.0%}" if printed else "",
            "✓" if v.active else "",
        ]
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, v.name)
            item.setToolTip(v.problem or v.summary())
            self.table.setItem(row, col, item)

    def selected_name(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def _update_buttons(self) -> None:
        name = self.selected_name()
        active = self.current_model()
        self.use_button.setEnabled(bool(name) and name != active)
        self.delete_button.setEnabled(bool(name) and name not in ("base", active))
        self.export_button.setEnabled(bool(name))
        self.base_button.setEnabled(active != "base")

    # ---- actions ------------------------------------------------------------------------------
    def choose(self, name: str) -> bool:
        """Verify ``name`` loads, then ask the window to switch to it."""
        from training import model_store

        try:
            model_store.verify(name)
        except Exception as exc:  # noqa: BLE001 - ModelError: shown, the current model stays
            self.error.emit(exc)
            return False
        self.model_chosen.emit(name)
        return True

    def use_selected(self) -> None:
        name = self.selected_name()
        if name and name != self.current_model():
            self.choose(name)

    def rollback(self) -> None:
        self.model_chosen.emit("base")

    def delete_selected(self) -> None:
        from core.settings import Settings
        from training import model_store

        name = self.selected_name()
        if not name or not self.confirm(self, f"Delete the model {name}? This cannot be undone."):
            return
        try:
            model_store.delete(name, Settings(model=self.current_model()))
        except Exception as exc:  # noqa: BLE001 - ModelError, OSError
            self.error.emit(exc)
            return
        self.message.emit(f"Deleted the model {name}.")
        self.refresh()

    def export_dialog(self) -> None:
        name = self.selected_name()
        if not name:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export a model", f"texsnap-{name}.zip", "Zip archive (*.zip)"
        )
        if path:
            self.export_to(name, Path(path))

    def export_to(self, name: str, path: Path) -> Path | None:
        from training import model_store

        try:
            out = model_store.export_zip(name, path)
        except Exception as exc:  # noqa: BLE001
            self.error.emit(exc)
            return None
        self.message.emit(f"Exported {name} to {out}.")
        return out

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a model", "", "Model (*.zip)")
        if path:
            self.import_from(Path(path))

    def import_from(self, path: Path) -> str | None:
        from training import model_store

        try:
            name = model_store.import_model(path)
        except Exception as exc:  # noqa: BLE001 - ModelError: not a model, damaged
            self.error.emit(exc)
            return None
        self.message.emit(f"Imported the model as {name}; select it and press Use.")
        self.refresh()
        return name

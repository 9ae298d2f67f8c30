"""The Corrections tab: the user's (image, corrected LaTeX) pairs used for fine-tuning.

Browse and search them, fix the LaTeX in place, exclude one from training without deleting
it, delete, and export or import them as a data set (zip with ``images/`` and
``labels.tsv``, the format the training tab reads).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.history import Correction, Store
from gui.history_view import ask_user, thumb_icon
from gui.qt import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSize,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)

COLUMNS = ("Image", "LaTeX", "Use for training", "Source", "Changed")
LATEX_COL, USE_COL = 1, 2


class CorrectionsView(QWidget):
    error = Signal(object)
    message = Signal(str)  # a status-bar sentence (exports, imports)

    def __init__(self, store: Store, parent=None, confirm: Callable[..., bool] = ask_user):
        super().__init__(parent)
        self.store = store
        self.confirm = confirm
        self._filling = False  # cell edits made while filling the table are not user edits
        self.search = QLineEdit(placeholderText="Search corrections…", clearButtonEnabled=True)
        timer = QTimer(self, singleShot=True, interval=200)
        timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(timer.start)
        self.table = self._make_table()
        self.count = QLabel()
        self.delete_button = QPushButton("Delete", clicked=self.delete_selected)
        self.export_button = QPushButton("Export data set…", clicked=self.export_dialog)
        import_button = QPushButton("Import data set…", clicked=self.import_dialog)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.count)
        buttons.addWidget(import_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def _make_table(self) -> QTableWidget:
        table = QTableWidget(0, len(COLUMNS))
        table.setHorizontalHeaderLabels(COLUMNS)
        table.setIconSize(QSize(140, 40))
        table.verticalHeader().setDefaultSectionSize(46)
        table.verticalHeader().hide()
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.horizontalHeader().setSectionResizeMode(LATEX_COL, QHeaderView.ResizeMode.Stretch)
        table.setColumnWidth(0, 150)
        table.itemChanged.connect(self._on_item_changed)
        return table

    def showEvent(self, event):
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        try:
            rows = self.store.corrections(search=self.search.text().strip(), with_images=False)
            used = self.store.count_corrections(include_excluded=False)
            total = self.store.count_corrections(include_excluded=True)
        except Exception as exc:  # noqa: BLE001
            self.error.emit(exc)
            return
        self._filling = True
        self.table.setRowCount(0)
        for correction in rows:
            self._add_row(correction)
        self._filling = False
        self.count.setText(f"{total} corrections, {used} used for training")
        self.export_button.setEnabled(used > 0)

    def _add_row(self, c: Correction) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        image = QTableWidgetItem(thumb_icon(c.thumb_png), "")
        image.setData(Qt.ItemDataRole.UserRole, c.id)
        latex = QTableWidgetItem(c.latex)
        use = QTableWidgetItem()
        use.setCheckState(Qt.CheckState.Unchecked if c.excluded else Qt.CheckState.Checked)
        cells = [image, latex, use, QTableWidgetItem(c.source), QTableWidgetItem(c.updated[:16])]
        for col, item in enumerate(cells):
            if col != LATEX_COL:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, col, item)

    def correction_id(self, row: int) -> int:
        return self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        cid = self.correction_id(item.row())
        try:
            if item.column() == LATEX_COL:
                self.store.update_correction(cid, latex=item.text())
            elif item.column() == USE_COL:
                excluded = item.checkState() != Qt.CheckState.Checked
                self.store.update_correction(cid, excluded=excluded)
        except (ValueError, OSError) as exc:
            self.error.emit(exc)
        self.refresh()

    def delete_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        if not rows or not self.confirm(self, f"Delete {len(rows)} correction(s)?"):
            return
        for row in rows:
            self.store.delete_correction(self.correction_id(row))
        self.refresh()

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export corrections", "texsnap-corrections.zip", "Zip archive (*.zip)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> int | None:
        try:
            n = self.store.export_corrections(path)
        except OSError as exc:
            self.error.emit(exc)
            return None
        self.message.emit(f"Exported {n} corrections to {path}.")
        return n

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a data set", "", "Data set (*.zip labels.tsv)"
        )
        if path:
            src = Path(path)
            self.import_from(src.parent if src.name == "labels.tsv" else src)

    def import_from(self, path: Path) -> int | None:
        try:
            n, warnings = self.store.import_corrections(path)
        except Exception as exc:  # noqa: BLE001 - DatasetError, OSError: shown, not raised
            self.error.emit(exc)
            return None
        skipped = f" ({len(warnings)} rows skipped: {warnings[0]})" if warnings else ""
        self.message.emit(f"Imported {n} corrections{skipped}.")
        self.refresh()
        return n

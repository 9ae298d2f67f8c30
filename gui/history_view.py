"""The History tab: every recognition with its thumbnail; search, reopen, copy, delete."""

from __future__ import annotations

from collections.abc import Callable

from core.history import HistoryEntry, Store
from gui.qt import (
    QAbstractItemView,
    QHBoxLayout,
    QIcon,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSize,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
    png_to_pixmap,
)

PAGE = 300  # entries listed at once; search narrows the rest


def ask_user(parent: QWidget, question: str) -> bool:
    answer = QMessageBox.question(parent, "TeXSnap", question)
    return answer == QMessageBox.StandardButton.Yes


def thumb_icon(png: bytes) -> QIcon:
    return QIcon(png_to_pixmap(png))


class HistoryView(QWidget):
    reopen_requested = Signal(int)  # history entry id
    copy_requested = Signal(str)  # LaTeX
    error = Signal(object)

    def __init__(self, store: Store, parent=None, confirm: Callable[..., bool] = ask_user):
        super().__init__(parent)
        self.store = store
        self.confirm = confirm  # a question dialog; tests answer it themselves
        self.search = QLineEdit(placeholderText="Search LaTeX…", clearButtonEnabled=True)
        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(self._search_timer.start)
        self.list = QListWidget()
        self.list.setIconSize(QSize(160, 48))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.itemActivated.connect(lambda _item: self.reopen())
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.count = QLabel()
        self.reopen_button = QPushButton("Reopen", clicked=self.reopen)
        self.copy_button = QPushButton("Copy", clicked=self.copy)
        self.delete_button = QPushButton("Delete", clicked=self.delete)
        self.clear_button = QPushButton("Clear all…", clicked=self.clear_all)
        buttons = QHBoxLayout()
        for b in (self.reopen_button, self.copy_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.count)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def showEvent(self, event):
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        text = self.search.text().strip()
        try:
            entries = self.store.entries(search=text, limit=PAGE, with_images=False)
            total = self.store.count_entries()
        except Exception as exc:  # noqa: BLE001 - a broken store must not break the tab
            self.error.emit(exc)
            return
        self.list.clear()
        for entry in entries:
            self.list.addItem(self._item(entry))
        self.count.setText(f"{len(entries)} of {total}" if text else f"{total} entries")
        self._update_buttons()

    @staticmethod
    def _item(entry: HistoryEntry) -> QListWidgetItem:
        when = entry.created.replace("T", " ")[:16]
        detail = f"{entry.source} · {when} · {entry.confidence:.0%}"
        item = QListWidgetItem(thumb_icon(entry.thumb_png), f"{entry.latex}\n{detail}")
        item.setData(Qt.ItemDataRole.UserRole, entry.id)
        item.setData(Qt.ItemDataRole.UserRole + 1, entry.latex)
        item.setToolTip(entry.latex)
        return item

    def selected_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _update_buttons(self) -> None:
        has = self.selected_id() is not None
        for b in (self.reopen_button, self.copy_button, self.delete_button):
            b.setEnabled(has)
        self.clear_button.setEnabled(self.list.count() > 0)

    def reopen(self) -> None:
        entry_id = self.selected_id()
        if entry_id is not None:
            self.reopen_requested.emit(entry_id)

    def copy(self) -> None:
        item = self.list.currentItem()
        if item:
            self.copy_requested.emit(item.data(Qt.ItemDataRole.UserRole + 1))

    def delete(self) -> None:
        entry_id = self.selected_id()
        if entry_id is None:
            return
        row = self.list.currentRow()
        self.store.delete_entry(entry_id)
        self.refresh()
        self.list.setCurrentRow(min(row, self.list.count() - 1))

    def clear_all(self) -> None:
        question = "Delete the whole history? Saved corrections are kept."
        if self.confirm(self, question):
            self.store.clear_history()
            self.refresh()

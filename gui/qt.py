"""The one place the GUI imports Qt from (version shims go here, nowhere else)."""

# ruff: noqa: F401  (re-exports: every name below is imported by other gui modules)
from __future__ import annotations

from PySide6.QtCore import (
    QAbstractNativeEventFilter,
    QBuffer,
    QByteArray,
    QCoreApplication,
    QEvent,
    QIODevice,
    QMimeData,
    QObject,
    QPoint,
    QPointF,
    QProcess,
    QRect,
    QRectF,
    QSignalBlocker,
    QSize,
    QSocketNotifier,
    Qt,
    QThread,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QClipboard,
    QColor,
    QCursor,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QIcon,
    QImage,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QScreen,
    QShortcut,
    QTabletEvent,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStyleFactory,
    QSystemTrayIcon,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextEdit,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

__all__ = [name for name in dir() if name[0].isupper()]


def qimage_to_png(image: QImage) -> bytes:
    """Encode a QImage as PNG bytes (what the store and the recognizer take)."""
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return bytes(buf.data())


def png_to_pixmap(data: bytes, dpr: float = 1.0) -> QPixmap:
    """Decode PNG bytes into a QPixmap drawn at ``dpr`` device pixels per logical pixel."""
    pix = QPixmap()
    pix.loadFromData(QByteArray(data))
    pix.setDevicePixelRatio(dpr)
    return pix

"""Light, dark or the system's look; and the app icon."""

from __future__ import annotations

from pathlib import Path

from core.paths import resources_dir
from gui.qt import (
    QApplication,
    QColor,
    QFont,
    QIcon,
    QPainter,
    QPalette,
    QPixmap,
    QStyleFactory,
    Qt,
)

_DARK = {
    QPalette.ColorRole.Window: "#202124",
    QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#2a2b2e",
    QPalette.ColorRole.AlternateBase: "#323336",
    QPalette.ColorRole.Text: "#e8eaed",
    QPalette.ColorRole.Button: "#303134",
    QPalette.ColorRole.ButtonText: "#e8eaed",
    QPalette.ColorRole.Highlight: "#3b78e7",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#303134",
    QPalette.ColorRole.ToolTipText: "#e8eaed",
    QPalette.ColorRole.PlaceholderText: "#9aa0a6",
}


def apply_theme(app: QApplication, theme: str) -> None:
    """'system' keeps the platform style and palette; 'light'/'dark' use Fusion."""
    if not hasattr(app, "_texsnap_system_style"):
        app._texsnap_system_style = app.style().name()
        app._texsnap_system_palette = QPalette(app.palette())
    if theme == "system":
        app.setStyle(QStyleFactory.create(app._texsnap_system_style))
        app.setPalette(app._texsnap_system_palette)
        return
    app.setStyle(QStyleFactory.create("Fusion"))
    palette = app.style().standardPalette()
    if theme == "dark":
        for role, colour in _DARK.items():
            palette.setColor(role, QColor(colour))
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#777"))
        palette.setColor(
            QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#777")
        )
    app.setPalette(palette)


def app_icon() -> QIcon:
    """The installed icon (resources/icons, the same files the .desktop entry and installers
    use), so the window, the tray and the menu entry look alike; a drawn stand-in only when
    those files are missing (a broken install must still start)."""
    icon = QIcon()
    for path in sorted(icons_dir().glob("texsnap-*.png")):
        icon.addFile(str(path))
    return icon if not icon.isNull() else _drawn_icon()


def icons_dir() -> Path:
    return resources_dir() / "icons"


def _drawn_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 32, 64, 128):
        pix = QPixmap(size, size)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QColor("#3b78e7"))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRoundedRect(0, 0, size, size, size * 0.2, size * 0.2)
        font = QFont("serif")
        font.setPixelSize(int(size * 0.72))
        p.setFont(font)
        p.setPen(QColor("white"))
        p.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, "∑")
        p.end()
        icon.addPixmap(pix)
    return icon

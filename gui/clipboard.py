"""Putting a formula on the clipboard in the format the user chose."""

from __future__ import annotations

from core.formats import format_latex
from gui.qt import QGuiApplication, QMimeData


def copy_formula(latex: str, fmt: str) -> str:
    """Copy ``latex`` wrapped as ``fmt`` (a key of core.formats.COPY_FORMATS); returns the text.

    MathML also goes out under its own MIME type, which LibreOffice and Word prefer over the
    plain text (the plain text stays for editors).
    """
    text = format_latex(latex, fmt)
    mime = QMimeData()
    mime.setText(text)
    if fmt == "mathml":
        data = text.encode("utf-8")
        mime.setData("application/mathml+xml", data)
        mime.setData("application/mathml-presentation+xml", data)
    QGuiApplication.clipboard().setMimeData(mime)
    return text

"""Every way an image reaches the app (file, clipboard, drop, screenshot) ends here as PNG.

PNG bytes are what the recognizer, the history store and the correction set all take, so
each input is decoded once, checked by ``core.imageio`` (formats, size limits, truncated
files) and re-encoded. Anything unusable raises ``InvalidImage`` with a sentence for the
status bar.
"""

from __future__ import annotations

import io
from pathlib import Path

from core.errors import InvalidImage
from gui.qt import QImage, QMimeData, QUrl, qimage_to_png

INKML_SUFFIXES = (".inkml",)


def png_from_file(path: str | Path) -> bytes:
    """Read an image file of any format PIL knows; raises InvalidImage with the reason."""
    from core.imageio import load_image  # PIL + numpy: imported on first use, not at start-up

    image = load_image(Path(path))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def png_from_qimage(image: QImage) -> bytes:
    if image is None or image.isNull() or image.width() < 1 or image.height() < 1:
        raise InvalidImage("The image is empty.")
    return qimage_to_png(image)


def local_files(mime: QMimeData) -> list[Path]:
    """Local files named by a drop or a clipboard (URLs, or a pasted path as text)."""
    files = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
    if not files and mime.hasText():
        text = mime.text().strip()
        if text.startswith("file://"):
            text = QUrl(text).toLocalFile()
        if text and "\n" not in text and len(text) < 4096 and Path(text).is_file():
            files = [Path(text)]
    return files


def png_from_mime(mime: QMimeData | None) -> bytes:
    """The image in a clipboard or drop: image data first, else the first image file."""
    if mime is None:
        raise InvalidImage("The clipboard is empty.")
    if mime.hasImage():
        image = QImage(mime.imageData())
        if not image.isNull():
            return png_from_qimage(image)
    files = local_files(mime)
    if files:
        return png_from_file(files[0])
    raise InvalidImage(
        "The clipboard holds no image. Copy an image or an image file, then paste again."
    )

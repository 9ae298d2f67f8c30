"""Turning exceptions into sentences a user understands (the only place that does it)."""

from __future__ import annotations

import logging

from core.errors import (
    BlankImage,
    Cancelled,
    DatasetError,
    InvalidImage,
    ModelError,
    RenderError,
    SettingsError,
    TeXSnapError,
)

log = logging.getLogger(__name__)


def user_message(exc: BaseException) -> str | None:
    """Return what to tell the user about ``exc``, or None when nothing should be shown.

    Core errors carry user-facing messages already; this adds the context of *where* it
    happened and what to do. Anything else is a bug: it is logged with its traceback and the
    user gets a short sentence instead of a traceback dialog.
    """
    text = str(exc).strip()
    if isinstance(exc, Cancelled):
        return None
    if isinstance(exc, BlankImage):
        return text or "The image is blank: there is nothing to recognize."
    if isinstance(exc, InvalidImage):
        return f"This image cannot be used: {text}" if text else "This image cannot be read."
    if isinstance(exc, ModelError):
        return (
            f"The recognition model could not be used: {text} "
            "Choose another model in Settings or reinstall TeXSnap."
        )
    if isinstance(exc, RenderError):
        return (text or "The preview cannot draw this formula.") + " The LaTeX still copies fine."
    if isinstance(exc, SettingsError):
        return f"Settings problem: {text}"
    if isinstance(exc, DatasetError):
        return f"The data set cannot be used: {text}"
    if isinstance(exc, TeXSnapError):
        return text or type(exc).__name__
    if isinstance(exc, MemoryError):
        return "Out of memory while recognizing. Try a smaller region or the CPU device."
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return f"A file could not be read or written{where}: {exc.strerror or exc}."
    log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    return f"Something went wrong ({type(exc).__name__}: {text}). Details are in the log file."

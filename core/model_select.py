"""Open the user's chosen model, falling back to the bundled base model when it is damaged.

A fine-tuned model lives in the user's data folder, where a full disk, a sync tool or a bad
copy can damage it; ``core.checkpoint.load_model`` then raises ``ModelError`` (checksum
mismatch, missing or unreadable file). Rather than leaving the user without recognition,
``open_recognizer`` loads the bundled base model and returns a notice that says what
happened. A problem with the device ("no CUDA GPU here") or with the base model itself is
not hidden: it is raised, since another model would not fix it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import NamedTuple

from core.device import select_device
from core.errors import ModelError
from core.recognizer import Recognizer, default_model_dir

log = logging.getLogger(__name__)


class Opened(NamedTuple):
    recognizer: Recognizer
    notice: str | None  # a sentence for the user when the fallback was used, else None


def open_recognizer(
    user_model_dir: str | os.PathLike | None = None, device: str = "auto", beam: int = 1
) -> Opened:
    """Load ``user_model_dir`` (None: the base model); on ``ModelError`` fall back to base."""
    select_device(device)  # device errors are raised here, before any fallback
    base = default_model_dir()
    if user_model_dir is None or _same(Path(user_model_dir), base):
        return Opened(Recognizer.from_pretrained(base, device=device, beam=beam), None)
    try:
        return Opened(Recognizer.from_pretrained(user_model_dir, device=device, beam=beam), None)
    except ModelError as exc:
        reason = str(exc)
    log.warning("model %s cannot be used (%s); falling back to %s", user_model_dir, reason, base)
    try:
        rec = Recognizer.from_pretrained(base, device=device, beam=beam)
    except ModelError as base_exc:
        raise ModelError(
            f"{reason} The bundled base model cannot be loaded either: {base_exc}"
        ) from None
    notice = f"{reason} TeXSnap is using the bundled base model instead."
    return Opened(rec, notice)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False

"""Read any image a user can throw at us into a plain RGB PIL image, or fail with words.

Inputs: a path, raw bytes, a PIL image, or a numpy array. Every PIL mode is handled
(transparency, palettes, 16-bit, CMYK, float), EXIF orientation is applied, and oversized
images are refused before they are decoded (decompression bombs).
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import InvalidImage

MAX_PIXELS = 50_000_000  # an 8K screenshot is 33 MP; anything bigger is not a formula snip
MAX_FILE_BYTES = 100 * 1024 * 1024
MIN_SIDE = 3

# What PIL raises on damaged image data, depending on the format plugin.
_DAMAGED = (
    OSError,
    ValueError,
    TypeError,
    IndexError,
    EOFError,
    SyntaxError,
    KeyError,
    struct.error,
)

ImageSource = str | os.PathLike | bytes | bytearray | Image.Image | np.ndarray


def load_image(src: ImageSource, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Return ``src`` as an RGB image with transparency flattened and orientation applied."""
    if isinstance(src, Image.Image):
        img = src
        _check_size(img.size, max_pixels)
    elif isinstance(src, np.ndarray):
        img = _from_array(src)
        _check_size(img.size, max_pixels)
    else:
        data = _read_bytes(src)
        img = _decode(data, max_pixels)
    img = _first_frame(img)
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block must not cost the user the image
        pass
    return to_rgb(img)


def _read_bytes(src) -> bytes:
    if isinstance(src, (bytes, bytearray)):
        data = bytes(src)
    else:
        path = Path(src)
        try:
            data = _read_file(path)
        except OSError as exc:  # no permission, name too long, I/O error...
            raise InvalidImage(f"Cannot read {path}: {exc.strerror or exc}") from None
    if not data:
        raise InvalidImage("The file is empty (0 bytes).")
    return data


def _read_file(path: Path) -> bytes:
    if not path.exists():
        raise InvalidImage(f"File not found: {path}")
    if path.is_dir():
        raise InvalidImage(f"{path} is a folder, not an image.")
    if not path.is_file():  # a device or pipe (/dev/zero) would be read forever
        raise InvalidImage(f"{path} is not a regular file.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InvalidImage(f"{path.name} is {size // 2**20} MB: too large for a formula image.")
    return path.read_bytes()


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # we check the pixel count ourselves
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise InvalidImage("This is not an image format TeXSnap can read.") from None
    except _DAMAGED as exc:
        raise InvalidImage(f"The image is damaged and cannot be read ({exc}).") from None
    except Image.DecompressionBombError:
        raise InvalidImage("The image is too large to be a formula (too many pixels).") from None
    _check_size(img.size, max_pixels)
    try:
        img.load()
    except Image.DecompressionBombError:
        raise InvalidImage("The image is too large to be a formula (too many pixels).") from None
    except _DAMAGED as exc:
        raise InvalidImage(f"The image is truncated or damaged ({exc}).") from None
    return img


def _check_size(size: tuple[int, int], max_pixels: int) -> None:
    w, h = size
    if w * h > max_pixels:
        raise InvalidImage(
            f"The image is {w}×{h} pixels ({w * h / 1e6:.0f} MP), more than the "
            f"{max_pixels / 1e6:.0f} MP limit: crop it to the formula."
        )
    if min(w, h) < MIN_SIDE:
        raise InvalidImage(f"The image is only {w}×{h} pixels: too small to hold a formula.")


def _first_frame(img: Image.Image) -> Image.Image:
    """Frame 0 of an animation or multi-page file.

    ``n_frames`` is not used: PIL computes it by reading every later frame, so one damaged
    frame the user never sees would cost them the image.
    """
    try:
        if img.tell() != 0:
            img.seek(0)
        img.load()
    except Image.DecompressionBombError:
        raise InvalidImage("The image is too large to be a formula (too many pixels).") from None
    except _DAMAGED as exc:
        raise InvalidImage(f"The image is truncated or damaged ({exc}).") from None
    return img


def _from_array(arr: np.ndarray) -> Image.Image:
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise InvalidImage(f"An image array must be H×W or H×W×C, not shape {arr.shape}.")
    if arr.dtype.kind not in "biuf":  # strings, objects, complex numbers: not pixels
        raise InvalidImage(f"An image array must hold numbers, not {arr.dtype}.")
    if arr.dtype != np.uint8:
        arr = np.nan_to_num(arr.astype(np.float64))
        hi = arr.max() if arr.size else 1.0
        arr = (arr / (hi if hi > 1.0 else 1.0) * 255).clip(0, 255).astype(np.uint8)
    if arr.ndim == 3:
        channels = arr.shape[2]
        if channels == 1:
            arr = arr[:, :, 0]
        elif channels not in (3, 4):
            raise InvalidImage(f"An image array needs 1, 3 or 4 channels, not {channels}.")
    return Image.fromarray(np.ascontiguousarray(arr))


def to_rgb(img: Image.Image) -> Image.Image:
    """Flatten any mode to RGB. Transparent images are laid on the background that keeps
    their ink visible: white for dark ink, black for light (dark-mode) ink."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(arr)
        return Image.fromarray(arr.astype(np.uint8)).convert("RGB")
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    elif mode == "P":
        return img.convert("RGB")
    if mode in ("LA", "PA", "La"):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "RGBa"):
        return _flatten_alpha(img.convert("RGBA"))
    if img.mode == "CMYK":
        return img.convert("RGB")
    if img.mode == "1":
        return img.convert("L").convert("RGB")
    return img.convert("RGB")


def _flatten_alpha(img: Image.Image) -> Image.Image:
    arr = np.asarray(img, dtype=np.float32) / 255.0
    rgb, alpha = arr[..., :3], arr[..., 3:4]
    if float(alpha.min()) >= 0.999:
        return img.convert("RGB")
    weight = alpha[..., 0]
    lum = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    ink_lum = float((lum * weight).sum() / max(weight.sum(), 1e-6))
    bg = 0.0 if ink_lum > 0.5 else 1.0  # light ink on transparency: a dark-mode snip
    out = rgb * alpha + bg * (1.0 - alpha)
    return Image.fromarray((out * 255).round().astype(np.uint8), "RGB")

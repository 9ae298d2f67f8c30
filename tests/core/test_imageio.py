"""Image loading: whatever a user throws at TeXSnap becomes an RGB image or a clear InvalidImage."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core import imageio
from core.errors import InvalidImage
from core.imageio import load_image


def drawing(size=(120, 48), ink=0, paper=255) -> Image.Image:
    """A grey-level picture with a bar and a box: something clearly not blank."""
    img = Image.new("L", size, paper)
    draw = ImageDraw.Draw(img)
    draw.rectangle((10, 10, 40, 38), outline=ink, width=3)
    draw.line((50, 24, 110, 24), fill=ink, width=4)
    return img


def encode(img: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def grey(img: Image.Image) -> np.ndarray:
    assert img.mode == "RGB"
    return np.asarray(img.convert("L"), dtype=np.int16)


REFERENCE = grey(drawing().convert("RGB"))


def assert_same_picture(img: Image.Image, tolerance: int = 2) -> None:
    """Same size and (up to rounding) the same dark-on-light picture as ``drawing()``."""
    assert img.size == (120, 48)
    assert np.abs(grey(img) - REFERENCE).max() <= tolerance


# --- every PIL mode ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "CMYK", "1", "I", "F", "I;16"])
def test_every_opaque_mode_reads_as_the_same_rgb_picture(mode):
    src = drawing()
    if mode == "I;16":
        img = Image.fromarray(np.asarray(src, np.uint16) * 257)
        assert img.mode == "I;16"
    else:
        img = src.convert(mode)
    assert_same_picture(load_image(img))


@pytest.mark.parametrize("mode", ["I;16", "I", "CMYK", "P", "1", "LA"])
def test_every_mode_survives_a_file_round_trip(mode):
    src = drawing()
    img = Image.fromarray(np.asarray(src, np.uint16) * 257) if mode == "I;16" else src
    img = img if mode == "I;16" else src.convert(mode)
    fmt = "JPEG" if mode == "CMYK" else ("TIFF" if mode == "I" else "PNG")
    out = load_image(encode(img, fmt))
    assert_same_picture(out, tolerance=40 if fmt == "JPEG" else 2)


def alpha_ink(ink_rgb: tuple[int, int, int]) -> Image.Image:
    """The drawing as coloured ink whose alpha carries the shape; paper fully transparent."""
    shape = 255 - np.asarray(drawing(), np.uint8)
    rgba = np.zeros((*shape.shape, 4), np.uint8)
    rgba[..., :3] = ink_rgb
    rgba[..., 3] = shape
    return Image.fromarray(rgba, "RGBA")


def test_rgba_dark_ink_on_transparency_lands_on_white():
    assert_same_picture(load_image(encode(alpha_ink((0, 0, 0)))))


def test_rgba_light_ink_on_transparency_lands_on_black():
    """A dark-mode snip with transparent paper: white ink must stay visible."""
    out = grey(load_image(alpha_ink((255, 255, 255))))
    assert np.abs(out - (255 - REFERENCE)).max() <= 2


def test_opaque_rgba_is_plain_rgb():
    assert_same_picture(load_image(drawing().convert("RGBA")))


def test_la_with_transparency():
    shape = 255 - np.asarray(drawing(), np.uint8)
    la = Image.fromarray(np.stack([np.zeros_like(shape), shape], axis=2), "LA")
    assert_same_picture(load_image(encode(la)))


def test_palette_with_a_transparent_index():
    img = drawing().convert("P")
    white = img.getpixel((0, 0))
    # the paper index is transparent and its colour is black: only flattening shows the ink
    palette = img.getpalette()
    palette[3 * white : 3 * white + 3] = [0, 0, 0]
    img.putpalette(palette)
    img.info["transparency"] = white
    out = load_image(encode(img, transparency=white))
    assert_same_picture(out)


# --- EXIF, frames, numpy, source kinds -------------------------------------------------------


def test_exif_orientation_is_applied():
    img = drawing().convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    out = load_image(encode(img, "JPEG", exif=exif, quality=95))
    assert out.size == (48, 120)
    upright = grey(out.transpose(Image.Transpose.ROTATE_90))
    assert np.abs(upright - REFERENCE).mean() < 3


def test_broken_exif_does_not_cost_the_image():
    img = drawing().convert("RGB")
    data = encode(img, "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff", quality=95)
    assert load_image(data).size == (120, 48)


def animated(frames: int = 2) -> bytes:
    # later frames differ from each other, or PIL merges them into one
    pics = [drawing().convert("P")] + [
        drawing(ink=40 * k).rotate(180).convert("P") for k in range(1, frames)
    ]
    return encode(pics[0], "GIF", save_all=True, append_images=pics[1:], duration=100)


def test_animation_gives_its_first_frame():
    assert_same_picture(load_image(animated(3)))


def test_pil_image_left_on_a_later_frame_gives_its_first_frame():
    img = Image.open(io.BytesIO(animated(3)))
    img.seek(2)
    assert_same_picture(load_image(img))


def test_damaged_later_frame_still_gives_the_first_frame():
    """PIL's n_frames walks every frame; a damaged last frame must not cost the first."""
    data = animated(3)
    out = load_image(data[: len(data) - 40])
    assert_same_picture(out)


def multipage_tiff_with_a_broken_second_page() -> bytes:
    data = bytearray(encode(drawing(), "TIFF", save_all=True, append_images=[drawing()]))
    # the header points at the first IFD; that IFD ends with the offset of the second
    first = struct.unpack_from("<I", data, 4)[0]
    count = struct.unpack_from("<H", data, first)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * count)[0]
    struct.pack_into("<H", data, second, 0)  # an IFD with no entries: no dimensions
    return bytes(data)


def test_tiff_with_a_broken_second_page_gives_the_first_or_a_clear_error():
    data = multipage_tiff_with_a_broken_second_page()
    try:
        out = load_image(data)
    except InvalidImage as exc:
        assert "damaged" in str(exc)
    else:
        assert_same_picture(out)


@pytest.mark.parametrize(
    "arr",
    [
        np.asarray(drawing()),  # H×W uint8
        np.asarray(drawing())[:, :, None],  # H×W×1
        np.asarray(drawing().convert("RGB")),
        np.asarray(drawing().convert("RGBA")),
        np.asarray(drawing(), np.float32) / 255.0,  # float in [0, 1]
        np.asarray(drawing(), np.float64),  # float in [0, 255]
        np.asarray(drawing(), np.uint16) * 257,  # 16-bit
    ],
    ids=["gray", "gray1", "rgb", "rgba", "float01", "float255", "uint16"],
)
def test_numpy_arrays(arr):
    assert_same_picture(load_image(arr), tolerance=3)


def test_boolean_mask_array():
    mask = np.asarray(drawing()) > 128
    assert_same_picture(load_image(mask))


def test_numpy_with_nan_is_read_not_crashed():
    arr = np.asarray(drawing(), np.float32)
    arr[0, 0] = np.nan
    assert load_image(arr).size == (120, 48)


@pytest.mark.parametrize(
    "arr",
    [
        np.zeros(10, np.uint8),
        np.zeros((0, 5), np.uint8),
        np.zeros((20, 20, 2), np.uint8),
        np.full((20, 20), "a"),
        np.full((20, 20), None, dtype=object),
    ],
    ids=["1d", "empty", "2-channels", "strings", "objects"],
)
def test_bad_numpy_shapes_are_invalid_image(arr):
    with pytest.raises(InvalidImage, match="array"):
        load_image(arr)


def test_bytes_bytearray_path_str_and_pil_give_the_same_image(tmp_path):
    data = encode(drawing())
    path = tmp_path / "f.png"
    path.write_bytes(data)
    for src in (data, bytearray(data), path, str(path), Image.open(path)):
        assert_same_picture(load_image(src))


# --- bad input: each one a clear InvalidImage ---------------------------------------------------


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(InvalidImage, match="empty"):
        load_image(path)
    with pytest.raises(InvalidImage, match="empty"):
        load_image(b"")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InvalidImage, match="not found"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(InvalidImage, match="folder"):
        load_image(tmp_path)


@pytest.mark.parametrize(
    "path,words",
    [
        ("x" * 5000 + ".png", "Cannot read"),  # name too long for the file system
        ("/dev/zero", "not a regular file"),  # would be read forever
        ("bad\x00name.png", "not found"),
    ],
)
def test_unreadable_paths(path, words):
    if path.startswith("/dev/") and not Path(path).exists():
        pytest.skip("no /dev on this system")
    with pytest.raises(InvalidImage, match=words):
        load_image(path)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_files(fmt, keep):
    data = encode(drawing((400, 200)).convert("RGB"), fmt)
    with pytest.raises(InvalidImage) as info:
        load_image(data[: int(len(data) * keep)])
    assert str(info.value)


@pytest.mark.parametrize(
    "data",
    [b"hello, I am a text file\n", b"%PDF-1.4\n" + bytes(200), bytes(range(256)) * 4],
    ids=["text", "pdf", "binary"],
)
def test_non_images(data):
    with pytest.raises(InvalidImage, match="not an image format"):
        load_image(data)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims to be width×height but holds one IDAT byte: reading must not allocate."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "size",
    [(10_000, 6_000), (100_000, 100_000), (2**31 - 1, 2**31 - 1)],
    ids=["60MP", "10GP-pil-bomb", "max-int"],
)
def test_decompression_bomb_is_refused_before_decoding(size):
    start = time.perf_counter()
    with pytest.raises(InvalidImage, match="too large|limit"):
        load_image(png_header_only(*size))
    assert time.perf_counter() - start < 1.0


def test_pixel_limit_applies_to_every_source_kind():
    img = drawing()
    for src in (img, np.asarray(img), encode(img)):
        with pytest.raises(InvalidImage, match="limit"):
            load_image(src, max_pixels=1000)


def test_file_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(imageio, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.png"
    path.write_bytes(encode(drawing()))
    with pytest.raises(InvalidImage, match="too large"):
        load_image(path)


@pytest.mark.parametrize("size", [(1, 500), (500, 1), (2, 2)])
def test_sliver_images(size):
    with pytest.raises(InvalidImage, match="too small"):
        load_image(encode(Image.new("L", size, 0)))


def test_huge_but_legal_image_loads():
    img = Image.new("L", (8000, 4000), 255)  # 32 MP: a 8K-screen grab
    ImageDraw.Draw(img).line((100, 2000, 7900, 2000), fill=0, width=20)
    out = load_image(encode(img))
    assert out.size == (8000, 4000) and out.mode == "RGB"


@pytest.mark.parametrize(
    "name,data",
    [
        ("gif-3-frames", animated(3)),
        ("tiff-2-pages", encode(drawing(), "TIFF", save_all=True, append_images=[drawing()])),
        ("png", encode(drawing().convert("RGB"))),
        ("jpeg", encode(drawing().convert("RGB"), "JPEG")),
        ("webp", encode(drawing().convert("RGB"), "WEBP")),
    ],
)
def test_every_truncation_gives_an_image_or_invalid_image(name, data):
    """Cut the file at every few bytes: nothing but InvalidImage may come out."""
    for cut in range(1, len(data), max(2, len(data) // 500)):
        try:
            load_image(data[:cut])
        except InvalidImage as exc:
            assert str(exc), (name, cut)

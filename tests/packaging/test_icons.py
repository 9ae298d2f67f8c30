"""The app icon in every format the installers need, and still what make_icons.py draws."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from installer import make_icons

ICONS = make_icons.OUT


@pytest.mark.parametrize("size", make_icons.PNG_SIZES)
def test_png_sizes(size):
    with Image.open(ICONS / f"texsnap-{size}.png") as image:
        assert image.size == (size, size)
        assert image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] < 16  # rounded corner: (nearly) transparent
        assert image.getpixel((size // 2, size // 8))[3] == 255


def test_ico_holds_every_windows_size():
    with Image.open(ICONS / "texsnap.ico") as image:
        assert set(image.info["sizes"]) == {(s, s) for s in make_icons.ICO_SIZES}


def test_icns_opens_with_retina_sizes():
    with Image.open(ICONS / "texsnap.icns") as image:
        assert image.format == "ICNS"
        assert (512, 512, 2) in image.info["sizes"]  # the 1024 px one


def test_svg_is_valid_and_square():
    root = ET.parse(ICONS / "texsnap.svg").getroot()
    assert root.tag.endswith("svg")
    assert root.get("viewBox") == f"0 0 {make_icons.VIEW} {make_icons.VIEW}"


def test_committed_icons_match_the_drawing():
    """Editing the geometry without re-running make_icons.py leaves stale files: caught here."""
    assert (ICONS / "texsnap.svg").read_text(encoding="utf-8") == make_icons.svg()
    with Image.open(ICONS / "texsnap-48.png") as committed:
        assert committed.tobytes() == make_icons.raster(48).tobytes()

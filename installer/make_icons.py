"""Draw the TeXSnap app icon: resources/icons/texsnap.svg, PNGs, texsnap.ico and texsnap.icns.

One geometry (a white sum sign inside snip-frame corners on a blue rounded square) feeds the
SVG and the Pillow raster, so every format shows the same picture. Run after changing it:

    .venv/bin/python installer/make_icons.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "icons"
NAME = "texsnap"

VIEW = 256  # design grid; everything below is in these units
BACKGROUND = "#3b78e7"
FOREGROUND = "#ffffff"
CORNER_RADIUS = 52
# The sum sign, as one outline.
SIGMA = [
    (76, 58), (182, 58), (186, 100), (172, 100), (164, 82), (116, 82), (150, 128),
    (116, 174), (166, 174), (174, 156), (188, 156), (182, 198), (72, 198), (72, 186),
    (120, 128), (76, 70),
]  # fmt: skip
# The snip frame's four corners: (x, y, dx, dy) = corner point and the direction of its arms.
CORNERS = [(34, 34, 1, 1), (222, 34, -1, 1), (34, 222, 1, -1), (222, 222, -1, -1)]
CORNER_ARM = 34
CORNER_WIDTH = 10

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZE = 1024  # Pillow derives every .icns size from the largest image
SUPERSAMPLE = 4  # draw big, shrink with a good filter: Pillow's polygons are not antialiased


def corner_paths() -> list[list[tuple[int, int]]]:
    """Each snip-frame corner as an L-shaped polyline."""
    return [
        [(x + dx * CORNER_ARM, y), (x, y), (x, y + dy * CORNER_ARM)] for x, y, dx, dy in CORNERS
    ]


def svg() -> str:
    sigma = " ".join(f"{x},{y}" for x, y in SIGMA)
    corners = "\n".join(
        f'  <polyline points="{" ".join(f"{x},{y}" for x, y in path)}" />'
        for path in corner_paths()
    )
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="{VIEW}" height="{VIEW}" viewBox="0 0 {VIEW} {VIEW}">
  <title>TeXSnap</title>
  <rect width="{VIEW}" height="{VIEW}" rx="{CORNER_RADIUS}" fill="{BACKGROUND}" />
  <polygon points="{sigma}" fill="{FOREGROUND}" />
  <g fill="none" stroke="{FOREGROUND}" stroke-width="{CORNER_WIDTH}" stroke-opacity="0.75" stroke-linecap="round" stroke-linejoin="round">
{corners}
  </g>
</svg>
"""


def raster(size: int) -> Image.Image:
    """The icon as an RGBA image of ``size`` x ``size`` pixels."""
    big = size * SUPERSAMPLE
    k = big / VIEW
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=CORNER_RADIUS * k, fill=BACKGROUND)
    draw.polygon([(x * k, y * k) for x, y in SIGMA], fill=FOREGROUND)
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(overlay)
    width = round(CORNER_WIDTH * k)
    for path in corner_paths():
        points = [(x * k, y * k) for x, y in path]
        pen.line(points, fill=(255, 255, 255, 191), width=width, joint="curve")
        for px, py in (points[0], points[-1]):  # round caps, as in the SVG
            r = width / 2
            pen.ellipse((px - r, py - r, px + r, py + r), fill=(255, 255, 255, 191))
    image = Image.alpha_composite(image, overlay)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def write_icons(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"{NAME}.svg"]
    written[0].write_text(svg(), encoding="utf-8")
    for size in PNG_SIZES:
        path = out / f"{NAME}-{size}.png"
        raster(size).save(path, optimize=True)
        written.append(path)
    ico = out / f"{NAME}.ico"
    largest = raster(max(ICO_SIZES))
    largest.save(ico, sizes=[(s, s) for s in ICO_SIZES])
    icns = out / f"{NAME}.icns"
    raster(ICNS_SIZE).save(icns)
    return [*written, ico, icns]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default {OUT})")
    for path in write_icons(parser.parse_args().out):
        print(f"{path}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()

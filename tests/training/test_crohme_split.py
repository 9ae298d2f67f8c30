import io
import zipfile

from PIL import Image, ImageDraw

from training.data.build import build_crohme
from training.data.shards import read_shards


def _ink(text: str) -> bytes:
    img = Image.new("L", (96, 48), 255)
    ImageDraw.Draw(img).text((8, 16), text, fill=0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_crohme_dev_holds_out_whole_formulas_not_single_writers(tmp_path):
    """Many CROHME formulas are written by several people: a dev image whose formula is in
    training measures memory, not reading."""
    root = tmp_path / "data"
    (root / "crohme").mkdir(parents=True)
    formulas = [f"x^{{{n}}}+{n % 7}" for n in range(120)]
    with zipfile.ZipFile(root / "crohme" / "train.zip", "w") as z:
        rows = []
        for n, latex in enumerate(formulas):
            for writer in range(3):
                name = f"w{writer}/{n}.png"
                z.writestr(f"images/{name}", _ink(latex))
                rows.append(f"{name}\t{latex}")
        z.writestr("labels.tsv", "\n".join(rows) + "\n")
    train, dev = (read_shards([p]) for p in build_crohme(tmp_path / "shards", root))
    assert len(dev.labels) and len(train.labels) + len(dev.labels) == 360
    assert not set(dev.labels) & set(train.labels)
    assert len(dev.labels) % 3 == 0  # every writer of a held-out formula is held out

"""The adaptation benchmark's splits: the recipe study (``--inside``) must never score or
train on the experiment's other images, which are kept for the reported result."""

import io
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import finetune_crohme  # noqa: E402


def _dataset(folder: Path, n: int) -> Path:
    (folder / "images").mkdir(parents=True)
    lines = []
    for i in range(n):
        buf = io.BytesIO()
        Image.new("L", (8, 8), i % 256).save(buf, "PNG")
        (folder / "images" / f"{i}.png").write_bytes(buf.getvalue())
        lines.append(f"{i}.png\tx_{{{i}}}\n")
    (folder / "labels.tsv").write_text("".join(lines), encoding="utf-8")
    return folder


def _labels(user: Path) -> set[str]:
    return {line.split("\t")[1] for line in (user / "labels.tsv").read_text().splitlines()}


def test_inside_split_stays_within_the_experiments_corrections(tmp_path):
    data = _dataset(tmp_path / "data", 230)
    user, others = finetune_crohme.split_user(data, 200, 0, tmp_path / "main")
    own = _labels(user)
    assert len(own) == 200 and len(others) == 30

    inner, rest = finetune_crohme.split_user(data, 120, 1, tmp_path / "inner", inside=True)
    inner_labels = _labels(inner)
    assert len(inner_labels) == 120 and len(rest) == 80
    assert inner_labels <= own
    assert {e.latex for e in rest} <= own - inner_labels

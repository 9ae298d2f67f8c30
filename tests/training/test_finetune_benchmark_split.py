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


def test_the_other_images_are_also_scored_as_the_app_reads_them(monkeypatch, random_model_dir):
    # through the Recognizer, as a user's snips are: an unreadable image counts as wrong
    from core.errors import InvalidImage
    from core.recognizer import Recognizer
    from core.result import Result
    from training.user_data import Example

    examples = [Example(str(i), b"png", latex) for i, latex in enumerate(["x^{2}", "a+b", "y"])]
    seen = {}

    def read(self, images, beam=None, alternatives=3, **kwargs):
        seen.update(beam=beam, sizes=self.all_sizes, n=len(images))
        return [Result("x^2", 0.5), Result("a-b", 0.5), InvalidImage("broken")]

    monkeypatch.setattr(Recognizer, "recognize_batch", read)
    scores = finetune_crohme.exact_match_as_read(random_model_dir, examples)
    assert scores == {"n": 3, "exact_match": 1 / 3}
    assert seen == {"beam": 1, "sizes": True, "n": 3}


def test_the_recipe_switches_reach_the_options_and_the_printed_recipe():
    args = finetune_crohme.parse_args(["--anchor", "100", "--distill", "1", "--steps", "400"])
    assert (args.anchor, args.distill, args.steps) == (100.0, 1.0, 400)
    note = finetune_crohme._recipe_note({"anchor": 100.0, "distill": 1.0, "blend": 0.5})
    assert "anchored to the start model (100)" in note
    assert "distilled from the start model (weight 1)" in note
    assert "0.5 of the fine-tuned weights kept" in note
    assert finetune_crohme._recipe_note({"anchor": 0.0, "distill": 0.0, "blend": 1.0}) == ""

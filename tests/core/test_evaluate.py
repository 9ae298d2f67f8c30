"""`texsnap eval`: scoring, calibration, damaged samples, stress variants, attention maps."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import main
from core.dataset import Dataset
from core.errors import InvalidImage
from core.evaluate import calibration, evaluate, format_report
from core.render import render_png
from core.result import Result
from core.stress import VARIANTS, dark_mode, rescale, variant

FORMULAS = [r"x^{2}+1", r"\frac{a}{b}", r"\alpha+\beta", r"\sqrt{y}"]


def make_dataset(root: Path, broken: bool = True) -> Path:
    """images/ + labels.tsv; with ``broken``: a corrupt image, a malformed line, a missing file."""
    (root / "images" / "sub").mkdir(parents=True)
    lines = []
    for i, latex in enumerate(FORMULAS):
        rel = f"sub/{i}.png"
        (root / "images" / rel).write_bytes(render_png(latex, dpi=120, background="white"))
        lines.append(f"{rel}\t{latex}")
    if broken:
        (root / "images" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00garbage")
        lines += ["corrupt.png\tz", "a line without a tab", "gone.png\tw"]
    (root / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def zip_dataset(folder: Path, target: Path) -> Path:
    """Zipped inside a wrapping folder, as file managers do."""
    with zipfile.ZipFile(target, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, f"wrapped/{path.relative_to(folder)}")
    return target


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("ds"))


@pytest.fixture
def model(random_model_dir, monkeypatch) -> Path:
    monkeypatch.setenv("TEXSNAP_MODEL", str(random_model_dir))
    return random_model_dir


class ScriptedRecognizer:
    """Stands in for a Recognizer: answers each image with a scripted (latex, confidence)."""

    def __init__(self, answers: dict[bytes, tuple[str, float]]):
        self.answers = answers
        self.info = {"name": "scripted", "version": "1"}

    def recognize_batch(self, images, beam=None, alternatives=3):
        out = []
        for img in images:
            if not isinstance(img, bytes) or img not in self.answers:
                out.append(InvalidImage("unreadable"))
            else:
                latex, conf = self.answers[img]
                out.append(Result(latex, conf, ms=5.0))
        return out


def test_scores_worst_and_skips_with_a_scripted_recognizer(dataset_dir):
    ds = Dataset(dataset_dir)
    img = {s.latex: ds.read(s) for s in ds.samples if s.path.startswith("sub/")}
    rec = ScriptedRecognizer(
        {
            img[r"x^{2}+1"]: ("x^2+1", 0.9),  # same formula, other spelling: exact
            img[r"\frac{a}{b}"]: (r"\frac{a}{b}", 0.8),
            img[r"\alpha+\beta"]: (r"\alpha-\beta", 0.7),  # one token off
            img[r"\sqrt{y}"]: ("q", 0.95),  # all wrong, and confident
        }
    )
    report = evaluate(rec, ds, worst=5)
    s = report.scores.summary()
    assert s["n"] == 4 and s["exact_match"] == 0.5
    assert [w.path for w in report.worst] == ["sub/3.png", "sub/2.png"]
    assert report.worst[0].reference == r"\sqrt{y}" and report.worst[0].prediction == "q"
    assert len(report.problems) == 2 and report.labels_skipped == 1
    assert any(p.startswith("gone.png: ") and "missing" in p for p in report.problems)
    assert report.ms_median == 5.0
    assert sum(b.n for b in report.calibration) == 4
    text = format_report(report)
    for words in ("exact match      50.0%", "Worst errors", "sub/3.png", "calibration error"):
        assert words in text
    report = evaluate(rec, ds, limit=2, worst=0)
    assert report.scores.n == 2 and report.worst == []


def test_calibration_bins_and_ece():
    bins, ece = calibration([(0.95, True)] * 9 + [(0.95, False)])
    assert [(b.lo, b.n, b.accuracy) for b in bins] == [(0.9, 10, 0.9)]
    assert ece == pytest.approx(0.05)
    bins, ece = calibration([(0.0, False), (1.0, True), (0.55, True)])
    assert [b.n for b in bins] == [1, 1, 1] and bins[-1].hi == 1.0
    assert ece == pytest.approx(0.45 / 3)
    assert calibration([]) == ([], 0.0)


def test_eval_folder_reports_and_skips_damaged_samples(model, dataset_dir, capsys):
    code = main.main(["eval", str(dataset_dir), "--worst", "2"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Scored:          4 samples, 2 skipped (unreadable), 1 malformed label lines" in out
    assert "corrupt.png: " in out and "gone.png: " in out
    assert "BLEU-4" in out and "Confidence vs. exact match" in out


def test_eval_zip_json_with_stress(model, dataset_dir, tmp_path, capsys):
    archive = zip_dataset(dataset_dir, tmp_path / "set.zip")
    code = main.main(["eval", str(archive), "--json", "--stress", "--limit", "3"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert report["n"] == 3 and report["skipped"] == 0
    for key in ("exact_match", "bleu4", "edit_distance", "token_accuracy", "ece"):
        assert 0.0 <= report[key] <= 1.0
    assert report["cer"] >= 0.0  # insertions can take CER above 1
    assert list(report["stress"]) == ["clean", *VARIANTS]
    assert all(v["n"] == 3 for v in report["stress"].values())


def test_eval_attention_maps(model, dataset_dir, tmp_path, capsys):
    out_dir = tmp_path / "attention"
    code = main.main(
        [
            "eval",
            str(dataset_dir),
            "--limit",
            "1",
            "--attention",
            str(out_dir),
            "--attention-samples",
            "1",
            "--json",
        ]
    )
    assert code == 0
    written = json.loads(capsys.readouterr().out)["attention"]
    assert [Path(p).name for p in written] == ["00_0.png"]
    assert all(Image.open(p).format == "PNG" for p in written)


def test_attention_follows_greedy_decoding(model, dataset_dir):
    from core.attention import attention_maps
    from core.decoding import greedy
    from core.preprocess import preprocess
    from core.recognizer import Recognizer, batch_images

    rec = Recognizer.from_pretrained(model, device="cpu")
    data = (dataset_dir / "images" / "sub" / "1.png").read_bytes()
    arr, tokens, maps = attention_maps(rec, data)
    images, sizes = batch_images([preprocess(data, rec.loaded.preprocess)], rec.device)
    [hyp] = greedy(rec.loaded.model, images, sizes)
    assert tokens == [rec.loaded.vocab.tokens[i] for i in hyp.ids]
    assert maps.shape == (len(tokens), arr.shape[0] // 16, arr.shape[1] // 16)
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), 1.0, atol=1e-4)  # softmax over the grid


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda p: p / "nothing-here", "No data set"),
        (lambda p: (p / "x.zip").write_bytes(b"not a zip") and p / "x.zip", "not a readable zip"),
        (lambda p: (p / "folder").mkdir() or p / "folder", "has no labels.tsv"),
    ],
)
def test_eval_bad_dataset(model, tmp_path, capsys, make, words):
    code = main.main(["eval", str(make(tmp_path))])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and words in err


def test_eval_dataset_with_only_damaged_samples(model, tmp_path, capsys):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"")
    (tmp_path / "labels.tsv").write_text("a.png\tx\nbroken line\n")
    code = main.main(["eval", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1 and "a.png: The file is empty" in out


@pytest.mark.parametrize("argv", [["--limit", "0"], ["--beam", "0"], ["--worst", "-1"]])
def test_eval_bad_options(model, dataset_dir, capsys, argv):
    assert main.main(["eval", str(dataset_dir), *argv]) == 2
    assert "error: " in capsys.readouterr().err


# ---------------------------------------------------------------------------- stress set


@pytest.fixture(scope="module")
def printed() -> Image.Image:
    return Image.open(io.BytesIO(render_png(r"\frac{a}{b}", dpi=120, background="white")))


def test_dark_mode_variant_is_dark_and_coloured(printed):
    img = np.asarray(dark_mode(printed.convert("RGB"), index=1), dtype=np.int32)
    assert img.mean() < 80  # mostly dark background
    bright = img[img.sum(axis=2) > 400]
    assert len(bright) and (bright[:, 2] < bright[:, 0]).all()  # yellow-ish ink, not grey


def test_scale_and_jpeg_variants(printed):
    data = io.BytesIO()
    printed.save(data, format="PNG")
    w, h = printed.size
    assert variant("half", data.getvalue()).size == (round(w / 2), round(h / 2))
    assert variant("double", data.getvalue()).size == (w * 2, h * 2)
    assert variant("jpeg", data.getvalue())[:2] == b"\xff\xd8"
    assert rescale(Image.new("RGB", (3, 3)), 0.5).size == (2, 2)
    with pytest.raises(InvalidImage):
        variant("dark", b"not an image")
    with pytest.raises(ValueError):
        variant("sepia", data.getvalue())


def test_stress_counts_images_a_variant_breaks_as_wrong(dataset_dir):
    from core.stress import run_stress

    ds = Dataset(dataset_dir)
    right = {ds.read(s): (s.latex, 0.9) for s in ds.samples if s.path.startswith("sub/")}
    rec = ScriptedRecognizer(right)  # reads the clean bytes only: every variant "fails"
    clean = evaluate(rec, ds)
    assert clean.scores.summary()["exact_match"] == 1.0
    stress = run_stress(rec, ds, clean)
    assert stress["clean"]["exact_match"] == 1.0
    for name in VARIANTS:
        assert stress[name] == {"n": 4, "exact_match": 0.0, "bleu4": 0.0, "drop_points": 100.0}
    assert stress["clean"]["bleu4"] == 1.0
    clean.stress = stress
    table = format_report(clean)
    assert "Robustness:" in table and "BLEU-4" in table and "100.0 points" in table

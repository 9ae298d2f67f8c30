"""The learning-curve benchmark: it reads the committed lineage file, draws the plot the model
card shows, and turns a broken lineage file into a message instead of a traceback."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import learning_curve  # noqa: E402

HEADER = "run,images,shipped,im2latex_exact,im2latex_bleu4,crohme2016_exact,crohme2016_bleu4\n"


def test_committed_lineage_plots_and_reports_the_rate(tmp_path, capsys):
    out = tmp_path / "curve.png"
    assert (
        learning_curve.main(["--csv", str(ROOT / "docs/model/lineage.csv"), "--out", str(out)]) == 0
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "per doubling" in capsys.readouterr().out


def test_slope_uses_bundled_runs_only(tmp_path):
    csv = tmp_path / "l.csv"
    csv.write_text(
        "# comment\n" + HEADER + "a,1000,1,0,0.1,,\nb,2000,1,0,0.2,,\nc,4000,0,0,0.9,,\n"
    )
    rows = learning_curve.read_lineage(csv)
    assert [r["run"] for r in rows] == ["a", "b", "c"]
    assert learning_curve.bleu_per_doubling(rows) == pytest.approx(0.1)


@pytest.mark.parametrize(
    "text, message",
    [
        ("run,images\na,1\n", "missing column"),
        (HEADER + "a,many,1,0,0.1,,\n", "data row 1"),
        (HEADER + "a,1000,1,0,0.1,,\n", "at least two"),
        (HEADER + "a,1000,1,0,0.1,,\nb,1000,1,0,0.2,,\n", "at least two"),
        (HEADER + "a,1000,0,0,0.1,,\n", "at least two"),
        (HEADER + "a,1000,1,0,0.1,,,extra\n", "data row 1"),
    ],
)
def test_broken_lineage_file_is_a_clear_error(tmp_path, capsys, text, message):
    csv = tmp_path / "l.csv"
    csv.write_text(text)
    assert learning_curve.main(["--csv", str(csv), "--out", str(tmp_path / "x.png")]) == 2
    assert message in capsys.readouterr().out
    assert not (tmp_path / "x.png").exists()


def test_missing_lineage_file_is_a_clear_error(tmp_path, capsys):
    assert learning_curve.main(["--csv", str(tmp_path / "none.csv")]) == 2
    assert "error:" in capsys.readouterr().out

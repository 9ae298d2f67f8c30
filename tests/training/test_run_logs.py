"""A run's CSV logs keep every number under its own column, and drawing them never fails a
finished run (session (22): a dev slice that appeared mid-run left its numbers unlabelled,
and the plot of them crashed `texsnap train` after the last checkpoint)."""

from __future__ import annotations

import csv

from tests.training.conftest import tiny_overrides
from training.config import load_config
from training.plots import plot_run, read_csv
from training.trainer import Trainer, append_csv


def test_a_column_that_appears_mid_run_gets_its_header(tmp_path):
    path = tmp_path / "eval.csv"
    append_csv(path, {"step": 1000, "crohme_exact_match": 0.44})
    append_csv(path, {"step": 2000, "crohme_exact_match": 0.45, "printed_exact_match": 0.55})
    append_csv(path, {"step": 3000, "printed_exact_match": 0.57})  # a slice gone: empty
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["step", "crohme_exact_match", "printed_exact_match"]
    assert [r["printed_exact_match"] for r in rows] == ["", "0.55", "0.57"]
    assert [r["crohme_exact_match"] for r in rows] == ["0.44", "0.45", ""]
    assert read_csv(path)[1] == {
        "step": 2000,
        "crohme_exact_match": 0.45,
        "printed_exact_match": 0.55,
    }


def test_a_log_written_before_the_fix_is_still_drawn(tmp_path):
    # values beyond the header, as run (31)'s eval.csv had them
    (tmp_path / "eval.csv").write_text(
        "step,crohme_exact_match\n1000,0.445\n2000,0.45,0.55,0.828\n"
    )
    (tmp_path / "metrics.csv").write_text("step,loss\n1,2.0\n2,1.5\n")
    assert read_csv(tmp_path / "eval.csv") == [
        {"step": 1000, "crohme_exact_match": 0.445},
        {"step": 2000, "crohme_exact_match": 0.45},
    ]
    assert {p.name for p in plot_run(tmp_path)} == {"loss.png", "eval.png"}


def test_a_plot_that_fails_does_not_fail_the_finished_run(tiny_shards, tmp_path, monkeypatch):
    import training.trainer

    def broken(run):
        raise RuntimeError("no display, no fonts, whatever")

    said = []
    monkeypatch.setattr(training.trainer, "plot_run", broken)
    cfg = load_config(None, tiny_overrides(tiny_shards, tmp_path, "steps=2", "eval_every=1"))
    model_dir = Trainer(cfg, device="cpu", log=said.append).run()
    assert (model_dir / "model.safetensors").exists()
    assert any("plots could not be drawn" in line for line in said)

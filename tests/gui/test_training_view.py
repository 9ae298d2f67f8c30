"""The Training tab offscreen: data set summary, fine-tune flow (scripted and real child
process), pause/cancel, crash of the child, before/after report, model versions, close."""

from __future__ import annotations

import io
import shutil

import pytest
from PIL import Image, ImageDraw

from core import paths
from core.settings import load_settings
from gui.training_runner import TrainingRunner
from gui.training_view import TrainingView

NAME = "finetuned-test"


def png(text: str) -> bytes:
    img = Image.new("L", (120, 50), "white")
    ImageDraw.Draw(img).text((10, 15), text, fill="black")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def add_corrections(store, n: int) -> None:
    for i in range(n):
        store.add_correction(png(f"x{i}"), f"x_{{{i}}}")


def summary(em: float, n: int = 5) -> dict:
    return {"n": n, "exact_match": em, "bleu4": 0, "edit_distance": 0, "cer": 0}


def report(recommended: bool = True) -> dict:
    return {
        "model_dir": "",
        "name": NAME,
        "before": {"user": summary(0.2), "regression": summary(0.9, 200)},
        "after": {"user": summary(0.6), "regression": summary(0.9, 200)},
        "recommended": recommended,
        "reason": "because" if recommended else "it reads printed formulas worse",
        "train_samples": 10,
        "heldout_samples": 5,
        "replay_samples": 10,
        "steps": 3,
        "preset": "quick",
        "device": "cpu",
        "seconds": 12.0,
        "warnings": ["Skipped bad.png: damaged <image>"],
    }


class FakeRun:
    """Stands in for training.finetune_job.ChildRun: scripted messages, recorded calls."""

    instances: list = []

    def __init__(self, job):
        self.job = job
        self.queue: list = []
        self.paused = False
        self.cancelled = False
        self.killed = False
        FakeRun.instances.append(self)

    def messages(self):
        out, self.queue = self.queue, []
        return out

    def set_paused(self, paused):
        self.paused = paused

    def cancel(self):
        self.cancelled = True
        self.queue.append(
            ("cancelled", "Fine-tuning was cancelled; the model in use is unchanged.")
        )

    def kill(self, timeout=5.0):
        self.killed = True


@pytest.fixture
def base_model(random_model_dir, monkeypatch):
    monkeypatch.setenv("TEXSNAP_MODEL", str(random_model_dir))
    return random_model_dir


@pytest.fixture
def view(qtbot, store, base_model):
    FakeRun.instances = []
    v = TrainingView(store, lambda: "base", runner=TrainingRunner(FakeRun), confirm=lambda *a: True)
    qtbot.addWidget(v)
    return v


def test_summary_and_estimate_follow_the_corrections(view, store):
    add_corrections(store, 3)
    view.show()
    assert "3 corrections will be used" in view.data_label.text()
    assert not view.start_button.isEnabled() and "at least 10" in view.estimate.text()
    add_corrections(store, 9)
    store.update_correction(store.corrections()[0].id, excluded=True)
    view.refresh()
    assert (
        "11 corrections will be used" in view.data_label.text()
        and "1 excluded" in view.data_label.text()
    )
    assert view.start_button.isEnabled() and view.estimate.text().startswith("Takes about")
    quick = view.estimate.text()
    view.preset.setCurrentIndex(view.preset.findData("thorough"))
    assert view.estimate.text() != quick
    assert [v.name for v in view.versions.versions] == ["base"]


def test_fine_tune_flow_progress_report_and_use_this_model(view, store, qtbot):
    add_corrections(store, 12)
    view.show()
    assert view.start()
    run = FakeRun.instances[-1]
    assert run.job.options.preset == "quick" and run.job.current_dir.endswith("random")
    assert run.job.out_dir.startswith(str(paths.user_models_dir()))
    assert view.running and not view.start_button.isEnabled() and view.cancel_button.isEnabled()
    for step, held in ((1, None), (2, 0.4), (3, 0.6)):
        run.queue.append(
            (
                "progress",
                {
                    "phase": "train",
                    "done": step,
                    "total": 3,
                    "loss": 2.0 / step,
                    "heldout": held,
                    "eta": 30.0,
                    "message": f"Training step {step} of 3",
                },
            )
        )
    qtbot.waitUntil(lambda: view.progress.value() == 3)
    assert "loss 0.667" in view.status.text() and "left" in view.status.text()
    assert view.plot.steps == [1, 2, 3] and view.plot.accuracy == [40.0, 60.0]

    view.toggle_pause()
    assert run.paused and view.pause_button.text() == "Resume"
    view.toggle_pause()
    assert not run.paused

    shutil.copytree(_random(), paths.user_models_dir() / NAME)
    run.queue.append(("done", report(recommended=True)))
    qtbot.waitUntil(lambda: not view.running)
    text = view.report_label.text()
    assert "20.0%" in text and "60.0%" in text and "Recommended" in text and "&lt;image&gt;" in text
    assert view.use_button.isEnabled() and NAME in [v.name for v in view.versions.versions]
    assert not list((paths.cache_dir() / "finetune").glob("corrections-*.zip"))
    with qtbot.waitSignal(view.model_chosen) as chosen:
        view.use_button.click()
    assert chosen.args == [NAME]


def _random():
    import os

    return os.environ["TEXSNAP_MODEL"]


def test_a_report_that_does_not_recommend_offers_no_switch(view, store, qtbot):
    add_corrections(store, 12)
    view.show()
    view.start()
    FakeRun.instances[-1].queue.append(("done", report(recommended=False)))
    qtbot.waitUntil(lambda: not view.running)
    assert not view.use_button.isEnabled()
    assert "Not recommended: it reads printed formulas worse" in view.report_label.text()


def test_cancel_and_failure_leave_the_model_alone(view, store, qtbot):
    add_corrections(store, 12)
    view.show()
    view.start()
    view.cancel()
    qtbot.waitUntil(lambda: not view.running)
    assert "cancelled" in view.status.text() and "no new model" in view.report_label.text()
    assert view.start_button.isEnabled()
    view.start()
    FakeRun.instances[-1].queue.append(
        ("error", "Fine-tuning stopped unexpectedly (exit code -9).")
    )
    qtbot.waitUntil(lambda: not view.running)
    assert "exit code -9" in view.status.text() and not view.use_button.isEnabled()
    assert load_settings()[0].model == "base"


def test_versions_use_delete_export_import(view, store, qtbot, tmp_path):
    shutil.copytree(_random(), paths.user_models_dir() / NAME)
    view.show()
    names = [v.name for v in view.versions.versions]
    assert names == ["base", NAME]
    panel = view.versions
    panel.table.selectRow(1)
    assert panel.use_button.isEnabled() and panel.delete_button.isEnabled()
    with qtbot.waitSignal(view.model_chosen) as chosen:
        panel.use_button.click()
    assert chosen.args == [NAME]
    out = panel.export_to(NAME, tmp_path / "m.zip")
    assert out.is_file()
    assert panel.import_from(out) == "random-test"  # the name in its config
    panel.table.selectRow([v.name for v in panel.versions].index("random-test"))
    panel.delete_selected()
    assert [v.name for v in panel.versions] == ["base", NAME]
    errors = []
    panel.error.connect(errors.append)
    (paths.user_models_dir() / NAME / "model.safetensors").write_bytes(b"broken")
    assert not panel.choose(NAME) and "damaged" in str(errors[-1])


def test_import_inkml_adds_corrections(view, store, tmp_path):
    from core.ink import Point, Stroke, to_inkml

    ink = to_inkml([Stroke([Point(0, 0), Point(30, 40), Point(60, 0)])])
    (tmp_path / "a.inkml").write_text(
        ink.replace("<definitions>", '<annotation type="truth">$a+b$</annotation><definitions>')
    )
    (tmp_path / "b.inkml").write_text(ink)
    messages = []
    view.message.connect(messages.append)
    assert view.import_inkml([tmp_path / "a.inkml", tmp_path / "b.inkml"]) == 1
    assert [c.latex for c in store.corrections()] == ["a+b"]
    assert "1 skipped" in messages[-1]


def test_window_has_the_tab_switches_models_and_asks_before_closing(window, base_model, qtbot):
    assert window.tabs.tabText(4) == "Training"
    shutil.copytree(base_model, paths.user_models_dir() / NAME)
    window.training_view.versions.choose(NAME)  # what "Use this model" and "Use" end with
    assert window.settings.model == NAME and load_settings()[0].model == NAME
    window.training_view.versions.rollback()
    assert window.settings.model == "base"

    tv = window.training_view
    tv.runner = TrainingRunner(FakeRun)
    tv.runner.start(object())
    answers = [False]
    tv.confirm = lambda *a: answers[0]
    window.close()
    assert window.isVisible() and tv.running  # the user chose to keep training
    answers[0] = True
    window.close()
    assert not window.isVisible() and not tv.running and FakeRun.instances[-1].killed


@pytest.mark.slow
def test_a_crashing_child_process_is_reported_and_the_app_goes_on(qtbot, tmp_path):
    """A real spawned child that dies without a word (as on a segfault or an OOM kill)."""
    from training.finetune_job import ChildRun, Job

    class DyingRun(ChildRun):
        def __init__(self, job):
            super().__init__(job)
            self.process.kill()

    runner = TrainingRunner(DyingRun)
    job = Job(str(tmp_path / "none.zip"), str(tmp_path), str(tmp_path), str(tmp_path / "out"))
    with qtbot.waitSignal(runner.failed, timeout=30_000) as failed:
        runner.start(job)
    assert "stopped unexpectedly" in failed.args[0] and not runner.running


@pytest.mark.slow
def test_a_child_process_reports_a_bad_data_set(qtbot, tmp_path, random_model_dir):
    runner = TrainingRunner()
    from training.finetune_job import Job

    job = Job(
        str(tmp_path / "none.zip"),
        str(random_model_dir),
        str(random_model_dir),
        str(tmp_path / "out"),
    )
    with qtbot.waitSignal(runner.failed, timeout=60_000) as failed:
        runner.start(job)
    assert "No data set" in failed.args[0]


@pytest.mark.slow
def test_a_real_fine_tune_in_a_child_process_ends_with_a_report(qtbot, store, base_model):
    """The whole tab path with the real child process: export, spawn, train, report."""
    from core.render import render_png
    from training.finetune_plan import Options

    for i in range(12):
        store.add_correction(render_png(f"x_{{{i}}}+{i}", dpi=110), f"x_{{{i}}}+{i}")
    view = TrainingView(store, lambda: "base", confirm=lambda *a: True)
    qtbot.addWidget(view)
    view.options = lambda: Options(device="cpu", steps=1, regression_size=4)
    view.show()
    with qtbot.waitSignal(view.runner.finished, timeout=240_000):
        assert view.start()
    assert view.report is not None and view.report.steps == 1
    assert view.report.name in [v.name for v in view.versions.versions]
    assert view.progress.value() == 1 and "Done" in view.status.text()

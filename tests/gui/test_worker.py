"""The one model worker: queue, supersede, errors, model loading off the GUI thread."""

from __future__ import annotations

import threading

from core.errors import InvalidImage, ModelError
from core.result import Result
from gui.worker import ModelWorker


def test_newer_request_supersedes_a_pending_one_and_the_running_one_finishes(qtbot):
    started, release = threading.Event(), threading.Event()
    seen = []

    def slow(image, beam=None, alternatives=3, all_sizes=None):
        seen.append(image)
        if image == "first":
            started.set()
            release.wait(5)
        return Result(f"r-{image}", 0.5)

    worker = ModelWorker(recognize=slow, warm_up=False)
    results, dropped = [], []
    worker.signals.result.connect(lambda req, res: results.append(res.latex))
    worker.signals.superseded.connect(lambda req: dropped.append(req.image))
    try:
        worker.recognize("first")
        assert started.wait(5)
        worker.recognize("second")
        worker.recognize("third")  # the user snipped again before "second" started
        assert worker.pending() == 1
        release.set()
        qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
    finally:
        release.set()
        worker.stop()
    assert results == ["r-first", "r-third"]
    assert dropped == ["second"]
    assert seen == ["first", "third"]


def test_errors_arrive_as_signals_and_the_worker_keeps_serving(qtbot, fake_model, worker):
    fake_model.error = InvalidImage("This file is not an image.")
    with qtbot.waitSignal(worker.signals.error) as sig:
        worker.recognize(b"junk")
    request, exc = sig.args
    assert request.image == b"junk" and isinstance(exc, InvalidImage)
    fake_model.error = None
    with qtbot.waitSignal(worker.signals.result):
        worker.recognize(b"fine")


def test_unexpected_exception_in_the_model_is_reported_not_raised(qtbot, fake_model, worker):
    fake_model.error = RuntimeError("boom")
    with qtbot.waitSignal(worker.signals.error) as sig:
        worker.recognize(b"x")
    assert isinstance(sig.args[1], RuntimeError)
    assert worker.isRunning()


def test_recognizing_without_a_model_says_so(qtbot):
    worker = ModelWorker(loader=lambda p, d: None, warm_up=False)
    try:
        with qtbot.waitSignal(worker.signals.error) as sig:
            worker.recognize(b"x")
        assert isinstance(sig.args[1], ModelError)
    finally:
        worker.stop()


def test_real_model_loads_in_the_background_and_recognizes(qtbot, random_model_dir, formula_png):
    worker = ModelWorker()
    try:
        with qtbot.waitSignal(worker.signals.model_ready, timeout=60_000) as ready:
            worker.submit(_load(random_model_dir))
        assert ready.args[1]["name"] == "random-test"
        with qtbot.waitSignal(worker.signals.result, timeout=60_000) as sig:
            worker.recognize(formula_png.read_bytes(), beam=2, alternatives=2)
        result = sig.args[1]
        assert isinstance(result.latex, str) and 0.0 <= result.confidence <= 1.0
    finally:
        worker.stop()


def test_a_missing_model_fails_with_a_model_error(qtbot, tmp_path, monkeypatch):
    # no bundled model to fall back to either (a broken install)
    monkeypatch.setenv("TEXSNAP_MODEL", str(tmp_path / "no-base-model"))
    worker = ModelWorker(warm_up=False)
    try:
        with qtbot.waitSignal(worker.signals.model_failed, timeout=30_000) as sig:
            worker.submit(_load(tmp_path / "nothing-here"))
        assert isinstance(sig.args[1], ModelError)
        assert not worker.model_ready
    finally:
        worker.stop()


def test_stop_drops_pending_work_and_ends_the_thread(qtbot, worker):
    with qtbot.waitSignal(worker.signals.result):
        worker.recognize(b"x")
    assert worker.stop(5000)
    assert not worker.isRunning()
    worker.recognize(b"after stop")  # ignored, no thread restarted
    assert not worker.isRunning()


def _load(path):
    from gui.worker import LoadRequest

    return LoadRequest(path=str(path), device="cpu", name="test")

"""GUI fixtures: a fake model (instant, scripted results), a store, a main window."""

from __future__ import annotations

import pytest

from core.result import Alternative, Result


class FakeModel:
    """Stands in for core.recognizer.Recognizer: records calls, returns ``self.result``."""

    def __init__(self, result: Result | None = None):
        self.result = result or Result(
            "x^{2}+1", 0.92, [Alternative("x^{2}+l", 0.05), Alternative("x^{3}+1", 0.02)], ms=12
        )
        self.calls: list[dict] = []
        self.error: BaseException | None = None
        self.info = {"name": "fake-model", "device": "cpu"}

    def recognize(self, image, beam=None, alternatives=3, all_sizes=None):
        self.calls.append(
            {"image": image, "beam": beam, "alternatives": alternatives, "all_sizes": all_sizes}
        )
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def fake_model() -> FakeModel:
    return FakeModel()


@pytest.fixture
def store(tmp_path):
    from core.history import Store

    s = Store(tmp_path / "history.sqlite3")
    yield s
    s.close()


@pytest.fixture
def worker(fake_model):
    from gui.worker import ModelWorker

    w = ModelWorker(recognize=fake_model.recognize, warm_up=False)
    yield w
    assert w.stop(10_000), "the model worker did not stop"


@pytest.fixture
def window(qtbot, store, worker):
    from core.settings import Settings
    from gui.main_window import MainWindow

    win = MainWindow(Settings(), store, worker)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture(autouse=True)
def _no_dangling_workers():
    """Like napari: a test must not leave a model worker thread running."""
    yield
    from gui.worker import ModelWorker

    running = [w for w in list(ModelWorker.instances) if w.isRunning()]
    for w in running:
        w.stop(10_000)
    assert not running, "a ModelWorker was left running"


def status(win) -> str:
    return win.statusBar().currentMessage()

"""The local API inside the desktop app: one shared model, never superseded, settings-driven."""

from __future__ import annotations

import dataclasses
import socket
import threading
from concurrent.futures import Future

import httpx
import keyring
import pytest
from conftest import FakeModel, status
from keyring.backends import fail
from PIL import Image

from core import paths, secrets
from core.errors import ModelError
from core.model_worker import Busy
from core.settings import Settings, save_settings
from gui.worker import ModelWorker, RecognizeRequest

OK_ORIGIN = "app://obsidian.md"


class GatedModel(FakeModel):
    """A fake model whose recognitions wait until ``gate`` is set; answers name the image."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.threads: set[str] = set()

    def recognize(self, image, beam=None, alternatives=3, all_sizes=None):
        self.threads.add(threading.get_ident())
        self.started.set()
        self.gate.wait(10)
        super().recognize(image, beam=beam, alternatives=alternatives)
        if isinstance(image, str | bytes):
            name = image if isinstance(image, str) else "png"
        else:
            name = "size{}x{}".format(*image.size)
        return dataclasses.replace(self.result, latex=f"\\text{{{name}}}")


@pytest.fixture(autouse=True)
def file_keyring():
    """No keyring backend: the token goes to the test's own config dir (never the user's)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def png() -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (120, 40), "white").save(buf, "PNG")
    return buf.getvalue()


def post(port: int, token: str, **headers) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{port}/v1/recognize",
        content=png(),
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=20,
    )


def wait_for_state(qtbot, app, running: bool):
    qtbot.waitUntil(lambda: (app.api.url is not None) == running and app.api.ok, timeout=30_000)


@pytest.fixture
def make_desktop(qtbot, qapp):
    made = []

    def make(settings: Settings, model: FakeModel | None = None):
        from gui.app import DesktopApp

        save_settings(settings)
        model = model or GatedModel()
        loads = []

        def loader(path, device):
            loads.append(path)
            return model

        app = DesktopApp(qapp, loader=loader)
        app.model, app.loads = model, loads
        qtbot.addWidget(app.window)
        made.append(app)
        app.start()
        return app

    yield make
    for app in made:
        app.shutdown()
        app.setParent(None)


# ---- the worker: API requests are never superseded ---------------------------------------


def test_api_requests_are_never_superseded_and_the_user_goes_first(qtbot):
    from gui.api_service import WorkerBridge

    model = GatedModel()
    worker = ModelWorker(recognize=model.recognize, warm_up=False)
    bridge = WorkerBridge(worker, max_queue=4)
    superseded, shown = [], []
    worker.signals.superseded.connect(superseded.append)
    worker.signals.result.connect(lambda request, result: shown.append(result.latex))
    try:
        model.gate.clear()
        worker.recognize("gui-1")  # starts the thread, then blocks in the model
        assert model.started.wait(5)
        api = [bridge(Image.new("RGB", (10 + i, 10)), None, 3) for i in range(2)]
        worker.recognize("gui-2")
        with qtbot.waitSignal(worker.signals.superseded):
            worker.recognize("gui-3")  # supersedes gui-2, never an API request
        assert bridge.waiting == 2
        model.gate.set()
        answers = [f.result(10).latex for f in api]
        qtbot.waitUntil(lambda: len(shown) == 2)
    finally:
        model.gate.set()
        assert worker.stop(10_000)
    assert [r.image for r in superseded] == ["gui-2"]
    assert answers == ["\\text{size10x10}", "\\text{size11x10}"]
    assert shown == ["\\text{gui-1}", "\\text{gui-3}"]  # API results never reach the window
    # the user's gui-3 ran before the API requests that were already waiting
    order = [c["image"] for c in model.calls]
    assert order[:2] == ["gui-1", "gui-3"]
    assert len(model.threads) == 1  # one thread owns the model: the worker's
    assert threading.get_ident() not in model.threads


def test_a_full_api_queue_is_busy_and_a_timed_out_request_is_skipped(qtbot):
    from gui.api_service import WorkerBridge

    model = GatedModel()
    worker = ModelWorker(recognize=model.recognize, warm_up=False)
    bridge = WorkerBridge(worker, max_queue=2)
    try:
        with pytest.raises(ModelError, match="still starting"):
            bridge(Image.new("RGB", (5, 5)), None, 0)
        model.gate.clear()
        worker.recognize("gui")
        assert model.started.wait(5)
        first = bridge(Image.new("RGB", (5, 5)), None, 0)
        second = bridge(Image.new("RGB", (6, 5)), None, 0)
        with pytest.raises(Busy, match="2 requests are waiting"):
            bridge(Image.new("RGB", (7, 5)), None, 0)
        assert first.cancel()  # its HTTP client timed out
        model.gate.set()
        assert second.result(10).latex == "\\text{size6x5}"
    finally:
        model.gate.set()
        assert worker.stop(10_000)
    assert len(model.calls) == 2  # the cancelled one never ran


def test_stopping_the_worker_answers_waiting_api_requests(qtbot):
    model = GatedModel()
    worker = ModelWorker(recognize=model.recognize, warm_up=False)
    model.gate.clear()
    worker.recognize("gui")
    assert model.started.wait(5)
    waiting = worker.submit(RecognizeRequest(Image.new("RGB", (5, 5)), future=Future()))
    threading.Timer(0.2, model.gate.set).start()
    assert worker.stop(10_000)
    with pytest.raises(Busy, match="closing"):
        waiting.future.result(1)
    late = worker.submit(RecognizeRequest(Image.new("RGB", (5, 5)), future=Future()))
    with pytest.raises(Busy):
        late.future.result(1)


def test_an_api_request_without_a_model_gets_a_model_error(qtbot):
    worker = ModelWorker(loader=lambda p, d: None, warm_up=False)
    worker.start()
    try:
        request = worker.submit(RecognizeRequest(Image.new("RGB", (5, 5)), future=Future()))
        with pytest.raises(ModelError, match="not loaded"):
            request.future.result(10)
    finally:
        assert worker.stop(10_000)


# ---- the app: settings start and stop the server --------------------------------------------


def test_the_api_shares_the_apps_one_model_and_follows_the_settings(qtbot, make_desktop):
    port = free_port()
    app = make_desktop(Settings(api_enabled=True, api_port=port))
    wait_for_state(qtbot, app, running=True)
    assert app.api.url == f"http://127.0.0.1:{port}"
    assert f"running on http://127.0.0.1:{port}." in status(app.window)
    assert "No system keyring" in status(app.window)  # the file fallback is told
    assert app.api.indicator.isVisible() and str(port) in app.api.indicator.text()
    info = secrets.load_token(create=False)
    assert info is not None and info.warning  # made on first use, file fallback told

    # answered while this (GUI) thread is blocked in httpx: the worker completes it
    r = post(port, info.token)
    assert r.status_code == 200 and r.json()["latex"] == "\\text{size120x40}"
    health = httpx.get(
        f"http://127.0.0.1:{port}/v1/health", headers={"Authorization": f"Bearer {info.token}"}
    ).json()
    assert health["model"]["name"] == "fake-model" and health["queue"]["capacity"] == 16
    assert app.loads == [None]  # one model, loaded once, for the GUI and the API alike
    assert len(app.model.threads) == 1 and threading.get_ident() not in app.model.threads
    assert post(port, "wrong").status_code == 401
    assert app.store.count_entries() == 0  # API results are the client's, not history

    new_port = free_port()
    app.window.save_settings(dataclasses.replace(app.window.settings, api_port=new_port))
    qtbot.waitUntil(lambda: app.api.url == f"http://127.0.0.1:{new_port}", timeout=15_000)
    assert post(new_port, info.token).status_code == 200
    with pytest.raises(httpx.ConnectError):
        post(port, info.token)

    app.window.save_settings(dataclasses.replace(app.window.settings, api_enabled=False))
    wait_for_state(qtbot, app, running=False)
    assert "off" in status(app.window) and not app.api.indicator.isVisible()
    with pytest.raises(httpx.ConnectError):
        post(new_port, info.token)


def test_off_by_default_no_server_and_no_token(qtbot, make_desktop):
    app = make_desktop(Settings())
    qtbot.waitUntil(lambda: "fake-model" in app.window.model_status.text(), timeout=5000)
    qtbot.wait(200)
    assert app.api.url is None and app.api._server is None
    assert secrets.load_token(create=False) is None  # nothing made until the API is used


def test_a_port_in_use_is_told_the_app_keeps_working_and_saving_retries(
    qtbot, make_desktop, tmp_path
):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = make_desktop(Settings(api_enabled=True, api_port=port))
        qtbot.waitUntil(lambda: not app.api.ok, timeout=30_000)
        text = status(app.window)
        assert f"Port {port} on 127.0.0.1 is already in use" in text
        assert "Choose another port in Settings" in text and "Errno" not in text
        assert app.api.url is None and not app.api.indicator.isVisible()
        # the app itself goes on: an image is still recognized
        image = tmp_path / "f.png"
        image.write_bytes(png())
        with qtbot.waitSignal(app.worker.signals.result, timeout=5000):
            app.window.open_file(image)
        assert app.window.panel.latex() == "\\text{png}"
        # any settings save retries; the same failure is not told again and again
        told = []
        app.api.status_changed.connect(lambda text, ok: told.append(text))
        app.window.save_settings(dataclasses.replace(app.window.settings, pen_width=5.0))
        app.api._control.submit(lambda: None).result(30)  # the retry has run
        qtbot.wait(50)
        assert told == [] and not app.api.ok
    app.window.save_settings(app.window.settings)  # same settings, the port is free now
    wait_for_state(qtbot, app, running=True)
    assert app.api.url == f"http://127.0.0.1:{port}"


def test_allowed_origins_from_the_settings(qtbot, make_desktop):
    port = free_port()
    app = make_desktop(Settings(api_enabled=True, api_port=port, api_allowed_origins=[OK_ORIGIN]))
    wait_for_state(qtbot, app, running=True)
    token = secrets.load_token().token
    ok = post(port, token, Origin=OK_ORIGIN)
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == OK_ORIGIN
    refused = post(port, token, Origin="https://evil.example")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "origin_not_allowed"
    assert post(port, token, Host="evil.example").status_code == 403  # DNS rebinding


def test_rotating_the_token_in_the_dialog_takes_effect_at_once(qtbot, make_desktop, monkeypatch):
    from gui.qt import QMessageBox
    from gui.settings_dialog import SettingsDialog

    port = free_port()
    app = make_desktop(Settings(api_enabled=True, api_port=port))
    wait_for_state(qtbot, app, running=True)
    old = secrets.load_token().token
    assert post(port, old).status_code == 200
    dialog = SettingsDialog(app.window.settings, app.window, api=app.api)
    qtbot.addWidget(dialog)
    assert f"running on http://127.0.0.1:{port}" in dialog.api.status.text()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.api.rotate.click()
    new = dialog.api.token.text()
    assert new and new != old and new == secrets.load_token().token
    assert post(port, old).status_code == 401
    assert post(port, new).status_code == 200


def test_closing_the_app_stops_the_api(qtbot, qapp):
    from gui.app import DesktopApp

    port = free_port()
    save_settings(Settings(api_enabled=True, api_port=port))
    app = DesktopApp(qapp, loader=lambda p, d: FakeModel())
    qtbot.addWidget(app.window)
    try:
        app.start()
        wait_for_state(qtbot, app, running=True)
    finally:
        app.shutdown()
        app.setParent(None)
    with pytest.raises(httpx.ConnectError):
        post(port, "any")
    assert paths.config_dir().exists()

"""The local HTTP API inside the desktop app (Settings > Local API).

* **One model.** The API does not load a model of its own: ``WorkerBridge`` is the
  ``recognize_fn`` of ``core.server.create_app`` and queues each request on the app's model
  worker (``gui.worker``) with a future attached. Such requests are never superseded by the
  GUI's "newest wins" rule and are answered on the worker thread, so a busy GUI thread
  never delays an API answer. At most ``MAX_WAITING`` wait; beyond that the API says 503.
* **Never a frozen window.** Importing FastAPI, reading the token from the keyring and
  binding the port take time, so starts and stops run one at a time on a helper thread;
  the outcome arrives as ``status_changed(text, ok)``. A port in use is a message, and the
  app keeps running without the API.
* **Same security as ``texsnap serve``:** 127.0.0.1 only, the token from ``core.secrets``
  (a rotation here takes effect at once; one from ``texsnap token --rotate`` within
  seconds), Origin refused unless listed in the settings.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from core.errors import ModelError, TeXSnapError
from gui.qt import QLabel, QObject, Signal
from gui.worker import ModelWorker, RecognizeRequest

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
MAX_WAITING = 16  # API requests queued in front of the model, like `texsnap serve --queue`
STOP_TIMEOUT_S = 15.0


class WorkerBridge:
    """``recognize_fn`` for ``core.server.create_app`` on top of the GUI's model worker."""

    def __init__(self, worker: ModelWorker, max_queue: int = MAX_WAITING):
        self.worker, self.max_queue = worker, max_queue

    def __call__(self, image, beam: int | None, alternatives: int) -> Future:
        if not self.worker.isRunning():
            raise ModelError("The recognition model is still starting. Try again in a moment.")
        future: Future = Future()
        request = RecognizeRequest(image, beam, alternatives, future=future)
        self.worker.submit(request, limit=self.max_queue)  # Busy when full
        return future

    @property
    def waiting(self) -> int:
        return self.worker.waiting_api


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, TeXSnapError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class ApiService(QObject):
    """Runs ``core.server.BackgroundServer`` while the settings say so."""

    status_changed = Signal(str, bool)  # (sentence for the user, ok)
    _changed = Signal(str, bool, object)  # from the control thread: (text, ok, url or None)

    def __init__(self, worker: ModelWorker, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self.bridge = WorkerBridge(worker)
        self.status, self.ok, self.url = "The local API is off.", True, None
        self.indicator = QLabel()  # permanent status-bar label, shown while the API runs
        self.indicator.hide()
        self._wanted: tuple[int, tuple[str, ...]] | None = None  # (port, origins) or off
        self._server = None  # the running core.server.BackgroundServer
        self._token = None  # core.secrets.CurrentToken, made on first start
        self._token_warning: str | None = None  # no keyring: told with the status
        self._model_info: dict = {}
        self._control = ThreadPoolExecutor(1, thread_name_prefix="texsnap-api-control")
        self._changed.connect(self._show_status)
        worker.signals.model_ready.connect(self._model_ready)

    # ---- GUI thread ---------------------------------------------------------------------
    def apply(self, settings) -> Future | None:
        """Start, restart or stop the server to match ``settings``; returns the pending
        operation (None when nothing changes). A failed start is retried on the next call."""
        wanted = None
        if settings.api_enabled:
            wanted = (settings.api_port, tuple(settings.api_allowed_origins))
        if wanted == self._wanted and self.ok:
            return None
        self._wanted = wanted
        if wanted is not None and not self.worker.isRunning():
            self.worker.start()  # the API submits from its own threads: the loop must run
        return self._control.submit(self._switch, wanted)

    def token_info(self):
        """The token (made if there is none) with where it lives; keyring errors raise."""
        from core import secrets

        return secrets.load_token()

    def rotate_token(self):
        """A new token; the running server accepts only it from now on."""
        from core import secrets

        info = secrets.rotate_token()
        self._token = secrets.CurrentToken(info)
        return info

    def shutdown(self) -> None:
        """Stop the server (requests in flight may finish) before the model worker stops."""
        self._wanted = None
        try:
            self._control.submit(self._stop_server).result(STOP_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - closing the app must go on regardless
            log.exception("the local API did not stop cleanly")
        self._control.shutdown(wait=False)

    def _show_status(self, text: str, ok: bool, url: str | None) -> None:
        # a failed start is retried at each settings save; the same failure is told once
        changed = (text, ok) != (self.status, self.ok)
        self.status, self.ok, self.url = text, ok, url
        self.indicator.setText(f"API on :{url.rsplit(':', 1)[1]}" if url else "")
        self.indicator.setToolTip(text)
        self.indicator.setVisible(url is not None)
        if changed:
            self.status_changed.emit(text, ok)

    def _model_ready(self, _request, info: dict) -> None:
        self._model_info = {k: v for k, v in info.items() if k != "notice"}

    # ---- control thread -----------------------------------------------------------------
    def _current_token(self) -> str:
        return self._token() if self._token is not None else ""  # "" matches no token

    def _switch(self, wanted) -> None:
        self._stop_server()
        if wanted is None:
            self._report("The local API is off.", True)
            return
        port, origins = wanted
        try:
            server = self._start_server(port, origins)
        except Exception as exc:  # noqa: BLE001 - port in use, keyring trouble...: told
            log.warning("local API did not start: %s", exc)
            self._report(
                f"The local API could not start: {_reason(exc)} "
                "Choose another port in Settings > Local API.",
                False,
            )
            return
        self._server = server
        url = f"http://{HOST}:{port}"
        text = f"The local API is running on {url}."
        warning = self._token_warning
        self._report(f"{text} {warning}" if warning else text, True, url)

    def _start_server(self, port: int, origins: tuple[str, ...]):
        from core import secrets
        from core.server import BackgroundServer, ServerConfig, create_app

        if self._token is None:
            info = secrets.load_token()
            self._token, self._token_warning = secrets.CurrentToken(info), info.warning
        app = create_app(
            self.bridge,
            token=self._current_token,
            config=ServerConfig(allowed_origins=origins, bind_host=HOST),
            info=lambda: self._model_info,
        )
        server = BackgroundServer(app, HOST, port)
        server.start()
        return server

    def _stop_server(self) -> None:
        server, self._server = self._server, None
        if server is not None and not server.stop():
            log.warning("the local API thread did not stop within its timeout")

    def _report(self, text: str, ok: bool, url: str | None = None) -> None:
        log.info("%s", text)
        try:
            self._changed.emit(text, ok, url)
        except RuntimeError:  # the app closed meanwhile
            pass

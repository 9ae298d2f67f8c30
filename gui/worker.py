"""The one model worker: a QThread that owns the Recognizer and serves a request queue.

* Exactly one thread ever touches the Recognizer (it is not thread-safe), so model loads and
  swaps go through the same queue as recognitions and can never race them.
* A newer recognition supersedes a *pending* one (the user snipped again before the first
  one started); the running one is never interrupted, its result still arrives.
* Requests of the local API (``RecognizeRequest.future`` set, see ``gui.api_service``) share
  this worker and so the app's one model, but are never superseded and never shown: each is
  answered through its future, completed on this thread, so an API client gets its answer
  even while the GUI thread is busy. Their number is bounded (``submit(limit=...)``).
* Results and errors arrive by signals on a separate ``WorkerSignals`` object that lives in
  the GUI thread; the receiving slots therefore run in the GUI thread.
* ``stop()`` is cooperative: the loop finishes the current request and returns; we never
  call ``QThread.terminate()``.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ModelError
from core.model_worker import Busy
from gui.qt import QObject, QThread, Signal

log = logging.getLogger(__name__)

_ids = itertools.count(1)


@dataclass
class RecognizeRequest:
    """One image to recognize; ``context`` travels back untouched with the result."""

    image: Any  # PNG bytes, path, PIL image or ndarray
    beam: int | None = None
    alternatives: int = 3
    all_sizes: bool = True  # read at the model's extra glyph sizes too (Settings.all_sizes)
    context: dict = field(default_factory=dict)
    id: int = field(default_factory=lambda: next(_ids))
    # set for API requests: answered through it, never superseded, no GUI signal
    future: Future | None = field(default=None, repr=False)


def _supersedable(request) -> bool:
    return not (isinstance(request, RecognizeRequest) and request.future is not None)


def _refuse(request, exc: Exception) -> None:
    """Answer a queued API request that will not run (shutting down)."""
    future = getattr(request, "future", None)
    if future is not None:
        try:
            future.set_exception(exc)
        except InvalidStateError:  # its client already gave up
            pass


@dataclass
class LoadRequest:
    """Load (or swap to) a model: ``path`` None is the bundled base model."""

    path: str | None = None
    device: str = "auto"
    name: str = "base"
    id: int = field(default_factory=lambda: next(_ids))


class WorkerSignals(QObject):
    """Signals of the worker; created in (and delivering to) the GUI thread."""

    result = Signal(object, object)  # (RecognizeRequest, Result)
    error = Signal(object, object)  # (request, exception)
    superseded = Signal(object)  # a pending RecognizeRequest that was dropped
    model_loading = Signal(object)  # LoadRequest
    model_ready = Signal(object, object)  # (LoadRequest, info dict; "notice" if it fell back)
    model_failed = Signal(object, object)  # (LoadRequest, exception)
    busy = Signal(bool)


def default_loader(path: str | None, device: str):
    """Load a real Recognizer (imports torch: only ever called on the worker thread).

    A damaged fine-tuned model falls back to the bundled one; the returned (recognizer,
    notice) pair says so (see core.model_select).
    """
    from core.model_select import open_recognizer

    return open_recognizer(path, device=device)


def resolve_model_path(name: str) -> str | None:
    """Settings' model name -> directory (None = the bundled base model)."""
    if not name or name == "base":
        return None
    from core.paths import user_models_dir

    return str(Path(user_models_dir()) / name)


class _CallableModel:
    """Adapts a plain ``recognize(image, beam=, alternatives=, all_sizes=)`` callable to a
    model."""

    def __init__(self, fn: Callable[..., Any], info: dict | None = None):
        self.recognize = fn
        self.info = info or {"name": getattr(fn, "__name__", "callable"), "version": ""}


class ModelWorker(QThread):
    """Serves RecognizeRequest and LoadRequest objects one at a time, in order.

    ``recognize``: a callable used as the model (tests, or an already loaded model);
    ``loader(path, device)``: builds a model for a LoadRequest (default: core.recognizer).
    """

    instances: weakref.WeakSet = weakref.WeakSet()  # lets tests check none is left running

    def __init__(
        self,
        recognize: Callable[..., Any] | None = None,
        loader: Callable[[str | None, str], Any] | None = None,
        parent: QObject | None = None,
        warm_up: bool = True,
    ):
        super().__init__(parent)
        self.setObjectName("TeXSnapModelWorker")
        self.signals = WorkerSignals()
        self._loader = loader or default_loader
        self._model = _CallableModel(recognize) if recognize is not None else None
        self._queue: deque = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._warm_up = warm_up
        self.current: Any = None  # the request being served (read from the GUI thread)
        ModelWorker.instances.add(self)

    # ---- GUI-thread API ---------------------------------------------------------------------
    @property
    def model_ready(self) -> bool:
        return self._model is not None

    def submit(self, request: RecognizeRequest | LoadRequest, limit: int | None = None) -> Any:
        """Queue a request; a pending request of the same kind is superseded. Returns it.

        API requests (with a ``future``) neither supersede nor get superseded; with
        ``limit``, Busy is raised when that many of them are already waiting. Those may be
        submitted from any thread, once the worker runs (``start()`` is the GUI's call).
        """
        dropped = []
        with self._cond:
            if self._stopping:
                _refuse(request, Busy("TeXSnap is closing."))
                return request
            if limit is not None and self._waiting_api() >= limit:
                raise Busy(
                    f"The recognizer is busy ({limit} requests are waiting). Try again in a moment."
                )
            for old in list(self._queue):
                if type(old) is type(request) and _supersedable(old) and _supersedable(request):
                    self._queue.remove(old)
                    dropped.append(old)
            self._enqueue(request)
            self._cond.notify()
        for old in dropped:
            if isinstance(old, RecognizeRequest):
                self.signals.superseded.emit(old)
        if not self.isRunning() and _supersedable(request):
            self.start()
        return request

    def _enqueue(self, request) -> None:
        """Append; but the user's own recognition goes ahead of API requests waiting at the
        end (never ahead of a model load), so a script flooding the API cannot make the
        window wait for a whole queue of API work. Only one such request waits at a time (a
        newer one supersedes it), so API requests are never starved."""
        pos = len(self._queue)
        if isinstance(request, RecognizeRequest) and _supersedable(request):
            while pos > 0 and not _supersedable(self._queue[pos - 1]):
                pos -= 1
        self._queue.insert(pos, request)

    def _waiting_api(self) -> int:
        return sum(not _supersedable(r) for r in self._queue)

    @property
    def waiting_api(self) -> int:
        """API requests waiting (not yet running): for the API's health answer."""
        with self._cond:
            return self._waiting_api()

    def recognize(self, image, **kwargs) -> RecognizeRequest:
        return self.submit(RecognizeRequest(image=image, **kwargs))

    def load_model(self, name: str = "base", device: str = "auto") -> LoadRequest:
        return self.submit(LoadRequest(path=resolve_model_path(name), device=device, name=name))

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    def stop(self, timeout_ms: int = 30_000) -> bool:
        """Drop pending work, let the running request finish, wait for the thread to end."""
        with self._cond:
            self._stopping = True
            dropped = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        for request in dropped:
            _refuse(request, Busy("TeXSnap is closing."))
        if self.isRunning():
            return self.wait(timeout_ms)
        return True

    # ---- worker thread ----------------------------------------------------------------------
    def run(self) -> None:
        while True:
            with self._cond:
                idle = not self._queue and not self._stopping
            if idle and self._warm_up:
                # only when there is nothing to do: the model load and the first
                # recognition must not wait for matplotlib
                self._warm_up = False
                self._import_renderer()
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                request = self._queue.popleft()
                self.current = request
            self.signals.busy.emit(True)
            try:
                if isinstance(request, LoadRequest):
                    self._serve_load(request)
                else:
                    self._serve_recognize(request)
            finally:
                self.current = None
                self.signals.busy.emit(False)

    def _import_renderer(self) -> None:
        # matplotlib takes a while to import; doing it here keeps the first preview render on
        # the GUI thread fast (imports are process-wide).
        try:
            t = time.perf_counter()
            import matplotlib.figure  # noqa: F401

            import core.render  # noqa: F401

            log.debug("renderer imported in %.0f ms", (time.perf_counter() - t) * 1000)
        except Exception:  # the preview will report its own error later
            log.exception("could not import the renderer")

    def _serve_load(self, request: LoadRequest) -> None:
        self.signals.model_loading.emit(request)
        try:
            model = self._loader(request.path, request.device)
        except BaseException as exc:  # noqa: BLE001 - reported to the GUI, never lost
            log.warning("model load failed: %s", exc)
            self.signals.model_failed.emit(request, exc)
            return
        # a loader returns a model, or (model, notice) when it had to fall back to another
        model, notice = model if isinstance(model, tuple) else (model, None)
        self._model = model
        info = dict(getattr(model, "info", {}) or {})
        info["notice"] = notice
        self.signals.model_ready.emit(request, info)

    def _serve_recognize(self, request: RecognizeRequest) -> None:
        if request.future is not None:
            self._serve_api(request, request.future)
            return
        if self._model is None:
            self.signals.error.emit(request, ModelError("The recognition model is not loaded."))
            return
        try:
            result = self._model.recognize(
                request.image,
                beam=request.beam,
                alternatives=request.alternatives,
                all_sizes=request.all_sizes,
            )
        except BaseException as exc:  # noqa: BLE001
            self.signals.error.emit(request, exc)
            return
        self.signals.result.emit(request, result)

    def _serve_api(self, request: RecognizeRequest, future: Future) -> None:
        if not future.set_running_or_notify_cancel():
            return  # its HTTP client timed out while it waited: do not spend the model on it
        if self._model is None:
            future.set_exception(ModelError("The recognition model is not loaded."))
            return
        try:
            result = self._model.recognize(
                request.image, beam=request.beam, alternatives=request.alternatives
            )
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting API request
            future.set_exception(exc)
            return
        future.set_result(result)

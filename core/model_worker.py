"""One thread that alone calls the Recognizer, behind a bounded queue (for ``texsnap serve``).

The Recognizer is not thread-safe, so every recognition is handed to this worker: ``submit``
puts the request in a queue of at most ``max_queue`` waiting requests and returns a
``concurrent.futures.Future`` at once; it raises :class:`Busy` when the queue is full, so a
flood of requests is turned away quickly instead of piling up memory and latency. A request
whose future was cancelled while it waited (its HTTP client timed out) is skipped unrun.

A ``ModelWorker`` is a valid ``recognize_fn`` for ``core.server.create_app``. The desktop app
does not use it: it has its own model worker (``gui.worker``) and passes an adapter instead.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any, Protocol

from core.errors import TeXSnapError
from core.result import Result

log = logging.getLogger(__name__)


class Busy(TeXSnapError):
    """The recognizer's queue is full (or shutting down): try again shortly."""


class _Recognizes(Protocol):
    def recognize(self, image: Any, beam: int | None = None, alternatives: int = 3) -> Result: ...


class ModelWorker:
    """Owns ``recognizer`` from now on: no other thread may call it."""

    def __init__(self, recognizer: _Recognizes, max_queue: int = 16, name: str = "model-worker"):
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.max_queue = max_queue
        self._recognizer = recognizer
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()  # submit vs close
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, image: Any, beam: int | None = None, alternatives: int = 3) -> Future:
        """Queue one recognition; the future holds a ``Result`` or the error it raised."""
        fut: Future = Future()
        with self._lock:
            if self._closed:
                raise Busy("The recognizer is shutting down.")
            try:
                self._queue.put_nowait((fut, image, beam, alternatives))
            except queue.Full:
                raise Busy(
                    f"The recognizer is busy ({self.max_queue} requests are waiting). "
                    "Try again in a moment."
                ) from None
        return fut

    __call__ = submit

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def close(self, timeout: float | None = 30.0) -> bool:
        """Cancel waiting requests, let the running one finish, stop the thread.

        Returns False when the thread did not stop within ``timeout`` seconds."""
        with self._lock:
            if not self._closed:
                self._closed = True
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    item[0].cancel()
                self._queue.put_nowait(None)  # the queue is empty and nothing can refill it
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, image, beam, alternatives = item
            if not fut.set_running_or_notify_cancel():
                continue  # its client gave up while it waited
            try:
                result = self._recognizer.recognize(image, beam=beam, alternatives=alternatives)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
                fut.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                fut.set_result(result)

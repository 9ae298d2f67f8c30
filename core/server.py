"""The local HTTP API: ``POST /v1/recognize`` and ``GET /v1/health`` (FastAPI).

Embedding: ``create_app(recognize_fn, token=..., config=...)`` builds the app around any
*recognize_fn*, so one server serves both ``texsnap serve`` and the desktop app:

* ``recognize_fn(image, beam, alternatives) -> concurrent.futures.Future[Result]`` must be
  thread-safe and must not block: it queues the request for the one thread that owns the
  Recognizer and returns at once, raising ``core.model_worker.Busy`` when its queue is full.
  ``texsnap serve`` passes a ``core.model_worker.ModelWorker``; the desktop app passes
  ``gui.api_service.WorkerBridge``, which queues the request on the app's own model worker
  (``gui.worker``) with the future attached: such requests are never superseded by newer GUI
  requests, and the worker thread completes the future itself (not through a Qt signal), so
  an answer never waits for the GUI's event loop. ``image`` is an RGB PIL image, already
  decoded and size-checked here, so the model thread only runs the model.

* A request whose future is not done within ``config.timeout_s`` gets 504; the future is
  cancelled so a request still waiting in the queue is never run.
* ``token`` is a string or a zero-argument callable returning the current token (so the GUI
  can rotate it without restarting the server). ``BackgroundServer(app, host, port)`` runs
  the app on a thread of its own with ``start()`` / ``stop()``.

Security model (the API must serve this user's editors and scripts, nobody else):

* Every ``/v1`` request needs ``Authorization: Bearer <token>``, compared in constant time.
  ``/docs`` and ``/openapi.json`` describe the API without a token: they hold no data and
  cannot reach the model, and a browser cannot attach a token to a page it opens.
* A request carrying an ``Origin`` header (a web page, whatever its method) is refused with
  403 unless that origin is in ``config.allowed_origins``; CORS headers are only sent for
  those origins. So a web page can neither read answers nor spend the model's time.
* The ``Host`` header must name this machine (``localhost``, ``127.0.0.1``, ``[::1]`` or the
  bound address), which defeats DNS-rebinding pages that try to pass for same-origin.
* Limits: ``max_body_bytes`` (checked on Content-Length and while streaming), ``max_pixels``
  (checked on the image header before decoding; images are decoded in the request threads,
  at most ``DECODE_THREADS`` at once), the worker's queue, ``timeout_s``.
* Every error is JSON ``{"error": {"code", "message"}}``; ``_ERROR_STATUS`` maps each typed
  error to its status in one place; tokens never appear in messages or logs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import errno
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from PIL import Image
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from core import __version__
from core.errors import BlankImage, Cancelled, InvalidImage, ModelError, TeXSnapError
from core.imageio import load_image
from core.model_worker import Busy
from core.result import UNSURE_BELOW
from core.secrets import tokens_equal
from core.settings import BEAM_RANGE

log = logging.getLogger(__name__)

RecognizeFn = Callable[[Image.Image, int | None, int], Future]
MAX_ALTERNATIVES = 10
# = core.recognizer.MAX_BEAM, not imported from there: that pulls in torch, and the desktop
# app starts its API on a helper thread that must not wait for a torch import
MAX_BEAM = BEAM_RANGE[1]
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DECODE_THREADS = 4  # images decoded at once (each may take ~100 MB at the pixel limit)
MAX_CONNECTIONS = 64  # uvicorn answers 503 beyond this many open connections / tasks


@dataclass(frozen=True)
class ServerConfig:
    max_body_bytes: int = 20 * 1024 * 1024  # a formula screenshot is well under 1 MB
    max_pixels: int = 25_000_000  # header dimensions, refused before decoding
    timeout_s: float = 30.0  # per request, queue wait included
    allowed_origins: tuple[str, ...] = ()  # e.g. ("app://obsidian.md",); empty = CORS off
    bind_host: str = "127.0.0.1"  # accepted in the Host header; a wildcard disables the check


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


# --- the one place where errors become responses --------------------------------------------

# type -> (HTTP status, code); the first matching entry wins, so subclasses come first.
_ERROR_STATUS: list[tuple[type[BaseException], int, str]] = [
    (InvalidImage, 400, "invalid_image"),
    (BlankImage, 422, "blank_image"),
    (Busy, 503, "busy"),
    (Cancelled, 503, "cancelled"),
    (ModelError, 503, "model_error"),
    (TeXSnapError, 500, "error"),
]
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def _to_response(exc: BaseException) -> JSONResponse:
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)
    if isinstance(exc, RequestValidationError):
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body"))
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg"))
        return error_response(422, "invalid_option", "Invalid request: " + "; ".join(parts))
    if isinstance(exc, StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), exc.headers)
    for kind, status, code in _ERROR_STATUS:
        if isinstance(exc, kind):
            headers = {"Retry-After": "1"} if status == 503 else None
            return error_response(status, code, str(exc), headers)
    log.exception("unexpected error in the API", exc_info=exc)
    return error_response(500, "internal_error", "Unexpected server error; see the server log.")


# --- guard: Host, Origin, body size (pure ASGI, before any routing) ---------------------------


class _BodyTooLarge(ApiError):
    def __init__(self, limit: int):
        mb = limit / 2**20
        super().__init__(413, "body_too_large", f"The request body is over the {mb:g} MB limit.")


class _Guard:
    def __init__(self, app, config: ServerConfig):
        self.app, self.config = app, config
        self.origins = set(config.allowed_origins)
        bind = config.bind_host.strip("[]")
        self.hosts = None if bind in ("0.0.0.0", "::", "") else {*LOOPBACK_HOSTS, bind.lower()}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers: dict[str, list[str]] = {}
        for key, value in scope["headers"]:
            headers.setdefault(key.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        refusal = self._refusal(headers)
        if refusal is not None:
            return await _to_response(refusal)(scope, receive, send)
        limit, seen = self.config.max_body_bytes, 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)

    def _refusal(self, headers: dict[str, list[str]]) -> ApiError | None:
        hosts = headers.get("host", [""])
        if self.hosts is not None and (
            len(hosts) != 1 or _host_name(hosts[0]).lower() not in self.hosts
        ):
            return ApiError(
                403, "host_not_allowed", "Requests must be addressed to this machine by name."
            )
        if any(origin not in self.origins for origin in headers.get("origin", [])):
            return ApiError(
                403,
                "origin_not_allowed",
                "Requests from web pages are refused. Start the server with "
                "--allow-origin ORIGIN to allow one.",
            )
        lengths = headers.get("content-length", ["0"])
        length = lengths[0].strip()
        if len(set(lengths)) != 1 or not length.isdigit():
            return ApiError(400, "bad_request", "Invalid Content-Length header.")
        if int(length) > self.config.max_body_bytes:
            return _BodyTooLarge(self.config.max_body_bytes)
        return None


def _host_name(host: str) -> str:
    if host.startswith("["):  # [::1]:8765
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


# --- request / response models ----------------------------------------------------------------


class AlternativeOut(BaseModel):
    latex: str
    confidence: float


class UnsureOut(BaseModel):
    start: int = Field(description="offset of the first character in latex")
    end: int = Field(description="offset after the last character")
    text: str
    probability: float = Field(description="the lowest token probability in the stretch")


class RecognizeOut(BaseModel):
    latex: str
    confidence: float
    alternatives: list[AlternativeOut]
    unsure: list[UnsureOut] = Field(
        default_factory=list,
        description=f"stretches of latex whose tokens each had a probability under {UNSURE_BELOW}",
    )
    ms: float
    empty_reason: str | None = None


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


_ERRORS_DOC = {
    s: {"model": ErrorOut, "description": d}
    for s, d in {
        400: "Unreadable image, bad JSON, bad base64 or bad multipart body",
        401: "Missing or wrong token",
        403: "Request from a web page (Origin) or to a foreign Host",
        413: "Body over the size limit",
        422: "Invalid option",
        503: "Queue full or model unavailable (retry)",
        504: "Timed out",
    }.items()
}

_REQUEST_BODY_DOC = {
    "required": True,
    "description": "The image, in one of three forms. Options may also be query parameters.",
    "content": {
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "image": {"type": "string", "format": "binary"},
                    "beam": {"type": "integer"},
                    "alternatives": {"type": "integer"},
                },
                "required": ["image"],
            }
        },
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "image": {"type": "string", "description": "base64, or a data: URL"},
                    "beam": {"type": "integer", "minimum": 1, "maximum": MAX_BEAM},
                    "alternatives": {"type": "integer", "minimum": 0},
                },
                "required": ["image"],
            }
        },
    },
}


# --- the app ------------------------------------------------------------------------------------


def create_app(
    recognize_fn: RecognizeFn,
    *,
    token: str | Callable[[], str],
    config: ServerConfig | None = None,
    info: Callable[[], dict] | None = None,
) -> FastAPI:
    """The API around ``recognize_fn`` (see the module docstring for the contract)."""
    config = config or ServerConfig()
    current_token = token if callable(token) else (lambda: token)
    app = FastAPI(
        title="TeXSnap local API",
        version=__version__,
        description="Math images to LaTeX on this machine. Every /v1 request needs "
        "`Authorization: Bearer <token>`; `texsnap token` prints the token.",
        redoc_url=None,
    )
    bearer = HTTPBearer(auto_error=False, description="The token `texsnap token` prints.")

    def authorized(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if creds is None:
            raise ApiError(
                401,
                "unauthorized",
                "This API needs an 'Authorization: Bearer <token>' header; "
                "`texsnap token` prints the token.",
                {"WWW-Authenticate": "Bearer"},
            )
        if not tokens_equal(creds.credentials, current_token()):
            raise ApiError(401, "unauthorized", "Wrong token.", {"WWW-Authenticate": "Bearer"})

    # Exception itself goes to Starlette's outermost handler, which answers and then
    # re-raises so that the server logs the traceback of a real bug.
    for kind in (ApiError, TeXSnapError, StarletteHTTPException, RequestValidationError, Exception):
        app.add_exception_handler(kind, lambda _request, exc: _to_response(exc))
    decode_slots: list[anyio.CapacityLimiter] = []  # made on first use, inside the event loop

    @app.get(
        "/v1/health",
        dependencies=[Depends(authorized)],
        responses=_ERRORS_DOC,
        summary="Is the server up, which model does it run, how full is its queue",
    )
    def health() -> dict[str, Any]:
        out: dict[str, Any] = {"status": "ok", "version": __version__}
        if info is not None:
            out["model"] = info()
        waiting = getattr(recognize_fn, "waiting", None)
        if waiting is not None:
            out["queue"] = {
                "waiting": waiting,
                "capacity": getattr(recognize_fn, "max_queue", None),
            }
        return out

    @app.post(
        "/v1/recognize",
        dependencies=[Depends(authorized)],
        response_model=RecognizeOut,
        response_model_exclude_none=True,
        responses=_ERRORS_DOC,
        openapi_extra={"requestBody": _REQUEST_BODY_DOC},
        summary="Read the formula in an image",
    )
    async def recognize(
        request: Request,
        beam: int | None = Query(None, ge=1, le=MAX_BEAM, description="beam width"),
        alternatives: int = Query(3, ge=0, le=MAX_ALTERNATIVES, description="how many"),
    ) -> dict:
        deadline = time.monotonic() + config.timeout_s
        data, beam, alternatives = await _read_image_request(request, beam, alternatives)
        if not decode_slots:
            decode_slots.append(anyio.CapacityLimiter(DECODE_THREADS))
        image = await anyio.to_thread.run_sync(
            _decode, data, config.max_pixels, limiter=decode_slots[0]
        )
        future = recognize_fn(image, beam, alternatives)
        try:
            result = await asyncio.wait_for(
                asyncio.wrap_future(future), max(0.0, deadline - time.monotonic())
            )
        except TimeoutError:
            future.cancel()
            raise ApiError(
                504,
                "timeout",
                f"The recognition did not finish within {config.timeout_s:g} s.",
            ) from None
        return result.to_dict()

    if config.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.allowed_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(_Guard, config=config)  # added last: outermost
    return app


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    """Bytes from the network -> RGB image, or InvalidImage: never a 500 for a bad file.

    Image plug-ins may raise other errors on damaged files (e.g. PIL's TIFF reader raises
    TypeError, its GIF reader IndexError, when it counts the frames of a damaged file); for
    bytes from a client those mean "damaged image", and are logged for the maintainers.
    """
    try:
        return load_image(data, max_pixels=max_pixels)
    except (TeXSnapError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - see the docstring
        log.warning("image decoder failed on a request: %s: %s", type(exc).__name__, exc)
        raise InvalidImage(f"The image is damaged and cannot be read ({exc}).") from None


# --- reading the three body forms ---------------------------------------------------------------


async def _read_image_request(
    request: Request, beam: int | None, alternatives: int
) -> tuple[bytes, int | None, int]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        async with request.form(max_files=1, max_fields=8, max_part_size=64 * 1024) as form:
            upload = form.get("image") or form.get("file")
            if upload is None or isinstance(upload, str):
                raise ApiError(400, "missing_image", "The form has no 'image' file field.")
            data = await upload.read()
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
    elif ctype == "application/json" or ctype.endswith("+json"):
        fields = _parse_json(await request.body())
        data = _decode_base64(fields.pop("image", None))
    else:  # raw bytes: image/png, image/jpeg, application/octet-stream, none...
        data, fields = await request.body(), {}
    if not data:
        raise ApiError(400, "empty_body", "The request holds no image (0 bytes).")
    beam = _int_option(fields, "beam", beam, 1, MAX_BEAM)
    alternatives = _int_option(fields, "alternatives", alternatives, 0, MAX_ALTERNATIVES)
    return data, beam, alternatives


def _parse_json(body: bytes) -> dict:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "bad_json", f"The body is not valid JSON ({exc}).") from None
    if not isinstance(doc, dict):
        raise ApiError(400, "bad_json", 'The JSON body must be an object: {"image": "<base64>"}.')
    return doc


def _decode_base64(value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise ApiError(400, "missing_image", 'The JSON body needs "image": "<base64 data>".')
    if value.startswith("data:"):
        head, _, value = value.partition(",")
        if not head.endswith(";base64"):
            raise ApiError(400, "bad_base64", "Only base64 data: URLs are accepted.")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "bad_base64", 'The "image" value is not valid base64.') from None


def _int_option(fields: dict, name: str, default: int | None, lo: int, hi: int) -> int | None:
    if name not in fields or fields[name] is None:
        return default
    value = fields[name]
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ApiError(422, "invalid_option", f"{name} must be a whole number from {lo} to {hi}.")
    return value


# --- running inside another program (the desktop app) ----------------------------------------


class BackgroundServer:
    """Serve ``app`` with uvicorn on a daemon thread; for the desktop app's API setting.

    ``start()`` binds the port itself, so that a port in use is a clear ``OSError`` raised
    at once (uvicorn alone would log and exit its thread), then returns once uvicorn serves.
    ``stop()`` lets requests in flight finish (at most ``GRACE_S``) and ends the thread.
    Signals stay with the host program: uvicorn installs no handlers outside the main thread.
    """

    GRACE_S = 5  # a stopping server gives requests in flight this long to finish

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 8765):
        import uvicorn

        self.host, self.port = host, port
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=False,
            server_header=False,
            limit_concurrency=MAX_CONNECTIONS,
            timeout_graceful_shutdown=self.GRACE_S,
        )
        self._server = uvicorn.Server(config)
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, name="texsnap-api", daemon=True)

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except SystemExit:  # uvicorn exits this way when its start-up fails
            pass
        finally:
            self._socket.close()

    def start(self, timeout: float = 15.0) -> None:
        self._socket = bind_socket(self.host, self.port)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise OSError(f"The API could not start on {self.host}:{self.port}.")
            if time.monotonic() > deadline:
                self.stop()
                raise OSError(f"The API did not start within {timeout:g} s.")
            time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and self._server.started

    def stop(self, timeout: float = 10.0) -> bool:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        elif self._socket is not None:
            self._socket.close()
        return not self._thread.is_alive()


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``, or OSError with a sentence for the user."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name != "nt":
            # lets a restarted server take its port back from connections in TIME_WAIT; on
            # POSIX this never lets two servers share a port (on Windows it would)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        sock.set_inheritable(True)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            raise OSError(
                exc.errno,
                f"Port {port} on {host} is already in use by another program "
                "(or another TeXSnap API).",
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise OSError(exc.errno, f"Not allowed to listen on {host}:{port}.") from None
        raise OSError(exc.errno, f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    return sock

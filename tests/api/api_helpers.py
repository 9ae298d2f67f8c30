"""Helpers shared by the API tests (imported as ``api_helpers``)."""

from __future__ import annotations

import io
import threading

from fastapi.testclient import TestClient
from keyring.backend import KeyringBackend
from PIL import Image, ImageDraw

from core.model_worker import ModelWorker
from core.result import Alternative, Result
from core.server import ServerConfig, create_app

TOKEN = "test-token-0123456789abcdefghijklmnopqrstuvwxyz"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE_URL = "http://127.0.0.1:8765"


class MemoryKeyring(KeyringBackend):
    """A working keyring that lives in this process only."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


class FakeRecognizer:
    """Answers with a LaTeX string derived from the image size; can be made to wait."""

    def __init__(self):
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()
        self.error: BaseException | None = None
        self.threads: set[str] = set()

    def recognize(self, image, beam=None, alternatives=3, all_sizes=None):
        self.threads.add(threading.current_thread().name)
        self.gate.wait(10)
        self.calls += 1
        if self.error is not None:
            raise self.error
        alts = [Alternative(f"alt{i}", 0.1) for i in range(alternatives)]
        size = getattr(image, "size", (0, 0))
        return Result(f"w{size[0]}h{size[1]}b{beam}", 0.9, alts, ms=1.0)


def png_bytes(text="x^2", size=(160, 60), fmt="PNG") -> bytes:
    img = Image.new("RGB", size, "white")
    ImageDraw.Draw(img).text((10, 20), text, fill="black")
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def make_client(recognizer, config: ServerConfig | None = None, max_queue: int = 4, **kw):
    worker = ModelWorker(recognizer, max_queue=max_queue)
    app = create_app(worker, token=kw.pop("token", TOKEN), config=config, **kw)
    client = TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)
    return client, worker

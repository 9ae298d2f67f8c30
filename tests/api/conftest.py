"""API fixtures: an in-memory keyring, fake and real (random) recognizers, test clients."""

from __future__ import annotations

import keyring
import pytest
from api_helpers import FakeRecognizer, MemoryKeyring, make_client


@pytest.fixture(autouse=True)
def memory_keyring():
    """Tests never touch the real user's keyring."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def fake():
    return FakeRecognizer()


@pytest.fixture
def client(fake):
    c, worker = make_client(fake, info=lambda: {"name": "fake"})
    with c:
        yield c
    fake.gate.set()
    assert worker.close(10)


@pytest.fixture(scope="session")
def random_recognizer(random_model_dir):
    from core.recognizer import Recognizer

    return Recognizer.from_pretrained(random_model_dir, device="cpu")


@pytest.fixture
def model_client(random_recognizer):
    """The real Recognizer (random weights) behind the real worker."""
    c, worker = make_client(random_recognizer, info=lambda: random_recognizer.info)
    with c:
        yield c
    assert worker.close(30)

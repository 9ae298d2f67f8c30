"""The bounded queue in front of the one model thread: full -> 503, slow -> 504, errors."""

import threading
import time

import pytest
from api_helpers import AUTH, FakeRecognizer, make_client, png_bytes

from core.errors import ModelError
from core.model_worker import Busy, ModelWorker
from core.server import ServerConfig


def post_in_thread(client, results, **kwargs):
    def go():
        results.append(client.post("/v1/recognize", content=png_bytes(), headers=AUTH, **kwargs))

    t = threading.Thread(target=go)
    t.start()
    return t


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_full_queue_is_503_and_nothing_is_lost():
    fake = FakeRecognizer()
    fake.gate.clear()  # the model "hangs" until we open the gate
    client, worker = make_client(fake, max_queue=2, config=ServerConfig(timeout_s=20))
    results = []
    with client:
        threads = [post_in_thread(client, results)]
        wait_until(lambda: len(fake.threads) == 1)  # the first is running
        threads += [post_in_thread(client, results) for _ in range(2)]
        wait_until(lambda: worker.waiting == 2)  # two are waiting: the queue is full
        r = client.post("/v1/recognize", content=png_bytes(), headers=AUTH)
        assert r.status_code == 503 and r.json()["error"]["code"] == "busy"
        assert r.headers["retry-after"] == "1"
        health = client.get("/v1/health", headers=AUTH).json()  # health skips the queue
        assert health["queue"] == {"waiting": 2, "capacity": 2}
        fake.gate.set()
        for t in threads:
            t.join(20)
    assert [r.status_code for r in results] == [200, 200, 200]
    assert fake.calls == 3
    worker.close()


def test_timeout_is_504_and_a_waiting_request_is_never_run():
    fake = FakeRecognizer()
    fake.gate.clear()
    client, worker = make_client(fake, config=ServerConfig(timeout_s=0.3))
    results = []
    with client:
        first = post_in_thread(client, results)  # runs, blocked on the gate
        wait_until(lambda: len(fake.threads) == 1)
        start = time.monotonic()
        r = client.post("/v1/recognize", content=png_bytes(), headers=AUTH)  # waits, times out
        assert time.monotonic() - start < 5
        assert r.status_code == 504 and r.json()["error"]["code"] == "timeout"
        first.join(10)
        assert results[0].status_code == 504
        fake.gate.set()
        wait_until(lambda: worker.waiting == 0)
        r = client.post("/v1/recognize", content=png_bytes(), headers=AUTH)
        assert r.status_code == 200
    worker.close()
    assert fake.calls == 2  # the one that timed out while waiting was skipped


@pytest.mark.parametrize(
    "error, status, code",
    [
        (ModelError("The model file is damaged."), 503, "model_error"),
        (RuntimeError("CUDA out of memory"), 500, "internal_error"),
        (MemoryError(), 500, "internal_error"),
    ],
)
def test_model_errors_become_json(error, status, code):
    fake = FakeRecognizer()
    fake.error = error
    client, worker = make_client(fake)
    with client:
        r = client.post("/v1/recognize", content=png_bytes(), headers=AUTH)
        assert r.status_code == status
        assert r.json()["error"]["code"] == code
        assert "CUDA" not in r.text  # internal details stay in the server log
        fake.error = None
        assert client.post("/v1/recognize", content=png_bytes(), headers=AUTH).status_code == 200
    worker.close()


def test_worker_close_cancels_waiting_and_refuses_new():
    fake = FakeRecognizer()
    fake.gate.clear()
    worker = ModelWorker(fake, max_queue=3)
    running = worker.submit(png_bytes())
    wait_until(lambda: fake.threads)
    waiting = [worker.submit(png_bytes()) for _ in range(3)]
    with pytest.raises(Busy):
        worker.submit(png_bytes())
    closer = threading.Thread(target=worker.close)
    closer.start()
    wait_until(lambda: all(f.cancelled() for f in waiting))
    fake.gate.set()
    closer.join(10)
    assert running.result(5) is not None
    with pytest.raises(Busy, match="shutting down"):
        worker.submit(png_bytes())
    assert worker.close(1)


def test_worker_rejects_bad_queue_size():
    with pytest.raises(ValueError):
        ModelWorker(FakeRecognizer(), max_queue=0)

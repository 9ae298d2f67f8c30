"""`texsnap serve` and `texsnap token`, in process and as a real server on loopback."""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import keyring
import pytest
from api_helpers import png_bytes
from keyring.backends import fail

from core import secrets, serve_cli

ROOT = Path(__file__).resolve().parents[2]


def parse(argv):
    parser = argparse.ArgumentParser(prog="texsnap")
    serve_cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_token_prints_only_the_token(capsys):
    args = parse(["token"])
    assert args.func(args) == 0
    out, err = capsys.readouterr()
    assert out.strip() == secrets.load_token().token and err == ""


def test_token_rotate(capsys):
    old = secrets.load_token().token
    args = parse(["token", "--rotate"])
    assert args.func(args) == 0
    out, err = capsys.readouterr()
    assert out.strip() != old and out.strip() == secrets.load_token().token
    assert "within seconds" in err


def test_token_file_fallback_warns_on_stderr(capsys):
    keyring.set_keyring(fail.Keyring())
    args = parse(["token"])
    args.func(args)
    out, err = capsys.readouterr()
    assert "No system keyring" in err and out.strip() not in err


def test_serve_defaults():
    args = parse(["serve"])
    assert (args.port, args.host, args.model, args.allow_origin) == (8765, "127.0.0.1", None, [])
    args = parse(["serve", "--allow-origin", "app://a", "--allow-origin", "http://b:1"])
    assert args.allow_origin == ["app://a", "http://b:1"]


@pytest.mark.parametrize(
    "host, loopback",
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("127.0.0.2", True),
     ("0.0.0.0", False), ("192.168.1.5", False), ("::", False), ("example.org", False)],
)  # fmt: skip
def test_loopback_detection(host, loopback):
    assert serve_cli._is_loopback(host) is loopback


def test_serve_without_any_usable_model_fails_clearly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TEXSNAP_MODEL", str(tmp_path / "no-base"))
    args = parse(["serve", "--model", str(tmp_path / "nope"), "--device", "cpu"])
    assert args.func(args) == 1
    assert "error:" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_real_server_on_loopback(random_model_dir, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TEXSNAP_CONFIG_DIR": str(tmp_path / "config"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "TEXSNAP_THREADS": "1",
    }
    cmd = [sys.executable, str(ROOT / "main.py"), "serve", "--port", str(port)]
    cmd += ["--model", str(random_model_dir), "--device", "cpu", "--log-level", "warning"]
    server = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        token_file = tmp_path / "config" / "api-token"
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.stderr.read()
            assert time.monotonic() < deadline, "server did not start"
            try:
                token = token_file.read_text().strip()
                health = httpx.get(f"{url}/v1/health", headers={"Authorization": f"Bearer {token}"})
                break
            except (OSError, httpx.HTTPError):
                time.sleep(0.2)
        assert health.status_code == 200
        assert health.json()["model"]["name"] == "random-test"
        auth = {"Authorization": f"Bearer {token}"}
        r = httpx.post(f"{url}/v1/recognize", content=png_bytes(), headers=auth, timeout=30)
        assert r.status_code == 200 and "latex" in r.json()
        r = httpx.post(
            f"{url}/v1/recognize",
            content=png_bytes(),
            headers={**auth, "Origin": "https://evil.example"},
        )
        assert r.status_code == 403
        assert httpx.get(f"{url}/v1/health").status_code == 401
        spec = httpx.get(f"{url}/openapi.json").json()
        assert spec == json.loads((ROOT / "docs" / "openapi.json").read_text())
    finally:
        server.terminate()
        try:
            _, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
    assert server.returncode == 0, err
    assert token not in err  # never logged
    assert "No system keyring" in err  # the fallback warning is shown


def test_background_server_for_the_desktop_app(fake):
    from api_helpers import AUTH, TOKEN

    from core.model_worker import ModelWorker
    from core.server import BackgroundServer, create_app

    worker = ModelWorker(fake)
    app = create_app(worker, token=lambda: TOKEN)
    port = free_port()
    server = BackgroundServer(app, port=port)
    server.start()
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/v1/recognize", content=png_bytes(), headers=AUTH)
        assert r.status_code == 200 and r.json()["latex"] == "w160h60bNone"
        busy = BackgroundServer(app, port=port)
        with pytest.raises(OSError, match=f"Port {port} on 127.0.0.1 is already in use"):
            busy.start()
    finally:
        assert server.stop()
        worker.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/health", headers=AUTH)


def test_serve_wiring(random_model_dir, monkeypatch, capsys):
    """run_serve hands uvicorn an app built from the flags, and warns about a public host."""
    import uvicorn
    from fastapi.testclient import TestClient

    seen = {}

    def fake_run(app, **kwargs):
        seen.update(kwargs)
        client = TestClient(app, base_url="http://mybox.lan:9000")
        auth = {"Authorization": f"Bearer {secrets.load_token().token}", "Origin": "app://ok"}
        seen["health"] = client.get("/v1/health", headers=auth).json()
        seen["foreign"] = client.get("/v1/health", headers={**auth, "Origin": "https://x"})
        raise KeyboardInterrupt  # Ctrl+C

    monkeypatch.setattr(uvicorn, "run", fake_run)
    args = parse(["serve", "--host", "0.0.0.0", "--port", "9000", "--model", str(random_model_dir)]
                 + ["--device", "cpu", "--allow-origin", "app://ok"])  # fmt: skip
    assert args.func(args) == 0
    err = capsys.readouterr().err
    assert "WARNING: binding to 0.0.0.0" in err and "stopped" in err
    assert (seen["host"], seen["port"], seen["proxy_headers"]) == ("0.0.0.0", 9000, False)
    assert seen["health"]["model"]["name"] == "random-test"
    assert seen["foreign"].status_code == 403


def test_serve_one_size_reads_at_the_standard_glyph_size_only(random_model_dir, monkeypatch):
    import uvicorn

    import core.model_select

    opened = []
    real = core.model_select.open_recognizer

    def opening(*args, **kwargs):
        opened.append(real(*args, **kwargs)[0])
        return opened[-1], None

    def stop(app, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(core.model_select, "open_recognizer", opening)
    monkeypatch.setattr(uvicorn, "run", stop)
    for flags, all_sizes in (([], True), (["--one-size"], False)):
        args = parse(["serve", "--model", str(random_model_dir), "--device", "cpu", *flags])
        assert args.func(args) == 0
        assert opened[-1].all_sizes is all_sizes


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--port", "0"], "--port"),
        (["--port", "70000"], "--port"),
        (["--queue", "0"], "--queue"),
        (["--timeout", "0"], "--timeout"),
        (["--timeout", "nan"], "--timeout"),
        (["--max-body-mb", "-1"], "--max-body-mb"),
        (["--allow-origin", "*"], "any web page"),
        (["--allow-origin", "app://ok", "--allow-origin", "obsidian.md"], "not a web origin"),
    ],
)
def test_serve_refuses_bad_limits(flags, words, capsys):
    args = parse(["serve", *flags])
    assert args.func(args) == 2
    assert words in capsys.readouterr().err


def test_serve_writes_origins_as_browsers_send_them():
    args = parse(["serve", "--allow-origin", "HTTPS://Www.Overleaf.com/"])
    assert serve_cli._check_limits(args) is None
    assert args.allow_origin == ["https://www.overleaf.com"]


def test_texsnap_lets_idle_openmp_threads_sleep(monkeypatch, capsys):
    """Set before torch loads, for the app, `texsnap serve` and training children alike;
    a user's own choice is kept."""
    import main

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    with pytest.raises(SystemExit):
        main.main(["--version"])
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    with pytest.raises(SystemExit):
        main.main(["--version"])
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"

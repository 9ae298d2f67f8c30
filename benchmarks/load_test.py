"""Load test: `texsnap serve` on loopback, N requests from C concurrent clients.

    PYTHONPATH=. .venv/bin/python benchmarks/load_test.py                  # bundled base model
    PYTHONPATH=. .venv/bin/python benchmarks/load_test.py --random-model   # tiny random model

Starts the server as a subprocess (its token goes to a temporary config folder through the
file fallback, so the user's keyring is never touched), learns the answer for each test
image with one request each, then fires the load and reports throughput, p50/p95/max
latency and the server's RSS before and after each round. Every answer must be 200 and equal
to that image's reference answer (nothing lost, nothing mixed up between requests); with a
trained model the references are also scored against the formulas the images were rendered
from.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FORMULAS = [
    r"x^{2}+y^{2}=r^{2}",
    r"\frac{a}{b}",
    r"\sqrt{2}",
    r"\int_{0}^{1}f(x)dx",
    r"e^{i\pi}+1=0",
    r"\sum_{n=1}^{N}n",
    r"\alpha\beta\gamma",
    r"a_{i,j}",
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str | None, port: int, config_dir: Path, queue: int):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TEXSNAP_CONFIG_DIR": str(config_dir),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    cmd = [sys.executable, str(ROOT / "main.py"), "serve", "--port", str(port)]
    cmd += ["--device", "cpu", "--log-level", "warning", "--queue", str(queue)]
    if model:
        cmd += ["--model", model]
    server = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            raise SystemExit(f"server exited: {server.stderr.read()}")
        if time.monotonic() > deadline:
            server.kill()
            raise SystemExit("server did not start within 120 s")
        try:
            token = (config_dir / "api-token").read_text().strip()
            r = httpx.get(
                f"http://127.0.0.1:{port}/v1/health",
                headers={"Authorization": f"Bearer {token}"},
            )
            if r.status_code == 200:
                return server, token, r.json()
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.2)


def fire(url: str, token: str, images: list[bytes], total: int, clients: int) -> dict:
    """``total`` requests from ``clients`` threads; image ``k % len(images)`` for request k."""
    counter = iter(range(total))
    lock = threading.Lock()
    records: list[tuple[int, int, str | None, float]] = []  # (k, status, latex, seconds)
    errors: list[str] = []

    def client() -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "image/png"}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            while True:
                with lock:
                    k = next(counter, None)
                if k is None:
                    return
                start = time.perf_counter()
                try:
                    r = http.post("/v1/recognize", content=images[k % len(images)])
                    latex = r.json().get("latex") if r.status_code == 200 else None
                    rec = (k, r.status_code, latex, time.perf_counter() - start)
                except (httpx.HTTPError, ValueError) as exc:
                    errors.append(f"request {k}: {type(exc).__name__}: {exc}")
                    continue
                with lock:
                    records.append(rec)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"records": records, "errors": errors, "seconds": time.perf_counter() - start}


def summarize(run: dict, references: list[str], total: int) -> dict:
    records = run["records"]
    latencies = sorted(r[3] * 1000 for r in records)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    statuses: dict[int, int] = {}
    for r in records:
        statuses[r[1]] = statuses.get(r[1], 0) + 1
    wrong = [r[0] for r in records if r[1] == 200 and r[2] != references[r[0] % len(references)]]
    answered = {r[0] for r in records}
    return {
        "requests": total,
        "answered": len(records),
        "lost": total - len(answered),
        "transport_errors": run["errors"][:5],
        "status": statuses,
        "wrong_answers": len(wrong),
        "seconds": round(run["seconds"], 2),
        "throughput_rps": round(len(records) / run["seconds"], 1),
        "p50_ms": round(q[49], 1),
        "p95_ms": round(q[94], 1),
        "max_ms": round(latencies[-1], 1) if latencies else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model directory (default: bundled base)")
    parser.add_argument("--random-model", action="store_true", help="use a tiny random model")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="rounds, to see memory settle")
    parser.add_argument("--queue", type=int, default=16)
    parser.add_argument("--json", help="also write the summary to this file")
    args = parser.parse_args(argv)

    from core.latex import canonicalize
    from core.render import render_png

    images = [render_png(f, dpi=150) for f in FORMULAS]
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if args.random_model:
            from _common import random_model

            model = str(random_model(Path(tmp) / "random"))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server, token, health = start_server(model, port, Path(tmp) / "config", args.queue)
        try:
            summary = {
                "model": health["model"]["name"],
                "model_path": model or "bundled base",
                "device": health["model"]["device"],
                "clients": args.clients,
                "cpu_cores": os.cpu_count(),
                "rss_mb_started": round(rss_mb(server.pid), 1),
            }
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as h:
                references = [
                    h.post("/v1/recognize", content=img).json()["latex"] for img in images
                ]
            correct = sum(
                canonicalize(r) == canonicalize(f)
                for r, f in zip(references, FORMULAS, strict=True)
            )
            summary["reference_answers_matching_source"] = f"{correct}/{len(FORMULAS)}"
            fire(url, token, images, 50, args.clients)  # warm-up
            summary["rounds"] = []
            for _ in range(args.rounds):
                before = rss_mb(server.pid)
                result = summarize(
                    fire(url, token, images, args.requests, args.clients), references, args.requests
                )
                result["rss_mb_before"] = round(before, 1)
                result["rss_mb_after"] = round(rss_mb(server.pid), 1)
                summary["rounds"].append(result)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                _, err = server.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                _, err = server.communicate()
        summary["server_exit_code"] = server.returncode
        summary["token_in_server_output"] = token in err
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    ok = all(
        r["lost"] == 0 and r["wrong_answers"] == 0 and r["status"] == {200: args.requests}
        for r in summary["rounds"]
    )
    print("PASS" if ok else "FAIL", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

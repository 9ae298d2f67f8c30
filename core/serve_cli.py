"""``texsnap serve`` (the local HTTP API) and ``texsnap token`` (its access token).

``serve`` loads the model (falling back to the bundled one when the user's is damaged), puts
it behind one ``ModelWorker`` and runs ``core.server``'s app with uvicorn. It binds to
127.0.0.1 unless ``--host`` says otherwise, and then warns. ``token`` prints the token alone
on stdout (so ``$(texsnap token)`` works); where it is kept, and any warning, go to stderr.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import sys

# fastapi, uvicorn, keyring and torch are imported by the commands themselves, so that
# building the `texsnap` parser stays fast for every other command.

DEFAULT_PORT = 8765


def register(subparsers) -> None:
    from core.cli import one_size_option  # core.cli registers this module's command

    serve = subparsers.add_parser(
        "serve",
        help="run the local HTTP API for editors and scripts",
        description="Serve POST /v1/recognize and GET /v1/health on this machine. Every "
        "request needs 'Authorization: Bearer <token>' (see `texsnap token`); API docs at "
        "/docs.",
    )
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default %(default)s: this machine only); anything else "
        "exposes the API to the network",
    )
    serve.add_argument("--model", metavar="DIR", help="model directory (default: bundled)")
    serve.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    one_size_option(serve)
    serve.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let web pages / apps from ORIGIN (e.g. app://obsidian.md) call the API; "
        "repeatable. By default requests with an Origin header are refused.",
    )
    serve.add_argument("--queue", type=int, default=16, help="waiting requests at most")
    serve.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    serve.add_argument("--max-body-mb", type=float, default=20.0, help="request body limit")
    serve.add_argument("--log-level", default="info", choices=("debug", "info", "warning"))
    serve.set_defaults(func=run_serve)

    token = subparsers.add_parser(
        "token",
        help="print the local API's access token",
        description="Print the token that `texsnap serve` requires (made on first use).",
    )
    token.add_argument("--rotate", action="store_true", help="replace it; old clients stop working")
    token.set_defaults(func=run_token)


def run_token(args: argparse.Namespace) -> int:
    from core import secrets

    info = secrets.rotate_token() if args.rotate else secrets.load_token()
    _note(info)
    if args.rotate:
        print(
            "A new token was made; a running `texsnap serve` accepts only it within seconds.",
            file=sys.stderr,
        )
    print(info.token)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from core import secrets
    from core.errors import TeXSnapError
    from core.model_select import open_recognizer
    from core.model_worker import ModelWorker
    from core.server import MAX_CONNECTIONS, ServerConfig, create_app

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s: %(message)s")
    problem = _check_limits(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if not _is_loopback(args.host):
        print(
            f"WARNING: binding to {args.host}: other machines on the network can reach the "
            "API (the token is still required, but it travels unencrypted over HTTP).",
            file=sys.stderr,
        )
    token = secrets.load_token()
    _note(token)
    try:
        rec, notice = open_recognizer(args.model, args.device)
    except TeXSnapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if notice:
        print(f"WARNING: {notice}", file=sys.stderr)
    rec.all_sizes = not args.one_size
    info = rec.info
    worker = ModelWorker(rec, max_queue=args.queue)
    config = ServerConfig(
        max_body_bytes=int(args.max_body_mb * 2**20),
        timeout_s=args.timeout,
        allowed_origins=tuple(args.allow_origin),
        bind_host=args.host,
    )
    app = create_app(worker, token=secrets.CurrentToken(token), config=config, info=lambda: info)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"TeXSnap API on http://{host}:{args.port}/v1 (model: {info['name']}, {info['device']}); "
        "`texsnap token` prints the token. Ctrl+C stops.",
        file=sys.stderr,
        flush=True,
    )
    # uvicorn stops gracefully on Ctrl+C / SIGTERM, then re-raises the signal: turn that
    # into a clean exit (status 0, no traceback) instead of a KeyboardInterrupt or a kill.
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            proxy_headers=False,
            server_header=False,
            limit_concurrency=MAX_CONNECTIONS,
        )
    except (KeyboardInterrupt, _Stopped):
        print("TeXSnap API stopped.", file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, previous)
        worker.close()
    return 0


class _Stopped(Exception):
    pass


def _stop(_signum, _frame) -> None:
    raise _Stopped


def _check_limits(args: argparse.Namespace) -> str | None:
    if not 0 < args.port < 65536:
        return f"--port must be 1 to 65535, not {args.port}"
    if args.queue < 1:
        return "--queue must be at least 1"
    if not args.timeout > 0:
        return "--timeout must be more than 0 seconds"
    if not args.max_body_mb > 0:
        return "--max-body-mb must be more than 0"
    from core.errors import SettingsError
    from core.settings import normalize_origin

    try:  # written the way browsers send them, or a clear refusal ("*", paths...)
        args.allow_origin = [normalize_origin(o) for o in args.allow_origin]
    except SettingsError as exc:
        return f"--allow-origin: {exc}"
    return None


def _note(info) -> None:
    if info.warning:
        print(f"WARNING: {info.warning}", file=sys.stderr)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

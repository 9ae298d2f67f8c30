"""The API's core modules stay free of Qt (the desktop app embeds them, not the reverse)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["core.server", "core.serve_cli", "core.secrets", "core.model_worker"]
MODULES += ["core.model_select", "core.history"]


def run_probe(code: str) -> None:
    """Run ``code`` in a fresh interpreter (imports are process-wide); it exits 1 on failure."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_api_modules_do_not_import_qt():
    code = (
        f"import sys; import {', '.join(MODULES)}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'gui')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    run_probe(code)


def test_serve_cli_import_is_light():
    """Building the `texsnap` parser must not pull in the web stack or torch."""
    code = (
        "import sys, argparse; import core.serve_cli as s; "
        "s.register(argparse.ArgumentParser().add_subparsers()); "
        "heavy = [m for m in ('fastapi', 'uvicorn', 'torch', 'keyring') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    run_probe(code)


def test_server_import_does_not_pull_in_torch():
    """The desktop app starts its API quickly: building the app must not import torch."""
    code = (
        "import sys; import core.server as s, core.secrets; "
        "s.create_app(lambda *a: None, token='t'); "
        "print('torch' in sys.modules); sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    run_probe(code)


def test_server_beam_limit_matches_the_recognizer():
    from core import recognizer, server

    assert server.MAX_BEAM == recognizer.MAX_BEAM

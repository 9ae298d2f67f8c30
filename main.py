"""The `texsnap` command. With no subcommand it opens the desktop app.

Each layer registers its own subcommands (``register(subparsers)``), so this module knows
only which layers exist, not what they do.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from core import __version__

# Modules that contribute subcommands, in the order they appear in --help.
COMMAND_MODULES = ("core.cli", "core.serve_cli", "training.cli", "training.finetune_cli", "gui.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="texsnap",
        description="TeXSnap turns math in images into LaTeX, on your own machine. "
        "Run without a command to open the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"TeXSnap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real missing dependency, not an absent layer
                raise
            continue
        module.register(sub)
    return parser


# The commands that stay up and read images of every size one at a time: the app (no command,
# `gui`, `snip`, which may start it), the local API and `predict`. They give freed buffers back
# to the system (core/allocator.py). Batch jobs (train, data, eval, finetune) do not, because a
# map per large buffer costs a page fault for every page it touches. On 2 CPU cores, 60
# training steps spent 84 of their 192 s of CPU time in the kernel with it, and training ran
# at 10.2 images a second instead of 19.5 (benchmarks/allocator.py).
FREES_MEMORY = {"gui", "snip", "serve", "predict"}


def returns_freed_memory(argv: list[str]) -> bool:
    """Whether the command in ``argv`` is one that gives freed buffers back (see above)."""
    command = next((a for a in argv if not a.startswith("-")), None)
    return command is None or command in FREES_MEMORY


def main(argv: list[str] | None = None) -> int:
    # Before anything imports torch (OpenMP reads it once, at load): idle OpenMP workers
    # sleep instead of spinning. Spinning workers of the app, `texsnap serve` and a training
    # process (which inherits this) steal each other's cores; see core/device.py.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    argv = sys.argv[1:] if argv is None else argv
    if returns_freed_memory(argv):
        from core.allocator import return_freed_memory

        return_freed_memory()
    if not argv:
        from gui.app import run_app

        return run_app([])
    args = build_parser().parse_args(argv)
    if args.command is None:
        from gui.app import run_app

        return run_app([])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    # a frozen (PyInstaller) app must let spawned children (the fine-tune) run their task
    # instead of starting another copy of the app
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(main())

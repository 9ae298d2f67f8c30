"""`texsnap gui` and `texsnap snip` (bind the latter to a desktop shortcut on Wayland)."""

from __future__ import annotations


def register(subparsers) -> None:
    gui = subparsers.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("--hidden", action="store_true", help="start in the system tray")
    gui.set_defaults(func=_gui)
    snip = subparsers.add_parser(
        "snip",
        help="start a screen snip in the running app (starts the app if needed); "
        "bind it to a keyboard shortcut where global hotkeys are not available",
    )
    snip.set_defaults(func=_snip)


def _gui(args) -> int:
    from gui.app import run_app

    return run_app([], hidden=args.hidden)


def _snip(args) -> int:
    from gui.app import run_app

    return run_app([], command="snip")

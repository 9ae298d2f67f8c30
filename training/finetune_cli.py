"""``texsnap finetune`` and ``texsnap models``: the Training tab on the command line.

Heavy imports (torch) happen inside the commands so that ``texsnap --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

DEVICES = ("auto", "cpu", "cuda", "mps")


def register(subparsers) -> None:
    ft = subparsers.add_parser(
        "finetune",
        help="fine-tune the model on your corrections and compare it with the model in use",
        description="Fine-tune on DATASET (zip or folder with images/ + labels.tsv, or InkML "
        "files with ground truth; default: the corrections saved in the app). 20%% of it is "
        "held out automatically to compare the model in use with the fine-tuned one, together "
        "with a built-in printed regression set. The new model is saved as a new version; it "
        "is used only with --use and only when it is better.",
    )
    ft.add_argument("dataset", nargs="?", metavar="DATASET", help="default: your corrections")
    ft.add_argument("--preset", default="quick", choices=("quick", "thorough"))
    ft.add_argument("--device", default="auto", choices=DEVICES)
    ft.add_argument("--out", metavar="DIR", help="write the model here (default: a new version)")
    ft.add_argument(
        "--from", dest="start", default="base", metavar="NAME", help="model to start from"
    )
    ft.add_argument("--steps", type=int, help=argparse.SUPPRESS)  # tests, experiments
    ft.add_argument("--regression-size", type=int, default=200, help=argparse.SUPPRESS)
    ft.add_argument("--use", action="store_true", help="switch to it when it is recommended")
    ft.add_argument("--json", action="store_true", help="print the report as JSON")
    ft.add_argument(
        "--child-process",
        action="store_true",
        help="train in a child process, as the app's Training tab does (a crash of training "
        "is reported, not fatal)",
    )
    ft.set_defaults(func=run_finetune)

    models = subparsers.add_parser("models", help="list, switch, export or import model versions")
    sub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="model versions with date, data size and metrics")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    use = sub.add_parser(
        "use",
        help="make a model version the one in use (the app loads it when it starts; its Training tab switches without a restart)",
    )
    use.add_argument("name")
    use.set_defaults(func=lambda a: _store_call("use", a.name))
    rb = sub.add_parser("rollback", help="go back to the bundled base model")
    rb.set_defaults(func=lambda a: _store_call("rollback"))
    rm = sub.add_parser("delete", help="delete a model version")
    rm.add_argument("name")
    rm.set_defaults(func=lambda a: _store_call("delete", a.name))
    ex = sub.add_parser("export", help="write a model version to a zip")
    ex.add_argument("name")
    ex.add_argument("zip", metavar="ZIP")
    ex.set_defaults(func=lambda a: _store_call("export_zip", a.name, a.zip))
    im = sub.add_parser("import", help="add a model from a zip or folder")
    im.add_argument("source", metavar="ZIP_OR_DIR")
    im.add_argument("--name")
    im.set_defaults(func=lambda a: _store_call("import_model", a.source, a.name))


def run_finetune(args) -> int:
    from core.errors import Cancelled, TeXSnapError
    from core.paths import user_models_dir
    from core.settings import load_settings
    from training import model_store
    from training.finetune import finetune
    from training.finetune_plan import Options

    try:
        settings = load_settings()[0]
        start = model_store.model_dir(args.start)
        current = model_store.model_dir(settings.model)
        out = Path(args.out) if args.out else None
        out = out or user_models_dir() / model_store.new_version_name()
        options = Options(
            args.preset, args.device, steps=args.steps, regression_size=max(1, args.regression_size)
        )
        with tempfile.TemporaryDirectory(prefix="texsnap-corrections-") as tmp:
            dataset = args.dataset or _export_corrections(Path(tmp) / "corrections.zip")
            if args.child_process:
                report = _finetune_in_child(dataset, start, current, out, options)
            else:
                report = finetune(dataset, start, current, out, options, progress=_print_progress)
    except (Cancelled, KeyboardInterrupt):
        print("\nFine-tuning stopped; the model in use is unchanged.", file=sys.stderr)
        return 130
    except TeXSnapError as exc:
        print(f"texsnap finetune: {exc}", file=sys.stderr)
        return 2
    used = False
    if args.use and report.recommended and not args.out:
        model_store.use(report.name)
        used = True
    if args.json:
        print(json.dumps({**report.to_dict(), "used": used}, indent=1))
    else:
        print(report.to_text())
        if used:
            print(f"Now using {report.name}.")
        elif report.recommended and not args.out:
            print(f"Switch to it with: texsnap models use {report.name}")
    return 0


def _finetune_in_child(dataset, start, current, out, options):
    """The Training tab's path: ``training.finetune_job.ChildRun`` (a spawned process that
    reports through a queue). In the desktop bundle this also proves that the frozen
    executable can start its own worker processes."""
    import time

    from core.errors import Cancelled, TeXSnapError
    from training.finetune_job import ChildRun, Job
    from training.finetune_plan import Progress, Report

    run = ChildRun(Job(str(dataset), str(start), str(current), str(out), options))
    try:
        while True:
            for kind, payload in run.messages():
                if kind == "progress":
                    _print_progress(Progress(**payload))
                elif kind == "done":
                    return Report.from_dict(payload)
                elif kind == "cancelled":
                    raise Cancelled(payload)
                else:
                    raise TeXSnapError(payload)
            time.sleep(0.1)
    finally:
        if not run.finished:  # Ctrl+C here: stop the child too, the model in use stays
            run.kill()


def _export_corrections(dest: Path) -> Path:
    from core.errors import DatasetError
    from core.history import Store

    with Store() as store:
        if store.count_corrections() == 0:
            raise DatasetError(
                "There are no corrections yet: save some in the app, or give a DATASET."
            )
        store.export_corrections(dest)
    return dest


def _print_progress(p) -> None:
    if p.phase != "train":
        print(p.message, file=sys.stderr, flush=True)
        return
    if p.done % 10 and p.done != p.total and p.heldout is None:
        return
    held = f" held-out {p.heldout:.0%}" if p.heldout is not None else ""
    eta = f" eta {int(p.eta) // 60}:{int(p.eta) % 60:02d}" if p.eta is not None else ""
    print(f"step {p.done}/{p.total} loss {p.loss:.3f}{held}{eta}", file=sys.stderr, flush=True)


def run_list(args) -> int:
    from training import model_store

    versions = model_store.list_versions()
    if args.json:
        rows = [
            {
                "name": v.name,
                "path": str(v.path),
                "created": v.created,
                "samples": v.samples,
                "metrics": v.metrics,
                "active": v.active,
                "problem": v.problem,
            }
            for v in versions
        ]
        print(json.dumps(rows, indent=1))
        return 0
    for v in versions:
        print(f"{'*' if v.active else ' '} {v.name:<28} {v.summary()}")
    return 0


def _store_call(action: str, *args) -> int:
    from core.errors import TeXSnapError
    from training import model_store

    try:
        result = getattr(model_store, action)(*args)
    except (TeXSnapError, OSError) as exc:
        print(f"texsnap models: {exc}", file=sys.stderr)
        return 2
    done = {
        "use": f"Now using {args[0] if args else ''}.",
        "rollback": "Now using the bundled base model.",
        "delete": f"Deleted {args[0] if args else ''}.",
        "export_zip": f"Exported to {result}.",
        "import_model": f"Imported as {result}; switch to it with: texsnap models use {result}",
    }[action]
    print(done)
    return 0

"""``texsnap predict``, ``render``, ``eval`` and ``info``: everything the app does with a model.

Output conventions: results go to stdout (plain LaTeX, or one JSON object per line with
``--json``), everything meant for a person (errors, notices, progress bars) goes to stderr,
so ``texsnap predict a.png | pbcopy`` copies only the formula. A bad input never stops a
batch; the exit status is non-zero only when every input failed (1), or when the model or the
command line itself is unusable (2).
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

# torch, matplotlib and the model code are imported by the commands themselves, so that
# building the `texsnap` parser stays fast for every other command.

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"}
DEVICES = ("auto", "cpu", "cuda", "mps")
MAX_BEAM = 10  # same as core.recognizer.MAX_BEAM (not imported: it pulls in torch)
# Images per model call in `predict`. One at a time by default: each result streams out as
# soon as it is ready, its ms is its own, and peak memory stays lowest (a batch of 8 adds
# ~90 MB of convolution buffers); --batch trades that for throughput.
BATCH = 1
EXIT_ALL_FAILED = 1
EXIT_UNUSABLE = 2


def register(subparsers) -> None:
    _register_predict(subparsers)
    _register_render(subparsers)
    _register_eval(subparsers)
    _register_info(subparsers)


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        metavar="DIR",
        help="model directory (default: $TEXSNAP_MODEL, else the bundled base model); a "
        "damaged one falls back to the bundled model with a notice",
    )
    parser.add_argument("--device", default="auto", choices=DEVICES, help="default: auto")


def one_size_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--one-size",
        action="store_true",
        help="read each image at the standard glyph size only: faster (greedy about 1.5 times), "
        "less accurate. By default it is also read at two other glyph sizes and the reading "
        "the model is surest of is kept (Settings: 'Read at three glyph sizes').",
    )


def _register_predict(subparsers) -> None:
    p = subparsers.add_parser(
        "predict",
        help="read formulas from image files and print LaTeX",
        description="Read the formula in each image and print its LaTeX. PATH may be a "
        "file, a folder (searched recursively for images), a glob such as 'scans/*.png', "
        "or - for image bytes on stdin. An input that cannot be read is reported and the "
        "rest carry on; the exit status is 1 only if every input failed.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument(
        "--json",
        action="store_true",
        help='one JSON object per line: {"path","latex","confidence","alternatives","unsure","ms"} '
        'or {"path","error"}',
    )
    p.add_argument("--beam", type=int, default=1, help="beam width, 1 (greedy) to 10")
    p.add_argument(
        "--alternatives", type=int, default=3, metavar="K", help="other readings to list"
    )
    p.add_argument(
        "--batch",
        type=int,
        default=BATCH,
        metavar="N",
        help="images per model call (default %(default)s); more is faster on many images but "
        "uses more memory, and each image's ms is then its share of the batch's time",
    )
    _model_options(p)
    one_size_option(p)
    p.set_defaults(func=run_predict)


def _register_render(subparsers) -> None:
    from core.render import FONTSETS

    p = subparsers.add_parser(
        "render",
        help="draw LaTeX as a PNG (matplotlib mathtext)",
        description="Render LATEX (or - to read it from stdin) to a PNG with matplotlib "
        "mathtext, the same renderer as the app's preview.",
    )
    p.add_argument("latex", metavar="LATEX")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.png")
    p.add_argument("--dpi", type=float, default=200.0, help="default %(default)s")
    p.add_argument("--fontsize", type=float, default=20.0, help="points, default %(default)s")
    p.add_argument("--fontset", choices=FONTSETS, default="cm")
    p.add_argument(
        "--background", default="white", help="colour, or 'none' for transparent (default white)"
    )
    p.set_defaults(func=run_render)


def _register_eval(subparsers) -> None:
    p = subparsers.add_parser(
        "eval",
        help="score a model on a labelled data set",
        description="Recognize every image of DATASET (a zip file or folder holding images/ "
        "and labels.tsv) and compare with its label after canonicalizing both: exact match, "
        "BLEU-4, edit distance, CER, token accuracy, the worst errors and how well the "
        "confidence predicts correctness.",
    )
    p.add_argument("dataset", metavar="DATASET")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N samples")
    p.add_argument("--beam", type=int, default=1, help="beam width, 1 (greedy) to 10")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--stress",
        action="store_true",
        help="also score the same images as dark-mode screenshots, at half and double "
        "scale, and as JPEG, and report the drop in exact match",
    )
    p.add_argument(
        "--attention", metavar="DIR", type=Path, help="write attention-map PNGs of a few samples"
    )
    p.add_argument("--attention-samples", type=int, default=4, metavar="N", help="default 4")
    p.add_argument("--worst", type=int, default=10, metavar="K", help="errors to list")
    _model_options(p)
    one_size_option(p)
    p.set_defaults(func=run_eval)


def _register_info(subparsers) -> None:
    p = subparsers.add_parser(
        "info",
        help="show the model in use",
        description="Print the model's name, version, size, metrics and device.",
    )
    p.add_argument("--json", action="store_true")
    _model_options(p)
    p.set_defaults(func=run_info)


# ---------------------------------------------------------------------------------- inputs


class Input(NamedTuple):
    label: str  # what the user typed, or the file found for it
    source: Path | bytes | None
    error: str | None = None


def expand_inputs(args: list[str], stdin=None) -> list[Input]:
    """Files, folders (recursively), globs (expanded here too, for shells that don't) and
    ``-`` (image bytes on stdin), in order. Problems become inputs carrying an error."""
    out: list[Input] = []
    for arg in args:
        if arg == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            out.append(Input("-", stream.read()))
            continue
        path = Path(arg).expanduser()
        if path.exists():
            out.extend(_expand_path(path, arg))
        elif re.search(r"[*?[]", arg):
            matches = sorted(glob.glob(str(path), recursive=True))
            if not matches:
                out.append(Input(arg, None, f"No file matches {arg}."))
            for m in matches:
                out.extend(_expand_path(Path(m), m))
        else:
            out.append(Input(arg, None, f"File not found: {arg}"))
    return out


def _expand_path(path: Path, label: str) -> list[Input]:
    if not path.is_dir():
        return [Input(label, path)]
    found = sorted(
        p for p in path.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    )
    if not found:
        return [Input(label, None, f"No images in folder {label}.")]
    return [Input(str(p), p) for p in found]


def _batches(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --------------------------------------------------------------------------------- predict


def run_predict(args: argparse.Namespace) -> int:
    problem = _check_beam(args.beam)
    if args.alternatives < 0:
        problem = "--alternatives must be 0 or more"
    if not 1 <= args.batch <= 64:
        problem = "--batch must be 1 to 64"
    if problem:
        return _fail(problem)
    rec = _open_model(args)
    if rec is None:
        return EXIT_UNUSABLE
    inputs = expand_inputs(args.paths)
    many = len(inputs) > 1
    succeeded = 0
    with _progress(len(inputs), "images") as bar:
        for batch in _batches(inputs, args.batch):
            for inp, outcome in zip(batch, _recognize(rec, batch, args), strict=True):
                succeeded += _emit(inp.label, outcome, args.json, many, bar)
                bar.update(1)
    return 0 if succeeded else EXIT_ALL_FAILED


def _recognize(rec, batch: list[Input], args) -> list:
    """One outcome per input: a Result, or an error message."""
    ready = [inp for inp in batch if inp.error is None]
    try:
        done = rec.recognize_batch(
            [inp.source for inp in ready], beam=args.beam, alternatives=args.alternatives
        )
    except RuntimeError:
        # a decoder failure on one odd image must not cost the others their results
        done = [_recognize_one(rec, inp.source, args) for inp in ready]
    by_input = dict(zip(map(id, ready), done, strict=True))
    outcomes = []
    for inp in batch:
        r = by_input.get(id(inp), inp.error)
        outcomes.append(str(r) if isinstance(r, Exception) else r)
    return outcomes


def _recognize_one(rec, source, args):
    from core.errors import TeXSnapError

    try:
        return rec.recognize(source, beam=args.beam, alternatives=args.alternatives)
    except TeXSnapError as exc:
        return exc
    except RuntimeError as exc:
        return TeXSnapError(f"Recognition failed on this image ({exc}).")


def _emit(label: str, outcome, as_json: bool, many: bool, bar) -> bool:
    """Print one outcome; returns whether it was a result (not an error)."""
    if isinstance(outcome, str):
        if as_json:
            bar.write(json.dumps({"path": label, "error": outcome}, ensure_ascii=False))
        else:
            print(f"{label}: error: {outcome}", file=sys.stderr, flush=True)
        return False
    if as_json:
        bar.write(json.dumps({"path": label, **outcome.to_dict()}, ensure_ascii=False))
    else:
        bar.write(f"{label}: {outcome.latex}" if many else outcome.latex)
        if outcome.empty_reason:
            print(f"{label}: {outcome.empty_reason}", file=sys.stderr, flush=True)
    return True


# ---------------------------------------------------------------------------------- render


def run_render(args: argparse.Namespace) -> int:
    from core.errors import RenderError
    from core.render import render_png

    latex = sys.stdin.read() if args.latex == "-" else args.latex
    if not (args.dpi > 0 and args.fontsize > 0):
        return _fail("--dpi and --fontsize must be more than 0")
    background = None if args.background.lower() in ("none", "transparent") else args.background
    if background is not None and not _is_colour(background):
        return _fail(f"--background: {background!r} is not a colour (try white, #202020, none)")
    try:
        png = render_png(
            latex,
            dpi=args.dpi,
            fontsize=args.fontsize,
            fontset=args.fontset,
            background=background,
        )
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        args.output.write_bytes(png)
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"Wrote {args.output}", file=sys.stderr)
    return 0


def _is_colour(name: str) -> bool:
    from matplotlib.colors import is_color_like

    return is_color_like(name)


# ------------------------------------------------------------------------------------ eval


def run_eval(args: argparse.Namespace) -> int:
    from core.dataset import Dataset
    from core.errors import DatasetError

    problem = _check_beam(args.beam)
    if args.limit is not None and args.limit < 1:
        problem = "--limit must be at least 1"
    if args.worst < 0 or args.attention_samples < 0:
        problem = "--worst and --attention-samples must be 0 or more"
    if problem:
        return _fail(problem)
    try:
        dataset = Dataset(args.dataset)
    except DatasetError as exc:
        return _fail(str(exc))
    rec = _open_model(args)
    if rec is None:
        return EXIT_UNUSABLE
    try:
        return _eval(rec, dataset, args)
    finally:
        dataset.close()


def _eval(rec, dataset, args) -> int:
    from core.evaluate import evaluate, format_report
    from core.stress import VARIANTS, run_stress

    if not len(dataset):
        return _fail(f"{args.dataset} holds no labelled samples.")
    with _progress(_n(dataset, args.limit), "samples") as bar:
        report = evaluate(
            rec, dataset, limit=args.limit, beam=args.beam, worst=args.worst, progress=bar.update
        )
    if args.stress:
        with _progress(len(report.scored) * len(VARIANTS), "stress samples") as bar:
            report.stress = run_stress(rec, dataset, report, args.beam, bar.update)
    if args.attention is not None and args.attention_samples:
        from core.attention import write_attention

        report.attention = [
            str(p) for p in write_attention(rec, dataset, args.attention, args.attention_samples)
        ]
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(format_report(report))
    return 0 if report.scores.n else EXIT_ALL_FAILED


def _n(dataset, limit: int | None) -> int:
    return min(len(dataset), limit) if limit else len(dataset)


# ------------------------------------------------------------------------------------ info


def run_info(args: argparse.Namespace) -> int:
    rec = _open_model(args)
    if rec is None:
        return EXIT_UNUSABLE
    info = rec.info
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=1))
        return 0
    print(f"model:      {info['name']} {info['version']}".rstrip())
    print(f"path:       {info['path']}")
    print(f"parameters: {info['parameters']:,}")
    print(f"device:     {info['device']}")
    for key, value in _flat_metrics(info.get("metrics") or {}):
        print(f"{key + ':':<11} {value}")
    return 0


def _flat_metrics(metrics: dict, prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in metrics.items():
        if isinstance(value, dict):
            yield from _flat_metrics(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", f"{value:.4g}" if isinstance(value, float) else str(value)


# --------------------------------------------------------------------------------- helpers


def _open_model(args):
    """The Recognizer of ``--model``/``--device``, or None after telling the user why not."""
    from core.errors import TeXSnapError
    from core.model_select import open_recognizer

    try:
        rec, notice = open_recognizer(args.model, args.device, beam=getattr(args, "beam", 1))
    except TeXSnapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    if notice:
        print(f"warning: {notice}", file=sys.stderr)
    rec.all_sizes = not getattr(args, "one_size", False)
    return rec


def _check_beam(beam: int) -> str | None:
    if not 1 <= beam <= MAX_BEAM:
        return f"--beam must be 1 (greedy) to {MAX_BEAM}, not {beam}"
    return None


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


class _NoBar:
    """Stands in for a tqdm bar when there is nothing worth a bar."""

    def update(self, n: int = 1) -> None:
        pass

    def write(self, line: str) -> None:
        print(line, flush=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


class _Bar(_NoBar):
    """A tqdm bar on stderr (terminals only, after 2 s) that stdout lines do not tear."""

    def __init__(self, total: int, unit: str):
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            unit=unit,
            file=sys.stderr,
            disable=None,
            delay=2,
            dynamic_ncols=True,
            leave=False,
        )

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def write(self, line: str) -> None:
        self.bar.write(line, file=sys.stdout)
        sys.stdout.flush()

    def __exit__(self, *exc) -> None:
        self.bar.close()


def _progress(total: int, unit: str) -> _NoBar:
    return _Bar(total, unit) if total > 1 and sys.stderr.isatty() else _NoBar()

"""``texsnap train`` (train a model from a config) and ``texsnap data build`` (render shards).

Heavy imports (torch, matplotlib) happen inside the commands so that ``texsnap --help`` stays
fast for everyone.
"""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    train = subparsers.add_parser(
        "train",
        help="train a model from a config file (CPU, one GPU, or torchrun for several)",
        description="Train the recognition model. Resumable: --resume continues bit-for-bit "
        "from the last checkpoint in the run folder. Multi-GPU: torchrun --nproc_per_node=N "
        "main.py train ...",
    )
    train.add_argument("--config", default="training/configs/base.toml", metavar="TOML")
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set steps=5000 --set model.n_layers=3",
    )
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    train.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    train.set_defaults(func=run_train)

    data = subparsers.add_parser("data", help="build training data (rendered shards)")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    build = data_sub.add_parser(
        "build",
        help="render printed formulas and read CROHME into .npz shards",
        description="Reads ../shared/data (formulas/ and crohme/train.zip, never the "
        "evaluation sets) and writes deterministic shards; rerunning skips finished shards.",
    )
    build.add_argument("--out", default="data/shards", help="default %(default)s")
    build.add_argument("--printed", type=int, default=20000, help="printed training samples")
    build.add_argument("--dev", type=int, default=500, help="printed dev samples")
    build.add_argument(
        "--handwritten", type=int, default=0, help="synthetic handwritten training samples"
    )
    build.add_argument(
        "--handwritten-dev",
        type=int,
        default=0,
        help="synthetic handwritten dev samples (formulas of the dev split, never trained on)",
    )
    build.add_argument(
        "--latex",
        type=int,
        default=0,
        help="printed training samples typeset by real LaTeX (needs latex and dvipng; "
        "matrices and arrays included)",
    )
    build.add_argument(
        "--latex-dev",
        type=int,
        default=0,
        help="LaTeX-typeset dev samples (formulas of the dev split, never trained on)",
    )
    build.add_argument("--workers", type=int, default=2)
    build.add_argument(
        "--shard-size", type=int, default=1000, help="samples per shard (default %(default)s)"
    )
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--data-root", metavar="DIR", help="default: ../shared/data")
    build.set_defaults(func=run_data_build)

    plot = data_sub.add_parser("plot", help="(re)draw loss.png and eval.png for a run folder")
    plot.add_argument("run", metavar="RUN_DIR")
    plot.set_defaults(func=run_plot)


def run_train(args) -> int:
    from core.errors import Cancelled, TeXSnapError
    from training.config import load_config
    from training.trainer import Trainer

    _sigterm_interrupts()
    try:
        cfg = load_config(args.config, args.set)
        bar = _Progress(cfg.steps)
        trainer = Trainer(cfg, device=args.device, log=bar.write, on_step=bar.update)
        out = trainer.run(resume=args.resume)
    except Cancelled as exc:
        print(exc, file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\nInterrupted; continue with --resume.", file=sys.stderr)
        return 130
    except TeXSnapError as exc:
        print(f"texsnap train: {exc}", file=sys.stderr)
        return 2
    bar.close()
    if out:
        print(f"best model: {out}")
    return 0


def _sigterm_interrupts() -> None:
    """kill/SIGTERM (a scheduler, a shutdown) stops like Ctrl+C: the checkpoint is saved."""
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread (tests calling main() from a worker)
        pass


class _Progress:
    """tqdm bar on a terminal, plain log lines otherwise (nohup, CI)."""

    def __init__(self, total: int):
        self.total = total
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="step", dynamic_ncols=True)

    def write(self, msg: str) -> None:
        if self.bar is not None:
            self.bar.write(msg)
        else:
            print(msg, flush=True)

    def update(self, step: int, row: dict) -> None:
        if self.bar is None:
            print(
                f"step {step}/{self.total} loss {row['loss']:.3f} lr {row['lr']:.2e} "
                f"{row['samples_per_s']:.1f} img/s",
                flush=True,
            )
            return
        self.bar.n = step
        self.bar.set_postfix(loss=f"{row['loss']:.3f}", img_s=row["samples_per_s"])

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_data_build(args) -> int:
    from core.errors import TeXSnapError
    from training.data.build import build_all

    try:
        build_all(
            args.out,
            printed=args.printed,
            dev=args.dev,
            handwritten=args.handwritten,
            handwritten_dev=args.handwritten_dev,
            latex=args.latex,
            latex_dev=args.latex_dev,
            workers=args.workers,
            shard_size=args.shard_size,
            seed=args.seed,
            data_root=args.data_root,
        )
    except (TeXSnapError, OSError) as exc:
        print(f"texsnap data build: {exc}", file=sys.stderr)
        return 2
    return 0


def run_plot(args) -> int:
    from training.plots import plot_run

    written = plot_run(args.run)
    if not written:
        print(f"No metrics.csv or eval.csv in {args.run}", file=sys.stderr)
        return 1
    for p in written:
        print(p)
    return 0

"""Average the weights of two models of the same architecture and vocabulary (a "model soup").

    PYTHONPATH=. python -m training.average_models MODEL_A MODEL_B OUT_DIR
        [--weight W] [--dev-slices FILE]

A continuation run often trades one skill for another (run (7) in MODEL.md read printed
formulas better and handwriting worse than the model it started from); the plain average of
the two sits in the same basin and can keep the gains of both. The result takes MODEL_B's
architecture, vocabulary, preprocessing and training record, plus a note of what was averaged.
``--dev-slices`` stores the output of ``benchmarks/dev_slices.py`` for the average as its dev
metrics; without it the dev metrics are left empty, since MODEL_B's would not describe it.
``--weight`` is MODEL_B's share (0.5, the plain average, by default): a short run that moved far
from its start (a GPU run that read printed formulas much better and handwriting worse) may
be worth less than half. Choose it on the dev slices, never on a test set.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.checkpoint import read_config
from core.errors import ModelError
from training.export_weights import export_state, read_weights


def average_models(
    a: Path, b: Path, out: Path, dev_slices: Path | None = None, weight: float = 0.5
) -> Path:
    if not 0.0 < weight < 1.0:
        raise ModelError(f"The weight of the second model must be between 0 and 1, not {weight}.")
    dev = _read_dev_slices(dev_slices) if dev_slices else {}  # before writing anything
    ca, cb = read_config(a), read_config(b)
    if ca["architecture"] != cb["architecture"] or ca["vocabulary"] != cb["vocabulary"]:
        raise ModelError(f"{a} and {b} differ in architecture or vocabulary: cannot average.")
    wa, wb = read_weights(a / "model.safetensors"), read_weights(b / "model.safetensors")
    if wa.keys() != wb.keys() or any(wa[k].shape != wb[k].shape for k in wa):
        raise ModelError(f"The weights of {a} and {b} do not match tensor for tensor.")
    # counters such as BatchNorm's num_batches_tracked are not weights: keep MODEL_B's
    avg = {
        k: wa[k].float() * (1 - weight) + wb[k].float() * weight
        if wa[k].is_floating_point()
        else wb[k]
        for k in wa
    }
    kind = "uniform average" if weight == 0.5 else f"weighted average ({1 - weight:g} / {weight:g})"
    note = (
        f"{kind} of the weights of {ca.get('name')} ({ca.get('created')}) and "
        f"{cb.get('name')} ({cb.get('created')}); the training record is the second's"
    )
    source = f"averaged from {a} and {b}"
    return export_state(avg, b, out, source, {"dev": dev}, {"averaged": note})


def _read_dev_slices(path: Path) -> dict:
    """{source: metrics} from ``benchmarks/dev_slices.py`` output (``source {json}`` lines)."""
    dev = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        source, _, rest = line.partition(" ")
        if rest.startswith("{"):
            try:
                dev[source] = json.loads(rest)
            except json.JSONDecodeError as exc:
                raise ModelError(f"{path}: a line for {source} is not JSON ({exc}).") from None
    if not dev:
        raise ModelError(f"{path} holds no dev-slice results.")
    return dev


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model_a", type=Path)
    p.add_argument("model_b", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--dev-slices", type=Path, help="benchmarks/dev_slices.py output to store")
    p.add_argument("--weight", type=float, default=0.5, help="model_b's share (default 0.5)")
    args = p.parse_args(argv)
    try:
        print(average_models(args.model_a, args.model_b, args.out, args.dev_slices, args.weight))
    except (ModelError, OSError) as exc:
        print(f"average_models: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

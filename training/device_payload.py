"""Gather what a GPU run on the lent device machine needs and the repository lacks.

    PYTHONPATH=. python -m training.device_payload [--shards DIR] [--latex DIR | --train DIR]
        [--data-root ../shared/data] [--root .] [--limit-mib 64]

The device machine gets a copy of the repository and nothing beside it (no ``../shared``, no
internet, no TeX), and a call carries at most 64 MiB. ``training/train_gpu.sh OUT .devdata …``
expects, under ``.devdata``:

- ``formulas/``: the formula corpora, which the device renders training images from;
- ``shards/``: what it cannot make there or should not spend its minutes on: the CROHME shards
  (from ``crohme/train.zip``), the dev slices it evaluates on (printed, synthetic handwritten,
  and the LaTeX-typeset one), and as many LaTeX-typeset training shards as fit (``--latex``),
  or, with ``--train``, as many training shards of every kind as fit, taken in turn (LaTeX,
  printed, handwritten), so that the GPU's first epochs draw every kind before the device has
  rendered its own (run (25) started on CROHME and LaTeX alone).

``.devpkgs`` holds the pure-Python packages our code imports that the device's Python lacks
(``platformdirs``); the run puts it on ``PYTHONPATH``. Both folders are git-ignored, so the call
must name them in ``carry``. The dev slices come from ``--shards`` (a folder from an earlier
``texsnap data build``), else they are built here (a few minutes). The payload's size is the
repository's files plus both folders; LaTeX shards are added in name order while it stays
``--headroom-mib`` below the limit, and a payload over the limit without them is an error.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

from core.errors import TeXSnapError

MIB = 1 << 20
# the files train_gpu.sh waits for, and the dev slices the run reports on
BASE_SHARDS = ("crohme-train.npz", "crohme-dev.npz")
DEV_SHARDS = ("printed-dev-0-*.npz", "handwritten-dev-0-*.npz", "latex-dev-0-*.npz")
TRAIN_KINDS = ("latex", "printed", "handwritten")
PACKAGES = ("platformdirs",)  # imported by core.paths; not in the device's image


class PayloadError(TeXSnapError):
    """The payload cannot be gathered or would not travel."""


def gather(
    root: Path,
    data_root: Path,
    shards: Path | None = None,
    latex: Path | None = None,
    limit_mib: float = 64.0,
    headroom_mib: float = 2.0,
    train: Path | None = None,
) -> dict:
    """Fill ``root/.devdata`` and ``root/.devpkgs`` afresh; return what went in and the size."""
    formulas = data_root / "formulas"
    if not formulas.is_dir() or not any(formulas.iterdir()):
        raise PayloadError(f"No formula corpora in {formulas}: is the data root right?")
    typeset = sorted(latex.glob("latex-train-*.npz")) if latex else []
    if latex and not typeset:
        raise PayloadError(f"{latex} holds no LaTeX-typeset training shards (latex-train-*.npz).")
    if train:
        typeset = _in_turn(train)
    base = _base_shards(shards, data_root)  # every check before the old payload goes
    packages = {name: _package_source(name) for name in PACKAGES}
    devdata, devpkgs = root / ".devdata", root / ".devpkgs"
    for folder in (devdata, devpkgs):
        shutil.rmtree(folder, ignore_errors=True)  # a stale shard must not travel
    (devdata / "shards").mkdir(parents=True)
    shutil.copytree(formulas, devdata / "formulas")
    for path in base:
        shutil.copy2(path, devdata / "shards" / path.name)
    for name, source in packages.items():
        shutil.copytree(source, devpkgs / name, ignore=shutil.ignore_patterns("__pycache__"))

    limit = int(limit_mib * MIB)
    size = payload_bytes(root)
    if size > limit:
        raise PayloadError(
            f"The payload is {size / MIB:.1f} MiB without LaTeX shards, over the "
            f"{limit_mib:g} MiB a call carries."
        )
    added = []
    for path in typeset:
        grown = size + path.stat().st_size
        if grown > limit - headroom_mib * MIB:
            break
        shutil.copy2(path, devdata / "shards" / path.name)
        added.append(path.name)
        size = grown
    return {
        "shards": sorted(p.name for p in base),
        "train_shards": added,
        "packages": list(packages),
        "mib": round(size / MIB, 1),
    }


def _in_turn(folder: Path) -> list[Path]:
    """The training shards of ``folder``, one of each kind in turn, each kind in name order."""
    kinds = [sorted(folder.glob(f"{kind}-train-*.npz")) for kind in TRAIN_KINDS]
    if not any(kinds):
        raise PayloadError(
            f"{folder} holds no training shards (latex-, printed-, handwritten-train-*)."
        )
    longest = max(map(len, kinds))
    return [k[i] for i in range(longest) for k in kinds if i < len(k)]


def _base_shards(shards: Path | None, data_root: Path) -> list[Path]:
    if shards is None:
        shards = _build_dev_slices(data_root)
    found = [shards / name for name in BASE_SHARDS if (shards / name).is_file()]
    missing = [name for name in BASE_SHARDS if not (shards / name).is_file()]
    for pattern in DEV_SHARDS:
        hits = sorted(shards.glob(pattern))
        found += hits
        if not hits and not pattern.startswith("latex"):  # TeX is optional here too
            missing.append(pattern)
    if missing:
        raise PayloadError(f"{shards} lacks {', '.join(missing)}: build them first.")
    return found


def _build_dev_slices(data_root: Path) -> Path:
    """The CROHME shards and the dev slices, built into the cache (skipped when present)."""
    from core.paths import cache_dir
    from training.data.build import build_all
    from training.data.latex_render import latex_available

    out = cache_dir() / "device-shards"
    latex_dev = 500 if latex_available() else 0
    build_all(out, printed=0, dev=500, handwritten_dev=300, latex_dev=latex_dev,
              data_root=data_root, workers=2)  # fmt: skip
    return out


def _package_source(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise PayloadError(f"The package {name} is not installed here: run `make setup` first.")
    return Path(next(iter(spec.submodule_search_locations)))


def payload_bytes(root: Path) -> int:
    """What a device call sends: the files git does not ignore, plus the carried folders."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    files = [root / name.decode() for name in listed if name]
    carried = [p for folder in (".devdata", ".devpkgs") for p in (root / folder).rglob("*")]
    return sum(p.stat().st_size for p in files + carried if p.is_file())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=Path("."), help="the repository (default: .)")
    p.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    p.add_argument("--shards", type=Path, help="a folder holding the CROHME and dev shards")
    add = p.add_mutually_exclusive_group()
    add.add_argument("--latex", type=Path, help="a folder of latex-train-*.npz shards to add")
    add.add_argument("--train", type=Path, help="a folder of training shards of any kind to add")
    p.add_argument("--limit-mib", type=float, default=64.0)
    p.add_argument("--headroom-mib", type=float, default=2.0)
    args = p.parse_args(argv)
    try:
        got = gather(
            args.root,
            args.data_root,
            args.shards,
            args.latex,
            args.limit_mib,
            args.headroom_mib,
            args.train,
        )
    except (TeXSnapError, OSError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{got['mib']} MiB: shards {', '.join(got['shards'])}; "
        f"{len(got['train_shards'])} training shards; packages {', '.join(got['packages'])}"
    )
    print("carry: .devdata .devpkgs   (PYTHONPATH=.:.devpkgs on the device)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The bundled model's learning curve across sessions: test-set scores against the images its
lineage has seen (docs/model/lineage.csv, one row per run; the model card says how each was
measured).

    PYTHONPATH=. .venv/bin/python benchmarks/learning_curve.py [--csv docs/model/lineage.csv] \
        [--out docs/model/lineage.png]

Also prints, from the bundled runs, how much BLEU-4 on im2latex each doubling of the images
bought, the one number that says how far compute is from issue #3's bars.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

BLEU_BAR = 0.85  # issue #3's bar for im2latex
COLUMNS = ("run", "images", "shipped", "im2latex_exact", "im2latex_bleu4", "crohme2016_exact")


def read_lineage(path: Path) -> list[dict]:
    """Rows of the lineage file; a missing column or a malformed number is a ValueError that
    names the row."""
    with open(path, newline="") as f:
        lines = [line for line in f if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(lines)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    rows = []
    for n, row in enumerate(reader, start=1):
        try:
            rows.append(
                {
                    "run": row["run"],
                    "images": int(row["images"]),
                    "shipped": row["shipped"] == "1",
                    **{k: float(v) if v else None for k, v in row.items() if "_" in k},
                }
            )
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}, data row {n}: {e}") from None
    return sorted(rows, key=lambda r: r["images"])


def bleu_per_doubling(rows: list[dict]) -> float:
    """Least-squares slope of im2latex BLEU-4 against log2(images), bundled runs only."""
    pts = [(math.log2(r["images"]), r["im2latex_bleu4"]) for r in _scored(rows)]
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    spread = sum((x - mx) ** 2 for x, _ in pts)
    if len(pts) < 2 or spread == 0:
        raise ValueError("need at least two bundled runs with an im2latex score")
    return sum((x - mx) * (y - my) for x, y in pts) / spread


def _scored(rows: list[dict]) -> list[dict]:
    """Bundled runs with an im2latex BLEU-4 (at least one, else a ValueError)."""
    scored = [r for r in rows if r["shipped"] and r["im2latex_bleu4"] is not None]
    if not scored:
        raise ValueError("need at least two bundled runs with an im2latex score")
    return scored


def plot(rows: list[dict], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    series = (
        ("im2latex_bleu4", "im2latex val BLEU-4", "tab:blue"),
        ("im2latex_exact", "im2latex val exact match", "tab:cyan"),
        ("crohme2016_exact", "CROHME 2016 exact match", "tab:orange"),
    )
    for key, label, color in series:
        pts = [(r["images"], r[key], r["shipped"]) for r in rows if r[key] is not None]
        line = [p for p in pts if p[2]]  # runs not shipped branch off; they are points only
        ax.plot([p[0] for p in line], [p[1] for p in line], "-", color=color, label=label)
        ax.scatter(
            [p[0] for p in pts],
            [p[1] for p in pts],
            color=color,
            facecolors=[color if p[2] else "white" for p in pts],
            zorder=3,
        )
    ax.axhline(0.85, color="tab:blue", ls=":", lw=1)
    ax.axhline(0.50, color="tab:cyan", ls=":", lw=1)
    ax.axhline(0.40, color="tab:orange", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("images seen by the lineage (log scale; open circles: not shipped)")
    ax.set_ylabel("score")
    ax.set_ylim(0, 1)
    ax.set_title("Bundled model across sessions (dotted: issue #3's bars)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--csv", type=Path, default=Path("docs/model/lineage.csv"))
    ap.add_argument("--out", type=Path, default=Path("docs/model/lineage.png"))
    args = ap.parse_args(argv)
    try:
        rows = read_lineage(args.csv)
        slope = bleu_per_doubling(rows)
    except (OSError, ValueError) as e:
        print(f"error: {e}")
        return 2
    print(f"wrote {plot(rows, args.out)}")
    last = max(_scored(rows), key=lambda r: r["images"])
    need = last["images"] * 2 ** ((BLEU_BAR - last["im2latex_bleu4"]) / slope)
    print(f"im2latex BLEU-4 gained per doubling of images (bundled runs): {slope:+.3f}")
    print(
        f"at that rate, BLEU-4 {BLEU_BAR} would take about {need / 1e6:.1f} M images "
        f"(an extrapolation; the bundled weights have seen {last['images'] / 1e6:.2f} M)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

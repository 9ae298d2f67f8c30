"""Score a model on a labelled data set (``texsnap eval``).

Predictions and references are compared on canonical tokens (``core.metrics``), so label
conventions do not count as errors. A damaged sample is reported and skipped: a broken file
says nothing about the model. Confidence is checked against correctness with a calibration
table (confidence bins vs. the exact-match rate inside each) and the expected calibration
error, because the app colours results by confidence and users should be able to trust it.
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

from core.dataset import Dataset, Sample
from core.errors import TeXSnapError
from core.latex import canonicalize
from core.metrics import Scores

BATCH = 16
CALIBRATION_BINS = 10
PROBLEMS_SHOWN = 10

Transform = Callable[[bytes, int], object]  # (image bytes, sample index) -> image source


@dataclass
class Scored:
    path: str
    reference: str  # canonical
    prediction: str
    confidence: float
    distance: float  # normalized token edit distance, 0 = perfect


@dataclass
class CalibrationBin:
    lo: float
    hi: float
    n: int
    confidence: float  # mean confidence of the samples in the bin
    accuracy: float  # their exact-match rate


@dataclass
class Report:
    dataset: str
    model: str
    beam: int
    scores: Scores
    worst: list[Scored]
    calibration: list[CalibrationBin]
    ece: float  # expected calibration error, 0 = confidence is the chance of being right
    problems: list[str]  # "path: why" for each sample skipped
    labels_skipped: int  # malformed lines of labels.tsv
    ms_median: float
    scored: list[Sample] = field(default_factory=list, repr=False)  # the samples that counted
    stress: dict | None = None
    attention: list[str] | None = None

    def to_dict(self) -> dict:
        d = {
            "dataset": self.dataset,
            "model": self.model,
            "beam": self.beam,
            **self.scores.summary(),
            "ms_median": round(self.ms_median, 1),
            "ece": round(self.ece, 4),
            "calibration": [asdict(b) for b in self.calibration],
            "worst": [asdict(w) for w in self.worst],
            "skipped": len(self.problems),
            "problems": self.problems,
            "labels_skipped": self.labels_skipped,
        }
        if self.stress is not None:
            d["stress"] = self.stress
        if self.attention is not None:
            d["attention"] = self.attention
        return d


def evaluate(
    rec,
    dataset: Dataset,
    *,
    limit: int | None = None,
    beam: int = 1,
    worst: int = 10,
    samples: list[Sample] | None = None,
    transform: Transform | None = None,
    unreadable_is_wrong: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Recognize and score ``samples`` (default: the first ``limit`` of ``dataset``).

    ``transform`` alters each image first (the stress variants); with ``unreadable_is_wrong``
    an image that cannot be read any more scores as an empty prediction instead of being
    skipped, since the transform, not the data set, broke it.
    """
    if samples is None:
        samples = dataset.samples[:limit] if limit else list(dataset.samples)
    scores, problems, kept = Scores(), [], []
    heap: list[tuple[float, float, int, Scored]] = []
    pairs: list[tuple[float, bool]] = []
    times: list[float] = []
    for start, batch in _batches(samples, BATCH):
        for sample, outcome in zip(
            batch, _recognize(rec, dataset, batch, start, beam, transform), strict=True
        ):
            failed = isinstance(outcome, TeXSnapError)
            if failed and (isinstance(outcome, _ReadError) or not unreadable_is_wrong):
                problems.append(f"{sample.path}: {outcome}")
                continue
            latex = "" if failed else outcome.latex
            conf = 0.0 if failed else outcome.confidence
            reference = _canonical(sample.latex)
            distance = scores.add(latex, reference)
            pairs.append((conf, distance == 0))
            kept.append(sample)
            if not failed:
                times.append(outcome.ms)
            item = Scored(sample.path, reference, latex, round(conf, 4), round(distance, 4))
            # the worst errors first; among equals, the most confident one (it misleads most)
            _push(heap, (distance, conf, len(kept), item), worst)
        if progress:
            progress(len(batch))
    bins, ece = calibration(pairs)
    return Report(
        dataset=str(dataset.source),
        model=_model_name(rec),
        beam=beam,
        scores=scores,
        worst=[entry[-1] for entry in sorted(heap, reverse=True) if entry[0] > 0],
        calibration=bins,
        ece=ece,
        problems=problems,
        labels_skipped=dataset.skipped,
        ms_median=statistics.median(times) if times else 0.0,
        scored=kept,
    )


class _ReadError(TeXSnapError):
    """The data set itself could not give us the image (missing member): always skipped."""


def _recognize(rec, dataset, batch, start, beam, transform) -> list:
    """A Result or a TeXSnapError for each sample of ``batch``."""
    images, slots = [], []
    out: list = [None] * len(batch)
    for i, sample in enumerate(batch):
        try:
            data = dataset.read(sample)
        except TeXSnapError as exc:
            out[i] = _ReadError(str(exc))
            continue
        try:
            images.append(transform(data, start + i) if transform else data)
            slots.append(i)
        except TeXSnapError as exc:
            out[i] = exc
    if images:
        for i, result in zip(
            slots, rec.recognize_batch(images, beam=beam, alternatives=0), strict=True
        ):
            out[i] = result
    return out


def _batches(items: list, size: int) -> Iterator[tuple[int, list]]:
    for i in range(0, len(items), size):
        yield i, items[i : i + size]


def _push(heap: list, entry: tuple, k: int) -> None:
    if k <= 0:
        return
    if len(heap) < k:
        heapq.heappush(heap, entry)
    else:
        heapq.heappushpop(heap, entry)


def _canonical(latex: str) -> str:
    try:
        return canonicalize(latex)
    except Exception:  # noqa: BLE001 - a label our parser cannot read is still compared as is
        return latex


def _model_name(rec) -> str:
    info = rec.info
    return f"{info['name']} {info['version']}".strip()


def calibration(
    pairs: list[tuple[float, bool]], n_bins: int = CALIBRATION_BINS
) -> tuple[list[CalibrationBin], float]:
    """Equal-width confidence bins with their exact-match rate, and the expected calibration
    error: the mean |confidence - accuracy| over bins, weighted by their share of samples."""
    groups: list[list[tuple[float, bool]]] = [[] for _ in range(n_bins)]
    for conf, right in pairs:
        groups[min(int(conf * n_bins), n_bins - 1)].append((conf, right))
    bins, ece = [], 0.0
    for i, group in enumerate(groups):
        if not group:
            continue
        conf = sum(c for c, _ in group) / len(group)
        acc = sum(r for _, r in group) / len(group)
        bins.append(CalibrationBin(i / n_bins, (i + 1) / n_bins, len(group), conf, acc))
        ece += len(group) / len(pairs) * abs(conf - acc)
    return bins, ece


# ---------------------------------------------------------------------------------- report


def format_report(report: Report) -> str:
    s = report.scores.summary()
    lines = [
        f"Data set:        {report.dataset}",
        f"Model:           {report.model} (beam {report.beam})",
        f"Scored:          {s['n']} samples"
        + (f", {len(report.problems)} skipped (unreadable)" if report.problems else "")
        + (f", {report.labels_skipped} malformed label lines" if report.labels_skipped else ""),
        "",
        f"exact match      {s['exact_match']:.1%}",
        f"BLEU-4           {s['bleu4']:.3f}",
        f"edit distance    {s['edit_distance']:.3f}  (normalized, 0 = perfect)",
        f"CER              {s['cer']:.3f}",
        f"token accuracy   {s['token_accuracy']:.3f}",
        f"median time      {report.ms_median:.0f} ms per image",
    ]
    lines += _format_worst(report.worst)
    lines += _format_calibration(report.calibration, report.ece)
    lines += _format_stress(report.stress)
    lines += _format_problems(report.problems)
    if report.attention:
        lines += ["", f"Attention maps: {len(report.attention)} PNGs, e.g. {report.attention[0]}"]
    return "\n".join(lines)


def _format_worst(worst: list[Scored]) -> list[str]:
    if not worst:
        return []
    lines = ["", "Worst errors (normalized edit distance, confidence):"]
    for i, w in enumerate(worst, 1):
        lines += [
            f"{i:3d}. {w.path}  ({w.distance:.2f}, {w.confidence:.2f})",
            f"     reference:  {w.reference}",
            f"     prediction: {w.prediction or '(empty)'}",
        ]
    return lines


def _format_calibration(bins: list[CalibrationBin], ece: float) -> list[str]:
    if not bins:
        return []
    lines = ["", "Confidence vs. exact match:", "  confidence     n   mean conf  exact match"]
    for b in bins:
        lines.append(f"  {b.lo:.1f}-{b.hi:.1f}  {b.n:7d}   {b.confidence:9.3f}  {b.accuracy:11.3f}")
    lines.append(f"  expected calibration error: {ece:.3f}")
    return lines


def _format_stress(stress: dict | None) -> list[str]:
    if not stress:
        return []
    lines = ["", "Robustness:", "  variant   exact match  BLEU-4  drop vs clean"]
    for name, v in stress.items():
        drop = "" if name == "clean" else f"{v['drop_points']:.1f} points"
        bleu = f"{v['bleu4']:.3f}" if "bleu4" in v else "-"
        lines.append(f"  {name:<8}  {v['exact_match']:11.1%}  {bleu:>6}  {drop}")
    return lines


def _format_problems(problems: list[str]) -> list[str]:
    if not problems:
        return []
    lines = ["", "Skipped samples:"] + [f"  {p}" for p in problems[:PROBLEMS_SHOWN]]
    if len(problems) > PROBLEMS_SHOWN:
        lines.append(f"  ... and {len(problems) - PROBLEMS_SHOWN} more (see --json)")
    return lines

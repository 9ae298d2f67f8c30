"""The user's corrections as fine-tuning data: read, split, check against the model, preprocess.

* :func:`read_examples` reads a data set (zip or folder with ``images/`` + ``labels.tsv``, the
  format the Corrections tab exports) or InkML files that carry their ground truth
  (``<annotation type="truth">``, as CROHME files do). One unreadable row is a warning, not
  a failure.
* :func:`heldout_split` keeps ~20 % of the examples out of training, chosen by a hash of the
  image bytes: the same picture always lands on the same side, whatever else the data set
  holds, so the before/after comparison is never measured on training data.
* :func:`prepare` turns examples into ink maps and canonical labels.
  Corrupt or blank images are skipped with a warning; so are labels that use tokens the
  model's vocabulary lacks. Mapping those to ``<unk>`` would teach the model to *emit*
  ``<unk>``, which the decoder drops: the formula would come out silently wrong.
"""

from __future__ import annotations

import hashlib
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.dataset import Dataset
from core.errors import DatasetError, TeXSnapError
from core.ink import from_inkml, rasterize
from core.latex import canonical_tokens, canonicalize
from core.preprocess import PreprocessConfig, preprocess
from core.vocab import Vocab
from training.finetune_plan import MIN_EXAMPLES

INKML_SUFFIXES = (".inkml", ".ink")
HELDOUT_PERCENT = 20
MIN_HELDOUT = 3


@dataclass(frozen=True)
class Example:
    key: str  # where it came from, for warnings (file name inside the data set)
    image: bytes  # encoded image (PNG, JPEG...)
    latex: str


def read_examples(source: str | os.PathLike) -> tuple[list[Example], list[str]]:
    """Examples of a data set or of InkML files; returns (examples, warnings)."""
    source = Path(source)
    if source.suffix.lower() in INKML_SUFFIXES or (
        source.is_dir() and not (source / "labels.tsv").exists() and _inkml_files(source)
    ):
        return _read_inkml(_inkml_files(source) if source.is_dir() else [source])
    ds = Dataset(source)
    examples, warnings = [], []
    if ds.skipped:
        warnings.append(f"{ds.skipped} line(s) of labels.tsv were not 'path<TAB>LaTeX'.")
    try:
        for sample in ds:
            try:
                examples.append(Example(sample.path, ds.read(sample), sample.latex))
            except DatasetError as exc:
                warnings.append(f"Skipped {sample.path}: {exc}")
    finally:
        ds.close()
    return examples, warnings


def _inkml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in INKML_SUFFIXES)


def inkml_truth(text: str) -> str | None:
    """The ground-truth LaTeX of an InkML document (CROHME style), or None."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    for node in root:
        if node.tag.rsplit("}", 1)[-1] == "annotation" and node.get("type") == "truth":
            latex = (node.text or "").strip().strip("$").strip()
            return latex or None
    return None


def _read_inkml(files: list[Path]) -> tuple[list[Example], list[str]]:
    import io

    examples, warnings = [], []
    if not files:
        raise DatasetError("No InkML files were found.")
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
            latex = inkml_truth(text)
            if latex is None:
                warnings.append(f"Skipped {path.name}: it has no ground-truth annotation.")
                continue
            buf = io.BytesIO()
            rasterize(from_inkml(text)).save(buf, format="PNG")
        except (OSError, TeXSnapError) as exc:
            warnings.append(f"Skipped {path.name}: {exc}")
            continue
        examples.append(Example(path.name, buf.getvalue(), latex))
    return examples, warnings


def _hash_percent(data: bytes) -> tuple[int, bytes]:
    digest = hashlib.sha1(data).digest()
    return int.from_bytes(digest[:4], "big") % 100, digest


def heldout_indices(
    examples: list[Example], percent: int = HELDOUT_PERCENT, minimum: int = MIN_HELDOUT
) -> set[int]:
    """Indices of the held-out examples: images whose hash falls under ``percent``, topped
    up to ``minimum`` with the lowest hashes. Identical images always share a side."""
    if len(examples) < MIN_EXAMPLES:
        raise DatasetError(
            f"Fine-tuning needs at least {MIN_EXAMPLES} corrections; "
            f"this data set has {len(examples)} usable ones."
        )
    keyed = sorted(((*_hash_percent(e.image), i) for i, e in enumerate(examples)))
    held = {i for pct, _, i in keyed if pct < percent}
    for _, _, i in keyed:
        if len(held) >= minimum:
            break
        held.add(i)
    return held


def heldout_split(examples: list[Example], **kw) -> tuple[list[Example], list[Example]]:
    """(train, held-out) lists; see :func:`heldout_indices`."""
    held = heldout_indices(examples, **kw)
    train = [e for i, e in enumerate(examples) if i not in held]
    return train, [e for i, e in enumerate(examples) if i in held]


def prepare(
    examples: list[Example], vocab: Vocab, max_len: int, cfg: PreprocessConfig
) -> tuple[list[Example], list[np.ndarray], list[str], list[str]]:
    """The usable ``examples`` with their ink maps and canonical labels, and a warning for
    each one left out: (examples, images, labels, warnings)."""
    kept, images, labels, warnings = [], [], [], []
    for ex in examples:
        try:
            label = canonicalize(ex.latex)
            tokens = canonical_tokens(label)
        except Exception:  # noqa: BLE001 - any LaTeX the tokenizer rejects is one bad row
            warnings.append(f"Skipped {ex.key}: its LaTeX cannot be read.")
            continue
        unknown = sorted({t for t in tokens if t not in vocab.index})
        if not tokens or unknown:
            what = ", ".join(unknown[:3]) if unknown else "nothing"
            warnings.append(f"Skipped {ex.key}: the model does not know {what}.")
            continue
        if len(tokens) + 2 > max_len - 2:
            warnings.append(f"Skipped {ex.key}: the formula is too long for the model.")
            continue
        try:
            ink = preprocess(ex.image, cfg)
        except TeXSnapError as exc:
            warnings.append(f"Skipped {ex.key}: {exc}")
            continue
        kept.append(ex)
        images.append(ink)
        labels.append(label)
    return kept, images, labels, warnings

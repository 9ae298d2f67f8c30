"""Read labelled image data sets: a zip file or a folder holding ``images/`` and ``labels.tsv``.

``labels.tsv`` has one ``<path relative to images/><TAB><LaTeX>`` per line; this is the format of
``../shared/data`` and of the corrections TeXSnap exports. Zip members are read in place, never
unpacked. Broken lines are skipped and counted (``Dataset.skipped``) rather than failing the run.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.errors import DatasetError

LABELS = "labels.tsv"
IMAGES = "images"


@dataclass(frozen=True)
class Sample:
    path: str  # relative to images/
    latex: str


class Dataset:
    """Samples of a data set plus a way to read each image's bytes."""

    def __init__(self, source: str | os.PathLike):
        self.source = Path(source)
        self.skipped = 0
        if self.source.is_dir():
            self._zip = None
            self._prefix = ""
            text = self._read_folder_labels()
        elif self.source.is_file():
            self._zip, self._prefix, text = self._open_zip()
        else:
            raise DatasetError(f"No data set at {self.source}: expected a zip file or a folder.")
        self.samples = self._parse(text)

    def _read_folder_labels(self) -> str:
        labels = self.source / LABELS
        if not labels.is_file():
            raise DatasetError(f"{self.source} has no {LABELS}: not a TeXSnap data set.")
        return labels.read_text(encoding="utf-8", errors="replace")

    def _open_zip(self):
        try:
            zf = zipfile.ZipFile(self.source)
        except (zipfile.BadZipFile, OSError) as exc:
            raise DatasetError(f"{self.source.name} is not a readable zip file ({exc}).") from None
        # tolerate one wrapping folder (zips made by "compress folder" in file managers)
        names = [n for n in zf.namelist() if n == LABELS or n.endswith("/" + LABELS)]
        if not names:
            raise DatasetError(f"{self.source.name} has no {LABELS}: not a TeXSnap data set.")
        name = min(names, key=len)
        prefix = name[: -len(LABELS)]
        try:
            text = zf.read(name).decode("utf-8", errors="replace")
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            raise DatasetError(f"Cannot read {LABELS} in {self.source.name} ({exc}).") from None
        return zf, prefix, text

    def _parse(self, text: str) -> list[Sample]:
        out = []
        for line in text.splitlines():
            if not line.strip():
                continue
            parts = line.split("\t", 1)
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                self.skipped += 1
                continue
            out.append(Sample(parts[0].strip(), parts[1].strip()))
        return out

    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def read(self, sample: Sample) -> bytes:
        """The image bytes of ``sample``; raises :class:`DatasetError` when missing."""
        rel = sample.path.replace("\\", "/").lstrip("/")
        if ".." in Path(rel).parts:
            raise DatasetError(f"Refusing image path outside images/: {sample.path}")
        try:
            if self._zip is not None:
                return self._zip.read(f"{self._prefix}{IMAGES}/{rel}")
            return (self.source / IMAGES / rel).read_bytes()
        except (KeyError, OSError, zipfile.BadZipFile) as exc:
            raise DatasetError(
                f"Image {sample.path} is missing from the data set ({exc})."
            ) from None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

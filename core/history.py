"""The local history of recognitions and the user's corrections, in one SQLite file.

Why it is built this way:

* **Nothing the user did may be lost.** The database runs in WAL mode with
  ``synchronous=FULL``: every committed transaction is in the WAL file, fsynced, before
  ``commit`` returns. A crash, a ``kill -9`` or even a power cut after a method returned
  keeps the record (``NORMAL`` would already survive a killed process, but not a power cut,
  and history writes are rare enough that one fsync each costs nothing noticeable).
* **Every write is one transaction** (``BEGIN IMMEDIATE`` ... ``COMMIT``), so a record is
  either fully there or not at all.
* **A damaged file never stops the app.** On open, a file that is not a database or fails
  ``PRAGMA quick_check`` is moved aside to ``<name>.corrupt-<timestamp>`` (kept for rescue)
  and a fresh database is created; ``Store.notice`` then tells the user what happened.
* **Thread-safe for the GUI:** one connection (``check_same_thread=False``) guarded by a
  lock, so the GUI thread and a worker thread may both use the same ``Store``.
* **Corrections are training data**, so they are separate from history: clearing history
  never deletes a correction (its ``history_id`` just becomes NULL). They export to, and
  import from, the shared data-set format: a zip or folder with ``images/`` and a
  ``labels.tsv`` of ``<path relative to images/><TAB><LaTeX>`` lines.
* Images are checked with PIL before they are stored (``InvalidImage`` otherwise), kept as
  PNG, and a small thumbnail (~64 px high) is stored next to each for fast list views.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import sqlite3
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from PIL import Image

from core import paths
from core.errors import DatasetError, InvalidImage

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SOURCES = ("snip", "draw", "file", "paste", "drop", "api", "cli")
THUMB_HEIGHT = 64
THUMB_MAX_WIDTH = 512
MAX_IMAGE_BYTES = 32 * 1024 * 1024  # larger images in an imported data set are skipped
MAX_IMAGE_PIXELS = 40_000_000  # guard against decompression bombs

_SCHEMA_V1 = """
CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    source TEXT NOT NULL,
    image_png BLOB NOT NULL,
    thumb_png BLOB NOT NULL,
    strokes_inkml TEXT,
    latex TEXT NOT NULL,
    confidence REAL NOT NULL,
    alternatives_json TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    history_id INTEGER REFERENCES history(id) ON DELETE SET NULL,
    image_png BLOB NOT NULL,
    thumb_png BLOB NOT NULL,
    strokes_inkml TEXT,
    latex TEXT NOT NULL,
    excluded INTEGER NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1)),
    source TEXT NOT NULL
);
CREATE INDEX corrections_history ON corrections(history_id);
"""

# user_version N -> script that brings the schema to N + 1 (0 = empty, new file).
_MIGRATIONS: dict[int, str] = {0: _SCHEMA_V1}


@dataclass
class HistoryEntry:
    """One recognition. ``image_png`` is None when listed with ``with_images=False``."""

    id: int
    created: str  # UTC, ISO 8601
    source: str  # one of SOURCES
    latex: str
    confidence: float
    alternatives: list[str]
    thumb_png: bytes
    image_png: bytes | None
    strokes_inkml: str | None


@dataclass
class Correction:
    """An image with the LaTeX the user says is right: one fine-tuning example."""

    id: int
    created: str
    updated: str
    history_id: int | None
    latex: str
    excluded: bool  # the user keeps it but does not want it used for training
    source: str  # "user", "import", ...
    thumb_png: bytes
    image_png: bytes | None
    strokes_inkml: str | None


# --- helpers ---------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def _prepare_image(data: bytes) -> tuple[bytes, bytes]:
    """Check that ``data`` is a readable image; return (PNG bytes, PNG thumbnail bytes).

    PNG input is kept byte for byte; other formats (JPEG, BMP...) are converted to PNG so
    that exported data sets are uniform.
    """
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) == 0:
        raise InvalidImage("The image is empty.")
    data = bytes(data)
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise InvalidImage(
                    f"The image is too large ({im.width}×{im.height} pixels) to be stored."
                )
            im.load()
            fmt = im.format
            img = _displayable(im)
    except InvalidImage:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise InvalidImage(f"The data is not an image that can be read ({exc}).") from exc
    png = data if fmt == "PNG" else _encode_png(img)
    return png, _thumbnail(img)


def _displayable(im: Image.Image) -> Image.Image:
    """Convert palette, CMYK, 16-bit... images to a mode PNG and Qt handle everywhere."""
    if im.mode in ("L", "LA", "RGB", "RGBA"):
        return im.copy()
    has_alpha = im.mode in ("PA", "La") or "transparency" in im.info
    return im.convert("RGBA" if has_alpha else "RGB")


def _thumbnail(img: Image.Image) -> bytes:
    thumb = img.copy()
    thumb.thumbnail((THUMB_MAX_WIDTH, THUMB_HEIGHT), Image.Resampling.LANCZOS)
    return _encode_png(thumb)


def _encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _check_latex(latex: str) -> str:
    if not isinstance(latex, str):
        raise TypeError(f"latex must be a str, not {type(latex).__name__}")
    return latex


def _one_line(latex: str) -> str:
    """LaTeX as one TSV field: tabs and line breaks are plain whitespace in LaTeX."""
    return " ".join(latex.replace("\t", " ").splitlines()).strip()


class _IntegrityFailed(sqlite3.DatabaseError):
    """The file opens but ``PRAGMA quick_check`` reports damage."""


_CORRUPTION_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    """True for a damaged file; False for transient trouble (busy, locked, I/O, read-only)."""
    if isinstance(exc, _IntegrityFailed):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _CORRUPTION_CODES
    return not isinstance(exc, sqlite3.OperationalError)


# --- the store -------------------------------------------------------------------------------


class Store:
    """History and corrections database. Use one per process; safe to share between threads.

    ``notice`` is a sentence for the user when the database had to be recovered, else None.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else paths.database_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.notice: str | None = None
        self._lock = threading.RLock()
        self._conn = self._open_checked()

    # -- opening, recovery, schema --

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        conn.row_factory = sqlite3.Row
        return conn

    def _open_checked(self) -> sqlite3.Connection:
        """Open the database, moving a damaged file aside and starting fresh if needed."""
        conn = None
        try:
            conn = self._connect()
            self._configure(conn)
            self._check_integrity(conn)
            self._migrate(conn)
            return conn
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            if not _is_corruption(exc):
                raise  # locked, read-only, disk full...: the file itself may be fine
            kept = self._move_aside()
            log.warning("history database %s is damaged (%s); kept as %s", self.path, exc, kept)
            self.notice = (
                "The history database was damaged and could not be opened, so a new, empty "
                f"one was started. The old file was kept as {kept.name}."
            )
        conn = self._connect()
        self._configure(conn)
        self._migrate(conn)
        return conn

    @staticmethod
    def _configure(conn: sqlite3.Connection) -> None:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("SQLite refused WAL mode (got %s)", mode)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")

    @staticmethod
    def _check_integrity(conn: sqlite3.Connection) -> None:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        if rows != ["ok"]:
            raise _IntegrityFailed("quick_check failed: " + "; ".join(map(str, rows[:5])))

    def _move_aside(self) -> Path:
        """Rename the damaged file (and its -wal/-shm companions) out of the way."""
        dest = self.path.with_name(f"{self.path.name}.corrupt-{_stamp()}")
        n = 1
        while dest.exists():
            dest = self.path.with_name(f"{self.path.name}.corrupt-{_stamp()}-{n}")
            n += 1
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                os.replace(src, Path(str(dest) + suffix))
        return dest

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self.notice = (
                "The history database was written by a newer version of TeXSnap; "
                "some of its contents may not be shown."
            )
            return
        while version < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={version + 1}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            version += 1

    # -- plumbing --

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken under the lock; rolled back on any error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close the connection (checkpointing the WAL). The store is unusable afterwards."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def integrity_ok(self) -> bool:
        """Full ``PRAGMA integrity_check``: slow on big files, meant for diagnostics/tests."""
        rows = self._query("PRAGMA integrity_check")
        return [r[0] for r in rows] == ["ok"]

    # -- history --

    def add_entry(
        self,
        image_png: bytes,
        latex: str,
        confidence: float,
        source: str,
        alternatives: list[str] | None = None,
        strokes_inkml: str | None = None,
    ) -> int:
        """Store one recognition; returns its id once it is committed to disk."""
        if source not in SOURCES:
            raise ValueError(f"Unknown source {source!r}; expected one of {', '.join(SOURCES)}.")
        confidence = float(confidence)
        if not math.isfinite(confidence):
            raise ValueError("confidence must be a finite number")
        alts = [str(a) for a in (alternatives or [])]
        png, thumb = _prepare_image(image_png)
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO history (created, source, image_png, thumb_png, strokes_inkml,"
                " latex, confidence, alternatives_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(),
                    source,
                    png,
                    thumb,
                    strokes_inkml,
                    _check_latex(latex),
                    confidence,
                    json.dumps(alts, ensure_ascii=False),
                ),
            )
            return int(cur.lastrowid)

    @staticmethod
    def _entry(row: sqlite3.Row) -> HistoryEntry:
        keys = row.keys()
        try:
            alternatives = [str(a) for a in json.loads(row["alternatives_json"] or "[]")]
        except (ValueError, TypeError):
            alternatives = []
        return HistoryEntry(
            id=row["id"],
            created=row["created"],
            source=row["source"],
            latex=row["latex"],
            confidence=row["confidence"],
            alternatives=alternatives,
            thumb_png=row["thumb_png"],
            image_png=row["image_png"] if "image_png" in keys else None,
            strokes_inkml=row["strokes_inkml"] if "strokes_inkml" in keys else None,
        )

    _ENTRY_LIGHT = "id, created, source, latex, confidence, alternatives_json, thumb_png"

    def entries(
        self, search: str = "", limit: int = 200, offset: int = 0, with_images: bool = True
    ) -> list[HistoryEntry]:
        """Newest first; ``search`` matches a LaTeX substring, ignoring (ASCII) case.

        With ``with_images=False`` the full image and strokes are not read (faster for long
        lists); fetch them later with ``get_entry``.
        """
        columns = "*" if with_images else self._ENTRY_LIGHT
        rows = self._query(
            f"SELECT {columns} FROM history WHERE instr(lower(latex), lower(?)) > 0"
            " ORDER BY id DESC LIMIT ? OFFSET ?",
            (search, int(limit), int(offset)),
        )
        return [self._entry(r) for r in rows]

    def count_entries(self, search: str = "") -> int:
        rows = self._query(
            "SELECT count(*) FROM history WHERE instr(lower(latex), lower(?)) > 0", (search,)
        )
        return int(rows[0][0])

    def get_entry(self, entry_id: int) -> HistoryEntry | None:
        rows = self._query("SELECT * FROM history WHERE id = ?", (int(entry_id),))
        return self._entry(rows[0]) if rows else None

    def update_entry_latex(self, entry_id: int, latex: str) -> bool:
        """Replace the LaTeX of a history entry; False when no such entry exists."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE history SET latex = ? WHERE id = ?", (_check_latex(latex), int(entry_id))
            )
            return cur.rowcount > 0

    def delete_entry(self, entry_id: int) -> bool:
        """Delete one history entry (its corrections stay); False when it did not exist."""
        with self._tx() as conn:
            return conn.execute("DELETE FROM history WHERE id = ?", (int(entry_id),)).rowcount > 0

    def clear_history(self) -> int:
        """Delete every history entry; corrections are kept. Returns how many were deleted."""
        with self._tx() as conn:
            return conn.execute("DELETE FROM history").rowcount

    # -- corrections --

    def add_correction(
        self,
        image_png: bytes,
        latex: str,
        history_id: int | None = None,
        strokes_inkml: str | None = None,
        source: str = "user",
    ) -> int:
        """Store one corrected example; returns its id once it is committed to disk."""
        if not isinstance(source, str) or not source.strip():
            raise ValueError("source must be a non-empty string")
        png, thumb = _prepare_image(image_png)
        with self._tx() as conn:
            return self._insert_correction(
                conn, png, thumb, latex, history_id, strokes_inkml, source
            )

    @staticmethod
    def _insert_correction(
        conn: sqlite3.Connection,
        png: bytes,
        thumb: bytes,
        latex: str,
        history_id: int | None,
        strokes_inkml: str | None,
        source: str,
    ) -> int:
        if history_id is not None:
            exists = conn.execute("SELECT 1 FROM history WHERE id = ?", (int(history_id),))
            if exists.fetchone() is None:
                history_id = None  # the entry was deleted meanwhile; keep the correction
        now = _now()
        cur = conn.execute(
            "INSERT INTO corrections (created, updated, history_id, image_png, thumb_png,"
            " strokes_inkml, latex, excluded, source) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
            (now, now, history_id, png, thumb, strokes_inkml, _check_latex(latex), source),
        )
        return int(cur.lastrowid)

    @staticmethod
    def _correction(row: sqlite3.Row) -> Correction:
        keys = row.keys()
        return Correction(
            id=row["id"],
            created=row["created"],
            updated=row["updated"],
            history_id=row["history_id"],
            latex=row["latex"],
            excluded=bool(row["excluded"]),
            source=row["source"],
            thumb_png=row["thumb_png"],
            image_png=row["image_png"] if "image_png" in keys else None,
            strokes_inkml=row["strokes_inkml"] if "strokes_inkml" in keys else None,
        )

    def corrections(
        self, search: str = "", include_excluded: bool = True, with_images: bool = True
    ) -> list[Correction]:
        """All corrections, newest first; ``search`` as in ``entries``."""
        columns = (
            "*"
            if with_images
            else "id, created, updated, history_id, latex, excluded, source, thumb_png"
        )
        rows = self._query(
            f"SELECT {columns} FROM corrections WHERE instr(lower(latex), lower(?)) > 0"
            " AND (? OR excluded = 0) ORDER BY id DESC",
            (search, bool(include_excluded)),
        )
        return [self._correction(r) for r in rows]

    def get_correction(self, correction_id: int) -> Correction | None:
        rows = self._query("SELECT * FROM corrections WHERE id = ?", (int(correction_id),))
        return self._correction(rows[0]) if rows else None

    def update_correction(
        self, correction_id: int, latex: str | None = None, excluded: bool | None = None
    ) -> bool:
        """Change the LaTeX and/or the excluded flag; False when no such correction exists."""
        sets, params = ["updated = ?"], [_now()]
        if latex is not None:
            sets.append("latex = ?")
            params.append(_check_latex(latex))
        if excluded is not None:
            sets.append("excluded = ?")
            params.append(int(bool(excluded)))
        with self._tx() as conn:
            cur = conn.execute(
                f"UPDATE corrections SET {', '.join(sets)} WHERE id = ?",
                (*params, int(correction_id)),
            )
            return cur.rowcount > 0

    def delete_correction(self, correction_id: int) -> bool:
        with self._tx() as conn:
            cur = conn.execute("DELETE FROM corrections WHERE id = ?", (int(correction_id),))
            return cur.rowcount > 0

    def count_corrections(self, include_excluded: bool = False) -> int:
        rows = self._query(
            "SELECT count(*) FROM corrections WHERE ? OR excluded = 0", (bool(include_excluded),)
        )
        return int(rows[0][0])

    # -- data-set export / import --

    def export_corrections(self, dest_zip: str | Path, include_excluded: bool = False) -> int:
        """Write corrections as a data-set zip (``images/<id>.png`` + ``labels.tsv``).

        The zip is written to a temporary file and renamed, so a failed export never leaves
        a half-written zip under the requested name. Returns the number of examples.
        """
        dest = Path(dest_zip)
        dest.parent.mkdir(parents=True, exist_ok=True)
        rows = self._query(
            "SELECT id, image_png, latex FROM corrections WHERE ? OR excluded = 0 ORDER BY id",
            (bool(include_excluded),),
        )
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
                lines = []
                for row in rows:
                    name = f"{row['id']}.png"
                    zf.writestr(f"images/{name}", row["image_png"])
                    lines.append(f"{name}\t{_one_line(row['latex'])}\n")
                zf.writestr("labels.tsv", "".join(lines).encode("utf-8"))
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return len(rows)

    def import_corrections(self, src: str | Path) -> tuple[int, list[str]]:
        """Add the examples of a data-set zip or folder as corrections (source "import").

        Rows that cannot be used (no tab, empty LaTeX, missing or unreadable image) are
        skipped, each with a warning sentence. Raises DatasetError when ``src`` is not a
        readable data set at all. Everything read is added in one transaction.
        """
        with _open_dataset(Path(src)) as dataset:
            prepared, warnings = _read_examples(dataset)
        with self._tx() as conn:
            for png, thumb, latex in prepared:
                self._insert_correction(conn, png, thumb, latex, None, None, "import")
        return len(prepared), warnings


# --- data-set reading ------------------------------------------------------------------------


class _Dataset:
    """Uniform read access to a data set held in a zip file or a folder."""

    def __init__(self, zf: zipfile.ZipFile | None, root: Path | str) -> None:
        self._zf = zf
        self._root = root  # folder path, or the prefix inside the zip ("" or "name/")

    def read_labels(self) -> bytes:
        data = self.read("labels.tsv")
        if data is None:
            raise DatasetError("The data set has no labels.tsv file.")
        return data

    def read(self, rel: str) -> bytes | None:
        """Bytes of a file given relative to the data-set root, or None when absent."""
        parts = PurePosixPath(rel.replace("\\", "/")).parts
        if not parts or ".." in parts or parts[0] == "/":
            return None
        if self._zf is not None:
            return self._read_zip(str(self._root) + "/".join(parts))
        path = Path(self._root).joinpath(*parts)
        try:
            if path.stat().st_size > MAX_IMAGE_BYTES:
                return None
            return path.read_bytes()
        except OSError:
            return None

    def _read_zip(self, name: str) -> bytes | None:
        try:
            info = self._zf.getinfo(name)
        except KeyError:
            return None
        if info.file_size > MAX_IMAGE_BYTES:
            return None
        try:
            return self._zf.read(info)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
            log.warning("cannot read %s from zip: %s", name, exc)
            return None


@contextmanager
def _open_dataset(src: Path) -> Iterator[_Dataset]:
    if src.is_dir():
        root = src if (src / "labels.tsv").is_file() else _single_subfolder(src)
        yield _Dataset(None, root)
        return
    if not src.is_file():
        raise DatasetError(f"{src} does not exist.")
    try:
        zf = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatasetError(f"{src.name} is not a readable zip file ({exc}).") from exc
    with zf:
        yield _Dataset(zf, _zip_prefix(zf, src))


def _single_subfolder(src: Path) -> Path:
    """Accept a folder that holds exactly one data-set folder (an unpacked zip)."""
    subs = [p for p in src.iterdir() if p.is_dir() and (p / "labels.tsv").is_file()]
    if len(subs) != 1:
        raise DatasetError(f"The folder {src} has no labels.tsv file.")
    return subs[0]


def _zip_prefix(zf: zipfile.ZipFile, src: Path) -> str:
    """ "" when labels.tsv is at the top of the zip, "top/" when it sits in one folder."""
    names = zf.namelist()
    if "labels.tsv" in names:
        return ""
    nested = [n for n in names if n.count("/") == 1 and n.endswith("/labels.tsv")]
    if len(nested) == 1:
        return nested[0][: -len("labels.tsv")]
    raise DatasetError(f"{src.name} has no labels.tsv file.")


def _read_examples(dataset: _Dataset) -> tuple[list[tuple[bytes, bytes, str]], list[str]]:
    """Parse labels.tsv and load every usable example: ([(png, thumb, latex)], warnings)."""
    try:
        text = dataset.read_labels().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"labels.tsv is not UTF-8 text ({exc.reason}).") from exc
    prepared: list[tuple[bytes, bytes, str]] = []
    warnings: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        example = _read_row(dataset, line, lineno, warnings)
        if example is not None:
            prepared.append(example)
    return prepared, warnings


def _read_row(
    dataset: _Dataset, line: str, lineno: int, warnings: list[str]
) -> tuple[bytes, bytes, str] | None:
    rel, tab, latex = line.partition("\t")
    rel, latex = rel.strip(), _one_line(latex)  # a tab inside the LaTeX is just a space
    if not tab:
        warnings.append(f"Line {lineno}: no tab between image path and LaTeX; skipped.")
        return None
    if not rel or not latex:
        warnings.append(f"Line {lineno}: empty image path or LaTeX; skipped.")
        return None
    data = dataset.read(f"images/{rel}")
    if data is None:
        data = dataset.read(rel)  # also accept paths given relative to the data-set root
    if data is None:
        warnings.append(f"Line {lineno}: image {rel} is missing or too large; skipped.")
        return None
    try:
        png, thumb = _prepare_image(data)
    except InvalidImage:
        warnings.append(f"Line {lineno}: {rel} is not a readable image; skipped.")
        return None
    return png, thumb, latex

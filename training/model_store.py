"""Model versions on this machine: the bundled base model plus the user's fine-tuned and
imported models, one folder each under ``core.paths.user_models_dir()``.

Which model is in use is the ``model`` field of the settings (``"base"`` or a folder name);
the GUI's model worker and ``texsnap serve`` load it from there, so switching is a settings
change followed by a reload, never a restart. Every model that is switched to, imported or
exported is verified with ``core.checkpoint.load_model`` (format, checksum, shapes) first.

Import and export use a zip of exactly the files of a model folder (``model.safetensors``,
``config.json``, ``MODEL.md``); nothing else inside an imported zip is read, and nothing is
ever unpickled.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from core import paths
from core.checkpoint import CONFIG, WEIGHTS, load_model, read_config
from core.errors import ModelError
from core.recognizer import default_model_dir
from core.settings import Settings, load_settings, save_settings

BASE = "base"
CARD = "MODEL.md"
MODEL_FILES = (WEIGHTS, CONFIG, CARD)
MAX_IMPORT_BYTES = 512 * 1024 * 1024  # far above a TeXSnap model (~15 MB); refuses zip bombs
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class ModelVersion:
    name: str  # "base" or the folder name
    path: Path
    created: str = ""
    samples: int | None = None  # corrections it was fine-tuned on (None: not a fine-tune)
    metrics: dict = field(default_factory=dict)  # {"user": {...}, "regression": {...}} after
    recommended: bool | None = None
    active: bool = False
    problem: str = ""  # why it cannot be used, when its config cannot be read

    @property
    def is_base(self) -> bool:
        return self.name == BASE

    def summary(self) -> str:
        """One line for lists: date, data size, the fine-tune's metrics."""
        parts = [self.created[:16].replace("T", " ") or "unknown date"]
        if self.is_base:
            parts.append("bundled base model")
        if self.samples is not None:
            parts.append(f"{self.samples} corrections")
        user, reg = self.metrics.get("user"), self.metrics.get("regression")
        if user and reg:
            parts.append(f"yours {user['exact_match']:.0%}, printed {reg['exact_match']:.0%}")
        if self.problem:
            parts.append(self.problem)
        return " · ".join(parts)


def check_name(name: str) -> str:
    """A model name is a plain folder name: no separators, no leading dot."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ModelError(
            f"{name!r} is not a valid model name (letters, digits, '.', '_' and '-' only)."
        )
    return name


def model_dir(name: str) -> Path:
    """The folder of model ``name`` ("base": the bundled one)."""
    if name == BASE:
        return default_model_dir()
    return paths.user_models_dir() / check_name(name)


def new_version_name(prefix: str = "finetuned") -> str:
    """A fresh, sortable name such as ``finetuned-20261125-0642``."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    folder = paths.user_models_dir()
    name, n = f"{prefix}-{stamp}", 2
    while (folder / name).exists() or (folder / f".staging-{name}").exists():
        name, n = f"{prefix}-{stamp}-{n}", n + 1
    return name


def _version(name: str, path: Path, active: str) -> ModelVersion:
    v = ModelVersion(name, path, active=name == active)
    try:
        cfg = read_config(path)
    except ModelError as exc:
        v.problem = str(exc)
        return v
    v.created = str(cfg.get("created", ""))
    training = cfg.get("training", {}) if isinstance(cfg.get("training"), dict) else {}
    if training.get("kind") == "finetune":
        v.samples = training.get("samples")
        v.recommended = training.get("recommended")
        v.metrics = cfg.get("metrics", {}).get("finetune", {}).get("after", {})
    return v


def list_versions(settings: Settings | None = None) -> list[ModelVersion]:
    """The base model first, then the user's models, newest first."""
    active = (settings or load_settings()[0]).model
    out = [_version(BASE, default_model_dir(), active)]
    folder = paths.user_models_dir()
    users = [
        _version(p.name, p, active)
        for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith(".") and _NAME_RE.match(p.name)
    ]
    users.sort(key=lambda v: (v.created, v.name), reverse=True)
    return out + users


def verify(name: str) -> Path:
    """Load model ``name`` once (checksum included); raises ModelError when it is unusable."""
    path = model_dir(name)
    load_model(path, "cpu")
    return path


def use(name: str, settings_path: str | os.PathLike | None = None) -> Settings:
    """Make ``name`` the model in use (after verifying it); returns the saved settings."""
    verify(name)
    settings, _ = load_settings(settings_path)
    new = replace(settings, model=name)
    save_settings(new, settings_path)
    return new


def rollback(settings_path: str | os.PathLike | None = None) -> Settings:
    """Go back to the bundled base model."""
    return use(BASE, settings_path)


def delete(name: str, settings: Settings | None = None) -> None:
    """Delete a user model. The base model and the model in use cannot be deleted."""
    if name == BASE:
        raise ModelError("The bundled base model cannot be deleted.")
    path = model_dir(name)
    active = (settings or load_settings()[0]).model
    if name == active:
        raise ModelError(f"{name} is the model in use; switch to another model first.")
    if not path.is_dir():
        raise ModelError(f"There is no model called {name}.")
    shutil.rmtree(path)


def export_zip(name: str, dest: str | os.PathLike) -> Path:
    """Write model ``name`` to a zip (atomically) after checking it is intact."""
    src = verify(name)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for member in MODEL_FILES:
                if (src / member).is_file():
                    zf.write(src / member, member)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dest


def import_model(src: str | os.PathLike, name: str | None = None) -> str:
    """Copy a model (zip or folder with ``model.safetensors`` + ``config.json``) into the
    user's models, verified; returns its name: ``name``, else the name in its config, else
    the file's; a number is added when that name is taken."""
    src = Path(src)
    folder = paths.user_models_dir()
    staging = Path(tempfile.mkdtemp(prefix=".staging-import-", dir=folder))
    try:
        if src.is_dir():
            _copy_folder(src, staging)
        else:
            _extract_zip(src, staging)
        loaded = load_model(staging, "cpu")  # refuses damaged or foreign files before listing
        final = _free_name(folder, name or _clean(loaded.config.get("name")) or _clean(src.stem))
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final.name


def _clean(text) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]", "-", str(text or "")).strip(".-_")[:60]
    return text if text and text != BASE else ""


def _free_name(folder: Path, name: str) -> Path:
    final, n = folder / check_name(name or "imported"), 2
    while final.exists():
        final, n = folder / f"{name}-{n}", n + 1
    return final


def _copy_folder(src: Path, dest: Path) -> None:
    if not (src / CONFIG).is_file():
        raise ModelError(f"{src} is not a TeXSnap model folder (no {CONFIG}).")
    for member in MODEL_FILES:
        if (src / member).is_file():
            shutil.copyfile(src / member, dest / member)


def _extract_zip(src: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(src) as zf:
            infos = {Path(i.filename).name: i for i in zf.infolist() if not i.is_dir()}
            if CONFIG not in infos or WEIGHTS not in infos:
                raise ModelError(
                    f"{src.name} is not a TeXSnap model: it needs {WEIGHTS} and {CONFIG}."
                )
            if sum(infos[m].file_size for m in MODEL_FILES if m in infos) > MAX_IMPORT_BYTES:
                raise ModelError(f"{src.name} is too large to be a TeXSnap model.")
            for member in MODEL_FILES:
                if member in infos:
                    with zf.open(infos[member]) as fin, open(dest / member, "wb") as fout:
                        shutil.copyfileobj(fin, fout)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"{src.name} cannot be read as a model zip ({exc}).") from None

"""User settings: one typed dataclass, stored as JSON, never lost.

Why it is built this way:

* A settings file is edited by hand, synced between machines and written by older or newer
  versions of TeXSnap. Loading therefore never fails: a bad value falls back to its default,
  unknown keys are ignored, and the user gets a ``notice`` saying what was reset.
* A file that could not be read is kept as ``settings.json.corrupt-<timestamp>`` before it
  is overwritten, so a user's hand edits are never destroyed.
* Saving is atomic (temp file + ``os.replace``): a crash mid-write leaves the old file.
* ``schema_version`` plus ``_MIGRATIONS`` let a later release rename or reshape fields.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core import paths
from core.errors import SettingsError
from core.formats import COPY_FORMATS

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
DEVICES = ("auto", "cpu", "cuda", "mps")
THEMES = ("system", "light", "dark")
BEAM_RANGE = (1, 10)
ALTERNATIVES_RANGE = (0, 10)
DELAY_RANGE_MS = (100, 10_000)
PEN_WIDTH_RANGE = (0.5, 30.0)
PORT_RANGE = (1024, 65535)


@dataclass
class Settings:
    """Everything the user can change. Defaults are what a fresh install uses."""

    hotkey: str = "Ctrl+Alt+M"  # global shortcut that starts a screen snip
    beam: int = 3  # beam width for recognition, 1 (greedy, fastest) .. 10
    alternatives: int = 3  # how many alternative readings to show, 0 .. 10
    # also read each snip at two other glyph sizes and keep the surest reading: more formulas
    # right, greedy about 1.5 times slower (Recognizer.all_sizes)
    all_sizes: bool = True
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "mps"
    copy_format: str = "raw"  # a key of core.formats.COPY_FORMATS
    auto_copy: bool = False  # copy the result to the clipboard as soon as it is recognized
    theme: str = "system"  # "system" | "light" | "dark"
    model: str = "base"  # name of the model version in use
    data_dir: str = ""  # where history and models live; "" = core.paths default
    live_recognition_delay_ms: int = 700  # drawing pad: pause after the last stroke
    pen_width: float = 3.0  # drawing pad pen width in screen pixels
    api_enabled: bool = False  # run the local HTTP API (core.server) inside the app
    api_port: int = 8765  # its port on 127.0.0.1
    # web origins (e.g. "app://obsidian.md") allowed to call the API; empty = none
    api_allowed_origins: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION  # version of this file's layout, for migrations

    def validated(self) -> Settings:
        """Return a copy with numbers clamped into range and bad values replaced by defaults.

        Clamping (rather than refusing) keeps the user's intent for an out-of-range number,
        e.g. beam=50 becomes 10. Values of the wrong type or outside a fixed choice list are
        replaced by their default. ``load_settings`` reports such changes to the user.
        """
        return _validate(self)[0]


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return max(low, min(high, value))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(text: str) -> str:
    """``text`` as a browser writes it in an ``Origin`` header, or SettingsError saying why not.

    An origin is ``scheme://host[:port]`` (``https://www.overleaf.com``,
    ``app://obsidian.md``, ``http://localhost:3000``). ``*`` and ``null`` are refused: they
    would let any web page, or any sandboxed frame, use the API.
    """
    value = text.strip().rstrip("/")
    if value in ("*", "null"):
        raise SettingsError(f"{value!r} would let any web page use the local API.")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise SettingsError(f"{text!r} is not a web origin (scheme://host[:port]).") from None
    if not parts.scheme or not parts.hostname or parts.path or parts.query or parts.fragment:
        raise SettingsError(
            f"{text!r} is not a web origin: write scheme://host[:port], e.g. "
            "https://www.overleaf.com or app://obsidian.md."
        )
    if parts.username is not None or any(c.isspace() for c in value):
        raise SettingsError(f"{text!r} is not a web origin (scheme://host[:port]).")
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def _is_canonical_origin(value: str) -> bool:
    try:
        return normalize_origin(value) == value
    except SettingsError:
        return False


def _check_field(name: str, value: Any) -> tuple[Any, bool]:
    """Return (usable value, ok) for one field; ok is False when the default must be used."""
    if name in ("beam", "alternatives", "live_recognition_delay_ms", "api_port"):
        bounds = {
            "beam": BEAM_RANGE,
            "alternatives": ALTERNATIVES_RANGE,
            "live_recognition_delay_ms": DELAY_RANGE_MS,
            "api_port": PORT_RANGE,
        }[name]
        if not _is_int(value):
            return None, False
        clamped = int(_clamp(value, bounds))
        return clamped, clamped == value
    if name == "pen_width":
        if not _is_number(value) or value != value:  # NaN
            return None, False
        clamped = float(_clamp(float(value), PEN_WIDTH_RANGE))
        return clamped, clamped == value
    if name in ("auto_copy", "api_enabled", "all_sizes"):
        return value, isinstance(value, bool)
    choices = {"device": DEVICES, "theme": THEMES, "copy_format": tuple(COPY_FORMATS)}
    if name in choices:
        return value, isinstance(value, str) and value in choices[name]
    if name in ("hotkey", "model", "data_dir"):
        ok = isinstance(value, str) and (name == "data_dir" or bool(value.strip()))
        return value, ok
    if name == "api_allowed_origins":
        if not isinstance(value, list):
            return None, False
        kept = [v for v in value if isinstance(v, str) and _is_canonical_origin(v)]
        return kept, len(kept) == len(value)
    if name == "schema_version":
        return value, _is_int(value)
    return value, True


def _validate(settings: Settings) -> tuple[Settings, list[str]]:
    """Return (fixed copy, problems); each problem names a field and what happened to it."""
    defaults = Settings()
    fixed: dict[str, Any] = {}
    problems: list[str] = []
    for f in dataclasses.fields(Settings):
        value = getattr(settings, f.name)
        usable, ok = _check_field(f.name, value)
        if usable is None or (not ok and usable == value):
            fixed[f.name] = getattr(defaults, f.name)
            problems.append(f"{f.name} had an invalid value ({value!r}) and was reset")
        else:
            fixed[f.name] = usable
            if not ok and isinstance(value, list):
                dropped = [v for v in value if v not in usable]
                problems.append(f"{f.name} had invalid entries ({dropped!r}) that were dropped")
            elif not ok:
                problems.append(f"{f.name} was out of range ({value!r}) and set to {usable!r}")
    return Settings(**fixed), problems


# --- migrations -----------------------------------------------------------------------------
def _rename_server_to_api(raw: dict[str, Any]) -> dict[str, Any]:
    """Version 1 named the API settings server_enabled, server_port and allowed_origins."""
    out = dict(raw)
    for old, new in (
        ("server_enabled", "api_enabled"),
        ("server_port", "api_port"),
        ("allowed_origins", "api_allowed_origins"),
    ):
        if old in out:
            out.setdefault(new, out.pop(old))
    return out


# Each entry upgrades a raw dict from version N to N + 1. Version 0 means "no schema_version
# key": files written before versioning existed; they already have the version-1 layout.
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    0: lambda raw: {**raw, "schema_version": 1},
    1: _rename_server_to_api,
}


def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring a raw settings dict up to SCHEMA_VERSION, one step at a time."""
    version = raw.get("schema_version", 0)
    if not _is_int(version):
        version = 0
    if version > SCHEMA_VERSION:
        # a newer TeXSnap wrote this file: keep the fields we know, ignore the rest
        log.info("settings schema %s is newer than %s", version, SCHEMA_VERSION)
        return {**raw, "schema_version": SCHEMA_VERSION}
    while version < SCHEMA_VERSION:
        raw = _MIGRATIONS[version](raw)
        version += 1
        raw["schema_version"] = version
    return raw


# --- reading and writing ---------------------------------------------------------------------


def _keep_corrupt_copy(path: Path) -> Path | None:
    """Copy an unreadable settings file aside so the user's edits are never lost."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    dest = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while dest.exists():
        dest = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        dest.write_bytes(path.read_bytes())
    except OSError as exc:
        log.warning("could not keep a copy of %s: %s", path, exc)
        return None
    return dest


def _from_dict(raw: dict[str, Any]) -> tuple[Settings, list[str]]:
    """Build Settings from a migrated dict: unknown keys ignored, bad fields defaulted."""
    known = {f.name for f in dataclasses.fields(Settings)}
    raw_settings = Settings(**{k: v for k, v in raw.items() if k in known})
    return _validate(raw_settings)


def load_settings(path: str | Path | None = None) -> tuple[Settings, str | None]:
    """Read settings; never raises for a bad file.

    Returns (settings, notice). ``notice`` is None when the file was missing or fine, else a
    sentence for the user saying what was reset and where the old file was kept.
    """
    path = Path(path) if path is not None else paths.settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(), None
    except (OSError, UnicodeDecodeError) as exc:
        return _reset_all(path, f"could not be read ({exc})")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return _reset_all(path, f"is not valid JSON (line {exc.lineno}: {exc.msg})")
    if not isinstance(raw, dict):
        return _reset_all(path, "does not hold a JSON object")
    settings, problems = _from_dict(_migrate(raw))
    if not problems:
        return settings, None
    kept = _keep_corrupt_copy(path)
    where = f" The original file was kept as {kept.name}." if kept else ""
    notice = "Some settings were invalid: " + "; ".join(problems) + "." + where
    return settings, notice


def _reset_all(path: Path, why: str) -> tuple[Settings, str]:
    kept = _keep_corrupt_copy(path)
    where = f" It was kept as {kept.name}." if kept else ""
    return Settings(), f"The settings file {why}; default settings are used.{where}"


def save_settings(settings: Settings, path: str | Path | None = None) -> Path:
    """Validate and write ``settings`` atomically; returns the path written.

    Raises SettingsError when a value is invalid (the caller should not persist what it
    could not have loaded back) or when the file cannot be written.
    """
    path = Path(path) if path is not None else paths.settings_path()
    fixed, problems = _validate(settings)
    if problems:
        raise SettingsError("Settings were not saved: " + "; ".join(problems) + ".")
    data = json.dumps(dataclasses.asdict(fixed), indent=2, ensure_ascii=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise SettingsError(f"Settings could not be saved to {path}: {exc.strerror}.") from exc
    return path

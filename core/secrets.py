"""The local API's access token: made on first use, kept in the OS keyring, never logged.

* ``load_token()`` returns the token, creating one (256 random bits, URL-safe text) when none
  exists; ``rotate_token()`` replaces it. Both return a :class:`TokenInfo` that says where the
  token lives and carries a warning sentence for the user when it is not in a keyring.
* The token is stored with ``keyring`` (macOS Keychain, Windows Credential Locker, Secret
  Service / KWallet on Linux). Where no backend works (a headless Linux box: keyring falls
  back to ``keyring.backends.fail`` or a chainer with nothing in it, or the backend raises,
  e.g. a locked or absent D-Bus session), the token goes to ``<config dir>/api-token``,
  created with mode 0600 so that only this user can read it, and a warning says so. A file
  whose mode was widened later is narrowed back to 0600 on load (with a warning).
* Lookup order is keyring, then file; a token found in the file while a keyring works is
  moved into the keyring (and the file deleted), so it keeps working and lives in one place.
* ``tokens_equal`` compares in constant time (``hmac.compare_digest``); ``CurrentToken``
  lets a running server follow a rotation.
* The token never appears in a log record, an exception message or a ``repr``.
* Tests and scripts can force the file fallback with ``PYTHON_KEYRING_BACKEND=
  keyring.backends.fail.Keyring`` (keyring's own switch) plus ``TEXSNAP_CONFIG_DIR``.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import keyring
import keyring.errors

from core import paths

log = logging.getLogger(__name__)

SERVICE = "TeXSnap"
USERNAME = "api-token"
TOKEN_FILE = "api-token"
TOKEN_BYTES = 32


@dataclass(frozen=True)
class TokenInfo:
    token: str = field(repr=False)
    where: str  # "the OS keyring (<backend>)" or the file path, for messages
    warning: str | None = None  # a sentence for the user, or None


def token_file() -> Path:
    return paths.config_dir() / TOKEN_FILE


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def tokens_equal(given: str | bytes | None, expected: str) -> bool:
    """Constant-time comparison; False for None or an empty token."""
    if not given or not expected:
        return False
    given_b = given if isinstance(given, bytes) else given.encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given_b, expected.encode("utf-8"))


def load_token(create: bool = True) -> TokenInfo | None:
    """The current token (made and stored if there is none and ``create``), else None."""
    backend = _usable_backend()
    if backend is not None:
        try:
            token = backend.get_password(SERVICE, USERNAME)
        except keyring.errors.KeyringError as exc:
            log.warning("the keyring could not be read (%s); using the token file", type(exc))
            backend = None
        else:
            if token:
                return TokenInfo(token, _keyring_name(backend))
    token = _read_file()
    if token:
        # made while the keyring was unavailable: move it there now if we can
        return _store(token) if backend is not None else _file_info(token)
    return _store(new_token()) if create else None


def rotate_token() -> TokenInfo:
    """Replace the token by a new one; clients need the new token from now on."""
    return _store(new_token())


class CurrentToken:
    """A callable for ``core.server.create_app(token=...)`` that follows rotations.

    It re-reads the stored token at most every ``ttl`` seconds (a keyring read may cost a
    D-Bus round trip), so ``texsnap token --rotate`` reaches a running server within
    seconds. If the store cannot be read, or holds nothing, the last token stays valid.
    """

    def __init__(self, info: TokenInfo, ttl: float = 5.0):
        self._token, self._ttl = info.token, ttl
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if time.monotonic() - self._checked >= self._ttl:
                self._checked = time.monotonic()
                try:
                    info = load_token(create=False)
                except Exception as exc:  # noqa: BLE001 - keep serving with the last token
                    log.warning("cannot re-read the API token (%s)", type(exc).__name__)
                    info = None
                if info is not None:
                    self._token = info.token
            return self._token

    def __repr__(self) -> str:
        return f"CurrentToken(ttl={self._ttl})"


# --- keyring ---------------------------------------------------------------------------------


def _usable_backend():
    """The keyring backend when a real one is configured, else None."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken keyring config must not stop us
        log.warning("no keyring backend could be loaded (%s)", exc)
        return None
    if _is_null_backend(backend):
        return None
    return backend


def _is_null_backend(backend) -> bool:
    from keyring.backends import chainer, fail

    if isinstance(backend, fail.Keyring):
        return True
    if isinstance(backend, chainer.ChainerBackend):
        return not backend.backends
    return False


def _keyring_name(backend) -> str:
    return f"the OS keyring ({getattr(backend, 'name', type(backend).__name__)})"


def _store(token: str) -> TokenInfo:
    backend = _usable_backend()
    if backend is not None:
        try:
            backend.set_password(SERVICE, USERNAME, token)
        except keyring.errors.KeyringError as exc:
            log.warning("the keyring refused the token (%s); using the token file", type(exc))
            backend = None
        else:
            _remove_file()  # a stale fallback token must not keep working
            return TokenInfo(token, _keyring_name(backend))
    _write_file(token)
    return _file_info(token)


# --- file fallback ---------------------------------------------------------------------------


def _file_info(token: str) -> TokenInfo:
    path = token_file()
    warning = (
        f"No system keyring is available, so the API token is stored in the file {path} "
        "(readable only by you). Anyone who can read your files can use the local API."
    )
    return TokenInfo(token, str(path), warning)


def _read_file() -> str | None:
    path = token_file()
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("cannot read the token file %s (%s); making a new token", path, exc)
        return None
    if os.name == "posix" and stat.S_IMODE(mode) & 0o077:
        log.warning("the token file %s was readable by others; restricting it to you", path)
        try:
            path.chmod(0o600)
        except OSError as exc:
            log.warning("cannot restrict %s (%s)", path, exc)
    return text or None


def _write_file(token: str) -> None:
    """Write atomically; the file is 0600 from the moment it exists."""
    path = token_file()
    fd, tmp = tempfile.mkstemp(prefix=f".{TOKEN_FILE}.", dir=path.parent)  # mkstemp: 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_file() -> None:
    try:
        token_file().unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("cannot delete the old token file (%s)", exc)

"""core.secrets: the API token in the keyring, the 0600 file fallback, rotation, comparison."""

import logging
import os
import stat

import keyring
import keyring.errors
import pytest
from keyring.backends import chainer, fail

from core import paths, secrets


def file_mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_made_on_first_use_then_stable(memory_keyring):
    first = secrets.load_token()
    assert first.warning is None and "keyring" in first.where
    assert len(first.token) >= 40
    assert memory_keyring.store[(secrets.SERVICE, secrets.USERNAME)] == first.token
    assert secrets.load_token().token == first.token
    assert not secrets.token_file().exists()


def test_no_token_without_create():
    assert secrets.load_token(create=False) is None


def test_rotate_replaces_it(memory_keyring):
    old = secrets.load_token().token
    new = secrets.rotate_token().token
    assert new != old and secrets.load_token().token == new


def test_token_never_in_repr_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    info = secrets.load_token()
    secrets.rotate_token()
    assert info.token not in repr(info)
    assert all(info.token not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("null_backend", [fail.Keyring, lambda: chainer.ChainerBackend()])
def test_headless_falls_back_to_a_private_file(null_backend, monkeypatch):
    backend = null_backend()
    if isinstance(backend, chainer.ChainerBackend):
        monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    keyring.set_keyring(backend)
    info = secrets.load_token()
    path = secrets.token_file()
    assert path.parent == paths.config_dir()
    assert info.where == str(path) and "No system keyring" in info.warning
    assert str(path) in info.warning and info.token not in info.warning
    assert path.read_text().strip() == info.token
    if os.name == "posix":
        assert file_mode(path) == 0o600
    assert secrets.load_token().token == info.token
    rotated = secrets.rotate_token()
    assert rotated.token != info.token and path.read_text().strip() == rotated.token
    if os.name == "posix":
        assert file_mode(path) == 0o600
    assert not list(path.parent.glob(".api-token.*"))  # no temporary files left behind


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_widened_file_permissions_are_narrowed(caplog):
    keyring.set_keyring(fail.Keyring())
    token = secrets.load_token().token
    path = secrets.token_file()
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        assert secrets.load_token().token == token
    assert file_mode(path) == 0o600
    assert "readable by others" in caplog.text


class BrokenKeyring(keyring.backend.KeyringBackend):
    """A backend that exists but fails (locked wallet, no D-Bus session)."""

    priority = 1

    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked("locked")

    def set_password(self, service, username, password):
        raise keyring.errors.PasswordSetError("locked")

    def delete_password(self, service, username):
        raise keyring.errors.PasswordDeleteError("locked")


def test_failing_keyring_falls_back_to_file(memory_keyring):
    keyring.set_keyring(BrokenKeyring())
    info = secrets.load_token()
    assert info.warning and secrets.token_file().exists()
    # once the keyring works again, the file token moves into it and the file goes
    keyring.set_keyring(memory_keyring)
    moved = secrets.load_token()
    assert moved.token == info.token and moved.warning is None
    assert memory_keyring.store[(secrets.SERVICE, secrets.USERNAME)] == info.token
    assert not secrets.token_file().exists()


def test_empty_or_unreadable_file_gets_a_new_token():
    keyring.set_keyring(fail.Keyring())
    path = secrets.token_file()
    path.write_text("\n")
    token = secrets.load_token().token
    assert token and path.read_text().strip() == token


def test_tokens_equal():
    assert secrets.tokens_equal("abc", "abc")
    assert secrets.tokens_equal(b"abc", "abc")
    for given in ("abd", "ab", "abcd", "", None, "ABC", "\udcff"):
        assert not secrets.tokens_equal(given, "abc")
    assert not secrets.tokens_equal("", "")


def test_current_token_follows_rotation(monkeypatch):
    current = secrets.CurrentToken(secrets.load_token(), ttl=0)
    first = current()
    rotated = secrets.rotate_token().token
    assert current() == rotated != first
    assert "token" not in repr(current).lower().replace("currenttoken", "")

    def broken(create=True):
        raise keyring.errors.KeyringError("gone")

    monkeypatch.setattr(secrets, "load_token", broken)
    assert current() == rotated  # a failing store keeps the last token
    monkeypatch.setattr(secrets, "load_token", lambda create=True: None)
    assert current() == rotated


def test_current_token_caches_within_ttl():
    current = secrets.CurrentToken(secrets.load_token(), ttl=3600)
    first = current()
    secrets.rotate_token()
    assert current() == first

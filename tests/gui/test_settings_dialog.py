"""The Settings dialog's Local API tab: switch, port, origins, token, status."""

from __future__ import annotations

import pytest
from test_api_integration import file_keyring  # noqa: F401 - autouse: never the user's keyring

from core import secrets
from core.errors import TeXSnapError
from core.settings import Settings
from gui.qt import QApplication, QLineEdit, QMessageBox, QObject, Signal


@pytest.fixture
def dialog(qtbot):
    from gui.settings_dialog import SettingsDialog

    def make(settings: Settings | None = None, api=None):
        d = SettingsDialog(settings or Settings(), None, api=api)
        qtbot.addWidget(d)
        return d

    return make


class StubService(QObject):
    """What the tab needs from gui.api_service.ApiService, without a server."""

    status_changed = Signal(str, bool)

    def __init__(self):
        super().__init__()
        self.status = "The local API is off."
        self.rotations = 0

    def token_info(self):
        return secrets.load_token()

    def rotate_token(self):
        self.rotations += 1
        return secrets.rotate_token()


def test_the_api_tab_shows_the_settings_and_returns_them(dialog):
    d = dialog(Settings(api_enabled=True, api_port=9123, api_allowed_origins=["app://obsidian.md"]))
    tab = d.api
    assert d.tabs.tabText(1) == "Local API"
    assert tab.enabled.isChecked() and tab.port.value() == 9123
    assert tab.origins.text() == "app://obsidian.md"
    assert "127.0.0.1:9123/v1/recognize" in tab.example.text()
    tab.enabled.setChecked(False)
    tab.port.setValue(8800)
    tab.origins.setText(" HTTPS://Www.Overleaf.com/ , app://obsidian.md,,app://obsidian.md")
    s = d.settings()
    assert (s.api_enabled, s.api_port) == (False, 8800)
    assert s.api_allowed_origins == ["https://www.overleaf.com", "app://obsidian.md"]
    assert "127.0.0.1:8800" in tab.example.text()
    assert tab.port.minimum() == 1024 and tab.port.maximum() == 65535


def test_defaults_are_off_with_no_origins(dialog):
    d = dialog()
    s = d.settings()
    assert s.api_enabled is False and s.api_port == 8765 and s.api_allowed_origins == []
    assert "saved" in d.api.status.text()


@pytest.mark.parametrize("bad", ["*", "null", "overleaf.com", "https://a.org/path"])
def test_a_bad_origin_keeps_the_dialog_open_and_says_why(qtbot, dialog, bad):
    d = dialog()
    d.show()
    d.tabs.setCurrentIndex(0)
    d.api.origins.setText(f"app://obsidian.md, {bad}")
    assert not d.api.problem.isHidden() and d.api.problem.text()
    d.accept()
    assert d.isVisible() and d.result() == 0  # not accepted
    assert d.tabs.currentWidget() is d.api
    assert d.settings().api_allowed_origins == ["app://obsidian.md"]  # never saves the bad one
    d.api.origins.setText("app://obsidian.md")
    assert d.api.problem.isHidden()
    d.accept()
    assert d.result() == 1


def test_the_token_is_read_only_when_asked_for_and_can_be_hidden(dialog):
    d = dialog(api=StubService())
    tab = d.api
    assert tab.token.text() == "" and secrets.load_token(create=False) is None
    tab.show_token.click()
    token = secrets.load_token(create=False).token
    assert tab.token.text() == token and tab.token.echoMode() == QLineEdit.EchoMode.Normal
    assert "No system keyring" in tab.token_note.text()  # the file fallback is told
    assert token not in tab.example.text()
    tab.show_token.click()
    assert tab.token.echoMode() == QLineEdit.EchoMode.Password and tab.show_token.text() == "Show"


def test_copy_token(dialog):
    d = dialog()  # without a service: core.secrets directly
    d.api.copy_token.click()
    assert QApplication.clipboard().text() == secrets.load_token().token
    assert "Copied" in d.api.token_note.text()


def test_a_new_token_only_after_confirmation(dialog, monkeypatch):
    service = StubService()
    d = dialog(api=service)
    old = secrets.load_token().token
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    d.api.rotate.click()
    assert service.rotations == 0 and secrets.load_token().token == old
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    d.api.rotate.click()
    new = secrets.load_token().token
    assert service.rotations == 1 and new != old and d.api.token.text() == new
    assert "new token" in d.api.token_note.text()


def test_a_keyring_failure_is_told_not_raised(dialog, monkeypatch):
    def broken():
        raise TeXSnapError("The keyring is locked.")

    service = StubService()
    monkeypatch.setattr(service, "token_info", broken)
    d = dialog(api=service)
    d.api.show_token.click()
    assert not d.api.show_token.isChecked() and d.api.token.text() == ""
    assert "unavailable" in d.api.token_note.text() and "locked" in d.api.token_note.text()


def test_the_status_line_follows_the_service(dialog):
    service = StubService()
    d = dialog(api=service)
    assert d.api.status.text() == "The local API is off."
    service.status_changed.emit("The local API could not start: Port 8765 is in use.", False)
    assert "in use" in d.api.status.text() and "c62828" in d.api.status.styleSheet()
    service.status_changed.emit("The local API is running on http://127.0.0.1:8765", True)
    assert "running" in d.api.status.text() and d.api.status.styleSheet() == ""


def test_the_window_passes_its_api_service_to_the_dialog(qtbot, window, monkeypatch):
    from gui import main_window

    seen = {}

    class Spy(main_window.SettingsDialog):
        def exec(self):
            seen["service"] = self.api.service
            return 0

    window.api = StubService()
    monkeypatch.setattr(main_window, "SettingsDialog", Spy)
    window.open_settings()
    assert seen["service"] is window.api


def test_reading_at_three_glyph_sizes_is_on_by_default_and_can_be_turned_off(dialog):
    d = dialog()
    assert d.all_sizes.isChecked() and "slower" in d.all_sizes.toolTip()
    d.all_sizes.setChecked(False)
    assert d.settings().all_sizes is False
    assert dialog(Settings(all_sizes=False)).all_sizes.isChecked() is False

"""The window and tray show the installed icon, and a broken install still gets one."""

from __future__ import annotations

from gui import theme


def test_app_icon_is_the_installed_icon(qapp):
    icon = theme.app_icon()
    sizes = {s.width() for s in icon.availableSizes()}
    assert {16, 32, 48, 256} <= sizes


def test_missing_icon_files_fall_back_to_a_drawn_icon(qapp, monkeypatch, tmp_path):
    monkeypatch.setattr(theme, "resources_dir", lambda: tmp_path)
    icon = theme.app_icon()
    assert not icon.isNull()
    assert not icon.pixmap(32, 32).isNull()

"""Start-up, settings, single instance, `texsnap snip`, hotkey and Wayland fallbacks."""

from __future__ import annotations

import argparse
import ctypes.util
import os
import shutil
import stat
import sys

import pytest
from conftest import FakeModel, status

from core import paths
from core.settings import Settings, load_settings
from gui.qt import QColor, QImage


@pytest.fixture
def desktop(qtbot, qapp):
    from gui.app import DesktopApp

    model = FakeModel()
    app = DesktopApp(qapp, loader=lambda path, device: model)
    qtbot.addWidget(app.window)
    yield app
    app.shutdown()
    app.setParent(None)


def test_shutting_down_twice_is_quiet(qtbot, desktop, caplog):
    """A caller's shutdown, then the one quitting triggers (aboutToQuit)."""
    desktop.start()
    qtbot.waitUntil(lambda: desktop.worker.model_ready, timeout=10_000)
    desktop.shutdown()
    desktop.shutdown()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


def test_window_appears_and_the_model_loads_in_the_background(qtbot, desktop):
    desktop.start()
    qtbot.waitExposed(desktop.window)
    assert "TeXSnap" in desktop.window.windowTitle()
    qtbot.waitUntil(lambda: "fake-model" in desktop.window.model_status.text(), timeout=5000)


def test_corrupt_settings_fall_back_to_defaults_with_a_notice(qtbot, qapp):
    from gui.app import DesktopApp

    paths.settings_path().write_text("{ this is not json", encoding="utf-8")
    app = DesktopApp(qapp, loader=lambda p, d: FakeModel())
    qtbot.addWidget(app.window)
    try:
        app.start()
        assert app.window.settings == Settings()
        assert "not valid JSON" in status(app.window)
        assert any(
            p.name.startswith("settings.json.corrupt-") for p in paths.config_dir().iterdir()
        )
    finally:
        app.shutdown()
        app.setParent(None)


def test_invalid_setting_values_are_reset_with_a_notice(qtbot, qapp):
    from gui.app import DesktopApp

    paths.settings_path().write_text('{"beam": "wide", "theme": "dark"}', encoding="utf-8")
    app = DesktopApp(qapp, loader=lambda p, d: FakeModel())
    qtbot.addWidget(app.window)
    try:
        app.start()
        assert app.window.settings.beam == Settings().beam
        assert app.window.settings.theme == "dark"
        assert "beam" in status(app.window)
    finally:
        app.shutdown()
        app.setParent(None)
        from gui.theme import apply_theme

        apply_theme(qapp, "system")


def test_settings_dialog_edits_and_the_window_saves_them(qtbot, window):
    from gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.settings, window)
    qtbot.addWidget(dialog)
    dialog.beam.setValue(5)
    dialog.copy_format.setCurrentIndex(dialog.copy_format.findData("equation"))
    dialog.auto_copy.setChecked(True)
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    edited = dialog.settings()
    assert (edited.beam, edited.copy_format, edited.auto_copy) == (5, "equation", True)
    assert window.save_settings(edited)
    saved, notice = load_settings()
    assert notice is None and saved.beam == 5 and saved.theme == "dark"
    assert window.panel.copy_format() == "equation" and window.panel.auto_copy.isChecked()


def test_saving_settings_that_cannot_be_written_is_reported(window, monkeypatch):
    from core.errors import SettingsError

    def fail(settings):
        raise SettingsError("Settings could not be saved to /read-only: Permission denied.")

    monkeypatch.setattr("gui.main_window.save_settings", fail)
    assert not window.save_settings(Settings(beam=2))
    assert "Permission denied" in status(window)
    assert window.settings.beam == Settings().beam


def test_changing_the_model_reloads_it_on_the_worker(qtbot, window, monkeypatch):
    calls = []
    monkeypatch.setattr(
        window.worker, "load_model", lambda name, device: calls.append((name, device))
    )
    window.save_settings(Settings(model="my-finetune", device="cpu"))
    assert calls == [("my-finetune", "cpu")]


def test_second_launch_hands_its_command_to_the_running_instance(qtbot, desktop, monkeypatch):
    from gui.instance import send_command

    snips = []
    monkeypatch.setattr(desktop.window, "start_snip", lambda: snips.append(1))
    desktop.server.command.disconnect()
    desktop.server.command.connect(desktop.handle_command)
    assert send_command("snip")
    qtbot.waitUntil(lambda: snips == [1], timeout=3000)
    assert send_command("bogus")  # unknown commands are ignored, not executed


def test_no_running_instance_means_send_fails(qapp):
    from gui.instance import send_command

    assert not send_command("snip", name="texsnap-nobody-listens-here", timeout_ms=200)


def test_cli_registers_gui_and_snip():
    from gui.cli import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["snip"])
    assert args.func.__name__ == "_snip"
    assert parser.parse_args(["gui", "--hidden"]).hidden


def test_snip_result_is_recognized_with_source_snip(qtbot, window, fake_model, store):
    image = QImage(80, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    image.setPixelColor(40, 15, QColor("black"))
    window.snipper.captured.emit(image)
    qtbot.waitUntil(lambda: store.count_entries() == 1, timeout=5000)
    assert store.entries()[0].source == "snip"


def test_wayland_without_tools_or_portal_explains_what_to_do(qtbot, window, monkeypatch):
    import gui.capture as capture
    import gui.snipper as snipper

    monkeypatch.setattr(snipper, "is_wayland", lambda: True)
    monkeypatch.setattr(capture.DesktopCapture, "_ask_portal", lambda self: False)
    monkeypatch.setattr(capture.shutil, "which", lambda name: None)
    window.start_snip()
    qtbot.waitUntil(lambda: "grim" in status(window), timeout=3000)
    assert "Ctrl+V" in status(window)


@pytest.mark.skipif(sys.platform == "win32", reason="uses a shell script as the fake tool")
def test_wayland_snip_through_a_screenshot_tool(qtbot, window, fake_model, monkeypatch, tmp_path):
    """A fake gnome-screenshot that writes a PNG where it is told to."""
    import gui.snipper as snipper

    source = tmp_path / "shot.png"
    QImage(40, 20, QImage.Format.Format_RGB32).save(str(source))
    tool = tmp_path / "gnome-screenshot"
    tool.write_text(f'#!/bin/sh\ncp "{source}" "$3"\n')
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(snipper, "is_wayland", lambda: True)
    window.start_snip()
    qtbot.waitUntil(lambda: len(fake_model.calls) == 1, timeout=5000)


def test_tool_commands_in_order_of_preference(tmp_path):
    from gui.capture import tool_command

    out = tmp_path / "o.png"
    every = lambda name: f"/usr/bin/{name}"  # noqa: E731
    assert "grim" in tool_command(out, every)[2]
    only_kde = lambda name: "/usr/bin/spectacle" if name == "spectacle" else None  # noqa: E731
    assert tool_command(out, only_kde)[0] == "spectacle"
    assert tool_command(out, lambda name: None) is None


def test_hotkey_sequences_and_wayland(monkeypatch, qapp):
    import gui.hotkey as hotkey

    assert hotkey.parse_sequence("Ctrl+Alt+M") == ({"ctrl", "alt"}, "M")
    with pytest.raises(ValueError):
        hotkey.parse_sequence("Ctrl+K, Ctrl+C")
    monkeypatch.setattr(hotkey, "is_wayland", lambda: True)
    message = hotkey.GlobalHotkey().register("Ctrl+Alt+M")
    assert "Wayland" in message and "texsnap snip" in message
    assert "cannot be used" in hotkey.GlobalHotkey().register("Hyper+M")


def test_texsnap_snip_from_a_second_process_reaches_the_running_app(qtbot, qapp):
    """What a desktop shortcut bound to `texsnap snip` does, end to end."""
    import subprocess
    from pathlib import Path

    from gui.instance import InstanceServer

    server = InstanceServer()
    assert server.listen()
    received = []
    server.command.connect(received.append)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, str(root / "main.py"), "snip"], env=env)
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None and bool(received), timeout=30_000)
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()
    assert proc.returncode == 0
    assert received == ["snip"]


@pytest.mark.skipif(
    sys.platform != "linux" or not shutil.which("xvfb-run") or not ctypes.util.find_library("Xtst"),
    reason="needs Linux with xvfb-run and libXtst",
)
def test_global_hotkey_on_x11_fires_and_a_taken_key_is_reported():
    """Under a virtual X server: grab Ctrl+Alt+M, press it with XTest, see the signal."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["PYTHONPATH"] = str(root)
    probe = Path(__file__).with_name("x11_hotkey_probe.py")
    out = subprocess.run(
        ["xvfb-run", "-a", sys.executable, str(probe)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "registered" in out
    assert "another program already uses" in out  # the second grab fails politely
    assert "activated" in out


def test_an_unopenable_history_database_falls_back_to_memory_with_a_notice():
    from core.history import Store
    from gui.app import open_store

    class Broken(Store):
        def __init__(self, path=None):
            if path is None:
                raise OSError(30, "Read-only file system")
            super().__init__(path)

    store, notice = open_store(Broken)
    try:
        assert "will not be kept" in notice and "Read-only" in notice
        assert store.count_entries() == 0  # still usable for this session
    finally:
        store.close()


def test_pen_width_changes_are_remembered(qtbot, window):
    window.draw_view.width_box.setValue(6.5)
    assert window.draw_view.pad.pen_width == 6.5
    assert load_settings()[0].pen_width == 6.5

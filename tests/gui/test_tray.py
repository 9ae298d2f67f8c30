"""The tray icon's menu (snip, draw, show, quit) drives the running app."""

from __future__ import annotations

from conftest import FakeModel


def test_tray_menu_snips_draws_shows_and_quits(qtbot, qapp, monkeypatch):
    from gui.app import DesktopApp

    app = DesktopApp(qapp, loader=lambda p, d: FakeModel())
    qtbot.addWidget(app.window)
    calls = []
    monkeypatch.setattr(app.window, "start_snip", lambda: calls.append("snip"))
    monkeypatch.setattr(qapp, "quit", lambda: calls.append("quit"))
    try:
        app.start()
        qtbot.waitUntil(lambda: app.tray is not None, timeout=5000)
        actions = {a.text(): a for a in app.tray.menu.actions()}
        assert list(actions) == ["Snip", "Draw", "Show TeXSnap", "Quit"]
        app.window.hide()
        actions["Show TeXSnap"].trigger()
        assert app.window.isVisible()
        actions["Draw"].trigger()
        assert app.window.tabs.currentWidget() is app.window.draw_view
        actions["Snip"].trigger()
        actions["Quit"].trigger()
        assert calls == ["snip", "quit"]
        app.tray._activated(app.tray.icon.ActivationReason.Trigger)  # a click shows the window
    finally:
        app.shutdown()
        app.setParent(None)

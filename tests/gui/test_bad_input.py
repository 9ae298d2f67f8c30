"""Bad input reaching the app: a damaged history database, broken InkML, broken strokes.

(Bad settings files: tests/gui/test_app.py and tests/core/test_settings.py; bad images and
requests: tests/gui/test_main_window.py, tests/api/.)
"""

from __future__ import annotations

import pytest
from conftest import FakeModel, status

from core import paths
from core.ink import INKML_NS
from gui.qt import QMimeData, QUrl

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE ink [<!ENTITY a "aaaaaaaaaa">'
    + "".join(
        f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcdefg", "bcdefgh", strict=True)
    )
    + f']><ink xmlns="{INKML_NS}"><trace>&h;</trace></ink>'
)
BROKEN_INKML = {
    "not xml": "<ink><trace>0 0, 1 1",
    "not ink": "<svg>not ink</svg>",
    "no strokes": f'<ink xmlns="{INKML_NS}"><trace>a b, c d</trace></ink>',
    "entity bomb": LAUGHS,
    "external entity": '<?xml version="1.0"?><!DOCTYPE ink [<!ENTITY x SYSTEM '
    f'"file:///etc/passwd">]><ink xmlns="{INKML_NS}"><trace>&x;</trace></ink>',
    "deep nesting": f'<ink xmlns="{INKML_NS}">' + "<a>" * 50_000 + "</a>" * 50_000 + "</ink>",
    "binary": "\x00\x01\x02\xff" * 100,
}


def test_a_damaged_history_database_is_kept_aside_and_the_app_starts(qtbot, qapp):
    from gui.app import DesktopApp

    db = paths.database_path()
    garbage = b"SQLite format 3\x00" + b"\xde\xad\xbe\xef" * 2000
    db.write_bytes(garbage)
    app = DesktopApp(qapp, loader=lambda p, d: FakeModel())
    qtbot.addWidget(app.window)
    try:
        app.start()
        assert "history database was damaged" in status(app.window)
        kept = [p for p in db.parent.iterdir() if p.name.startswith(db.name + ".corrupt-")]
        assert len(kept) == 1 and kept[0].read_bytes() == garbage  # moved aside, not deleted
        assert kept[0].name in status(app.window)
        assert app.store.count_entries() == 0 and app.store.integrity_ok()
        app.store.add_entry(_png(), "x", 0.5, "file")  # the fresh database works
        assert app.store.count_entries() == 1
    finally:
        app.shutdown()
        app.setParent(None)


@pytest.mark.parametrize("kind", BROKEN_INKML)
def test_dropping_broken_inkml_explains_and_leaves_the_pad_empty(window, tmp_path, kind):
    path = tmp_path / "drawing.inkml"
    path.write_text(BROKEN_INKML[kind], encoding="utf-8", errors="replace")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    from test_main_window import _DropEvent

    window.dropEvent(_DropEvent(mime))
    assert "InkML" in status(window)
    assert window.draw_view.pad.is_empty()


@pytest.mark.parametrize("width", ["-5", "0", "nan", "inf"])
def test_inkml_with_an_impossible_brush_width_still_renders(qtbot, window, fake_model, width):
    """A bad width falls back to the default, instead of failing when rasterized."""
    window.show_draw()
    inkml = (
        f'<ink xmlns="{INKML_NS}"><definitions><brush xml:id="b">'
        f'<brushProperty name="width" value="{width}"/></brush></definitions>'
        '<trace brushRef="#b">0 0, 40 20, 80 5</trace></ink>'
    )
    window.draw_view.load_inkml(inkml)
    assert window.draw_view.pad.strokes[0].width > 0
    with qtbot.waitSignal(window.worker.signals.result, timeout=5000):
        window.draw_view.live.setInterval(10)
        window.draw_view.live.start()
    assert fake_model.calls and window.panel.latex() == "x^{2}+1"


def test_reopening_an_entry_with_broken_strokes_shows_the_image_and_says_why(window, store):
    entry_id = store.add_entry(_png(), "a+b", 0.9, "draw", strokes_inkml="<ink>broken")
    window.reopen_entry(entry_id)
    assert window.panel.latex() == "a+b"  # the result is still shown
    assert "InkML" in status(window)
    assert window.draw_view.pad.is_empty()


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(buf, "PNG")
    return buf.getvalue()

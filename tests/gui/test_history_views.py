"""History and corrections tabs over a real SQLite store."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from gui.corrections_view import LATEX_COL, USE_COL, CorrectionsView
from gui.history_view import HistoryView
from gui.qt import QApplication, Qt


def png(colour=0) -> bytes:
    image = Image.new("RGB", (60, 20), "white")
    image.paste(colour, (10, 8, 50, 12))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def history(qtbot, store):
    for latex in ("a+b", "\\frac{1}{2}", "x^{2}"):
        store.add_entry(png(), latex, 0.8, "snip")
    view = HistoryView(store, confirm=lambda parent, question: True)
    qtbot.addWidget(view)
    view.show()
    return view


def test_history_lists_newest_first_with_thumbnails(history):
    assert history.list.count() == 3
    first = history.list.item(0)
    assert first.text().startswith("x^{2}")
    assert "snip" in first.text() and "80%" in first.text()
    assert not first.icon().isNull()
    assert history.count.text() == "3 entries"


def test_history_search(qtbot, history):
    history.search.setText("FRAC")
    qtbot.waitUntil(lambda: history.list.count() == 1, timeout=2000)
    assert "\\frac" in history.list.item(0).text()
    assert history.count.text() == "1 of 3"


def test_reopen_copy_and_delete(qtbot, history, store):
    history.list.setCurrentRow(1)
    with qtbot.waitSignal(history.reopen_requested) as sig:
        history.reopen_button.click()
    assert store.get_entry(sig.args[0]).latex == "\\frac{1}{2}"
    with qtbot.waitSignal(history.copy_requested) as sig:
        history.copy_button.click()
    assert sig.args[0] == "\\frac{1}{2}"
    history.delete_button.click()
    assert store.count_entries() == 2
    assert history.list.count() == 2


def test_clear_all_asks_first(history, store):
    history.confirm = lambda parent, question: False
    history.clear_button.click()
    assert store.count_entries() == 3
    history.confirm = lambda parent, question: "corrections are kept" in question
    history.clear_button.click()
    assert store.count_entries() == 0 and history.list.count() == 0


def test_history_copy_goes_through_the_main_window(qtbot, window, store):
    store.add_entry(png(), "y", 0.5, "file")
    window.tabs.setCurrentIndex(2)
    window.history_view.list.setCurrentRow(0)
    window.history_view.copy_button.click()
    assert QApplication.clipboard().text() == "y"


@pytest.fixture
def corrections(qtbot, store):
    for latex in ("a", "b", "c"):
        store.add_correction(png(), latex)
    view = CorrectionsView(store, confirm=lambda parent, question: True)
    qtbot.addWidget(view)
    view.show()
    return view


def test_corrections_are_listed_and_editable_in_place(corrections, store):
    table = corrections.table
    assert table.rowCount() == 3
    assert table.item(0, LATEX_COL).text() == "c"
    table.item(0, LATEX_COL).setText("c_{1}")
    cid = corrections.correction_id(0)
    assert store.get_correction(cid).latex == "c_{1}"


def test_exclude_a_correction_from_training(corrections, store):
    corrections.table.item(1, USE_COL).setCheckState(Qt.CheckState.Unchecked)
    assert store.count_corrections(include_excluded=False) == 2
    assert "3 corrections, 2 used" in corrections.count.text()


def test_delete_selected_corrections(corrections, store):
    corrections.table.selectRow(0)
    corrections.delete_button.click()
    assert store.count_corrections(include_excluded=True) == 2


def test_export_as_a_data_set_zip(qtbot, corrections, tmp_path):
    corrections.table.item(0, USE_COL).setCheckState(Qt.CheckState.Unchecked)
    dest = tmp_path / "out" / "set.zip"
    with qtbot.waitSignal(corrections.message) as sig:
        assert corrections.export_to(dest) == 2
    assert "Exported 2" in sig.args[0]
    with zipfile.ZipFile(dest) as zf:
        names = zf.namelist()
        labels = zf.read("labels.tsv").decode().splitlines()
    assert "labels.tsv" in names and sum(n.startswith("images/") for n in names) == 2
    assert sorted(line.split("\t")[1] for line in labels) == ["a", "b"]


def test_importing_a_broken_data_set_reports_an_error(qtbot, corrections, store, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with qtbot.waitSignal(corrections.error):
        assert corrections.import_from(bad) is None
    assert store.count_corrections(include_excluded=True) == 3


def test_import_round_trip(corrections, store, tmp_path):
    dest = tmp_path / "set.zip"
    corrections.export_to(dest)
    assert corrections.import_from(dest) == 3
    assert corrections.table.rowCount() == 6

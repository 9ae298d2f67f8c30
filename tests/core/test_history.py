"""core.history: entries, corrections, recovery from damage, kill -9 durability, data sets."""

import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from core.errors import DatasetError, InvalidImage
from core.history import SOURCES, Store

HERE = Path(__file__).resolve().parent


def png_bytes(text="x^2", size=(160, 80), fmt="PNG", mode="L"):
    img = Image.new(mode, size, "white")
    ImageDraw.Draw(img).text((10, 30), text, fill="black")
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "db" / "texsnap.sqlite3")
    yield s
    s.close()


def pragma(path, name):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


# --- opening ---------------------------------------------------------------------------------


def test_fresh_database_is_wal_with_schema(store):
    assert store.notice is None
    assert store.path.exists()
    assert pragma(store.path, "journal_mode") == "wal"
    assert pragma(store.path, "user_version") == 1
    assert store.integrity_ok()


def test_default_path_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXSNAP_DATA_DIR", str(tmp_path / "data"))
    with Store() as s:
        assert s.path == tmp_path / "data" / "texsnap.sqlite3"
        s.add_entry(png_bytes(), "a", 0.5, "cli")
    with Store() as s:
        assert s.count_entries() == 1


def test_reopen_keeps_data(tmp_path):
    path = tmp_path / "h.sqlite3"
    with Store(path) as s:
        hid = s.add_entry(png_bytes(), r"\alpha", 0.7, "snip")
    with Store(path) as s:
        assert s.notice is None
        assert s.get_entry(hid).latex == r"\alpha"


def test_garbage_file_is_moved_aside_and_replaced(tmp_path):
    path = tmp_path / "texsnap.sqlite3"
    with Store(path) as s:
        s.add_entry(png_bytes(), "y", 0.5, "file")
    garbage = os.urandom(8192)
    path.write_bytes(garbage)
    with Store(path) as s:
        assert s.notice and "damaged" in s.notice
        assert s.count_entries() == 0
        s.add_entry(png_bytes(), "z", 0.5, "file")  # the fresh database works
        assert s.integrity_ok()
        kept = list(tmp_path.glob("texsnap.sqlite3.corrupt-*"))
        main_copy = [p for p in kept if not p.name.endswith(("-wal", "-shm"))]
        assert len(main_copy) == 1 and main_copy[0].read_bytes() == garbage
        assert main_copy[0].name in s.notice
    with Store(path) as s:
        assert s.notice is None and s.count_entries() == 1


def test_damaged_pages_fail_quick_check(tmp_path):
    path = tmp_path / "texsnap.sqlite3"
    with Store(path) as s:
        for i in range(30):
            s.add_entry(png_bytes(f"n{i}", size=(400, 200)), f"n{i}", 0.5, "file")
    data = bytearray(path.read_bytes())
    assert len(data) > 4096 * 4
    # keep the header page intact, overwrite the b-tree pages after it
    data[4096 : 4096 * 4] = b"\xa5" * (4096 * 3)
    path.write_bytes(bytes(data))
    with Store(path) as s:
        assert s.notice is not None
        assert s.count_entries() == 0
        assert s.integrity_ok()


def test_empty_file_is_a_fresh_database(tmp_path):
    path = tmp_path / "texsnap.sqlite3"
    path.write_bytes(b"")
    with Store(path) as s:
        assert s.notice is None  # SQLite treats an empty file as an empty database
        s.add_entry(png_bytes(), "a", 1.0, "paste")
        assert s.count_entries() == 1


def test_transient_errors_are_not_treated_as_corruption(tmp_path, monkeypatch):
    path = tmp_path / "texsnap.sqlite3"
    with Store(path) as s:
        s.add_entry(png_bytes(), "keep me", 0.5, "file")

    def locked(conn):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(Store, "_check_integrity", staticmethod(locked))
    with pytest.raises(sqlite3.OperationalError):
        Store(path)
    monkeypatch.undo()
    assert not list(tmp_path.glob("*.corrupt-*"))
    with Store(path) as s:
        assert s.entries()[0].latex == "keep me"


def test_newer_schema_gives_notice(tmp_path):
    path = tmp_path / "texsnap.sqlite3"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=7")
    conn.close()
    with Store(path) as s:
        assert s.notice and "newer" in s.notice
        assert not list(tmp_path.glob("*.corrupt-*"))


# --- history ---------------------------------------------------------------------------------


def test_add_and_get_entry(store):
    png = png_bytes()
    hid = store.add_entry(png, r"\frac{a}{b}", 0.93, "snip", [r"\frac{a}{6}", "a/b"], "<ink/>")
    e = store.get_entry(hid)
    assert e.id == hid and e.latex == r"\frac{a}{b}" and e.source == "snip"
    assert e.confidence == pytest.approx(0.93)
    assert e.alternatives == [r"\frac{a}{6}", "a/b"]
    assert e.image_png == png  # PNG kept byte for byte
    assert e.strokes_inkml == "<ink/>"
    assert e.created.endswith("+00:00") and "T" in e.created
    assert store.get_entry(hid + 100) is None


def test_thumbnail_is_small_png(store):
    hid = store.add_entry(png_bytes(size=(1200, 300)), "t", 0.5, "file")
    thumb = Image.open(io.BytesIO(store.get_entry(hid).thumb_png))
    assert thumb.format == "PNG" and thumb.height == 64 and thumb.width == 256
    hid = store.add_entry(png_bytes(size=(40, 20)), "t", 0.5, "file")
    assert Image.open(io.BytesIO(store.get_entry(hid).thumb_png)).size == (40, 20)


def test_non_png_images_are_converted(store):
    hid = store.add_entry(png_bytes(fmt="JPEG", mode="RGB"), "j", 0.5, "drop")
    img = Image.open(io.BytesIO(store.get_entry(hid).image_png))
    assert img.format == "PNG" and img.size == (160, 80)
    hid = store.add_entry(png_bytes(fmt="GIF", mode="P"), "g", 0.5, "drop")
    assert Image.open(io.BytesIO(store.get_entry(hid).image_png)).format == "PNG"


@pytest.mark.parametrize("bad", [b"", b"not an image at all", png_bytes()[:60], "str"])
def test_invalid_images_rejected(store, bad):
    with pytest.raises(InvalidImage):
        store.add_entry(bad, "x", 0.5, "file")
    with pytest.raises(InvalidImage):
        store.add_correction(bad, "x")
    assert store.count_entries() == 0 and store.count_corrections() == 0


def test_invalid_arguments(store):
    with pytest.raises(ValueError, match="source"):
        store.add_entry(png_bytes(), "x", 0.5, "webcam")
    with pytest.raises(ValueError):
        store.add_entry(png_bytes(), "x", float("nan"), "file")
    with pytest.raises(TypeError):
        store.add_entry(png_bytes(), None, 0.5, "file")
    for source in SOURCES:
        store.add_entry(png_bytes(), "ok", 0.5, source)
    assert store.count_entries() == len(SOURCES)


def test_entries_newest_first_with_paging(store):
    ids = [store.add_entry(png_bytes(), f"x_{i}", 0.5, "draw") for i in range(7)]
    listed = store.entries()
    assert [e.id for e in listed] == ids[::-1]
    assert [e.id for e in store.entries(limit=3)] == ids[::-1][:3]
    assert [e.id for e in store.entries(limit=3, offset=3)] == ids[::-1][3:6]
    light = store.entries(with_images=False)
    assert light[0].image_png is None and light[0].thumb_png
    assert light[0].latex == listed[0].latex


def test_search_is_case_insensitive_substring(store):
    store.add_entry(png_bytes(), r"\Alpha + \beta", 0.5, "file")
    store.add_entry(png_bytes(), r"\sin x", 0.5, "file")
    store.add_entry(png_bytes(), r"50\% of x", 0.5, "file")
    assert [e.latex for e in store.entries(search="alpha")] == [r"\Alpha + \beta"]
    assert store.count_entries("X") == 2
    assert store.count_entries("%") == 1  # no LIKE wildcards
    assert store.count_entries("_") == 0
    assert store.count_entries("") == 3
    assert store.entries(search="nothing") == []


def test_update_delete_clear(store):
    a = store.add_entry(png_bytes(), "a", 0.5, "file")
    b = store.add_entry(png_bytes(), "b", 0.5, "file")
    assert store.update_entry_latex(a, "a'")
    assert store.get_entry(a).latex == "a'"
    assert not store.update_entry_latex(999, "z")
    assert store.delete_entry(b) and not store.delete_entry(b)
    assert store.count_entries() == 1
    store.add_entry(png_bytes(), "c", 0.5, "file")
    assert store.clear_history() == 2
    assert store.count_entries() == 0 and store.entries() == []


def test_corrections_survive_history_deletion(store):
    hid = store.add_entry(png_bytes(), "x", 0.5, "snip")
    cid = store.add_correction(png_bytes(), "x^2", history_id=hid)
    assert store.get_correction(cid).history_id == hid
    store.clear_history()
    c = store.get_correction(cid)
    assert c is not None and c.history_id is None and c.latex == "x^2"
    # a correction pointing at an entry deleted meanwhile is kept, unlinked
    cid2 = store.add_correction(png_bytes(), "y", history_id=hid)
    assert store.get_correction(cid2).history_id is None


# --- corrections -----------------------------------------------------------------------------


def test_correction_crud(store):
    png = png_bytes()
    cid = store.add_correction(png, r"\sqrt{2}", strokes_inkml="<ink/>")
    c = store.get_correction(cid)
    assert c.latex == r"\sqrt{2}" and c.image_png == png and c.strokes_inkml == "<ink/>"
    assert c.source == "user" and c.excluded is False and c.created == c.updated
    time.sleep(0.005)
    assert store.update_correction(cid, latex=r"\sqrt{3}")
    c2 = store.get_correction(cid)
    assert c2.latex == r"\sqrt{3}" and c2.updated > c.updated and not c2.excluded
    assert store.update_correction(cid, excluded=True)
    assert store.get_correction(cid).excluded is True
    assert store.get_correction(cid).latex == r"\sqrt{3}"
    assert not store.update_correction(cid + 1, latex="q")
    assert store.delete_correction(cid) and store.get_correction(cid) is None
    assert not store.delete_correction(cid)
    with pytest.raises(ValueError):
        store.add_correction(png, "x", source="")


def test_corrections_listing_and_counts(store):
    a = store.add_correction(png_bytes(), r"\Gamma")
    b = store.add_correction(png_bytes(), r"\gamma_1")
    c = store.add_correction(png_bytes(), "z")
    store.update_correction(b, excluded=True)
    assert [x.id for x in store.corrections()] == [c, b, a]
    assert [x.id for x in store.corrections(include_excluded=False)] == [c, a]
    assert [x.id for x in store.corrections(search="GAMMA")] == [b, a]
    assert [x.id for x in store.corrections("gamma", include_excluded=False)] == [a]
    assert store.count_corrections() == 2
    assert store.count_corrections(include_excluded=True) == 3
    assert store.corrections(with_images=False)[0].image_png is None


# --- export / import -------------------------------------------------------------------------


def test_export_matches_shared_data_format(store, tmp_path):
    a = store.add_correction(png_bytes("a"), "a\tb\nc")
    b = store.add_correction(png_bytes("b"), r"\frac{1}{2}")
    x = store.add_correction(png_bytes("x"), "excluded")
    store.update_correction(x, excluded=True)
    dest = tmp_path / "out" / "corrections.zip"
    assert store.export_corrections(dest) == 2
    with zipfile.ZipFile(dest) as zf:
        assert sorted(zf.namelist()) == sorted(["labels.tsv", f"images/{a}.png", f"images/{b}.png"])
        lines = zf.read("labels.tsv").decode("utf-8").splitlines()
        assert lines == [f"{a}.png\ta b c", f"{b}.png\t\\frac{{1}}{{2}}"]
        assert zf.read(f"images/{b}.png") == store.get_correction(b).image_png
    assert store.export_corrections(tmp_path / "all.zip", include_excluded=True) == 3
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_export_import_round_trip(store, tmp_path):
    originals = {}
    for i in range(5):
        png = png_bytes(f"e{i}")
        originals[store.add_correction(png, rf"e^{{{i}}}")] = png
    dest = tmp_path / "c.zip"
    store.export_corrections(dest)
    with Store(tmp_path / "other.sqlite3") as other:
        count, warnings = other.import_corrections(dest)
        assert count == 5 and warnings == []
        got = {c.latex: c for c in other.corrections()}
        for cid, png in originals.items():
            latex = store.get_correction(cid).latex
            assert got[latex].image_png == png and got[latex].source == "import"


def test_import_real_crohme_sample(store, tmp_path):
    src = Path("/work/shared/data/crohme/test2016.zip")
    if not src.exists():
        pytest.skip("shared data not available")
    sample = tmp_path / "sample.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(sample, "w") as zout:
        lines = zin.read("labels.tsv").decode("utf-8").splitlines()[:5]
        zout.writestr("labels.tsv", "\n".join(lines) + "\n")
        for line in lines:
            name = line.split("\t")[0]
            zout.writestr(f"images/{name}", zin.read(f"images/{name}"))
    count, warnings = store.import_corrections(sample)
    assert count == 5 and warnings == []
    assert store.corrections()[-1].latex == lines[0].split("\t", 1)[1]


def test_import_folder_with_bad_rows(store, tmp_path):
    root = tmp_path / "set"
    (root / "images" / "sub").mkdir(parents=True)
    (root / "images" / "sub" / "good.png").write_bytes(png_bytes())
    (root / "images" / "good2.png").write_bytes(png_bytes())
    (root / "images" / "broken.png").write_bytes(b"\x89PNG truncated")
    (root / "outside.png").write_bytes(png_bytes())
    (root / "labels.tsv").write_text(
        "\ufeffsub/good.png\tx\ty\n"  # BOM + a tab inside the LaTeX
        "no tab here\n"
        "\n"
        "good2.png\t\n"  # empty LaTeX
        "missing.png\tz\n"
        "broken.png\tw\n"
        "../outside.png\tv\n"  # path escaping images/ is refused
        "good2.png\t\\alpha\r\n",
        encoding="utf-8",
    )
    count, warnings = store.import_corrections(root)
    assert count == 2
    assert sorted(c.latex for c in store.corrections()) == [r"\alpha", "x y"]
    assert len(warnings) == 5
    joined = "\n".join(warnings)
    for needle in ("Line 2", "Line 4", "missing.png", "broken.png", "../outside.png"):
        assert needle in joined


def test_import_zip_with_top_folder(store, tmp_path):
    z = tmp_path / "nested.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("myset/labels.tsv", "a.png\tq\n")
        zf.writestr("myset/images/a.png", png_bytes())
    assert store.import_corrections(z) == (1, [])


def test_import_unpacked_folder_one_level_down(store, tmp_path):
    root = tmp_path / "outer" / "inner"
    (root / "images").mkdir(parents=True)
    (root / "images" / "a.png").write_bytes(png_bytes())
    (root / "labels.tsv").write_text("a.png\tq\n")
    assert store.import_corrections(tmp_path / "outer") == (1, [])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b"PK\x03\x04 definitely not a zip"), "not a readable zip"),
        (lambda p: p.write_bytes(os.urandom(500)), "not a readable zip"),
        (lambda p: zipfile.ZipFile(p, "w").writestr("images/a.png", b"x"), "no labels.tsv"),
        (lambda p: zipfile.ZipFile(p, "w").writestr("labels.tsv", b"\xff\xfe\xfa"), "UTF-8"),
    ],
)
def test_broken_zips_raise_dataset_error(store, tmp_path, make, message):
    p = tmp_path / "broken.zip"
    make(p)
    with pytest.raises(DatasetError, match=message):
        store.import_corrections(p)
    assert store.count_corrections(include_excluded=True) == 0


def test_truncated_zip(store, tmp_path):
    good = tmp_path / "good.zip"
    for i in range(3):
        store.add_correction(png_bytes(f"t{i}"), f"t{i}")
    store.export_corrections(good)
    data = good.read_bytes()
    bad = tmp_path / "truncated.zip"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError):
        store.import_corrections(bad)


def test_zip_with_corrupt_member_is_skipped(store, tmp_path):
    z = tmp_path / "c.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("labels.tsv", "a.png\ta\nb.png\tb\n")
        zf.writestr("images/a.png", png_bytes("a"))
        zf.writestr("images/b.png", png_bytes("b") * 3)
    raw = bytearray(z.read_bytes())
    # flip bytes inside b.png's compressed data so its CRC check fails
    start = raw.index(b"images/b.png") + len("images/b.png") + 20
    raw[start : start + 40] = bytes(40)
    z.write_bytes(bytes(raw))
    count, warnings = store.import_corrections(z)
    assert count == 1 and len(warnings) == 1 and "b.png" in warnings[0]


def test_missing_source(store, tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        store.import_corrections(tmp_path / "nope.zip")
    with pytest.raises(DatasetError, match="labels.tsv"):
        store.import_corrections(tmp_path)


# --- concurrency and durability ----------------------------------------------------------------


def test_threads_share_one_store(store):
    png = png_bytes()
    errors = []

    def work(k):
        try:
            for i in range(10):
                store.add_entry(png, f"t{k}_{i}", 0.5, "api")
                store.entries(limit=5)
                store.add_correction(png, f"c{k}_{i}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count_entries() == 40 and store.count_corrections() == 40


def test_failed_write_rolls_back(store, monkeypatch):
    import core.history as history

    def boom():
        raise RuntimeError("clock broke")

    monkeypatch.setattr(history, "_now", boom)
    with pytest.raises(RuntimeError):
        store.add_entry(png_bytes(), "x", 0.5, "file")
    monkeypatch.undo()
    assert store.count_entries() == 0
    store.add_entry(png_bytes(), "y", 0.5, "file")  # no transaction left open
    assert store.count_entries() == 1


def test_records_survive_sigkill(tmp_path):
    db = tmp_path / "texsnap.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1])}
    child = subprocess.Popen(
        [sys.executable, str(HERE / "history_writer.py"), str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    reported = {"h": [], "c": []}
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        deadline = time.monotonic() + 60
        while len(reported["c"]) < 40 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line.endswith("\n"):
                break
            kind, rid = line.split()
            reported[kind].append(int(rid))
        # kill mid-stream: the child is still writing as fast as it can
        os.kill(child.pid, signal.SIGKILL)
        rest, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    for line in rest.splitlines(keepends=True):  # lines printed before the kill landed
        if line.endswith("\n") and line[:2] in ("h ", "c "):
            reported[line[0]].append(int(line.split()[1]))
    assert len(reported["c"]) >= 40
    with Store(db) as s:
        assert s.notice is None
        assert s.integrity_ok()
        for hid in reported["h"]:
            assert s.get_entry(hid) is not None, f"history entry {hid} lost"
        for cid in reported["c"]:
            c = s.get_correction(cid)
            assert c is not None, f"correction {cid} lost"
            assert c.image_png and c.latex.endswith("+1")

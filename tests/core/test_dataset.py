"""Data sets: a zip or a folder with images/ and labels.tsv; bad lines counted, paths contained."""

from __future__ import annotations

import zipfile

import pytest

from core.dataset import Dataset, Sample
from core.errors import DatasetError

LABELS = "a.png\tx^{2}\nsub/b.png\t\\frac{a}{b}\n"


def make_folder(root, labels: str = LABELS, images=("a.png", "sub/b.png")):
    root.mkdir()
    (root / "labels.tsv").write_text(labels, encoding="utf-8")
    for name in images:
        path = root / "images" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"PNG:" + name.encode())
    return root


def make_zip(path, labels: str = LABELS, images=("a.png", "sub/b.png"), prefix=""):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(prefix + "labels.tsv", labels)
        for name in images:
            zf.writestr(f"{prefix}images/{name}", b"PNG:" + name.encode())
    return path


@pytest.fixture(params=["folder", "zip", "wrapped-zip"])
def dataset(request, tmp_path):
    if request.param == "folder":
        ds = Dataset(make_folder(tmp_path / "set"))
    else:
        prefix = "my-set/" if request.param == "wrapped-zip" else ""
        ds = Dataset(make_zip(tmp_path / "set.zip", prefix=prefix))
    yield ds
    ds.close()


def test_reads_samples_and_images(dataset):
    assert len(dataset) == 2 and dataset.skipped == 0
    assert list(dataset) == [Sample("a.png", "x^{2}"), Sample("sub/b.png", r"\frac{a}{b}")]
    assert dataset.read(dataset.samples[1]) == b"PNG:sub/b.png"


def test_malformed_lines_are_skipped_and_counted(tmp_path):
    labels = (
        "a.png\tx\n"
        "no tab on this line\n"
        "\tmissing path\n"
        "b.png\t   \n"
        "\n"
        "   \n"
        "c.png\ta\tb with a tab inside the LaTeX\n"
        "d.png\t\\alpha\r\n"
    )
    ds = Dataset(make_folder(tmp_path / "set", labels=labels, images=()))
    assert [s.path for s in ds] == ["a.png", "c.png", "d.png"]
    assert ds.samples[1].latex == "a\tb with a tab inside the LaTeX"
    assert ds.samples[2].latex == r"\alpha"
    assert ds.skipped == 3


def test_labels_that_are_not_utf8_do_not_crash(tmp_path):
    root = make_folder(tmp_path / "set", images=("a.png",))
    (root / "labels.tsv").write_bytes(b"a.png\tx\xff\xfe\n")
    assert len(Dataset(root)) == 1


def test_missing_image_is_a_dataset_error(dataset):
    with pytest.raises(DatasetError, match="missing"):
        dataset.read(Sample("nope.png", "x"))


@pytest.mark.parametrize(
    "path",
    ["../x.png", "sub/../../x.png", "..\\x.png", "/../x.png", "images/../../labels.tsv"],
)
def test_paths_outside_images_are_refused(dataset, path):
    with pytest.raises(DatasetError, match="outside images"):
        dataset.read(Sample(path, "x"))


def test_traversal_in_a_zip_never_reads_the_member(tmp_path):
    """A zip that holds ../secret.png next to images/: the label cannot reach it."""
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("labels.tsv", "../secret.png\tx\n")
        zf.writestr("secret.png", b"secret")
        zf.writestr("images/../secret.png", b"secret")
    ds = Dataset(path)
    with pytest.raises(DatasetError, match="outside images"):
        ds.read(ds.samples[0])


def test_folder_traversal_cannot_read_files_beside_it(tmp_path):
    make_folder(tmp_path / "set", labels="../../secret.txt\tx\n", images=())
    (tmp_path / "secret.txt").write_text("secret")
    ds = Dataset(tmp_path / "set")
    with pytest.raises(DatasetError, match="outside images"):
        ds.read(ds.samples[0])


def test_absolute_paths_stay_inside_images(tmp_path):
    ds = Dataset(make_folder(tmp_path / "set", images=("etc/passwd",)))
    assert ds.read(Sample("/etc/passwd", "x")) == b"PNG:etc/passwd"


def test_nothing_there(tmp_path):
    with pytest.raises(DatasetError, match="No data set"):
        Dataset(tmp_path / "nowhere")


def test_folder_without_labels(tmp_path):
    (tmp_path / "set").mkdir()
    with pytest.raises(DatasetError, match="labels.tsv"):
        Dataset(tmp_path / "set")


def test_zip_without_labels(tmp_path):
    path = tmp_path / "set.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("images/a.png", b"x")
    with pytest.raises(DatasetError, match="labels.tsv"):
        Dataset(path)


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 broken", b"not a zip at all"])
def test_file_that_is_not_a_zip(tmp_path, data):
    path = tmp_path / "set.zip"
    path.write_bytes(data)
    with pytest.raises(DatasetError, match="not a readable zip"):
        Dataset(path)


def test_damaged_zip_member_is_a_dataset_error(tmp_path):
    path = make_zip(tmp_path / "set.zip")
    data = bytearray(path.read_bytes())
    start = data.index(b"PNG:a.png")
    data[start : start + 4] = b"XXXX"  # the stored CRC no longer matches
    path.write_bytes(bytes(data))
    ds = Dataset(path)
    with pytest.raises(DatasetError, match="a.png"):
        ds.read(ds.samples[0])


def test_only_a_file_named_labels_tsv_counts(tmp_path):
    path = tmp_path / "set.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("old_labels.tsv", "a.png\tx\n")
        zf.writestr("images/a.png", b"x")
    with pytest.raises(DatasetError, match="labels.tsv"):
        Dataset(path)

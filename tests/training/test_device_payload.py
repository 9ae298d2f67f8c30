"""The device payload: what a GPU run needs beside the repository, within what a call carries."""

import subprocess
import sys
from pathlib import Path

import pytest

from training.device_payload import MIB, PayloadError, gather, main, payload_bytes

ROOT = Path(__file__).resolve().parents[2]
BASE = ["crohme-train.npz", "crohme-dev.npz", "printed-dev-0-0000.npz"]
DEV = ["handwritten-dev-0-0000.npz", "latex-dev-0-0000.npz"]


def _file(path, size):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / ".gitignore").write_text("/.devdata/\n/.devpkgs/\n/ignored/\n")
    _file(root / "core" / "model.py", 100_000)
    _file(root / "ignored" / "big.bin", 5 * MIB)  # ignored: does not travel
    return root


@pytest.fixture
def data(tmp_path):
    root = tmp_path / "data"
    _file(root / "formulas" / "corpus.tsv", 200_000)
    shards = tmp_path / "shards"
    for name in BASE + DEV:
        _file(shards / name, 300_000)
    _file(shards / "printed-train-0-0000.npz", 300_000)  # mathtext: the device renders its own
    latex = tmp_path / "latex"
    for i in range(4):
        _file(latex / f"latex-train-22-{i:04d}.npz", MIB)
    return root, shards, latex


def test_payload_holds_what_the_gpu_run_reads_and_fits_the_limit(repo, data):
    data_root, shards, latex = data
    got = gather(repo, data_root, shards, latex, limit_mib=5.0, headroom_mib=0.5)

    assert (repo / ".devdata" / "formulas" / "corpus.tsv").stat().st_size == 200_000
    in_shards = sorted(p.name for p in (repo / ".devdata" / "shards").iterdir())
    # the base and dev shards, and the LaTeX shards that fit: 2.0 MiB so far, 4.5 MiB allowed
    assert in_shards == sorted(BASE + DEV + ["latex-train-22-0000.npz", "latex-train-22-0001.npz"])
    assert got["train_shards"] == ["latex-train-22-0000.npz", "latex-train-22-0001.npz"]
    assert got["mib"] <= 4.5
    assert payload_bytes(repo) / MIB == pytest.approx(got["mib"], abs=0.05)


def test_carried_platformdirs_is_the_one_imported_from_devpkgs(repo, data):
    data_root, shards, _ = data
    gather(repo, data_root, shards)
    devpkgs = repo / ".devpkgs"
    code = f"import sys; sys.path.insert(0, {str(devpkgs)!r}); import platformdirs; "
    code += "print(platformdirs.__file__); platformdirs.user_data_dir('TeXSnap')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith(str(devpkgs))


def test_gathering_again_drops_what_the_last_payload_held(repo, data):
    data_root, shards, latex = data
    gather(repo, data_root, shards, latex, limit_mib=8.0)
    gather(repo, data_root, shards)  # no LaTeX shards this time
    names = {p.name for p in (repo / ".devdata" / "shards").iterdir()}
    assert names == set(BASE + DEV)


def test_missing_dev_slice_is_named_and_the_last_payload_kept(repo, data):
    data_root, shards, latex = data
    gather(repo, data_root, shards, latex, limit_mib=8.0)
    before = sorted((repo / ".devdata").rglob("*"))
    (shards / "crohme-dev.npz").unlink()
    with pytest.raises(PayloadError, match="crohme-dev.npz"):
        gather(repo, data_root, shards)
    assert sorted((repo / ".devdata").rglob("*")) == before


def test_a_latex_folder_without_latex_shards_is_an_error(repo, data, tmp_path):
    data_root, shards, _ = data
    with pytest.raises(PayloadError, match="no LaTeX-typeset training shards"):
        gather(repo, data_root, shards, tmp_path / "typo")


def test_a_train_folder_carries_every_kind_in_turn(repo, data, tmp_path):
    """The GPU's first epochs draw what was carried: every kind, not LaTeX alone."""
    data_root, shards, _ = data
    mixed = tmp_path / "mixed"
    names = [f"latex-train-19-{i:04d}.npz" for i in range(3)]
    names += [f"printed-train-22-{i:04d}.npz" for i in range(2)]
    names += ["handwritten-train-22-0000.npz", "crohme-train.npz"]  # CROHME comes from --shards
    for name in names:
        _file(mixed / name, MIB // 2)
    got = gather(repo, data_root, shards, limit_mib=6.0, headroom_mib=0.5, train=mixed)
    assert (
        got["train_shards"]
        == [
            "latex-train-19-0000.npz",
            "printed-train-22-0000.npz",
            "handwritten-train-22-0000.npz",
            "latex-train-19-0001.npz",
            "printed-train-22-0001.npz",
            "latex-train-19-0002.npz",
        ][: len(got["train_shards"])]
    )
    assert len(got["train_shards"]) >= 4 and got["mib"] <= 5.5
    with pytest.raises(PayloadError, match="no training shards"):
        gather(repo, data_root, shards, train=tmp_path / "typo")
    with pytest.raises(SystemExit):  # one or the other
        main(["--root", str(repo), "--data-root", str(data_root), "--shards", str(shards),
              "--latex", str(mixed), "--train", str(mixed)])  # fmt: skip


def test_payload_over_the_limit_is_an_error_not_a_failed_call(repo, data):
    data_root, shards, _ = data
    with pytest.raises(PayloadError, match="over the 1 MiB"):
        gather(repo, data_root, shards, limit_mib=1.0)


def test_command_line_reports_a_wrong_data_root(repo, tmp_path, capsys):
    assert main(["--root", str(repo), "--data-root", str(tmp_path / "nowhere")]) == 1
    assert "No formula corpora" in capsys.readouterr().err
    assert not (repo / ".devdata").exists()


# The device's Python has torch, numpy, scipy, matplotlib, pillow, safetensors, tqdm and
# tensorboard, but none of the app's own packages (/work/.library/device/KINDS.md).
NOT_ON_DEVICE = ("PySide6", "fastapi", "uvicorn", "starlette", "keyring", "multipart")
BLOCKER = f"""
import importlib.abc, sys
class NotOnDevice(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {NOT_ON_DEVICE!r}:
            raise ImportError("not on the device: " + name)
sys.meta_path.insert(0, NotOnDevice())
"""


def test_the_gpu_run_imports_nothing_the_device_lacks():
    """train_gpu.sh runs `main.py data build` and `main.py train` there, and the candidates are
    exported there too: none of that may need the app's packages."""
    code = BLOCKER + (
        "import main, training.cli, training.trainer, training.data.build, "
        "training.export_weights, training.average_models\n"
        "for argv in (['train', '--help'], ['data', 'build', '--help']):\n"
        "    try:\n"
        "        main.main(argv)\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code in (0, None), exc.code\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "--resume" in out.stdout and "--handwritten-dev" in out.stdout

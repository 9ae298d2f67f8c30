"""Smoke test of the real desktop bundle: build it, then run it the way a user would.

Building takes many minutes and gigabytes, so this runs only when asked:

    make bundle-test                                     # build dist/TeXSnap, then test it
    TEXSNAP_BUNDLE_TEST=1 pytest tests/packaging/test_bundle_smoke.py    # build in a temp dir
    TEXSNAP_BUNDLE_TEST=1 TEXSNAP_BUNDLE_DIR=dist/TeXSnap pytest ...     # test a built bundle

Every run gets an empty HOME and a minimal environment (no venv, no PYTHONPATH), like a
first start on a fresh account; the bundle's files must be the same afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from installer import build, contents

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(
        os.environ.get("TEXSNAP_BUNDLE_TEST") != "1",
        reason="builds the desktop bundle (minutes, GBs): set TEXSNAP_BUNDLE_TEST=1",
    ),
]

USER_DIRS = (".config/TeXSnap", ".local/share/TeXSnap", ".cache/TeXSnap")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, random_model_dir) -> Path:
    prebuilt = os.environ.get("TEXSNAP_BUNDLE_DIR")
    if prebuilt:
        return Path(prebuilt).resolve()
    out = tmp_path_factory.mktemp("bundle")
    model = [] if contents.bundled_model_source() else ["--model", str(random_model_dir)]
    build.main(["--dist", str(out / "dist"), "--work", str(out / "work"), *model])
    return out / "dist" / contents.APP_NAME


@pytest.fixture(scope="module")
def snapshot(bundle):
    """The bundle's files (path, size, mtime) before any test ran it."""
    return tree_state(bundle)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def env(home, bundle, random_model_dir) -> dict:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["TEXSNAP_THREADS"] = "1"
    if not (bundle / "_internal" / "resources" / "models" / "base" / "config.json").is_file():
        env["TEXSNAP_MODEL"] = str(random_model_dir)  # a bundle built without a model
    return env


def tree_state(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in folder.rglob("*")
    }


def texsnap(bundle, env, *args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bundle / contents.EXE_NAME), *args],
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_layout(bundle, snapshot):
    assert (bundle / contents.EXE_NAME).stat().st_mode & 0o111
    internal = bundle / "_internal"
    assert (internal / "resources" / "icons" / "texsnap-256.png").is_file()
    assert (internal / "training" / "configs" / "base.toml").is_file()
    mathtext_fonts = internal / "matplotlib" / "mpl-data" / "fonts" / "ttf"
    assert (mathtext_fonts / "cmr10.ttf").is_file() and (
        mathtext_fonts / "DejaVuSans.ttf"
    ).is_file()
    for left_out in ("tensorboard", "triton", "pytest", "PySide6/QtQuick.abi3.so"):
        assert not (internal / left_out).exists(), left_out
    for dist in ("texsnap", "torch", "pyside6_essentials"):  # for the About dialog
        assert list(internal.glob(f"{dist}*.*-info")), dist
    for script in build.LINUX_FILES:
        assert (bundle / script).is_file()


def test_version(bundle, env, snapshot):
    from core import __version__

    result = texsnap(bundle, env, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"TeXSnap {__version__}"


def test_same_subcommands_as_the_texsnap_command(bundle, env, snapshot):
    import main

    parser = main.build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]  # noqa: SLF001
    result = texsnap(bundle, env, "--help")
    assert result.returncode == 0, result.stderr
    missing = [name for name in sub.choices if name not in result.stdout]
    assert not missing, f"the bundle lacks: {missing}\n{result.stdout}"


def test_predict_headless(bundle, env, snapshot, home):
    from core.render import render_png

    image = home / "formula.png"
    image.write_bytes(render_png(r"\frac{a}{b}+x^{2}", dpi=150))
    result = texsnap(bundle, env, "predict", str(image), "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["path"].endswith("formula.png") and "latex" in answer


def test_render_uses_the_bundled_mathtext_fonts(bundle, env, snapshot, home):
    out = home / "rendered.png"
    result = texsnap(bundle, env, "render", r"\int_0^1 x\,dx", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_training_commands_are_there(bundle, env, snapshot):
    for command in (["train", "--help"], ["finetune", "--help"], ["models", "list"]):
        result = texsnap(bundle, env, *command)
        assert result.returncode == 0, f"{command}: {result.stderr}"


def test_finetune_runs_in_the_bundle(bundle, env, snapshot, home):
    """The training tab's job: a one-step fine-tune on corrections, run in a child process as
    the tab runs it (the frozen executable must be able to spawn its own workers)."""
    from core.render import render_png

    data = home / "corrections"
    (data / "images").mkdir(parents=True)
    formulas = ["x^{2}", "a+b", "\\frac{1}{2}", "\\sqrt{x}", "y_{1}", "e^{x}", "k=1", "z^{5}"]
    lines = []
    for i, formula in enumerate(formulas * 2):
        (data / "images" / f"{i}.png").write_bytes(render_png(formula, dpi=100 + 5 * i))
        lines.append(f"{i}.png\t{formula}")
    (data / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["--steps", "1", "--regression-size", "4", "--device", "cpu", "--json"]
    result = texsnap(bundle, env, "finetune", str(data), *args, "--child-process", timeout=900)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["steps"] == 1


def test_gui_starts_offscreen(bundle, env, snapshot):
    """The window opens (the start-up probe prints once it is exposed), then the app quits."""
    from gui.app import PROBE_ENV, PROBE_LINE

    result = texsnap(bundle, {**env, PROBE_ENV: "1"}, "gui", timeout=120)
    assert result.returncode == 0, result.stderr
    assert PROBE_LINE in result.stdout, result.stderr


def test_first_run_wrote_only_user_folders(bundle, snapshot, home):
    """Runs last (file order): the bundle is unchanged and every file the runs made is in a
    folder the README documents (what an uninstall leaves)."""
    assert tree_state(bundle) == snapshot, "the app wrote next to the executable"
    made = [p.relative_to(home) for p in home.rglob("*") if p.is_file()]
    made = [p for p in made if p.parts[0] != "corrections"]  # the tests' own inputs
    made = [p for p in made if p.name not in ("formula.png", "rendered.png")]
    stray = [str(p) for p in made if not any(str(p).startswith(d) for d in USER_DIRS)]
    assert not stray, f"files outside TeXSnap's folders: {stray}"
    assert (home / ".config" / "TeXSnap").is_dir()  # created on first run

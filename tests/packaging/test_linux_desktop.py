"""The Linux menu entry and the tar.gz's install.sh / uninstall.sh, run on a stand-in bundle."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from installer import build, make_icons

LINUX = build.ROOT / "installer" / "linux"
DESKTOP = LINUX / "texsnap.desktop"


def read_desktop(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser


def test_desktop_entry_has_the_required_keys():
    entry = read_desktop(DESKTOP)["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "TeXSnap"
    assert entry["Icon"] == "texsnap"  # the hicolor name install.sh uses
    assert entry["Terminal"] == "false"
    for key in ("Categories", "Keywords", "Actions"):
        assert entry[key].endswith(";")


def test_desktop_file_name_matches_the_app_id():
    """Qt's setDesktopFileName("texsnap") links windows (Wayland app_id) to this file."""
    assert 'setDesktopFileName("texsnap")' in (build.ROOT / "gui" / "app.py").read_text()
    assert DESKTOP.name == "texsnap.desktop"


def test_every_exec_line_is_a_real_subcommand():
    import main

    parser = main.build_parser()
    desktop = read_desktop(DESKTOP)
    commands = [desktop[section]["Exec"] for section in desktop.sections()]
    assert len(commands) == 1 + len(desktop["Desktop Entry"]["Actions"].strip(";").split(";"))
    for command in commands:
        program, *args = shlex.split(command)
        assert program == "texsnap"
        assert parser.parse_args(args).command in ("gui", "snip")


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils")
def test_desktop_file_validate():
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout


@pytest.fixture
def fake_bundle(tmp_path) -> Path:
    """What installer/build.py leaves in dist/TeXSnap/, with a shell script as the program."""
    bundle = tmp_path / "unpacked" / "TeXSnap"
    icons = bundle / "_internal" / "resources" / "icons"
    shutil.copytree(make_icons.OUT, icons)
    (bundle / "texsnap").write_text("#!/bin/sh\necho TeXSnap test\n")
    (bundle / "texsnap").chmod(0o755)
    build.add_linux_files(bundle)
    return bundle


def run_script(script: Path, home: Path, *args) -> subprocess.CompletedProcess:
    env = {"HOME": str(home), "PATH": os.environ["PATH"]}
    return subprocess.run(
        ["sh", str(script), *args], env=env, capture_output=True, text=True, check=True
    )


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


def test_install_then_uninstall_leaves_nothing(fake_bundle, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    run_script(fake_bundle / "install.sh", home)
    appdir = home / ".local" / "opt" / "TeXSnap"
    link = home / ".local" / "bin" / "texsnap"
    assert link.resolve() == (appdir / "texsnap").resolve()
    assert subprocess.run([str(link)], capture_output=True, text=True).stdout == "TeXSnap test\n"
    entry = read_desktop(home / ".local/share/applications/texsnap.desktop")
    assert shlex.split(entry["Desktop Entry"]["Exec"]) == [str(appdir / "texsnap"), "gui"]
    assert entry["Desktop Entry"]["TryExec"] == str(appdir / "texsnap")
    assert shlex.split(entry["Desktop Action snip"]["Exec"])[0] == str(appdir / "texsnap")
    hicolor = home / ".local/share/icons/hicolor"
    assert (hicolor / "48x48/apps/texsnap.png").is_file()
    assert (hicolor / "scalable/apps/texsnap.svg").is_file()

    # a second install (an upgrade) replaces the first cleanly
    run_script(fake_bundle / "install.sh", home)
    result = run_script(appdir / "uninstall.sh", home)
    assert files_under(home) == set()
    assert str(home / ".config" / "TeXSnap") in result.stdout  # says what it kept


def test_uninstall_purge_removes_user_folders(fake_bundle, tmp_path):
    home = tmp_path / "home"
    for folder in (".config/TeXSnap", ".local/share/TeXSnap", ".cache/TeXSnap"):
        (home / folder).mkdir(parents=True)
        (home / folder / "file").write_text("x")
    run_script(fake_bundle / "install.sh", home)
    run_script(home / ".local/opt/TeXSnap/uninstall.sh", home, "--purge")
    assert files_under(home) == set()


def test_install_refuses_to_overwrite_a_foreign_folder(fake_bundle, tmp_path):
    home = tmp_path / "home"
    (home / "precious").mkdir(parents=True)
    (home / "precious" / "thesis.tex").write_text("x")
    env = {"HOME": str(home), "PATH": os.environ["PATH"], "APPDIR": str(home / "precious")}
    result = subprocess.run(
        ["sh", str(fake_bundle / "install.sh")], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1 and "not a TeXSnap installation" in result.stderr
    assert (home / "precious" / "thesis.tex").is_file()


def test_uninstall_refuses_outside_an_installation(fake_bundle):
    result = subprocess.run(["sh", str(fake_bundle / "uninstall.sh")], capture_output=True)
    assert result.returncode == 1
    assert (fake_bundle / "texsnap").is_file()

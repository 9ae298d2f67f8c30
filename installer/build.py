"""Build the desktop bundle dist/TeXSnap/ (and, with --package, the platform's installer).

    python installer/build.py                  # dist/TeXSnap/texsnap (+ TeXSnap.app on macOS)
    python installer/build.py --package        # + Linux tar.gz / Windows setup.exe / macOS .dmg
    python installer/build.py --model DIR      # bundle DIR as resources/models/base

Needs the ``bundle`` extra (``pip install -e '.[bundle]'``). The torch installed in the build
environment decides the bundle's size: see the README for a CPU-only build.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import __version__  # noqa: E402
from installer import contents  # noqa: E402

SPEC = ROOT / "installer" / "texsnap.spec"
LINUX_FILES = ("install.sh", "uninstall.sh", "texsnap.desktop")


def run_pyinstaller(dist: Path, work: Path, model: Path | None) -> Path:
    env = dict(os.environ)
    if model is not None:
        env[contents.BUNDLE_MODEL_ENV] = str(model)
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm"]
    cmd += ["--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    return dist / contents.APP_NAME


def add_linux_files(bundle: Path) -> None:
    """install.sh, uninstall.sh and the .desktop file go next to the executable."""
    for name in LINUX_FILES:
        shutil.copy2(ROOT / "installer" / "linux" / name, bundle / name)


def folder_size(folder: Path) -> int:
    """Bytes of the files under ``folder`` (symbolic links not followed, nor counted twice)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def largest_parts(bundle: Path, count: int = 8) -> list[tuple[str, int]]:
    """The biggest entries of the bundle's _internal folder, for the size report."""
    internal = bundle / "_internal"
    sizes = []
    for entry in internal.iterdir() if internal.is_dir() else ():
        size = folder_size(entry) if entry.is_dir() else entry.lstat().st_size
        sizes.append((entry.name, size))
    return sorted(sizes, key=lambda item: -item[1])[:count]


def make_tarball(bundle: Path) -> Path:
    machine = platform.machine().lower() or "unknown"
    out = bundle.parent / f"{contents.APP_NAME}-{__version__}-linux-{machine}.tar.gz"
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=contents.APP_NAME)
    return out


def make_windows_installer() -> Path:
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    if iscc is None:
        raise SystemExit("Inno Setup's iscc is not on PATH (https://jrsoftware.org/isinfo.php).")
    script = ROOT / "installer" / "windows" / "texsnap.iss"
    subprocess.run([iscc, f"/DAppVersion={__version__}", str(script)], check=True)
    return ROOT / "dist" / f"{contents.APP_NAME}-{__version__}-windows-x64-setup.exe"


def make_dmg(dist: Path) -> Path:
    out = dist / f"{contents.APP_NAME}-{__version__}-macos.dmg"
    app = dist / f"{contents.APP_NAME}.app"
    cmd = ["hdiutil", "create", "-volname", contents.APP_NAME, "-srcfolder", str(app)]
    subprocess.run([*cmd, "-ov", "-format", "UDZO", str(out)], check=True)
    return out


def package(dist: Path, bundle: Path) -> Path:
    if sys.platform == "win32":
        return make_windows_installer()
    if sys.platform == "darwin":
        return make_dmg(dist)
    return make_tarball(bundle)


def report(bundle: Path) -> None:
    mib = 1024 * 1024
    print(f"\n{bundle}: {folder_size(bundle) / mib:,.0f} MiB")
    for name, size in largest_parts(bundle):
        print(f"  {name:<40} {size / mib:8,.0f} MiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model directory to bundle as the base model")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    parser.add_argument("--package", action="store_true", help="also make the installer")
    args = parser.parse_args(argv)
    try:
        import PyInstaller  # noqa: F401
    except ModuleNotFoundError:
        raise SystemExit("PyInstaller is missing: pip install -e '.[bundle]'") from None
    bundle = run_pyinstaller(args.dist.resolve(), args.work.resolve(), args.model)
    if sys.platform.startswith("linux"):
        add_linux_files(bundle)
    report(bundle)
    if args.package:
        out = package(args.dist.resolve(), bundle)
        print(f"{out}: {out.stat().st_size / 1024 / 1024:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What goes into the desktop bundle, kept apart from ``texsnap.spec`` so tests can read it.

PyInstaller executes the spec with its own globals; the decisions (what to leave out, which
data files travel, where the bundled model comes from) live here as plain Python.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "TeXSnap"  # the bundle folder, the .app, the Windows program group
EXE_NAME = "texsnap"  # same name as the pip-installed command
GUI_EXE_NAME = "texsnapw"  # Windows only: the same program without a console window
BUNDLE_ID = "org.texsnap.TeXSnap"
ICONS = ROOT / "resources" / "icons"

# A model directory to bundle as resources/models/base when the source tree has none yet
# (release builds use the committed resources/models/base; tests bundle a random model).
BUNDLE_MODEL_ENV = "TEXSNAP_BUNDLE_MODEL"

# Our own packages. main.py imports its command modules by name, so PyInstaller cannot see
# them: every module of these packages is listed as a hidden import.
APP_PACKAGES = ("core", "training", "gui")
# Developer scripts inside those packages that the app never runs (README screenshots).
DEV_MODULES = ("gui.screenshots",)

# Qt modules PySide6-Essentials ships that TeXSnap never imports. The GUI imports Qt only
# through gui/qt.py (QtCore, QtGui, QtWidgets, QtNetwork); tests check nothing in gui/ needs
# one of these. The rest of Qt (WebEngine, 3D, Multimedia, Charts...) is not even installed;
# it is listed so that a developer's fuller PySide6 does not leak into the bundle either.
QT_EXCLUDES = tuple(
    f"PySide6.{name}"
    for name in (
        "Qt3DAnimation Qt3DCore Qt3DExtras Qt3DInput Qt3DLogic Qt3DRender QtBluetooth QtCharts "
        "QtConcurrent QtDataVisualization QtDesigner QtGraphs QtGraphsWidgets QtHelp "
        "QtHttpServer QtLabsStyleKit QtLocation QtMultimedia QtMultimediaWidgets QtNetworkAuth "
        "QtNfc QtOpenGL QtOpenGLWidgets QtPdf QtPdfWidgets QtPositioning QtPrintSupport QtQml "
        "QtQmlFeatures QtQuick QtQuick3D QtQuickControls2 QtQuickTest QtQuickWidgets "
        "QtRemoteObjects QtScxml QtSensors QtSerialBus QtSerialPort QtSpatialAudio QtSql "
        "QtStateMachine QtSvgWidgets QtTest QtTextToSpeech QtUiTools QtWebChannel "
        "QtWebEngineCore QtWebEngineQuick QtWebEngineWidgets QtWebSockets QtWebView QtXml"
    ).split()
)

# Python packages left out. Each is either never imported by the app, or imported only
# behind a try/except (triton: torch.compile's GPU compiler; TeXSnap runs torch eagerly).
PYTHON_EXCLUDES = (
    # tests and developer tools
    "tests",
    "pytest",
    "_pytest",
    "pytestqt",
    "xdist",
    "pytest_timeout",
    "ruff",
    "httpx",
    "IPython",
    # training extras the training tab does not use (it logs to CSV and plots with Agg)
    "tensorboard",
    "tensorboard_data_server",
    "torch.utils.tensorboard",
    "triton",
    # other GUI toolkits' bindings and matplotlib backends for them
    "tkinter",
    "_tkinter",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "wx",
    "gi",
)
EXCLUDES = QT_EXCLUDES + PYTHON_EXCLUDES

# Distributions whose licence metadata is not copied because their code is not bundled.
EXCLUDED_DISTRIBUTIONS = ("tensorboard", "triton", "pytest", "ruff")

# Packages whose compiled extensions PyInstaller's hooks miss: torchvision 0.29 loads
# _C_stable.so by path (torch.ops.load_library), the hook still names the old torchvision._C.
BINARY_PACKAGES = ("torchvision",)

# matplotlib renders formulas (and training plots) to PNG with Agg only.
HOOKS_CONFIG = {"matplotlib": {"backends": ["Agg"]}}


def command_modules(main_py: Path = ROOT / "main.py") -> tuple[str, ...]:
    """``COMMAND_MODULES`` from main.py, read without importing it."""
    for node in ast.parse(main_py.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "COMMAND_MODULES" for t in node.targets
        ):
            return tuple(ast.literal_eval(node.value))
    raise RuntimeError("main.py has no COMMAND_MODULES")


def app_modules(root: Path = ROOT) -> list[str]:
    """Every module of our packages, by walking the source tree (nothing is imported)."""
    names = []
    for package in APP_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "__pycache__" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if name not in DEV_MODULES:
                names.append(name)
    return names


def hidden_imports(root: Path = ROOT) -> list[str]:
    return sorted(set(command_modules(root / "main.py")) | set(app_modules(root)))


def _tree(src: Path, dest: str, skip: Path | None = None) -> list[tuple[str, str]]:
    """(file, destination folder) pairs for every file under ``src``, as PyInstaller wants."""
    pairs = []
    for path in sorted(src.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        if skip is not None and path.is_relative_to(skip):
            continue
        rel_dir = path.parent.relative_to(src)
        pairs.append((str(path), str(Path(dest) / rel_dir)))
    return pairs


def bundled_model_source(root: Path = ROOT) -> Path | None:
    """The model that becomes resources/models/base in the bundle (None: none available)."""
    override = os.environ.get(BUNDLE_MODEL_ENV, "").strip()
    if override:
        path = Path(override).expanduser().resolve()
        if not (path / "config.json").is_file():
            raise SystemExit(f"{BUNDLE_MODEL_ENV}={override}: no config.json there.")
        return path
    base = root / "resources" / "models" / "base"
    return base if (base / "config.json").is_file() else None


def data_files(root: Path = ROOT) -> list[tuple[str, str]]:
    """resources/ (models, icons...), package data files, and the bundled base model."""
    resources = root / "resources"
    base = resources / "models" / "base"
    model = bundled_model_source(root)
    pairs = _tree(resources, "resources", skip=base) if resources.is_dir() else []
    if model is not None:
        pairs += _tree(model, "resources/models/base")
    for package in APP_PACKAGES:  # e.g. training/configs/*.toml
        for src, dest in _tree(root / package, package):
            if not src.endswith((".py", ".pyc")):
                pairs.append((src, dest))
    return pairs


def metadata_distributions(root_dist: str = "texsnap") -> list[str]:
    """Distributions whose metadata (version, licence) the About dialog reads at run time."""
    from gui.about_dialog import requirement_closure

    return [root_dist, *requirement_closure(root_dist, skip=EXCLUDED_DISTRIBUTIONS)]


def mac_info_plist(version: str) -> dict:
    """Info.plist keys for TeXSnap.app (macOS asks the user before the first screen snip)."""
    return {
        "CFBundleName": APP_NAME,
        "CFBundleDisplayName": APP_NAME,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "LSMinimumSystemVersion": "11.0",
        "LSApplicationCategoryType": "public.app-category.productivity",
        "NSHighResolutionCapable": True,
        "NSHumanReadableCopyright": "MIT License",
        # Shown by macOS in the Screen Recording permission prompt where it honours the key;
        # the snip tool captures the screen only when the user starts a snip.
        "NSScreenCaptureUsageDescription": (
            "TeXSnap captures the screen region you select when you start a snip, to read "
            "the formula in it. Nothing leaves your computer."
        ),
    }

# TeXSnap: `make run` sets up and launches the app, `make test` sets up and runs every test.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# apt-get as root, or through sudo: `$(APT_INSTALL) PACKAGES` inside a recipe's shell line
APT_INSTALL = SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends

.PHONY: setup sysdeps texdeps run test lint format bench device-payload bundle bundle-test clean

sysdeps:  ## system libraries Qt needs on a fresh Debian/Ubuntu (root or sudo)
	@if command -v apt-get >/dev/null; then \
	  $(APT_INSTALL) \
	    libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 \
	    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 \
	    libxcb-randr0 libxcb-render-util0 libxcb-image0 libxtst6 libglib2.0-0 fonts-dejavu-core xvfb >/dev/null; \
	fi

texdeps:  ## optional: real LaTeX for printed training images (texsnap data build --latex N)
	@if command -v apt-get >/dev/null && ! { command -v latex && command -v dvipng; } >/dev/null; then \
	  $(APT_INSTALL) \
	    texlive-latex-base texlive-latex-recommended texlive-fonts-recommended dvipng >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || { echo "Python 3.11 is needed ($(PY) not found)"; exit 1; }
	[ -x $(BIN)/python ] || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: sysdeps $(STAMP)

run: setup
	$(BIN)/texsnap

test: setup texdeps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/write_openapi.py --check
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n 2 --durations=15

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

bench: setup
	$(BIN)/python benchmarks/latency.py

# PAYLOAD_ARGS: e.g. --shards DIR (CROHME and dev shards built earlier) --latex DIR (LaTeX shards)
device-payload: setup  ## .devdata + .devpkgs, carried to a GPU run on the lent device machine
	PYTHONPATH=. $(BIN)/python -m training.device_payload $(PAYLOAD_ARGS)

BUNDLE_STAMP := $(VENV)/.bundle-installed
$(BUNDLE_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[dev,bundle]'
	touch $(BUNDLE_STAMP)

bundle: setup $(BUNDLE_STAMP)  ## desktop bundle dist/TeXSnap/ + the platform's installer (tar.gz here)
	nice -n 10 $(BIN)/python installer/build.py --package

bundle-test: setup $(BUNDLE_STAMP)  ## build dist/TeXSnap/, then run it: --version, predict, GUI
	nice -n 10 $(BIN)/python installer/build.py
	TEXSNAP_BUNDLE_TEST=1 TEXSNAP_BUNDLE_DIR=dist/TeXSnap QT_QPA_PLATFORM=offscreen \
	  $(BIN)/python -m pytest -q -p no:cacheprovider tests/packaging/test_bundle_smoke.py

clean:
	rm -rf $(VENV) build dist .pytest_cache

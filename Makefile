# The two commands a newcomer needs: `make demo` and `make test`. Both create the
# virtual environment in .venv and install leosim into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.leosim-installed
# written by the script when vendor/ holds CesiumJS built from this lock file
VIEWER_ASSETS := src/leosim/viewer_static/vendor/.package-lock.json

.PHONY: demo test lint bench fuzz clean assets

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "leosim needs Python 3.11 or newer; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,test,bench]'
	touch $(STAMP)

# The 3D viewer's CesiumJS from the npm registry (pinned in viewer/package-lock.json) into
# src/leosim/viewer_static/vendor/; nothing to do once it is there. Without npm it warns
# and goes on (only `leosim view` needs it), unless LEOSIM_REQUIRE_VIEWER_ASSETS=1.
assets: $(VIEWER_ASSETS)

$(VIEWER_ASSETS): viewer/package-lock.json tools/build_viewer_assets.sh
	bash tools/build_viewer_assets.sh

demo: $(STAMP) assets
	$(BIN)/leosim demo

test: $(STAMP) assets
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_routing.py

# Every reader and parser fed 10,000 mutated inputs each; prints inputs, leosim errors,
# crashes and hangs per parser and fails on any crash, hang or invalid input accepted.
# FUZZ_ARGS="--per-parser 500 --workers 1" for a quick look.
FUZZ_ARGS ?= --per-parser 10000
fuzz: $(STAMP)
	$(BIN)/python benchmarks/fuzz.py $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) leosim-demo .pytest_cache

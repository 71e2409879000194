# The whole set-up: `make run` (the service) and `make test` (the suite).
# Both go through `make setup`, which is idempotent: on a ready machine it
# only checks stamps and data sizes and finishes in seconds.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.deps-installed

.PHONY: setup run test lint eval clean

setup: $(STAMP)
	$(BIN)/addr data fetch

# torch first, pinned, so pip takes the CPU wheel instead of the CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[index,dev]'
	touch $(STAMP)

run: setup
	$(BIN)/addr serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup lint
	$(BIN)/pytest -m "slow or not slow" -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

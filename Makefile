# JoinedUp: the two commands in the README (`make demo`, `make test`) do all of the set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASSETS := node_modules/.installed

.PHONY: demo test lint types unit bench lock clean

$(INSTALLED): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(INSTALLED)

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(ASSETS)

## The main job: build the demo place, load it, serve the web app and FHIR API on http://127.0.0.1:8000
demo: $(INSTALLED) $(ASSETS)
	$(BIN)/joinedup demo

## The whole test suite: lint, types, unit and integration tests on SQLite and a real PostgreSQL server, Spark on Java
test: $(INSTALLED) $(ASSETS)
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-java.sh
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 --dist loadgroup -q

lint: $(INSTALLED)
	$(BIN)/ruff check .

types: $(INSTALLED)
	$(BIN)/mypy

## Benchmarks: figures to docs/benchmarks.md beside their targets and a same-run baseline
bench: $(INSTALLED)
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-bench-tools.sh
	$(BIN)/python -m benchmarks

## Re-pin every dependency after changing pyproject.toml
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -e '.[test]'
	.lockenv/bin/pip freeze --exclude-editable --exclude joinedup | sort > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

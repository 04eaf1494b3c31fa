# engage: `make run` serves the demo on http://127.0.0.1:5000; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app engage
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint typecheck pytest migrate demo clean

# Reinstall only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

run: $(VENV)/.installed
	ENGAGE_ENV=$${ENGAGE_ENV:-development} $(FLASK) db upgrade
	ENGAGE_ENV=$${ENGAGE_ENV:-development} $(FLASK) engage demo
	ENGAGE_ENV=$${ENGAGE_ENV:-development} $(FLASK) engage serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed lint typecheck pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check engage tests bench wsgi.py migrations/env.py
	$(BIN)/ruff format --check engage tests bench wsgi.py

typecheck: $(VENV)/.installed
	$(BIN)/mypy

pytest: $(VENV)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

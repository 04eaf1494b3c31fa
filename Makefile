# engage: `make run` serves the demo on http://127.0.0.1:5000; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app engage
HOST ?= 127.0.0.1
PORT ?= 5000
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint typecheck pytest browser migrate demo clean

# Reinstall only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

run: $(VENV)/.installed
	ENGAGE_ENV=$${ENGAGE_ENV:-development} $(FLASK) db upgrade
	ENGAGE_ENV=$${ENGAGE_ENV:-development} $(FLASK) engage demo --history
	ENGAGE_ENV=$${ENGAGE_ENV:-development} $(FLASK) engage serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed lint typecheck pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check engage tests bench wsgi.py gunicorn.conf.py migrations/env.py
	$(BIN)/ruff format --check engage tests bench wsgi.py gunicorn.conf.py

typecheck: $(VENV)/.installed
	$(BIN)/mypy

pytest: $(VENV)/.installed browser
	$(BIN)/pytest $(PYTEST_ARGS)

# tests/browser drives Debian's Chromium (Playwright's own browser downloads cannot work here).
# Install it when missing and we may; otherwise that test skips, or fails with CI=true.
browser:
	@test -x $(CHROMIUM) || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        echo "installing Debian's chromium for tests/browser"; \
	        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	            || echo "could not install chromium: tests/browser will skip (fail with CI=true)"; \
	    else \
	        echo "$(CHROMIUM) is missing and only root can install it: tests/browser will skip (fail with CI=true)"; \
	    fi; \
	}

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Boomerang: `make demo` serves a demo store; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: demo test lint bench install install-dev browser migrate clean i18n

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime

install-dev: $(VENV)/.dev

# Debian's Chromium drives the browser tests (never `playwright install`).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Browser tests need Debian's Chromium: sudo apt-get install -y chromium" >&2; exit 1; fi; }

migrate: install
	$(BIN)/flask db upgrade

# The sandbox (a fake Shopify, state in instance/sandbox.pkl) runs beside the app on :8001; the demo
# account is connected to its demo shop and imports 30 days of orders; Ctrl-C stops both.
demo: install
	@BOOMERANG_ENV=development $(BIN)/flask db upgrade
	@BOOMERANG_ENV=development $(BIN)/flask demo run --host 127.0.0.1 --port 5000 --sandbox-port 8001

# The suite runs against whatever TEST_DATABASE_URL / TEST_REDIS_URL say: SQLite and in-process
# jobs when unset (the embedded default), PostgreSQL and Redis when set (the production shape).
test: install-dev browser
	BOOMERANG_ENV=test $(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff's rules and per-file exceptions live in pyproject.toml.
lint: install-dev
	$(BIN)/ruff check .

# The portal's messages: extract them from the code and templates (babel.cfg) into the template
# catalogue, merge it into each language's .po, and compile the .mo files the app reads. The .mo
# files are committed (a clean clone works without this step); tests/unit/test_translations.py
# fails when a .po and its .mo differ or a message is missing from a catalogue.
I18N := app/translations
i18n: install
	$(BIN)/pybabel extract -F babel.cfg --ignore-dirs ".* __pycache__" -k lazy_gettext -k N_ --no-location --sort-output \
	  --project Boomerang --copyright-holder Boomerang -o $(I18N)/messages.pot .
	$(BIN)/pybabel update -i $(I18N)/messages.pot -d $(I18N) --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile --statistics -d $(I18N)

bench: install-dev
	BOOMERANG_ENV=test $(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance test-artifacts

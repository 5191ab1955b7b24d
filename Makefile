# Front Desk for Wix Bookings — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed
# Two test processes: this machine (and CI's) has two cores.
PYTEST_ARGS ?= -n 2

.PHONY: run serve-production test test-postgres setup demo lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)
	@mkdir -p var

## make run: set up (venv, install, migrate, roles, demo data) and start the web app + worker.
## make passes no SIGTERM on to what it runs: serve stops the app and the worker when make is gone.
run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py setup_demo
	$(PY) manage.py serve --port $(PORT) --stop-with-parent

## make serve-production: the deploy command (README "Deploying"): migrate, static files, roles,
## then gunicorn on all addresses and the worker, configured from the environment.
serve-production: setup
	$(PY) manage.py serve --production

## make test: set up and run the whole suite (browser tests run when Chromium is installed).
test: setup
	@if [ -x /usr/bin/chromium ]; then echo "Chromium found: browser tests will run."; \
	 else echo "NOTE: /usr/bin/chromium is missing, so the browser tests are SKIPPED (apt-get install chromium)."; fi
	$(PY) -m pytest -p no:cacheprovider -q $(PYTEST_ARGS)

## The same suite against PostgreSQL (CI runs this too).
test-postgres: setup
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(PY) -m pytest -p no:cacheprovider -q $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/pages.py

clean:
	rm -rf var/*.sqlite3* var/staticfiles test-artifacts

# csplatform — the fixed entry points: `make run`, `make test`, `make bench`.
SHELL := /bin/bash
# Python 3.11 is required; prefer an explicit python3.11 when the default python3 is another version.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
export PYTHONUNBUFFERED := 1

.PHONY: run test bench lint typecheck check migrate seed install clean

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
		|| { echo "csplatform needs Python 3.11 (found: $$($(PYTHON) --version)); run: make PYTHON=/path/to/python3.11 ..."; exit 1; }
	@test -x $(PY) || { echo "Creating the virtualenv in $(VENV)..."; $(PYTHON) -m venv $(VENV); }
	@echo "Installing pinned dependencies (requirements.lock)..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

install: $(VENV)/.installed

migrate: install
	@$(PY) manage.py migrate --noinput

seed: migrate
	@$(PY) manage.py seed_demo --if-empty

## Start web + worker + beat on the embedded default (SQLite, filesystem broker under var/, or
## VAR_DIR). Seeds demo data into an empty database. Ctrl-C stops all three.
run: seed
	@$(PY) manage.py collectstatic --noinput --verbosity 0
	@$(PY) manage.py demo_logins --port $(PORT)
	@SITE_URL="$${SITE_URL:-http://localhost:$(PORT)}" exec $(VENV)/bin/honcho start -f Procfile

## The whole test suite (SQLite by default; CI sets DATABASE_URL and CELERY_BROKER_URL).
test: install
	@scripts/ensure-chromium
	@$(PY) manage.py makemigrations --check --dry-run >/dev/null || { echo "Model changes without migrations: run makemigrations."; exit 1; }
	@$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "No tests were collected: that is a failure of the suite."; exit 1; fi; \
	exit $$status

## Benchmarks on PostgreSQL (DATABASE_URL, default the local server) and Redis.
bench: install
	@$(PY) -m bench $(BENCH_ARGS)

lint: install
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check . || true

typecheck: install
	@$(VENV)/bin/mypy .

## Linters, types, migrations and Django's checks: the quick part of .ci/run.
check: lint typecheck
	@$(PY) manage.py makemigrations --check --dry-run
	@$(PY) manage.py check

clean:
	rm -rf var staticfiles test-artifacts

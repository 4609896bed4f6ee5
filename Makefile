# csplatform — the fixed entry points: `make run`, `make test`, `make bench`.
SHELL := /bin/bash
# Python 3.11 is required; prefer an explicit python3.11 when the default python3 is another version.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
export PYTHONUNBUFFERED := 1

.PHONY: run serve serve-seed test bench lint typecheck check migrate seed install clean

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
		|| { echo "csplatform needs Python 3.11 (found: $$($(PYTHON) --version)); run: make PYTHON=/path/to/python3.11 ..."; exit 1; }
	@test -x $(PY) || { echo "Creating the virtualenv in $(VENV)..."; $(PYTHON) -m venv $(VENV); }
	@echo "Installing pinned dependencies (requirements.lock)..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

install: $(VENV)/.installed

# Without DATABASE_URL, commands run through csplatform.embedded_db: it starts the embedded
# PostgreSQL under VAR_DIR once, points DATABASE_URL at it and stops it when the command ends.
WITH_DB := $(PY) -m csplatform.embedded_db --

migrate: install
	@$(WITH_DB) $(PY) manage.py migrate --noinput

seed: install
	@$(WITH_DB) $(MAKE) --no-print-directory serve-seed

## Start web + worker + beat on the embedded default (PostgreSQL under var/ or VAR_DIR, filesystem
## broker). Seeds demo data into an empty database. Ctrl-C stops all three and the database.
run: install
	@$(WITH_DB) $(MAKE) --no-print-directory serve

# Targets run inside WITH_DB (DATABASE_URL set): not meant to be called directly.
serve-seed:
	@$(PY) manage.py migrate --noinput
	@$(PY) manage.py seed_demo --if-empty

serve: serve-seed
	@$(PY) manage.py collectstatic --noinput --verbosity 0
	@$(PY) manage.py demo_logins --port $(PORT)
	@SITE_URL="$${SITE_URL:-http://localhost:$(PORT)}" exec $(VENV)/bin/honcho start -f Procfile

## The whole test suite, on the embedded PostgreSQL (a throw-away test database on it), or on the
## server DATABASE_URL names (CI sets DATABASE_URL and CELERY_BROKER_URL).
test: install
	@scripts/ensure-chromium
	@$(WITH_DB) $(PY) manage.py makemigrations --check --dry-run >/dev/null || { echo "Model changes without migrations: run makemigrations."; exit 1; }
	@$(WITH_DB) $(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "No tests were collected: that is a failure of the suite."; exit 1; fi; \
	exit $$status

## Benchmarks on PostgreSQL (DATABASE_URL, default the local server) and Redis.
bench: install
	@$(PY) -m bench $(BENCH_ARGS)

lint: install
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

typecheck: install
	@$(VENV)/bin/mypy .

## Linters, types, migrations and Django's checks: the quick part of .ci/run.
check: lint typecheck
	@$(WITH_DB) $(PY) manage.py makemigrations --check --dry-run
	@$(WITH_DB) $(PY) manage.py check

clean:
	rm -rf var staticfiles test-artifacts

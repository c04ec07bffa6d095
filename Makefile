# Imperium — two commands on a fresh machine:
#   make run    set up .venv, migrate, seed a demo tenant, start web + worker + beat
#   make test   set up .venv and run the whole suite (lint, import layering, migrations check, pytest)

SHELL := /bin/bash
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint bench bench-webhook bench-pipeline venv clean help

help:
	@echo "make run   - start Imperium locally (http://127.0.0.1:$(PORT))"
	@echo "make test  - run the whole test suite"
	@echo "make lint  - ruff and the import layering (lint-imports)"
	@echo "make bench - webhook and pipeline benchmarks (Postgres, Redis, wrk; see docs/BENCHMARKS.md)"

$(VENV)/bin/python:
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.11+ is required (python3 --version)"; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changes.
$(VENV)/.deps-run: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.deps-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.deps-run

venv: $(VENV)/.deps-dev

run: $(VENV)/.deps-run
	$(PY) manage.py migrate --noinput
	$(PY) manage.py check --tag services --database default
	# PUBLIC_BASE_URL follows PORT unless set: the sentinel's web.health check, webhook_send and
	# onboard_tenant use it; bootstrap_local remembers it in var/ for commands run from another shell.
	$(PY) manage.py bootstrap_local --port $(PORT) --public-base-url "$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)}"
	IMPERIUM_PORT=$(PORT) PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)}" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
		$(VENV)/bin/honcho -f Procfile.local start

test: $(VENV)/.deps-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run --settings imperium.test_settings >/dev/null
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.deps-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# Benchmarks (docs/BENCHMARKS.md): need Postgres, Redis and wrk; BENCH_DATABASE_URL / BENCH_REDIS_URL
# name a database and a Redis db the benchmark may empty (defaults: imperium_bench, db 13).
bench-webhook: $(VENV)/.deps-dev
	bench/run_webhook.sh

bench-pipeline: $(VENV)/.deps-dev
	bench/run_pipeline.sh

bench: bench-webhook bench-pipeline

clean:
	rm -rf $(VENV) var

# Imperium — two commands on a fresh machine:
#   make run    set up .venv, migrate, seed a demo tenant, start web + worker + beat
#   make test   set up .venv and run the whole suite (lint, import layering, migrations check, pytest)

SHELL := /bin/bash
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Two pytest-xdist workers: pytest takes ~6 min instead of ~11 on a 2-core machine. Each worker has its own
# test database; shared Redis keys are per test, in the test process (conftest.py) and in the live processes a
# test starts (conversations/testing/live.py). `make test PYTEST_ARGS=` runs it in one process.
PYTEST_ARGS ?= -n 2

.PHONY: run test lint lock bench bench-webhook bench-pipeline bench-pipeline-crm bench-backlog venv clean help

help:
	@echo "make run   - start Imperium locally (http://127.0.0.1:$(PORT))"
	@echo "make test  - run the whole test suite"
	@echo "make lint  - ruff and the import layering (lint-imports)"
	@echo "make lock  - recompile requirements.lock / requirements-dev.lock after editing requirements*.txt"
	@echo "make bench - webhook and pipeline benchmarks (Postgres, Redis, wrk; see docs/BENCHMARKS.md)"

$(VENV)/bin/python:
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.11+ is required (python3 --version)"; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Installs come from the lock files (exact versions, every file's hash checked); requirements.txt
# and requirements-dev.txt are the human lists they are compiled from (`make lock`).
# Reinstall only when a lock file changes.
$(VENV)/.deps-run: requirements.lock | $(VENV)/bin/python
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	@touch $@

$(VENV)/.deps-dev: requirements.lock requirements-dev.lock | $(VENV)/bin/python
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	@touch $@ $(VENV)/.deps-run

# Recompile both lock files from requirements.txt / requirements-dev.txt (after changing a pin or
# adding a package there), for Python 3.11 and later, with hashes, from PyPI. Commit the result;
# imperium/tests/test_locks.py fails while a human list and the locks disagree.
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --no-config --universal --python-version 3.11 --generate-hashes \
	--index-url https://pypi.org/simple
lock: $(VENV)/bin/python
	@test -x $(VENV)/bin/uv || $(PY) -m pip install --quiet "$$(grep -E '^uv==' requirements-dev.txt)"
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-dev.txt --constraint requirements.lock -o requirements-dev.lock

venv: $(VENV)/.deps-dev

# honcho (the process runner) is a development tool: it comes with the dev lock.
run: $(VENV)/.deps-dev
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

# The pipeline with the salon CRM: 1 turn in 5 asks the fake CRM at 50 ms (docs/BENCHMARKS.md).
bench-pipeline-crm: $(VENV)/.deps-dev
	bench/run_pipeline_crm.sh

# 100 messages/s from new customers for 2 minutes, one worker process SIGKILLed halfway and restarted:
# lost, doubled, redundant turn tasks, re-notifies, reply latency (docs/BENCHMARKS.md "Backlog and recovery").
# BENCH_BACKLOG_ARGS="--rate 20 --duration 10" for a short run.
bench-backlog: $(VENV)/.deps-dev
	bench/run_backlog.sh

bench: bench-webhook bench-pipeline

clean:
	rm -rf $(VENV) var

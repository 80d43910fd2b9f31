# Two commands for a newcomer: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres lint bench fuzz install clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	$(PY) manage.py collectstatic --noinput --verbosity 0
	HOST=$(HOST) PORT=$(PORT) PYTHON=$(PY) scripts/run-site.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

# Lint, then the whole suite on the embedded default (SQLite) and on PostgreSQL, with
# real Redis, a Celery worker, an S3 server and Chromium started for the run.
test: $(STAMP)
	scripts/ensure-system-packages.sh
	$(MAKE) --no-print-directory lint
	scripts/with-test-services.sh scripts/run-tests.sh

# schemathesis over the API schema with many more examples than `make test`, as the owner,
# another user and a guest (scripts/fuzz.sh: FUZZ_EXAMPLES, FUZZ_SECONDS, FUZZ_ROLES).
fuzz: $(STAMP)
	scripts/fuzz.sh

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) bench/upload.py
	$(PY) bench/derivatives.py
	$(PY) bench/purge.py
	$(PY) bench/hostile.py
	$(PY) bench/upload_bodies.py
	$(PY) bench/embedded_queue.py
	$(PY) bench/listing.py
	$(PY) bench/pages.py
	$(PY) bench/import.py

clean:
	rm -rf $(VENV) var

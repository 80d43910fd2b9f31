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

# Every benchmark, each printing its own report, then one table of their headline figures
# and ratios (bench/results.py writes them to BENCH_RESULTS, bench/summary.py prints them).
# A benchmark that fails does not stop the others; the target fails after the table.
# bench/load.py runs on both layouts (LOAD_ARGS, e.g. "--duration 15", is passed to it).
BENCHES ?= upload derivatives purge hostile upload_bodies embedded_queue listing pages import slow_clients
BENCH_RESULTS ?= var/bench-results.jsonl
LOAD_ARGS ?=
bench: $(STAMP)
	scripts/ensure-system-packages.sh
	$(PY) -m pip install --quiet -e '.[test,bench]'
	@mkdir -p $(dir $(BENCH_RESULTS)); : > $(BENCH_RESULTS); failed=""; \
	for name in $(BENCHES); do \
	  echo "== bench/$$name.py"; \
	  BENCH_RESULTS=$(abspath $(BENCH_RESULTS)) $(PY) bench/$$name.py || failed="$$failed $$name"; \
	done; \
	for layout in embedded production; do \
	  echo "== bench/load.py --layout $$layout $(LOAD_ARGS)"; \
	  BENCH_RESULTS=$(abspath $(BENCH_RESULTS)) $(PY) bench/load.py --layout $$layout $(LOAD_ARGS) \
	    || failed="$$failed load-$$layout"; \
	done; \
	BENCH_FAILED="$$failed" $(PY) bench/summary.py $(BENCH_RESULTS)

clean:
	rm -rf $(VENV) var

#!/usr/bin/env bash
# The whole suite twice: on the embedded default (SQLite) and on PostgreSQL.
# with-test-services.sh has started PostgreSQL, Redis and S3 and exported TEST_* variables.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=${PYTEST:-.venv/bin/pytest}

run() {
  local label=$1; shift
  echo "== pytest on $label =="
  "$@"
  local status=$?
  # pytest exits 5 when it collected nothing: not a failure of the code under test.
  if [ "$status" -eq 5 ]; then
    echo "no tests collected on $label"
    return 0
  fi
  return "$status"
}

status=0
run "SQLite" env -u DATABASE_URL "$PYTEST" "$@" || status=1
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  run "PostgreSQL" env DATABASE_URL="$TEST_DATABASE_URL" "$PYTEST" "$@" || status=1
else
  echo "TEST_DATABASE_URL is not set: run through 'make test' to test on PostgreSQL" >&2
  status=1
fi
exit "$status"

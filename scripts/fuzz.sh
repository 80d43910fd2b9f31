#!/usr/bin/env bash
# `make fuzz`: schemathesis over the API schema for longer than `make test` does, as the
# owner of the fixtures, as another user and as a guest, in-process (no network).
# FUZZ_EXAMPLES: generated examples per operation (default 500).
# FUZZ_SECONDS: time bound of each role's run (default 300).
# FUZZ_ROLES: which roles (default "owner other guest").
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=${PYTEST:-.venv/bin/pytest}
export FUZZ_EXAMPLES=${FUZZ_EXAMPLES:-500}
export FUZZ_SECONDS=${FUZZ_SECONDS:-300}

status=0
for role in ${FUZZ_ROLES:-owner other guest}; do
  echo "== schemathesis as $role: $FUZZ_EXAMPLES examples per operation, at most ${FUZZ_SECONDS}s =="
  FUZZ_AS=$role "$PYTEST" -q -s tests/api_v4/test_schemathesis.py "$@" || status=1
done
exit "$status"

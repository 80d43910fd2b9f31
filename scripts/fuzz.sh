#!/usr/bin/env bash
# `make fuzz`: the fuzzers of `make test`, run for much longer, in-process (no network).
# 1. schemathesis over the API schema as the owner of the fixtures, as another user and as
#    a guest, every phase (examples, coverage, fuzzing, and the stateful phase following
#    the schema's links);
# 2. the hypothesis property tests (the id codec, /api/1/upload's parameters) under the
#    `fuzz` profile of tests/conftest.py.
# FUZZ_EXAMPLES: generated examples per operation (default 500).
# FUZZ_STEPS: the longest chain of calls in the stateful phase (default 20).
# FUZZ_SECONDS: time bound of each role's schemathesis run (default 300).
# FUZZ_ROLES: which roles (default "owner other guest").
# FUZZ_SEED: schemathesis' seed (default 8, as in `make test`); another tries other inputs.
# HYPOTHESIS_PROFILE: the property tests' profile (default fuzz: 5000 examples a test).
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
echo "== property tests, hypothesis profile ${HYPOTHESIS_PROFILE:-fuzz} =="
HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-fuzz} "$PYTEST" -q --hypothesis-show-statistics \
  tests/core/test_idcodec_properties.py tests/api_v1/test_properties.py "$@" || status=1
exit "$status"

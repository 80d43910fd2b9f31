#!/usr/bin/env bash
# Run a command with PostgreSQL, Redis and an S3 server started for it, then stop them.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d "${TMPDIR:-/tmp}/chevereto-test-XXXXXX")
trap '"$HERE/test-services.sh" stop "$DIR"' EXIT
trap 'exit 130' INT TERM
if ! "$HERE/test-services.sh" start "$DIR"; then
  echo "could not start the test servers" >&2
  exit 1
fi
# shellcheck disable=SC1091
source "$DIR/env"
"$@"

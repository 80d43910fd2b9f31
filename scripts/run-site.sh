#!/usr/bin/env bash
# Start the site on its embedded default: gunicorn for the web, and a Celery worker with
# beat on the filesystem broker (no server to install). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
BIN=$(dirname "$PY")
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-"127.0.0.1,localhost,[::1],$HOST"}
# util-linux's setsid (every Linux); elsewhere there is no autogroup to escape.
SETSID=$(command -v setsid || true)

worker_pid=""
web_pid=""
cleanup() {
  trap - EXIT INT TERM HUP
  # The worker leads a session of its own (below): a Ctrl-C or a hangup reaches only this
  # script and the web server, so the script stops the worker (and the web server, when
  # the script alone was signalled) and waits for both.
  for pid in $worker_pid $web_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $worker_pid $web_pid; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP

if [ "${CELERY_TASK_ALWAYS_EAGER:-0}" != "1" ]; then
  # A separate beat process is the production layout; embedded, one worker runs both.
  # Kombu's filesystem transport moves each message it takes into the temp folder: var/tmp
  # keeps that under var/, on the queue's disk (a rename, atomic, never a copy).
  mkdir -p "${CHEVERETO_VAR_DIR:-var}/tmp"
  # In a session of its own, like the web workers (chevereto/gunicorn_conf.py): Linux's
  # autogroup shares the CPU between sessions first, and the worker lowers its session's
  # share to its nice (CELERY_WORKER_NICE), so renders take what the web leaves.
  TMPDIR="${CHEVERETO_VAR_DIR:-var}/tmp" \
  $SETSID "$BIN/celery" -A chevereto worker -B --concurrency "${CELERY_CONCURRENCY:-2}" \
    --loglevel "${CELERY_LOGLEVEL:-warning}" &
  worker_pid=$!
fi

echo "Site: http://$HOST:$PORT/  (dashboard: http://$HOST:$PORT/dashboard/)"
# Every web-server setting (workers, timeouts, the redacting access log) lives in
# chevereto/gunicorn_conf.py, read from the environment.
HOST="$HOST" PORT="$PORT" "$BIN/gunicorn" -c chevereto/gunicorn_conf.py chevereto.wsgi:application &
web_pid=$!
wait "$web_pid"

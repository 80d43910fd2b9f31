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

worker_pid=""
cleanup() {
  if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then
    kill -TERM "$worker_pid" 2>/dev/null || true
    wait "$worker_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

if [ "${CELERY_TASK_ALWAYS_EAGER:-0}" != "1" ]; then
  # A separate beat process is the production layout; embedded, one worker runs both.
  # Kombu's filesystem transport moves each message it takes into the temp folder: var/tmp
  # keeps that under var/, on the queue's disk (a rename, atomic, never a copy).
  mkdir -p "${CHEVERETO_VAR_DIR:-var}/tmp"
  TMPDIR="${CHEVERETO_VAR_DIR:-var}/tmp" \
  "$BIN/celery" -A chevereto worker -B --concurrency "${CELERY_CONCURRENCY:-2}" \
    --loglevel "${CELERY_LOGLEVEL:-warning}" &
  worker_pid=$!
fi

echo "Site: http://$HOST:$PORT/  (dashboard: http://$HOST:$PORT/dashboard/)"
# Every web-server setting (workers, timeouts, the redacting access log) lives in
# chevereto/gunicorn_conf.py, read from the environment. The worker above shares this
# script's session, where its nice is all that keeps it below the web: web workers in
# sessions of their own would leave it a session's whole CPU share (bench/load.py
# --layout embedded: 37.9 uploads/s with them, 46.4 without).
GUNICORN_WORKER_SESSIONS="${GUNICORN_WORKER_SESSIONS:-0}" \
HOST="$HOST" PORT="$PORT" "$BIN/gunicorn" -c chevereto/gunicorn_conf.py chevereto.wsgi:application &
web_pid=$!
wait "$web_pid"

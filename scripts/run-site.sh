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
# The access log leaves out query strings (API V1 clients may send their key as ?key=) and
# masks delete tokens and API keys in paths (chevereto.gunicorn_logging).
"$BIN/gunicorn" chevereto.wsgi:application \
  --bind "$HOST:$PORT" \
  --workers "${WEB_CONCURRENCY:-2}" --threads "${GUNICORN_THREADS:-4}" \
  --timeout 120 --access-logfile - --logger-class chevereto.gunicorn_logging.RedactingLogger \
  --access-logformat '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)ss "%(a)s"' &
web_pid=$!
wait "$web_pid"

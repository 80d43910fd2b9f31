"""Gunicorn settings, read from the environment.

Start the web server with `gunicorn -c chevereto/gunicorn_conf.py chevereto.wsgi:application`
(`make run` does). Every setting has an environment variable so the embedded default and a
production host run the same file.
"""

from __future__ import annotations

import os

# gevent: a connection that waits on the network (a slow upload, a slow reader) costs a
# greenlet, not one of a handful of threads; chevereto.core.slowclients reads bodies in
# full before a view runs and caps how many views run at once (WEB_APP_SLOTS).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
if worker_class == "gevent":
    # Before gunicorn imports the site (logger_class below pulls in Celery and what it
    # imports): ssl must already be gevent's, or boto3's S3 client dies in a RecursionError
    # once the worker patches ssl late (gevent issue 1016). The worker patches the rest.
    from gevent import monkey

    monkey.patch_ssl()


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


bind = os.environ.get("GUNICORN_BIND") or (
    f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
workers = _int("WEB_CONCURRENCY", 2)
worker_connections = _int("GUNICORN_WORKER_CONNECTIONS", 1000)
threads = _int("GUNICORN_THREADS", 4)  # gthread only
# A worker silent for this long is killed and replaced. Under gevent a long render made on
# demand by the web process keeps its heartbeat silent too: this must stay above the
# longest one.
timeout = _int("GUNICORN_TIMEOUT", 120)
# On SIGTERM: stop accepting, finish the requests in flight (uploads included) for up to
# this long, then exit.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Also the time a client has to send its request line and headers (gevent worker).
keepalive = _int("GUNICORN_KEEPALIVE", 5)
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# The access log leaves out query strings (API V1 clients may send their key as ?key=) and
# masks delete tokens and API keys in paths (chevereto.gunicorn_logging).
# An empty GUNICORN_ACCESSLOG turns the access log off.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
logger_class = "chevereto.gunicorn_logging.RedactingLogger"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)ss "%(a)s"'

# Gunicorn's control socket defaults to one path per user (~/.gunicorn): two sites (or a
# site and a test server) on one host would fight over it. Off unless a path is given.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket

# Each worker leads a session of its own. Linux with autogroup (sched_autogroup_enabled, on
# by default in Debian's and Ubuntu's kernels) shares the CPU between sessions before it
# looks at processes: all the workers of one session got, together, the share of a single
# PostgreSQL backend (each leads its own session) or of the S3 server, and a busy site's
# uploads waited for CPU the machine had (bench/load.py). Signals still come from the
# master, which is what stops them; a worker whose master is gone exits by itself.
worker_sessions = _int("GUNICORN_WORKER_SESSIONS", 1) != 0


def post_fork(server: object, worker: object) -> None:
    if worker_sessions:
        os.setsid()

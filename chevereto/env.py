"""Typed readers for environment variables.

Settings come from the environment; a wrong value must stop start-up with a message that
names the variable, instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), got {raw!r}")


def _parse_int(name: str, raw: str, *, minimum: int | None = None) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else _parse_bool(name, raw)


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return _parse_int(name, raw, minimum=minimum)


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret_key(name: str, key_file: Path) -> str:
    """The secret key from the environment, else one generated once into ``key_file``.

    Generating it keeps a fresh checkout runnable without ever committing a key; keeping it
    in a file keeps sessions valid across restarts.
    """
    value = os.environ.get(name)
    if value:
        return value
    if key_file.exists():
        stored = key_file.read_text().strip()
        if stored:
            return stored
    key_file.parent.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_urlsafe(50)
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(generated)
    return generated


_DB_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
    "sqlite": "django.db.backends.sqlite3",
}


def database_from_url(name: str, url: str) -> dict[str, object]:
    """A Django DATABASES entry from ``postgres://user:pass@host:port/db`` or ``sqlite:///path``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid URL: {exc}") from None
    engine = _DB_ENGINES.get(parts.scheme)
    if engine is None:
        raise ImproperlyConfigured(
            f"{name} must start with postgres:// or sqlite:///, got scheme {parts.scheme!r}"
        )
    if engine.endswith("sqlite3"):
        # sqlite:////abs/path.db is an absolute path, sqlite:///rel.db a relative one.
        path = unquote(parts.path)[1:]
        if parts.netloc or not path or path == "/":
            raise ImproperlyConfigured(f"{name} must look like sqlite:////absolute/path.db")
        return {"ENGINE": engine, "NAME": path}
    db_name = unquote(parts.path.lstrip("/"))
    if not db_name or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name} must look like postgres://user:password@host:5432/dbname, got {url!r}"
        )
    options: dict[str, object] = dict(parse_qsl(parts.query))
    pooled = _parse_bool(f"{name}: pool", str(options.pop("pool", "true")))
    pool_size = _parse_int(
        f"{name}: pool_max_size", str(options.pop("pool_max_size", "8")), minimum=1
    )
    conn_max_age = options.pop("conn_max_age", None)
    if pooled:
        # A pool per process (psycopg_pool, through Django): a request or a task borrows a
        # connection and gives it back, instead of opening one (a PostgreSQL backend forked,
        # authenticated) every time. Under gevent every request runs in a greenlet of its
        # own, so without the pool no connection would ever be reused.
        if conn_max_age is not None:
            raise ImproperlyConfigured(f"{name}: conn_max_age applies only with pool=false")
        max_age = 0
        # Borrowed connections are checked first (CONN_HEALTH_CHECKS); a request that waits
        # longer than `timeout` for one fails as a database that cannot be reached (503).
        options["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 10}
    else:
        max_age = _parse_int(f"{name}: conn_max_age", str(conn_max_age or "60"), minimum=0)
    return {
        "ENGINE": engine,
        "NAME": db_name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname,
        "PORT": str(port or ""),
        "CONN_MAX_AGE": max_age,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }

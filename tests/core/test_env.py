from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from chevereto.env import database_from_url, env_bool, env_int, env_list, secret_key

ROOT = Path(__file__).resolve().parents[2]


def test_it_reads_a_postgres_url_into_django_settings() -> None:
    db = database_from_url(
        "DATABASE_URL", "postgres://u%40x:p%2Fw@db.local:6543/site?sslmode=require"
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u@x",
        "p/w",
        "db.local",
        "6543",
        "site",
    )
    # A pool per process by default: connections are borrowed, never opened per request.
    assert db["OPTIONS"] == {
        "sslmode": "require",
        "pool": {"min_size": 1, "max_size": 8, "timeout": 10},
    }
    assert db["CONN_MAX_AGE"] == 0 and db["CONN_HEALTH_CHECKS"] is True


def test_the_pool_size_is_set_in_the_url_or_the_pool_turned_off() -> None:
    sized = database_from_url("DATABASE_URL", "postgres://u:p@h/db?pool_max_size=20")
    assert sized["OPTIONS"]["pool"]["max_size"] == 20  # type: ignore[index]
    off = database_from_url("DATABASE_URL", "postgres://u:p@h/db?pool=false&conn_max_age=30")
    assert off["OPTIONS"] == {} and off["CONN_MAX_AGE"] == 30
    assert database_from_url("DATABASE_URL", "postgres://u:p@h/db?pool=0")["CONN_MAX_AGE"] == 60


@pytest.mark.parametrize(
    "query",
    [
        "pool=maybe",
        "pool_max_size=0",
        "pool_max_size=lots",
        "conn_max_age=30",
        "pool=no&conn_max_age=-1",
    ],
)
def test_it_refuses_bad_pool_settings(query: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url("DATABASE_URL", f"postgres://u:p@h/db?{query}")


def test_it_reads_a_sqlite_url() -> None:
    assert database_from_url("DATABASE_URL", "sqlite:////tmp/x.db")["NAME"] == "/tmp/x.db"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:p@h/db",
        "postgres://",
        "postgres://host",
        "postgres://h:notaport/db",
        "sqlite://relative.db",
        "garbage",
    ],
)
def test_it_refuses_a_malformed_database_url(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url("DATABASE_URL", url)


def test_it_refuses_a_non_integer_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPLOAD_MAX_PIXELS", "lots")
    with pytest.raises(ImproperlyConfigured, match="UPLOAD_MAX_PIXELS must be an integer"):
        env_int("UPLOAD_MAX_PIXELS", 10)


def test_it_refuses_a_limit_below_its_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPLOAD_URL_TIMEOUT", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("UPLOAD_URL_TIMEOUT", 10, minimum=1)


def test_it_reads_booleans_and_refuses_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUG", "yes")
    assert env_bool("DEBUG") is True
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be a boolean"):
        env_bool("DEBUG")


def test_it_splits_lists_and_drops_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", "a.example, b.example,,")
    assert env_list("ALLOWED_HOSTS") == ["a.example", "b.example"]


def test_it_generates_the_secret_key_once_and_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key_file = tmp_path / "var" / "secret_key"
    first = secret_key("SECRET_KEY", key_file)
    assert len(first) >= 50
    assert secret_key("SECRET_KEY", key_file) == first
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def _start_with(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "CHEVERETO_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_up_stops_with_a_clear_message_on_a_malformed_database_url(tmp_path: Path) -> None:
    result = _start_with({"DATABASE_URL": "postgres://nohost"}, tmp_path)
    assert result.returncode != 0
    assert "DATABASE_URL must look like postgres://" in result.stderr


def test_start_up_stops_with_a_clear_message_on_a_non_integer_limit(tmp_path: Path) -> None:
    result = _start_with({"DATA_UPLOAD_MAX_MEMORY_SIZE": "big"}, tmp_path)
    assert result.returncode != 0
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE must be an integer" in result.stderr


def test_start_up_stops_on_a_bad_trusted_proxy(tmp_path: Path) -> None:
    result = _start_with({"TRUSTED_PROXIES": "10.0.0.0/8,not-an-ip"}, tmp_path)
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr


def test_a_fresh_checkout_starts_with_no_environment_at_all(tmp_path: Path) -> None:
    result = _start_with({}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").exists()

"""Email settings from the environment: the console by default, SMTP when EMAIL_HOST is set."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from chevereto.settings import email_settings

_NAMES = (
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
    "DEFAULT_FROM_EMAIL",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _NAMES:
        monkeypatch.delenv(name, raising=False)


def test_without_a_host_mail_is_printed_to_the_console() -> None:
    config = email_settings()
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert "EMAIL_HOST" not in config


def test_a_host_turns_on_smtp_with_every_setting_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    monkeypatch.setenv("EMAIL_PORT", "2525")
    monkeypatch.setenv("EMAIL_HOST_USER", "mailer")
    monkeypatch.setenv("EMAIL_HOST_PASSWORD", "s3cret")
    monkeypatch.setenv("EMAIL_USE_TLS", "yes")
    monkeypatch.setenv("DEFAULT_FROM_EMAIL", "Pictures <no-reply@example.com>")
    config = email_settings()
    assert config == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "s3cret",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 15,
        "DEFAULT_FROM_EMAIL": "Pictures <no-reply@example.com>",
    }


@pytest.mark.parametrize(("tls", "ssl", "port"), [("0", "0", 25), ("1", "0", 587), ("0", "1", 465)])
def test_the_default_port_follows_the_encryption(
    monkeypatch: pytest.MonkeyPatch, tls: str, ssl: str, port: int
) -> None:
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    monkeypatch.setenv("EMAIL_USE_TLS", tls)
    monkeypatch.setenv("EMAIL_USE_SSL", ssl)
    assert email_settings()["EMAIL_PORT"] == port


def test_tls_and_ssl_together_stop_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    monkeypatch.setenv("EMAIL_USE_TLS", "1")
    monkeypatch.setenv("EMAIL_USE_SSL", "1")
    with pytest.raises(ImproperlyConfigured, match="EMAIL_USE_TLS and EMAIL_USE_SSL"):
        email_settings()


@pytest.mark.parametrize(("name", "value"), [("EMAIL_PORT", "smtp"), ("EMAIL_USE_TLS", "maybe")])
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        email_settings()

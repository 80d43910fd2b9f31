from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from accounts.models import User
from accounts.services import api_key_create
from chevereto.celery import app as celery_app
from chevereto.core import bans
from chevereto.core.bans import ip_bans_cache_known_empty, ip_bans_clear_cache
from chevereto.core.models import SiteSettings
from uploads.storage import storages_cache_known_empty

# Property tests (hypothesis): a bounded, repeatable run in `make test`; `make fuzz`
# (scripts/fuzz.sh) sets HYPOTHESIS_PROFILE=fuzz for many more, random examples. Tests
# that cost a request per example bound themselves further (tests/api_v1/test_properties.py).
hypothesis_settings.register_profile(
    "bounded",
    max_examples=100,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    # Each example runs inside the test's transaction and fixtures: that is the point.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "fuzz",
    parent=hypothesis_settings.get_profile("bounded"),
    max_examples=5000,
    derandomize=False,
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "bounded"))


@pytest.fixture(autouse=True)
def _fresh_site_settings() -> Iterator[None]:
    # The per-process settings and bans caches must not carry rows across test transactions.
    SiteSettings.clear_cache()
    # Each test starts on an empty bans table and here one process makes every ban write,
    # each dropping the copy: reading the bans at a test's first request or every few
    # seconds would only add a query to the tests that count queries.
    ip_bans_cache_known_empty()
    storages_cache_known_empty()  # likewise for uploads.storage (no active storage)
    bans.CACHE_SECONDS = float("inf")
    yield
    SiteSettings.clear_cache()
    ip_bans_clear_cache()


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings: LazySettings) -> Path:
    """Every test writes its files into its own temporary media folder."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": "/"},
        },
    }
    upload_tmp = tmp_path / "upload-tmp"
    upload_tmp.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(upload_tmp)
    return root


@pytest.fixture(autouse=True)
def _eager_celery() -> Iterator[None]:
    # Unit tests run tasks in-process; tests/integration runs a real worker instead.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def site(db: None) -> SiteSettings:
    return SiteSettings.load()


@pytest.fixture
def user(db: None) -> User:
    return User.objects.create_user(
        username="alice", email="alice@example.com", password="pw-Alice-123"
    )


@pytest.fixture
def other_user(db: None) -> User:
    return User.objects.create_user(username="bob", email="bob@example.com", password="pw-Bob-123")


@pytest.fixture
def admin_user(db: None) -> User:
    return User.objects.create_superuser(
        username="root", email="root@example.com", password="pw-Root-123"
    )


@pytest.fixture
def api_key(user: User) -> str:
    return api_key_create(user=user).key


@pytest.fixture
def admin_key(admin_user: User) -> str:
    return api_key_create(user=admin_user).key


@pytest.fixture
def client_logged_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"{name} is not set: run the suite with 'make test', which starts the servers"
        )
    return value

"""The throttle counters on Redis (CACHE_URL): shared through the server, counted atomically."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.conf import LazySettings
from django.core.cache import cache
from django.test import Client

from accounts import throttle
from accounts.models import User
from tests.conftest import require_env

pytestmark = pytest.mark.django_db

PREFIX = "chv-test-throttle"


@pytest.fixture
def redis_cache(settings: LazySettings) -> Iterator[redis.Redis]:
    url = require_env("TEST_REDIS_URL")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": PREFIX,
        }
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    server = redis.Redis.from_url(url)
    yield server
    for key in server.scan_iter(f"{PREFIX}:*"):
        server.delete(key)


def test_logins_are_throttled_with_the_counters_in_redis(redis_cache: redis.Redis) -> None:
    User.objects.create_user(username="rita", password="Right-pass-42")
    client = Client()
    for _ in range(3):
        client.post("/login", {"username": "rita", "password": "wrong"})
    locked = client.post("/login", {"username": "rita", "password": "Right-pass-42"})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    keys = [key.decode() for key in redis_cache.scan_iter(f"{PREFIX}:*throttle:login:*")]
    assert any(key.endswith(":until") for key in keys)
    assert all(redis_cache.ttl(key) > 0 for key in keys)  # nothing is kept for ever


def test_failures_sent_at_once_are_all_counted_on_redis(redis_cache: redis.Redis) -> None:
    key = "throttle:test:burst"
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: throttle._bump(key, 60), range(40)))
    assert cache.get(key) == 40

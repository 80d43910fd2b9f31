"""Derivatives asked for at once by several web threads are rendered one at a time, so one
process never holds more than one render's memory."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from tests.uploads.test_visibility import make_upload
from uploads import derivatives, processing
from uploads.models import Image

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_on_demand_renders_take_turns(monkeypatch: pytest.MonkeyPatch, user) -> None:
    uploads = [make_upload(owner=user).image for _ in range(3)]
    Image.objects.filter(pk__in=[u.pk for u in uploads]).update(chain=Image.CHAIN_IMAGE)
    real = processing.render_image_derivatives
    active = 0
    most = 0
    guard = threading.Lock()

    def watched(*args: Any, **kwargs: Any) -> processing.ImageDerivatives:
        nonlocal active, most
        with guard:
            active += 1
            most = max(most, active)
        try:
            time.sleep(0.2)  # long enough for the other threads to arrive
            return real(*args, **kwargs)
        finally:
            with guard:
                active -= 1

    monkeypatch.setattr(processing, "render_image_derivatives", watched)
    errors: list[BaseException] = []

    def render(image_id: int) -> None:
        try:
            derivatives.image_derivatives_generate(image_id=image_id)
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=render, args=(u.pk,)) for u in uploads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert most == 1
    for upload in Image.objects.filter(pk__in=[u.pk for u in uploads]):
        assert upload.has(Image.CHAIN_THUMB) and upload.has(Image.CHAIN_MEDIUM)

"""Uploads are hashed while they stream in: by a helper thread under real threads, in the
request's own greenlet under gevent (where a helper would run on the same OS thread)."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest
from django.test import Client
from PIL import Image as PILImage

from uploads import handlers
from uploads.models import Image

pytestmark = pytest.mark.django_db


def upload_md5(client: Client, key: str, data: bytes) -> str:
    source = io.BytesIO(data)
    source.name = "harbour.jpg"
    response = client.post("/api/1/upload", {"source": source}, HTTP_X_API_KEY=key)
    assert response.status_code == 200, response.content
    return response.json()["image"]["md5"]


@pytest.mark.parametrize("greenlets", [False, True], ids=["threads", "gevent"])
def test_the_md5_of_an_upload_is_its_bytes_md5(
    client: Client, api_key: str, monkeypatch: pytest.MonkeyPatch, greenlets: bool
) -> None:
    monkeypatch.setattr(handlers, "_threads_are_greenlets", lambda: greenlets)
    started: list[object] = []
    real_init = handlers._Hasher.__init__

    def counting_init(self: handlers._Hasher) -> None:
        started.append(self)
        real_init(self)

    monkeypatch.setattr(handlers._Hasher, "__init__", counting_init)
    # Larger than one chunk of the handler, so the digest spans several.
    out = io.BytesIO()
    PILImage.effect_noise((1200, 900), 60).convert("RGB").save(out, "JPEG", quality=95)
    data = out.getvalue()
    assert len(data) > handlers.HashingTemporaryFileUploadHandler.chunk_size
    assert upload_md5(client, api_key, data) == hashlib.md5(data).hexdigest()
    assert Image.objects.get().source_md5 == hashlib.md5(data).hexdigest()
    assert len(started) == (0 if greenlets else 1)
    assert not [t for t in threading.enumerate() if t.name == "upload-md5"]

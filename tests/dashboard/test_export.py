"""A user's data export: every original under its album's folder (nested albums nest) and
manifest.json, built on disk with flat memory; from /settings/export for oneself."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import User
from imports.export import user_export, user_export_write
from tests.factories import client_as, make_album, make_image
from uploads.models import Image

pytestmark = pytest.mark.django_db


def _zip_of(user: User) -> zipfile.ZipFile:
    with user_export(user=user) as out:
        return zipfile.ZipFile(io.BytesIO(out.read()))


def test_originals_sit_in_their_album_folders_with_a_manifest(user: User, other_user: User) -> None:
    trips = make_album(owner=user, name="Trips")
    rome = make_album(owner=user, name="Rome", parent=trips)
    in_rome = make_image(owner=user, album=rome, title="Forum")
    loose = make_image(owner=user, title="Loose one")
    make_image(owner=other_user, title="Not hers")
    archive = _zip_of(user)
    names = set(archive.namelist())
    assert names == {"albums/Trips/Rome/harbour.png", "images/harbour.png", "manifest.json"}
    with default_storage.open(in_rome.path, "rb") as stored:
        assert archive.read("albums/Trips/Rome/harbour.png") == stored.read()
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["user"]["username"] == "alice"
    assert [a["folder"] for a in manifest["albums"]] == ["albums/Trips", "albums/Trips/Rome"]
    files = {i["title"]: i["file"] for i in manifest["images"]}
    assert files == {"Forum": "albums/Trips/Rome/harbour.png", "Loose one": "images/harbour.png"}
    by_title = {i["title"]: i for i in manifest["images"]}
    assert by_title["Forum"]["md5"] == in_rome.md5
    assert by_title["Loose one"]["album_id"] is None and loose.pk


def test_same_names_in_one_folder_are_told_apart(user: User) -> None:
    make_image(owner=user)
    make_image(owner=user)
    names = [n for n in _zip_of(user).namelist() if n.startswith("images/")]
    assert len(names) == 2 and len(set(names)) == 2


def test_album_names_cannot_escape_the_zip(user: User) -> None:
    album = make_album(owner=user, name="../../etc")
    make_image(owner=user, album=album)
    names = _zip_of(user).namelist()
    assert all(".." not in n.split("/") and not n.startswith("/") for n in names)


def test_a_missing_file_is_listed_without_a_file(user: User) -> None:
    image = make_image(owner=user, title="Lost")
    default_storage.delete(image.path)
    archive = _zip_of(user)
    assert archive.namelist() == ["manifest.json"]
    assert json.loads(archive.read("manifest.json"))["images"][0]["file"] is None


def test_expired_uploads_are_left_out(user: User) -> None:
    make_image(owner=user, expires_at=timezone.now() - timedelta(minutes=1))
    manifest = json.loads(_zip_of(user).read("manifest.json"))
    assert manifest["images"] == []


def test_memory_stays_flat_whatever_the_file_sizes(user: User, tmp_path) -> None:
    image = make_image(owner=user)
    big = b"\0" * (8 * 1024 * 1024)
    default_storage.delete(image.path)
    default_storage.save(image.path, io.BytesIO(big))
    Image.objects.filter(pk=image.pk).update(size=len(big))
    tracemalloc.start()
    with open(tmp_path / "out.zip", "wb") as out:
        user_export_write(user=user, out=out)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 * 1024 * 1024
    assert zipfile.ZipFile(tmp_path / "out.zip").getinfo("images/harbour.png").file_size == len(big)


def test_the_settings_page_offers_the_download(user: User) -> None:
    html = client_as(user).get("/settings/export").content.decode()
    assert 'action="/settings/export"' in html and "csrfmiddlewaretoken" in html
    assert 'href="/settings/export"' in client_as(user).get("/settings").content.decode()


def test_posting_answers_ones_own_zip_only(user: User, other_user: User) -> None:
    make_image(owner=user, title="Mine")
    make_image(owner=other_user, title="Theirs")
    response = client_as(user).post("/settings/export")
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="alice-export-')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    titles = [i["title"] for i in json.loads(archive.read("manifest.json"))["images"]]
    assert titles == ["Mine"]


def test_guests_are_sent_to_the_login() -> None:
    from django.test import Client

    response = Client().post("/settings/export")
    assert response.status_code == 302 and "/login" in response["Location"]

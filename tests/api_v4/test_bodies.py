"""The bodies the APIs build are exactly the ones the V4 schema describes."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from accounts.models import User
from api_v4.serializers import AlbumSerializer, ImageSerializer, UserSerializer
from tests.factories import make_album, make_image
from uploads.representation import (
    album_representation,
    image_representation,
    user_representation,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_():
    return RequestFactory().get("/", HTTP_HOST="testserver")


def test_the_image_body_has_exactly_the_documented_fields(user: User, request_) -> None:
    image = make_image(owner=user)
    body = image_representation(image, request_)
    assert sorted(body) == sorted(ImageSerializer().fields)


def test_the_album_body_has_exactly_the_documented_fields(user: User, request_) -> None:
    album = make_album(owner=user, privacy="password", password="s3cret")
    image = make_image(owner=user, album=album)
    album.refresh_from_db()
    album.cover = image
    body = album_representation(album, request_)
    assert list(body) == list(AlbumSerializer().fields)
    assert body["password"] is True and "s3cret" not in str(body)
    assert body["cover_url"].startswith("http://testserver/images/")
    assert body["image_count"] == 1


def test_the_user_body_has_exactly_the_documented_fields_and_no_email(user: User, request_) -> None:
    make_album(owner=user)
    make_image(owner=user)
    user.refresh_from_db()
    body = user_representation(user, request_)
    assert list(body) == list(UserSerializer().fields)
    assert user.email not in str(body)
    assert (body["image_count"], body["album_count"]) == (1, 1)

"""The album owner's tools: create, edit (privacy, password, move, cover), delete with or
without the uploads, and add from my uploads; refused to anyone else with a 404, bad input
answered with the form again, its message and a 400."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from albums.models import Album
from albums.selectors import album_path
from chevereto.core.encoding import encode_id
from tests.factories import client_as, make_album, make_image, make_user
from uploads.models import Image

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> User:
    return make_user("olga")


@pytest.fixture
def stranger() -> User:
    return make_user("sam")


def _fresh(album: Album) -> Album:
    return Album.objects.get(pk=album.pk)


def _edit_form(album: Album, **changes: str) -> dict[str, str]:
    form = {
        "name": album.name,
        "description": album.description,
        "privacy": album.privacy,
        "password": "",
        "parent": encode_id(album.parent_id) if album.parent_id else "",
        "cover": encode_id(album.cover_id) if album.cover_id else "",
    }
    return {**form, **changes}


# --- Create ------------------------------------------------------------------------------------


def test_a_user_creates_an_album_and_lands_on_its_page(owner) -> None:
    client = client_as(owner)
    assert client.get("/albums/new").status_code == 200

    response = client.post(
        "/albums/new", {"name": "Harbours", "description": "Boats", "privacy": "public"}
    )

    album = Album.objects.get(owner=owner)
    assert (album.name, album.description, album.privacy) == ("Harbours", "Boats", "public")
    assert response.status_code == 303 and response["Location"] == album_path(album)
    assert _fresh(album).owner.album_count == 1


def test_a_password_album_is_created_with_its_password(owner) -> None:
    client_as(owner).post(
        "/albums/new", {"name": "Family", "privacy": "password", "password": "pw1"}
    )
    album = Album.objects.get(owner=owner)
    assert album.privacy == "password" and album.password_hash.startswith("pbkdf2")


def test_a_sub_album_is_created_under_the_parent_the_form_names(owner) -> None:
    parent = make_album(owner=owner, name="Trips")
    client = client_as(owner)
    form = client.get(f"/albums/new?parent={encode_id(parent.pk)}").content.decode()
    assert f'<option value="{encode_id(parent.pk)}" selected>Trips</option>' in form

    client.post(
        "/albums/new", {"name": "Rome", "privacy": "public", "parent": encode_id(parent.pk)}
    )

    assert Album.objects.get(name="Rome").parent_id == parent.pk


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "   ", "privacy": "public"}, "The album name needs 1 to 100 characters."),
        (
            {"name": "Family", "privacy": "password", "password": ""},
            "A password album needs a password.",
        ),
        ({"name": "Odd", "privacy": "everyone"}, "Privacy is one of"),
        (
            {"name": "Lost", "privacy": "public", "parent": "zzzz"},
            "The parent album does not exist.",
        ),
    ],
)
def test_bad_album_input_puts_the_form_back_with_the_reason(owner, form, message) -> None:
    response = client_as(owner).post("/albums/new", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert f'value="{form["name"]}"' in response.content.decode()
    assert not Album.objects.filter(owner=owner).exists()


def test_another_user_s_album_is_no_parent(owner, stranger) -> None:
    theirs = make_album(owner=stranger)
    response = client_as(owner).post(
        "/albums/new", {"name": "Mine", "privacy": "public", "parent": encode_id(theirs.pk)}
    )
    assert response.status_code == 400
    assert not Album.objects.filter(owner=owner).exists()


def test_a_guest_is_sent_to_log_in_to_create_an_album() -> None:
    response = Client().get("/albums/new")
    assert response.status_code == 302 and response["Location"].startswith("/login")


# --- Edit --------------------------------------------------------------------------------------


def test_the_owner_renames_and_makes_an_album_password_protected(owner) -> None:
    album = make_album(owner=owner, name="Old")
    client = client_as(owner)
    assert client.get(f"/album/{encode_id(album.pk)}/edit").status_code == 200

    response = client.post(
        f"/album/{encode_id(album.pk)}/edit",
        _edit_form(album, name="New", description="Now", privacy="password", password="pw-1"),
    )

    album = _fresh(album)
    assert response.status_code == 303 and response["Location"] == album_path(album)
    assert (album.name, album.description, album.privacy) == ("New", "Now", "password")
    assert album.password_hash
    # Saved again without a password: the one it has stays.
    client.post(f"/album/{encode_id(album.pk)}/edit", _edit_form(album, name="Newer"))
    assert _fresh(album).password_hash == album.password_hash


def test_leaving_password_privacy_drops_the_password_and_a_stray_one_is_ignored(owner) -> None:
    album = make_album(owner=owner, privacy=Album.Privacy.PASSWORD, password="pw")
    client_as(owner).post(
        f"/album/{encode_id(album.pk)}/edit", _edit_form(album, privacy="public", password="x")
    )
    album = _fresh(album)
    assert album.privacy == "public" and album.password_hash == ""


def test_the_owner_moves_an_album_under_another(owner) -> None:
    album = make_album(owner=owner, name="Rome")
    parent = make_album(owner=owner, name="Trips")
    client_as(owner).post(
        f"/album/{encode_id(album.pk)}/edit", _edit_form(album, parent=encode_id(parent.pk))
    )
    assert _fresh(album).parent_id == parent.pk
    client_as(owner).post(
        f"/album/{encode_id(album.pk)}/edit", _edit_form(_fresh(album), parent="")
    )
    assert _fresh(album).parent_id is None


def test_an_album_cannot_move_inside_its_own_sub_album_and_nothing_else_changes(owner) -> None:
    album = make_album(owner=owner, name="Top")
    child = make_album(owner=owner, name="Child", parent=album)
    response = client_as(owner).post(
        f"/album/{encode_id(album.pk)}/edit",
        _edit_form(album, name="Renamed", parent=encode_id(child.pk)),
    )
    assert response.status_code == 400
    assert "cannot go inside itself" in response.content.decode()
    assert _fresh(album).parent_id is None and _fresh(album).name == "Top"


def test_the_edit_page_offers_the_album_s_uploads_as_cover_and_saves_the_choice(owner) -> None:
    album = make_album(owner=owner)
    image = make_image(owner=owner, album=album)
    client = client_as(owner)
    page = client.get(f"/album/{encode_id(album.pk)}/edit").content.decode()
    assert f'name="cover" value="{encode_id(image.pk)}"' in page

    client.post(f"/album/{encode_id(album.pk)}/edit", _edit_form(album, cover=encode_id(image.pk)))

    assert _fresh(album).cover_id == image.pk


def test_an_upload_outside_the_album_is_no_cover(owner) -> None:
    album = make_album(owner=owner)
    elsewhere = make_image(owner=owner)
    response = client_as(owner).post(
        f"/album/{encode_id(album.pk)}/edit", _edit_form(album, cover=encode_id(elsewhere.pk))
    )
    assert response.status_code == 400
    assert "The cover must be one of the album" in response.content.decode()
    assert _fresh(album).cover_id is None


def test_staff_edit_anyone_s_album(owner) -> None:
    album = make_album(owner=owner, name="Old")
    staff = make_user("root", is_staff=True)
    client_as(staff).post(f"/album/{encode_id(album.pk)}/edit", _edit_form(album, name="Tidied"))
    assert _fresh(album).name == "Tidied"


@pytest.mark.parametrize("tool", ["edit", "delete", "add"])
@pytest.mark.parametrize("who", ["stranger", "guest"])
def test_the_owner_tools_are_a_404_to_anyone_else(owner, stranger, tool, who) -> None:
    album = make_album(owner=owner, name="Public one")
    client = client_as(stranger if who == "stranger" else None)
    url = f"/album/{encode_id(album.pk)}/{tool}"
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "Hijacked", "with_images": "1"}).status_code == 404
    assert _fresh(album).name == "Public one"
    assert client.get("/album/zzzzzz/" + tool).status_code == 404


def test_the_owner_tools_show_only_to_the_owner_on_the_album_page(owner, stranger) -> None:
    album = make_album(owner=owner)
    edit = f'href="/album/{encode_id(album.pk)}/edit"'
    assert edit in client_as(owner).get(album_path(album)).content.decode()
    assert edit not in client_as(stranger).get(album_path(album)).content.decode()


# --- Delete ------------------------------------------------------------------------------------


def test_deleting_an_album_alone_keeps_its_uploads_outside_any_album(owner) -> None:
    album = make_album(owner=owner)
    child = make_album(owner=owner, parent=album)
    image = make_image(owner=owner, album=album)
    client = client_as(owner)
    assert "Keep them" in client.get(f"/album/{encode_id(album.pk)}/delete").content.decode()

    response = client.post(f"/album/{encode_id(album.pk)}/delete", {"with_images": "0"})

    assert response.status_code == 303 and response["Location"] == "/olga/albums"
    assert not Album.objects.filter(pk__in=[album.pk, child.pk]).exists()
    assert Image.objects.get(pk=image.pk).album_id is None


def test_deleting_an_album_with_its_uploads_deletes_them_too(owner) -> None:
    parent = make_album(owner=owner)
    album = make_album(owner=owner, parent=parent)
    image = make_image(owner=owner, album=album)

    response = client_as(owner).post(f"/album/{encode_id(album.pk)}/delete", {"with_images": "1"})

    assert response.status_code == 303 and response["Location"] == album_path(parent)
    assert not Album.objects.filter(pk=album.pk).exists()
    assert not Image.objects.filter(pk=image.pk).exists()


def test_a_delete_without_a_choice_is_asked_again(owner) -> None:
    album = make_album(owner=owner)
    response = client_as(owner).post(f"/album/{encode_id(album.pk)}/delete", {})
    assert response.status_code == 400
    assert Album.objects.filter(pk=album.pk).exists()


# --- Add from my uploads -------------------------------------------------------------------------


def test_the_add_page_lists_my_uploads_not_in_the_album_and_moves_the_checked_ones(owner) -> None:
    album = make_album(owner=owner)
    other = make_album(owner=owner, name="Elsewhere")
    inside = make_image(owner=owner, album=album)
    loose = make_image(owner=owner)
    from_other = make_image(owner=owner, album=other)
    not_mine = make_image(owner=make_user("zed"))
    client = client_as(owner)

    page = client.get(f"/album/{encode_id(album.pk)}/add").content.decode()
    assert f'value="{encode_id(loose.pk)}"' in page
    assert f'value="{encode_id(from_other.pk)}"' in page
    assert f'value="{encode_id(inside.pk)}"' not in page
    assert f'value="{encode_id(not_mine.pk)}"' not in page

    response = client.post(
        f"/album/{encode_id(album.pk)}/add",
        {"image": [encode_id(loose.pk), encode_id(from_other.pk), encode_id(not_mine.pk)]},
    )

    assert response.status_code == 303 and response["Location"] == album_path(album)
    assert Image.objects.get(pk=loose.pk).album_id == album.pk
    assert Image.objects.get(pk=from_other.pk).album_id == album.pk
    assert Image.objects.get(pk=not_mine.pk).album_id is None
    assert (_fresh(album).image_count, _fresh(other).image_count) == (3, 0)


def test_adding_nothing_or_someone_else_s_upload_is_a_400(owner) -> None:
    album = make_album(owner=owner)
    make_image(owner=owner)
    not_mine = make_image(owner=make_user("zed"))
    client = client_as(owner)
    for form in ({}, {"image": encode_id(not_mine.pk)}, {"image": "!!"}):
        response = client.post(f"/album/{encode_id(album.pk)}/add", form)
        assert response.status_code == 400
        assert "Choose at least one upload" in response.content.decode()
    assert Image.objects.get(pk=not_mine.pk).album_id is None

"""The account pages: settings, profile images, notifications, password reset, error pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import loader
from django.test import Client

from accounts.models import User
from chevereto.core.encoding import encode_id
from social.models import Notification
from social.services import follow_add, like_add
from tests import samples
from tests.factories import make_album, make_image, make_user
from tests.web.queries import assert_constant_queries

pytestmark = pytest.mark.django_db


def _text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


# -- the settings page ----------------------------------------------------------------------


def test_the_settings_page_needs_a_login(client: Client) -> None:
    response = client.get("/settings")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_the_settings_page_shows_every_section_filled_in(client: Client, user: User) -> None:
    user.name, user.bio, user.timezone = "Alice A.", "I take photos.", "Europe/Madrid"
    user.save()
    client.force_login(user)
    page = _text(client.get("/settings"))
    for section in ("profile", "avatar", "background", "account", "preferences", "api"):
        assert f'id="{section}"' in page
    assert 'value="Alice A."' in page and "I take photos." in page
    assert '<option value="Europe/Madrid" selected>' in page
    assert 'value="alice@example.com"' in page
    assert 'href="/settings/password"' in page and 'href="/settings/api"' in page


def test_a_user_saves_their_profile(client_logged_in: Client, user: User) -> None:
    response = client_logged_in.post(
        "/settings/profile",
        {
            "profile-name": "  Alice Liddell ",
            "profile-bio": "Down the rabbit hole.",
            "profile-website": "https://example.com/alice",
            "profile-is_private": "on",
        },
    )
    assert response.status_code == 303 and response["Location"] == "/settings#profile"
    user.refresh_from_db()
    assert (user.name, user.bio, user.website, user.is_private) == (
        "Alice Liddell",
        "Down the rabbit hole.",
        "https://example.com/alice",
        True,
    )
    assert "Your profile has been saved." in _text(client_logged_in.get("/settings"))


def test_a_profile_with_a_script_website_comes_back_with_the_error_and_a_400(
    client_logged_in: Client, user: User
) -> None:
    response = client_logged_in.post(
        "/settings/profile", {"profile-name": "Eve", "profile-website": "javascript:alert(1)"}
    )
    assert response.status_code == 400
    assert "Enter a valid http(s) URL." in _text(response)
    assert 'value="Eve"' in _text(response)  # what was typed stays in the form
    user.refresh_from_db()
    assert user.name == "" and user.website == ""


def test_a_too_long_bio_is_refused(client_logged_in: Client) -> None:
    response = client_logged_in.post("/settings/profile", {"profile-bio": "x" * 501})
    assert response.status_code == 400
    assert "500 characters" in _text(response)


def test_a_user_changes_their_email_with_their_password(
    client_logged_in: Client, user: User
) -> None:
    response = client_logged_in.post(
        "/settings/account",
        {"account-email": "new@example.com", "account-password": "pw-Alice-123"},
    )
    assert response.status_code == 303
    user.refresh_from_db()
    assert user.email == "new@example.com"


def test_changing_the_email_needs_the_right_password(client_logged_in: Client, user: User) -> None:
    response = client_logged_in.post(
        "/settings/account", {"account-email": "new@example.com", "account-password": "wrong"}
    )
    assert response.status_code == 400
    assert "That is not your current password." in _text(response)
    user.refresh_from_db()
    assert user.email == "alice@example.com"


@pytest.mark.parametrize("email", ["bob@example.com", "not-an-email"])
def test_a_taken_or_malformed_email_gets_the_same_refusal(
    client_logged_in: Client, user: User, other_user: User, email: str
) -> None:
    response = client_logged_in.post(
        "/settings/account", {"account-email": email, "account-password": "pw-Alice-123"}
    )
    assert response.status_code == 400
    assert "This email cannot be used." in _text(response)
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_a_user_saves_their_preferences(client_logged_in: Client, user: User) -> None:
    response = client_logged_in.post(
        "/settings/preferences",
        {"preferences-show_nsfw": "on", "preferences-timezone": "America/Argentina/Buenos_Aires"},
    )
    assert response.status_code == 303
    user.refresh_from_db()
    assert user.show_nsfw is True and user.timezone == "America/Argentina/Buenos_Aires"
    client_logged_in.post("/settings/preferences", {"preferences-timezone": ""})
    user.refresh_from_db()
    assert user.show_nsfw is False and user.timezone == ""


def test_an_unknown_time_zone_is_refused(client_logged_in: Client, user: User) -> None:
    response = client_logged_in.post(
        "/settings/preferences", {"preferences-timezone": "Mars/Olympus_Mons"}
    )
    assert response.status_code == 400
    assert "Mars/Olympus_Mons is not one of the available choices" in _text(response)
    user.refresh_from_db()
    assert user.timezone == ""


def test_the_settings_forms_need_csrf(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/settings/profile", {"profile-name": "Mallory"})
    assert response.status_code == 403
    assert "Your form expired" in _text(response)
    user.refresh_from_db()
    assert user.name == ""


# -- avatar and background ------------------------------------------------------------------


def _picture(name: str = "me.jpg", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data or samples.jpeg_bytes(400, 300), "image/jpeg")


def test_a_user_uploads_an_avatar_and_sees_it_in_the_page_and_the_nav(
    client_logged_in: Client, user: User, media_root: Path
) -> None:
    response = client_logged_in.post("/settings/avatar", {"image": _picture()})
    assert response.status_code == 303 and response["Location"] == "/settings#avatar"
    user.refresh_from_db()
    assert re.fullmatch(r"profiles/avatars/[0-9a-f]{32}\.jpg", user.avatar)
    assert (media_root / user.avatar).is_file()
    page = _text(client_logged_in.get("/settings"))
    assert f'src="/{user.avatar}" alt="Your current avatar"' in page
    assert f'<img class="avatar avatar-tiny" src="/{user.avatar}"' in page  # the nav
    assert client_logged_in.get(f"/{user.avatar}").status_code == 200


def test_a_user_removes_their_avatar(
    client_logged_in: Client, user: User, media_root: Path, django_capture_on_commit_callbacks
) -> None:
    client_logged_in.post("/settings/avatar", {"image": _picture()})
    user.refresh_from_db()
    old = user.avatar
    with django_capture_on_commit_callbacks(execute=True):  # the file goes after commit
        response = client_logged_in.post("/settings/avatar", {"action": "remove"})
    assert response.status_code == 303
    user.refresh_from_db()
    assert user.avatar == "" and not (media_root / old).exists()
    assert "Your current avatar" not in _text(client_logged_in.get("/settings"))


def test_a_user_sets_and_removes_a_background(client_logged_in: Client, user: User) -> None:
    png = SimpleUploadedFile("wide.png", samples.png_bytes(800, 300), "image/png")
    assert client_logged_in.post("/settings/background", {"image": png}).status_code == 303
    user.refresh_from_db()
    assert user.background.startswith("profiles/backgrounds/")
    assert 'alt="Your current profile background"' in _text(client_logged_in.get("/settings"))
    client_logged_in.post("/settings/background", {"action": "remove"})
    user.refresh_from_db()
    assert user.background == ""


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("page.html", samples.html_bytes()),
        ("drawing.svg", samples.svg_bytes()),
        ("clip.mp4", samples.mp4_bytes()),
    ],
)
def test_a_file_that_is_no_picture_is_refused_with_a_message(
    client_logged_in: Client, user: User, name: str, data: bytes
) -> None:
    upload = SimpleUploadedFile(name, data, "application/octet-stream")
    response = client_logged_in.post("/settings/avatar", {"image": upload})
    assert response.status_code == 400
    assert "That file cannot be your avatar." in _text(response)
    user.refresh_from_db()
    assert user.avatar == ""


def test_sending_the_avatar_form_without_a_file_asks_for_one(client_logged_in: Client) -> None:
    response = client_logged_in.post("/settings/avatar", {"action": "upload"})
    assert response.status_code == 400
    assert "Choose a picture first." in _text(response)


# -- notifications -----------------------------------------------------------------------------


def test_notifications_list_likes_and_follows_with_the_unread_highlighted(
    client_logged_in: Client, user: User
) -> None:
    fan = make_user("fan", name="Big Fan")
    image = make_image(owner=user, title="Harbour at dawn")
    album = make_album(owner=user, name="Trips")
    like_add(user=fan, image=image)
    like_add(user=fan, album=album)
    follow_add(follower=fan, followed=user)
    page = _text(client_logged_in.get("/notifications"))
    assert page.count('class="notification unread"') == 3
    assert 'href="/fan" class="notification-who">Big Fan</a>' in page
    assert "started following you" in page
    assert "liked your upload" in page and ">Harbour at dawn</a>" in page
    assert "liked your album" in page and ">Trips</a>" in page
    assert 'aria-label="3 unread"' in page  # the nav badge


def test_a_user_marks_one_notification_read(client_logged_in: Client, user: User) -> None:
    fan = make_user("fan")
    follow_add(follower=fan, followed=user)
    notification = Notification.objects.get()
    response = client_logged_in.post(
        "/notifications/read", {"id": encode_id(notification.pk), "next": "/notifications"}
    )
    assert response.status_code == 303 and response["Location"] == "/notifications"
    notification.refresh_from_db()
    assert notification.is_read
    assert 'class="notification unread"' not in _text(client_logged_in.get("/notifications"))


def test_a_user_cannot_mark_someone_elses_notification(
    client_logged_in: Client, user: User, other_user: User
) -> None:
    follow_add(follower=user, followed=other_user)
    theirs = Notification.objects.get()
    response = client_logged_in.post("/notifications/read", {"id": encode_id(theirs.pk)})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_read


def test_mark_all_read_clears_the_badge(client_logged_in: Client, user: User) -> None:
    for name in ("fan1", "fan2", "fan3"):
        follow_add(follower=make_user(name), followed=user)
    response = client_logged_in.post("/notifications/read-all", {"next": "https://evil.test/"})
    assert response.status_code == 303 and response["Location"] == "/notifications"
    assert not Notification.objects.filter(is_read=False).exists()
    page = _text(client_logged_in.get("/notifications"))
    assert 'class="badge"' not in page and 'class="notification unread"' not in page
    assert "Mark all as read" not in page


def test_the_notifications_page_runs_the_same_queries_for_more_notifications(
    client_logged_in: Client, user: User
) -> None:
    image = make_image(owner=user)
    album = make_album(owner=user, name="Trips")
    like_add(user=make_user("first"), image=image)

    def add_more() -> None:
        for n in range(3):
            fan = make_user(f"fan{n}")
            like_add(user=fan, image=make_image(owner=user, title=f"Photo {n}"))
            like_add(user=fan, album=album)
            follow_add(follower=fan, followed=user)

    assert_constant_queries(client_logged_in, "/notifications", add_more=add_more)


def test_the_notifications_are_paged(client_logged_in: Client, user: User) -> None:
    for n in range(32):
        follow_add(follower=make_user(f"fan{n}"), followed=user)
    first = client_logged_in.get("/notifications")
    assert first.content.decode().count('class="notification unread"') == 30
    next_url = re.search(r'data-pagination="next"[^>]*href="([^"]+)"', _text(first))
    assert next_url is not None
    second = client_logged_in.get(next_url.group(1).replace("&amp;", "&"))
    assert _text(second).count('class="notification unread"') == 2
    assert client_logged_in.get("/notifications?seek=garbage").status_code == 404


def test_the_notifications_page_needs_a_login(client: Client) -> None:
    assert client.get("/notifications").status_code == 302


# -- password reset --------------------------------------------------------------------------


def _reset_link() -> str:
    assert len(mail.outbox) == 1
    found = re.search(r"http://testserver(/password-reset/[^/\s]+/[^/\s]+)", mail.outbox[0].body)
    assert found, mail.outbox[0].body
    return found.group(1)


def test_a_user_resets_their_password_through_the_emailed_link(client: Client, user: User) -> None:
    page = client.get("/password-reset")
    assert page.status_code == 200
    response = client.post("/password-reset", {"email": "alice@example.com"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent"
    assert mail.outbox[0].to == ["alice@example.com"]
    assert "Chevereto" in mail.outbox[0].subject
    link = _reset_link()
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in _text(form_page)
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "Fresh-start-2024", "new_password2": "Fresh-start-2024"}
    )
    assert done.status_code == 302 and done["Location"] == "/password-reset/complete"
    assert client.get("/password-reset/complete").status_code == 200
    # The link works once.
    again = client.get(link, follow=True)
    assert "This link no longer works" in _text(again)
    # The new password logs in; the old one does not.
    assert (
        client.post("/login", {"username": "alice", "password": "pw-Alice-123"}).status_code == 200
    )
    login = client.post("/login", {"username": "alice", "password": "Fresh-start-2024"})
    assert login.status_code == 302


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client: Client, user: User) -> None:
    known = client.post("/password-reset", {"email": "alice@example.com"}, follow=True)
    unknown = client.post("/password-reset", {"email": "nobody@example.com"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [("/password-reset/sent", 302)]
    assert _text(known) == _text(unknown)
    assert "If an account exists for that address" in _text(unknown)
    assert len(mail.outbox) == 1


def test_a_malformed_email_comes_back_with_a_400(client: Client) -> None:
    response = client.post("/password-reset", {"email": "not an email"})
    assert response.status_code == 400
    assert "Enter a valid email address." in _text(response)


def test_mismatched_new_passwords_are_refused_with_a_400(client: Client, user: User) -> None:
    client.post("/password-reset", {"email": "alice@example.com"})
    set_url = client.get(_reset_link(), follow=True).redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "Fresh-start-1", "new_password2": "x"})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password("pw-Alice-123")


# -- login, signup, logout, password -----------------------------------------------------------


def test_the_login_page_links_to_signup_and_the_password_reset(client: Client) -> None:
    page = _text(client.get("/login"))
    # Django's login view brings a `site` of its own; the layout still names this site.
    assert '<a class="brand" href="/">Chevereto</a>' in page
    assert 'href="/signup"' in page and 'href="/password-reset"' in page
    assert '<label for="id_username">' in page and '<label for="id_password">' in page


def test_a_wrong_password_shows_the_error_in_the_login_card(client: Client, user: User) -> None:
    response = client.post("/login", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in _text(response)


def test_the_signup_page_renders_its_fields_with_labels(client: Client) -> None:
    page = _text(client.get("/signup"))
    for name in ("username", "email", "password1", "password2"):
        assert f'<label for="id_{name}">' in page
    assert 'href="/login"' in page


def test_the_logout_page_asks_to_confirm(client_logged_in: Client) -> None:
    page = _text(client_logged_in.get("/logout"))
    assert 'action="/logout"' in page and "Log out" in page


def test_the_password_page_sits_in_the_settings_nav(client_logged_in: Client) -> None:
    page = _text(client_logged_in.get("/settings/password"))
    assert 'href="/settings/password" aria-current="page"' in page


def test_a_wrong_old_password_is_refused_with_a_400(client_logged_in: Client, user: User) -> None:
    response = client_logged_in.post(
        "/settings/password",
        {"old_password": "guess", "new_password1": "Xy-long-77", "new_password2": "Xy-long-77"},
    )
    assert response.status_code == 400
    assert "Your old password was entered incorrectly." in _text(response)
    user.refresh_from_db()
    assert user.check_password("pw-Alice-123")


# -- error pages -------------------------------------------------------------------------------


def test_a_missing_page_is_a_404_in_the_site_layout(client: Client) -> None:
    response = client.get("/no-such-user-here")
    assert response.status_code == 404
    page = _text(response)
    assert 'class="top-bar"' in page and "That page doesn't exist" in page
    assert 'action="/search"' in page


def test_the_404_of_a_nested_missing_path_uses_the_layout_too(client: Client) -> None:
    response = client.get("/image/nothing.ZZZZZZ/extra/bits")
    assert response.status_code == 404
    assert "That page doesn't exist" in _text(response)


def test_the_500_page_renders_without_any_context(django_assert_num_queries: object) -> None:
    with django_assert_num_queries(0):  # type: ignore[operator]
        html = loader.get_template("500.html").render()
    assert "Something went wrong on our side" in html and 'href="/"' in html


def test_the_403_page_renders(rf: object, user: User) -> None:
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")  # type: ignore[attr-defined]
    request.user = AnonymousUser()
    html = loader.get_template("403.html").render({}, request)
    assert "You can't do that here" in html and "/login?next=/" in html


def test_every_settings_field_has_a_label_and_its_help_is_announced(
    client_logged_in: Client,
) -> None:
    page = _text(client_logged_in.get("/settings"))
    main = page.split('<main id="content"', 1)[1]
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    labelled = set(re.findall(r'<label[^>]* for="([^"]+)"', main))
    fields = re.findall(r"<(?:input|select|textarea)\b([^>]*)>", main)
    for attrs in fields:
        if 'type="hidden"' in attrs:
            continue
        field_id = re.search(r'\bid="([^"]+)"', attrs)
        assert field_id and field_id.group(1) in labelled, attrs
    described = set(re.findall(r'aria-describedby="([^"]+)"', main))
    assert described and described <= ids

"""A person signs up, fills in their settings, uploads an avatar, reads their notifications
and resets a forgotten password through the emailed link, in Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail

from accounts.models import User
from social.services import follow_add, like_add
from tests import samples
from tests.factories import make_album, make_image, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _sign_up(page, base: str, shoot) -> None:
    page.goto(f"{base}/signup")
    shoot(page, "signup")
    page.fill("input[name=username]", "maria")
    page.fill("input[name=email]", "maria@example.com")
    page.fill("input[name=password1]", "Camera-obscura-7")
    page.fill("input[name=password2]", "Camera-obscura-7")
    page.click("main button[type=submit]")
    page.wait_for_selector("[data-testid=signup-sent]")
    link = re.search(r"https?://\S+/signup/confirm/\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_a_new_user_fills_in_settings_and_uploads_an_avatar(
    live_server, page, shoot, tmp_path: Path
) -> None:
    base = live_server.url
    _sign_up(page, base, shoot)

    page.goto(f"{base}/settings")
    page.fill("#id_profile-name", "María Sánchez")
    page.fill("#id_profile-bio", "Street photography, mostly at night.")
    page.click("#profile button[type=submit]")
    page.wait_for_url(f"{base}/settings#profile")
    assert "Your profile has been saved." in page.locator(".messages").inner_text()
    assert page.input_value("#id_profile-name") == "María Sánchez"

    photo = tmp_path / "me.jpg"
    photo.write_bytes(samples.jpeg_bytes(640, 480))
    page.set_input_files("#avatar-file", str(photo))
    # The chosen picture is previewed before it is sent (account.js).
    page.wait_for_function("() => !document.querySelector('#avatar-new-preview').hidden")
    page.click("#avatar button[type=submit]:has-text('Upload avatar')")
    page.wait_for_url(f"{base}/settings#avatar")
    user = User.objects.get(username="maria")
    assert user.name == "María Sánchez" and user.avatar.startswith("profiles/avatars/")
    nav_avatar = page.locator(".nav-profile img.avatar")
    nav_avatar.wait_for()
    page.wait_for_function(
        "() => document.querySelector('.nav-profile img.avatar').naturalWidth > 0"
    )
    assert nav_avatar.get_attribute("src") == f"/{user.avatar}"
    page.wait_for_function(
        "() => document.querySelector('[data-testid=avatar-preview]').naturalWidth === 256"
    )

    page.select_option("#id_preferences-timezone", "Europe/Madrid")
    page.check("#id_preferences-show_nsfw")
    page.click("#preferences button[type=submit]")
    page.wait_for_url(f"{base}/settings#preferences")
    user.refresh_from_db()
    assert user.timezone == "Europe/Madrid" and user.show_nsfw
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "settings")

    # A file that is no picture: the page says so, nothing changes.
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(samples.html_bytes())
    page.set_input_files("#avatar-file", str(bad))
    page.click("#avatar button[type=submit]:has-text('Upload avatar')")
    assert "That file cannot be your avatar." in page.locator("#avatar-error").inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "settings-avatar-refused")
    user.refresh_from_db()
    assert user.avatar.startswith("profiles/avatars/")


def test_a_user_reads_their_notifications_and_marks_them_read(live_server, page, shoot) -> None:
    base = live_server.url
    owner = make_user("maria", password="Camera-obscura-7")
    image = make_image(owner=owner, title="Night market")
    album = make_album(owner=owner, name="Neon")
    for name, display in (("lucas", "Lucas"), ("ines", "Inés Prieto"), ("tom", "")):
        fan = make_user(name, name=display)
        follow_add(follower=fan, followed=owner)
        like_add(user=fan, image=image)
    like_add(user=User.objects.get(username="ines"), album=album)

    page.goto(f"{base}/login")
    shoot(page, "login")
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", "Camera-obscura-7")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert page.locator(".nav-notifications .badge").inner_text() == "7"

    page.goto(f"{base}/notifications")
    assert page.locator(".notification.unread").count() == 7
    assert page.locator(".notification-thumb img").count() == 3
    first = page.locator(".notification").first
    assert "liked your album Neon" in " ".join(first.inner_text().split())
    assert "just now" in first.inner_text()

    first.locator("button:has-text('Mark read')").click()
    page.wait_for_url(f"{base}/notifications")
    assert page.locator(".notification.unread").count() == 6
    assert page.locator(".nav-notifications .badge").inner_text() == "6"
    shoot(page, "notifications")  # one read, six unread

    page.click("[data-testid=mark-all-read]")
    page.wait_for_url(f"{base}/notifications")
    assert page.locator(".notification.unread").count() == 0
    assert page.locator(".nav-notifications .badge").count() == 0

    page.click(".notification-who:has-text('Inés Prieto') >> nth=0")
    page.wait_for_url(f"{base}/ines")


def test_a_forgotten_password_is_reset_through_the_emailed_link(live_server, page, shoot) -> None:
    base = live_server.url
    make_user("maria", password="Camera-obscura-7")
    mail.outbox.clear()

    page.goto(f"{base}/login")
    page.click("text=Forgot your password?")
    page.wait_for_url(f"{base}/password-reset")
    shoot(page, "password-reset")
    page.fill("input[name=email]", "maria@example.com")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/password-reset/sent")
    assert "If an account exists for that address" in page.content()

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/password-reset/\S+/\S+", mail.outbox[0].body)
    assert link is not None and link.group(0).startswith(base)
    page.goto(link.group(0))
    page.fill("input[name=new_password1]", "Brand-new-lens-8")
    page.fill("input[name=new_password2]", "Brand-new-lens-8")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/password-reset/complete")

    page.goto(link.group(0))
    assert page.locator("[data-testid=reset-link-invalid]").is_visible()

    page.goto(f"{base}/login")
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", "Brand-new-lens-8")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert page.locator(".nav-profile").inner_text().strip() == "maria"


def test_a_missing_page_shows_the_site_layout(live_server, page, shoot) -> None:
    response = page.goto(f"{live_server.url}/nobody_here_at_all")
    assert response.status == 404
    assert page.locator(".top-bar").is_visible()
    assert page.locator("h1").inner_text() == "That page doesn't exist"
    shoot(page, "not-found")


def test_the_password_and_api_key_pages_sit_in_the_settings_layout(
    live_server, page, shoot
) -> None:
    base = live_server.url
    make_user("maria", password="Camera-obscura-7")
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", "Camera-obscura-7")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/settings/password")
    assert page.locator(".settings-nav [aria-current=page]").inner_text() == "Password"
    shoot(page, "settings-password")

    page.goto(f"{base}/settings/api")
    page.click("button[value=create]")
    key = page.input_value("#api-key-value")
    assert key.startswith("chv_")
    page.focus("#api-key-value")  # account.js selects the key, ready to copy
    assert page.evaluate(
        "document.getSelection().toString() || document.activeElement.selectionEnd"
    ) in (key, len(key))
    shoot(page, "settings-api")

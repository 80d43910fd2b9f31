"""Neither the signup, the login nor the password reset says which emails or usernames
have accounts (usernames excepted at signup: they are public profile URLs)."""

from __future__ import annotations

import re

import pytest
from django.conf import LazySettings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "Tricky-pass-42"


@pytest.fixture(autouse=True)
def _fast_hasher(settings: LazySettings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _signup(client: Client, username: str, email: str) -> object:
    return client.post(
        "/signup",
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def _page_text(response: object, *variable: str) -> str:
    """The page with the parts the visitor typed taken out (the CSRF token changes too)."""
    text = response.content.decode()  # type: ignore[attr-defined]
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    for value in variable:
        text = text.replace(value, "VALUE")
    return text


def _link(message: mail.EmailMessage) -> str:
    return re.search(r"https?://[^/\s]+(/signup/confirm/\S+)", message.body).group(1)


def test_a_signup_with_a_new_email_is_answered_check_your_inbox_and_mailed_a_link(
    client: Client,
) -> None:
    response = _signup(client, "carol_1", "carol@example.com")
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert not User.objects.filter(username="carol_1").exists()
    assert [m.to for m in mail.outbox] == [["carol@example.com"]]
    assert "/signup/confirm/" in mail.outbox[0].body


def test_a_signup_with_a_taken_email_gets_the_same_page_and_the_owner_a_notice(
    client: Client, user: User
) -> None:
    new = _signup(client, "carol_1", "carol@example.com")
    taken = _signup(Client(), "carol_2", "ALICE@example.com")
    assert taken.status_code == new.status_code == 200
    assert _page_text(taken, "carol_2", "ALICE@example.com") == _page_text(
        new, "carol_1", "carol@example.com"
    )
    notice = mail.outbox[-1]
    assert notice.to == ["ALICE@example.com"]
    assert "already belongs to your account" in notice.body
    assert "/signup/confirm/" not in notice.body
    assert not User.objects.filter(username="carol_2").exists()


def test_both_signup_paths_hash_the_password_once(
    client: Client, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = MD5PasswordHasher.encode

    def counting(self: MD5PasswordHasher, password: str, salt: str) -> str:
        calls.append(password)
        return original(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    _signup(client, "carol_1", "carol@example.com")
    new_path = len(calls)
    _signup(Client(), "carol_2", "alice@example.com")
    assert new_path == len(calls) - new_path == 1


def test_the_link_makes_the_account_once_and_logs_in(client: Client) -> None:
    _signup(client, "carol_1", "carol@example.com")
    link = _link(mail.outbox[0])
    assert client.get(link).status_code == 200
    assert not User.objects.filter(username="carol_1").exists()  # a GET uses nothing up
    done = client.post(link)
    assert done.status_code == 302
    carol = User.objects.get(username="carol_1")
    assert carol.email == "carol@example.com" and carol.check_password(PASSWORD)
    assert client.get("/").context["user"].username == "carol_1"
    assert Client().post(link).status_code == 404


def test_a_link_whose_email_was_taken_meanwhile_makes_nothing(client: Client) -> None:
    _signup(client, "carol_1", "carol@example.com")
    _signup(Client(), "carol_2", "carol@example.com")
    first, second = (_link(m) for m in mail.outbox)
    assert Client().post(first).status_code == 302
    assert Client().post(second).status_code == 409
    assert User.objects.filter(email="carol@example.com").count() == 1


def test_an_unknown_link_is_a_404(client: Client) -> None:
    assert client.get("/signup/confirm/not-a-token").status_code == 404
    assert client.post("/signup/confirm/not-a-token").status_code == 404


def test_signup_still_says_when_a_username_is_taken_because_usernames_are_public(
    client: Client, user: User
) -> None:
    response = _signup(client, "alice", "someone@example.com")
    assert "username" in response.context["form"].errors
    assert mail.outbox == []


def test_a_failed_login_reads_the_same_for_unknown_and_existing_usernames(
    client: Client, user: User
) -> None:
    existing = client.post("/login", {"username": "alice", "password": "wrong-one"})
    unknown = client.post("/login", {"username": "zed_404", "password": "wrong-one"})
    assert existing.status_code == unknown.status_code == 200
    assert _page_text(existing, "alice") == _page_text(unknown, "zed_404")


@pytest.mark.parametrize("who", ["unknown", "existing", "no_password", "inactive"])
def test_every_failed_login_runs_the_password_hasher_once(
    client: Client, who: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Equal work, so response times do not tell accounts apart from unknown names."""
    existing = User.objects.create_user(username="erin", password=PASSWORD)
    if who == "no_password":
        existing.set_unusable_password()
        existing.save()
    if who == "inactive":
        User.objects.filter(pk=existing.pk).update(is_active=False)
    hashed: list[str] = []
    original = MD5PasswordHasher.encode

    def encode(self: MD5PasswordHasher, password: str, salt: str) -> str:
        # Checking a password encodes the guess too (verify calls encode).
        hashed.append(password)
        return original(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", encode)
    name = "nobody_x" if who == "unknown" else "erin"
    password = PASSWORD if who == "inactive" else "wrong-one"
    response = client.post("/login", {"username": name, "password": password})
    assert response.status_code == 200
    assert len(hashed) == 1


def test_the_password_reset_request_does_the_same_work_for_every_address(
    client: Client, user: User, monkeypatch
) -> None:
    # The lookup and the sending are a worker's: the request itself reads no account, so
    # neither its answer nor its time says whether the address has one.
    from accounts import tasks

    queued: list[dict] = []
    monkeypatch.setattr(tasks.password_reset_send, "delay", lambda **job: queued.append(job))
    client.post("/password-reset", {"email": "warm@example.com"})  # per-process caches filled
    queued.clear()
    runs = []
    for email in ("alice@example.com", "nobody@example.com"):
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/password-reset", {"email": email})
        runs.append((response.status_code, response["Location"], [q["sql"] for q in captured]))
    assert runs[0] == runs[1]
    assert not [sql for sql in runs[0][2] if "accounts_user" in sql]
    assert [job["email"] for job in queued] == ["alice@example.com", "nobody@example.com"]
    assert mail.outbox == []
    tasks.password_reset_send(**queued[0])
    tasks.password_reset_send(**queued[1])
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "testserver/password-reset/" in mail.outbox[0].body


def test_a_password_reset_is_sent_even_with_the_broker_down(
    client: Client, user: User, monkeypatch
) -> None:
    from accounts import tasks

    def down(**job: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.password_reset_send, "delay", down)
    response = client.post("/password-reset", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]


def test_the_password_reset_answers_every_address_alike(client: Client, user: User) -> None:
    known = client.post("/password-reset", {"email": "alice@example.com"})
    unknown = client.post("/password-reset", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]

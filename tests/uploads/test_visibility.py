"""Who sees which upload where: one table, walked through every surface that shows uploads.

Viewers (guest, owner, another user, staff) × states of an upload × surfaces. The surfaces are
tied to the root URLconf: every route must be classified here, either as a surface of the
matrix (with a checker) or as one that shows no upload to anyone but its owner, so a page
added later that forgets the rule fails this file until it is classified and checked.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from albums.selectors import (
    GUEST,
    album_listed_for,
    album_visible_to,
    albums_visible_to,
    viewer_for_user,
    viewer_from_request,
)
from albums.services import album_set_password
from chevereto.core.encoding import encode_id
from tests import samples
from uploads.files import variant_file
from uploads.models import Image
from uploads.selectors import (
    image_file_visible_to,
    image_listed_for,
    image_short_path,
    image_viewer_path,
    image_visible_to,
    images_visible_to,
)
from uploads.services import delete_token_digest

pytestmark = pytest.mark.django_db

ALBUM_PASSWORD = "open-sesame-42"
TITLE = "Secret harbour at dawn"


# --- Uploads made directly: real files in storage, every derivative present -------------


@dataclass
class Upload:
    image: Image
    original: bytes
    thumb: bytes
    medium: bytes
    delete_token: str


def make_upload(
    *, owner: User | None, album: Album | None = None, expires_at=None, title: str = TITLE
) -> Upload:
    """An upload as `image_upload` leaves it, with its thumb and medium already made.

    Made without the ingest pipeline so this table tests visibility, not ingest; the name is
    random as the pipeline makes it for uploads into non-public albums.
    """
    original = samples.png_bytes(600, 400, mode="RGB")
    path = default_storage.save(
        f"images/2026/01/02/{secrets.token_hex(8)}.png", ContentFile(original)
    )
    token = secrets.token_hex(24)
    image = Image.objects.create(
        user=owner,
        album=album,
        path=path,
        original_filename="harbour.png",
        mime="image/png",
        size=len(original),
        width=600,
        height=400,
        md5=secrets.token_hex(16),
        title=title,
        created_at=timezone.now(),
        expires_at=expires_at,
        medium_width=500,
        medium_height=333,
        chain=Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_MEDIUM,
        delete_token_digest=delete_token_digest(token),
    )
    thumb = samples.png_bytes(32, 32, mode="RGB")
    medium = samples.png_bytes(50, 33, mode="RGB")
    default_storage.save(variant_file(image, "thumb").name, ContentFile(thumb))
    default_storage.save(variant_file(image, "medium").name, ContentFile(medium))
    return Upload(image, original, thumb, medium, token)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def file_url(upload: Upload, variant: str) -> str:
    return "/" + variant_file(upload.image, variant).name


def delete_url(upload: Upload) -> str:
    return f"/image/{encode_id(upload.image.pk)}/delete/{upload.delete_token}"


# --- The table -----------------------------------------------------------------------------

SHOWN, HIDDEN, PASSWORD = "shown", "hidden", "password required"
Y, N, P = SHOWN, HIDDEN, PASSWORD

SURFACES = ("home", "listing", "viewer", "short", "original", "thumb", "medium", "delete")
STATES = (
    "public",
    "awaiting moderation",
    "expired",
    "banned owner",
    "in private album",
    "in link-only album",
    "in password album, locked",
    "in password album, unlocked",
)
VIEWERS = ("guest", "owner", "another user", "staff")

# The home page lists what a guest may see, whoever asks; "listing" is `images_visible_to`
# itself, which later listings (profiles, explore, API lists) use with the real viewer. The
# delete link is the uploader's capability: it works whatever the state, until expiry.
#                                 home listing viewer short  orig  thumb medium delete
STRANGER = {  # a guest, or a logged-in user who does not own the upload
    "public":                      (Y,   Y,      Y,     Y,     Y,    Y,    Y,     Y),
    "awaiting moderation":         (N,   N,      N,     N,     N,    N,    N,     Y),
    "expired":                     (N,   N,      N,     N,     N,    N,    N,     N),
    "banned owner":                (N,   N,      N,     N,     N,    N,    N,     Y),
    "in private album":            (N,   N,      N,     N,     Y,    Y,    Y,     Y),
    "in link-only album":          (N,   N,      Y,     Y,     Y,    Y,    Y,     Y),
    "in password album, locked":   (N,   N,      P,     P,     Y,    Y,    Y,     Y),
    "in password album, unlocked": (N,   N,      Y,     Y,     Y,    Y,    Y,     Y),
}  # fmt: skip
OWNER_OR_STAFF = {  # everything but the home page and expiry; a banned owner is logged out
    "public":                      (Y,   Y,      Y,     Y,     Y,    Y,    Y,     Y),
    "awaiting moderation":         (N,   Y,      Y,     Y,     Y,    Y,    Y,     Y),
    "expired":                     (N,   N,      N,     N,     N,    N,    N,     N),
    "banned owner":                (N,   Y,      Y,     Y,     Y,    Y,    Y,     Y),
    "in private album":            (N,   Y,      Y,     Y,     Y,    Y,    Y,     Y),
    "in link-only album":          (N,   Y,      Y,     Y,     Y,    Y,    Y,     Y),
    "in password album, locked":   (N,   Y,      Y,     Y,     Y,    Y,    Y,     Y),
    "in password album, unlocked": (N,   Y,      Y,     Y,     Y,    Y,    Y,     Y),
}  # fmt: skip


def expected(viewer: str, state: str) -> dict[str, str]:
    if viewer in ("guest", "another user") or (viewer == "owner" and state == "banned owner"):
        row = STRANGER[state]
    else:
        row = OWNER_OR_STAFF[state]
    return dict(zip(SURFACES, row, strict=True))


# --- Checkers: one per surface, each tied to the route it exercises -------------------------


@dataclass(frozen=True)
class Case:
    client: Client
    upload: Upload


def _viewer_outcome(case: Case, response) -> str:
    path = case.upload.image.path
    text = response.content.decode(errors="replace")
    if response.status_code == 200 and path in text and 'property="og:image"' in text:
        return SHOWN
    # Whatever stands in the way, it must not leak the file name or the title.
    assert path not in text and TITLE not in text, text
    if response.status_code == 200 and "Password required" in text:
        assert 'name="content-password"' in text and 'name="auth_token"' in text
        return PASSWORD
    assert response.status_code == 404, response.status_code
    return HIDDEN


def check_home(case: Case) -> str:
    text = case.client.get("/").content.decode()
    if image_viewer_path(case.upload.image) in text:
        return SHOWN
    assert case.upload.image.path.rsplit(".", 1)[0] not in text
    return HIDDEN


def check_listing(case: Case) -> str:
    request = SimpleNamespace(
        user=_logged_in_user(case.client) or AnonymousUser(), session=case.client.session
    )
    listed = images_visible_to(viewer=viewer_from_request(request))
    found = listed.filter(pk=case.upload.image.pk).exists()
    # The one-row answer must agree with the queryset.
    viewer = viewer_from_request(request)
    assert image_listed_for(viewer=viewer, image=_fresh(case.upload.image)) is found
    return SHOWN if found else HIDDEN


def check_viewer(case: Case) -> str:
    return _viewer_outcome(case, case.client.get(image_viewer_path(case.upload.image)))


def check_short(case: Case) -> str:
    response = case.client.get(image_short_path(case.upload.image), follow=True)
    return _viewer_outcome(case, response)


def _check_file(case: Case, variant: str, expected_bytes: bytes) -> str:
    response = case.client.get(file_url(case.upload, variant))
    if response.status_code == 200:
        assert body(response) == expected_bytes
        return SHOWN
    assert response.status_code == 404
    return HIDDEN


def check_original(case: Case) -> str:
    return _check_file(case, "image", case.upload.original)


def check_thumb(case: Case) -> str:
    return _check_file(case, "thumb", case.upload.thumb)


def check_medium(case: Case) -> str:
    return _check_file(case, "medium", case.upload.medium)


def check_delete(case: Case) -> str:
    response = case.client.get(delete_url(case.upload))
    if response.status_code == 200:
        assert "Delete this upload?" in response.content.decode()
        return SHOWN
    assert response.status_code == 404
    return HIDDEN


@dataclass(frozen=True)
class Surface:
    route: str | None  # the URL name it exercises; None for a selector behind listings
    check: Callable[[Case], str]
    sample_url: Callable[[Upload], str] | None = None


CHECKS: dict[str, Surface] = {
    "home": Surface("home", check_home, lambda u: "/"),
    "listing": Surface(None, check_listing),
    "viewer": Surface("image-viewer", check_viewer, lambda u: image_viewer_path(u.image)),
    "short": Surface("image-viewer", check_short, lambda u: image_short_path(u.image)),
    "original": Surface("image-file", check_original, lambda u: file_url(u, "image")),
    "thumb": Surface("image-file", check_thumb, lambda u: file_url(u, "thumb")),
    "medium": Surface("image-file", check_medium, lambda u: file_url(u, "medium")),
    "delete": Surface("image-delete", check_delete, delete_url),
}

# Routes that show no upload to anyone but the one who made it, and why.
SHOWS_NO_UPLOADS = {
    "login": "account page",
    "logout": "account page",
    "signup": "account page",
    "signup-confirm": "account page (a pending signup's confirmation link)",
    "settings-password": "account page",
    "settings-api": "the user's own API key",
    "settings-api-sharex": "the user's own ShareX file",
    "api-v1-docs": "documentation",
    "api-schema": "OpenAPI schema",
    "api-v4-account": "the caller's own account",
    "api-v4-user-account": "the caller's own account",
    "api-v4-docs": "documentation",
    "api-v4-admin-id-encode": "staff only; an id, no upload",
    "api-v4-admin-id-decode": "staff only; an id, no upload",
    "api-not-found": "a JSON 404 for any path no API serves",
    "profile-file": "avatars and backgrounds (profile images, never uploads)",
    # The upload endpoints answer with the upload the caller just made (or its own duplicate).
    "api-v1-upload": "answers the caller's own upload",
    "api/1/upload/": "alias of api-v1-upload",
    "1/upload": "alias of api-v1-upload",
    "1/upload/": "alias of api-v1-upload",
    "like": "a write: answers a like count, through the social services' visibility check",
    "follow": "a write: answers a follower count",
}
# Web pages that list uploads or albums: each asks the listing selectors (images_visible_to,
# album_images_visible_to, albums_listed_filter, users_listed ...) and has its own tests in
# tests/web/. One block per area of web/, each kept by that area's tests.
WEB_PAGES: dict[str, str] = {
    # -- web/upload.py
    "upload": "the upload form; answers only the caller's own new upload",
    "upload-json": "answers the caller's own upload (uploads.services.image_upload)",
    "upload-album": "creates one of the caller's albums (albums.services.album_create)",
    "upload-done": "the links of an upload this very session made (kept in the session)",
    # -- web/viewer.py
    "image-edit": "uploads.selectors.image_of_actor (owner or staff; 404 for anyone else)",
    "image-remove": "uploads.selectors.image_of_actor (owner or staff; 404 for anyone else)",
    "oembed": "image_visible_to(GUEST): what a guest's viewer shows, else 404",
    "image-report": "image_visible_to (404 otherwise); a write: moderation.reports.report_create",
    # -- web/albums.py
    "album": "album_visible_to (password gate), album_images_visible_to, album_children_visible_to",
    "album-sub": "album_visible_to (password gate), album_children_visible_to",
    "album-create": "the owner's own form; lists only their albums as parents",
    "album-edit": "owner or staff only (404 otherwise); the album's own uploads as covers",
    "album-delete": "owner or staff only (404 otherwise)",
    "album-add": "owner or staff only (404 otherwise); images_owned_by the album's owner",
    # -- web/discovery.py
    "explore": "uploads.search.images_explore (images_visible_to)",
    "explore-section": "uploads.search.images_explore (images_visible_to)",
    "category": "uploads.search.images_listed (images_visible_to)",
    "tag": "uploads.search.tags_listed + images_listed (images_visible_to)",
    "search": "uploads.search.search (images_visible_to, albums_visible_to, users_listed)",
    # -- web/account.py
    "settings": "the user's own settings (request.user only)",
    "settings-profile": "a write to the user's own profile (user_profile_update)",
    "settings-account": "a write to the user's own email (user_profile_update)",
    "settings-preferences": "a write to the user's own preferences (user_profile_update)",
    "settings-avatar": "the user's own avatar (uploads.profile_assets)",
    "settings-background": "the user's own background (uploads.profile_assets)",
    "settings-export": "the user's own uploads only (imports.export of request.user)",
    "notifications": "social.selectors.notifications_for: the recipient's own uploads",
    "notification-read": "a write: social.services.notification_mark_read",
    "notifications-read-all": "a write: social.services.notification_mark_read",
    "password-reset": "account page",
    "password-reset-done": "account page",
    "password-reset-confirm": "account page",
    "password-reset-complete": "account page",
    # -- web/people.py
    "profile": "accounts.selectors.user_profile_for + images_visible_to",
    "profile-albums": "accounts.selectors.user_profile_for + albums_visible_to",
    "profile-liked": "user_profile_for + social.selectors.likes_of_user (images_visible_to)",
    "profile-followers": "user_profile_for + social.selectors.followers_of (no uploads)",
    "profile-following": "user_profile_for + social.selectors.following_of (no uploads)",
}
# API V4 operations have their own table, walked as owner, another user, guest and staff
# over every operation of the schema (tests/api_v4/test_permissions.py), which fails for a
# V4 route it does not classify.
V4_WALKED_PREFIX = "api-v4-"
# The dashboard (Django admin) is for staff, who see everything by the rule.
STAFF_ONLY_NAMESPACES = {"admin"}


def _routes(
    patterns: list, prefix: str = "", namespace: str | None = None
) -> Iterator[tuple[str, str]]:
    """(key, namespace) for every route: its name, or its full pattern when it has none."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(
                entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace
            )
        elif isinstance(entry, URLPattern):
            yield entry.name or prefix + str(entry.pattern), namespace or ""


def test_every_route_is_classified_and_every_route_showing_uploads_is_in_the_matrix() -> None:
    covered = {surface.route for surface in CHECKS.values() if surface.route}
    unclassified = [
        key
        for key, namespace in _routes(get_resolver().url_patterns)
        if namespace not in STAFF_ONLY_NAMESPACES
        and not key.startswith(V4_WALKED_PREFIX)
        and key not in covered
        and key not in SHOWS_NO_UPLOADS
        and key not in WEB_PAGES
    ]
    assert unclassified == [], (
        "Routes not classified in tests/uploads/test_visibility.py: add a checker to the "
        f"matrix (CHECKS) or say why they show no uploads (SHOWS_NO_UPLOADS): {unclassified}"
    )
    names = {key for key, _ in _routes(get_resolver().url_patterns)}
    assert covered <= names and set(SHOWS_NO_UPLOADS) | set(WEB_PAGES) <= names  # none stale


def test_each_checker_requests_the_route_it_claims_to_cover(user: User) -> None:
    upload = make_upload(owner=user)
    for name, surface in CHECKS.items():
        if surface.route is None:
            continue
        url = surface.sample_url(upload)  # type: ignore[misc]
        assert resolve(url).url_name == surface.route, name


# --- Walking the table ---------------------------------------------------------------------


def _logged_in_user(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    if user_id is None:
        return None
    user = User.objects.get(pk=user_id)
    return user if user.is_active else None


def _fresh(image: Image) -> Image:
    return Image.objects.select_related("user", "album__owner").get(pk=image.pk)


def _arrange(state: str, owner: User) -> Upload:
    privacy = {
        "in private album": Album.Privacy.PRIVATE,
        "in link-only album": Album.Privacy.PRIVATE_BUT_LINK,
        "in password album, locked": Album.Privacy.PASSWORD,
        "in password album, unlocked": Album.Privacy.PASSWORD,
    }.get(state)
    album = None
    if privacy is not None:
        album = Album.objects.create(owner=owner, name="Holidays", privacy=privacy)
        if privacy == Album.Privacy.PASSWORD:
            album_set_password(album=album, password=ALBUM_PASSWORD)
    upload = make_upload(owner=owner, album=album)
    if state == "awaiting moderation":
        Image.objects.filter(pk=upload.image.pk).update(is_approved=False)
    elif state == "expired":
        Image.objects.filter(pk=upload.image.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    elif state == "banned owner":
        User.objects.filter(pk=owner.pk).update(is_active=False)
    upload.image = _fresh(upload.image) if state != "expired" else upload.image
    return upload


def _client_for(viewer: str, *, owner: User, other: User, staff: User) -> Client:
    client = Client()
    account = {"owner": owner, "another user": other, "staff": staff}.get(viewer)
    if account is not None:
        client.force_login(account)
    return client


@pytest.fixture
def accounts(settings) -> tuple[User, User, User]:
    """Owner, another user and staff, without slow password hashing: 32 cases run fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    owner = User.objects.create_user(username="owner", email="o@example.com")
    other = User.objects.create_user(username="other", email="x@example.com")
    staff = User.objects.create_user(username="staff", email="s@example.com", is_staff=True)
    return owner, other, staff


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("viewer", VIEWERS)
def test_each_viewer_sees_each_upload_state_exactly_where_the_table_says(
    viewer: str, state: str, accounts: tuple[User, User, User]
) -> None:
    owner, other, staff = accounts
    upload = _arrange(state, owner)
    client = _client_for(viewer, owner=owner, other=other, staff=staff)
    if state == "in password album, unlocked":
        # Unlocked through the real form: a right password opens the album for the session.
        token = str(client.get(image_viewer_path(upload.image)).context["csrf_token"])
        unlocked = client.post(
            image_viewer_path(upload.image),
            {"content-password": ALBUM_PASSWORD, "auth_token": token},
        )
        assert unlocked.status_code == 303
    case = Case(client, upload)
    seen = {surface: CHECKS[surface].check(case) for surface in SURFACES}
    assert seen == expected(viewer, state)


# --- The password gate ---------------------------------------------------------------------


@pytest.fixture
def locked(user: User) -> Upload:
    album = Album.objects.create(owner=user, name="Family", privacy=Album.Privacy.PASSWORD)
    album_set_password(album=album, password=ALBUM_PASSWORD)
    return make_upload(owner=user, album=album)


def _csrf_client() -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    response = client.get("/login")
    return client, str(response.context["csrf_token"])


def test_a_stranger_gets_a_password_form_in_chevereto_s_shape(locked: Upload) -> None:
    response = Client().get(image_viewer_path(locked.image))
    text = response.content.decode()
    assert response.status_code == 200 and "Password required" in text
    assert '<form method="post"' in text
    assert 'name="content-password"' in text and 'name="auth_token"' in text
    assert "no-store" in response["Cache-Control"]


def test_the_right_password_unlocks_the_album_for_the_session(locked: Upload) -> None:
    client, token = _csrf_client()
    page = image_viewer_path(locked.image)
    response = client.post(page, {"content-password": ALBUM_PASSWORD, "auth_token": token})
    assert response.status_code == 303 and response["Location"] == page
    shown = client.get(page)
    assert shown.status_code == 200 and locked.image.path in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]  # shown thanks to this session only
    assert Client().get(page).status_code == 200  # another visitor still gets the form
    assert "Password required" in Client().get(page).content.decode()


def test_a_wrong_password_answers_the_same_page_with_an_error_and_403(locked: Upload) -> None:
    client, token = _csrf_client()
    page = image_viewer_path(locked.image)
    response = client.post(page, {"content-password": "guess", "auth_token": token})
    text = response.content.decode()
    assert response.status_code == 403
    assert "Password required" in text and "Invalid password" in text
    assert locked.image.path not in text
    assert "Password required" in client.get(page).content.decode()


def test_the_password_form_is_refused_without_a_valid_csrf_token(locked: Upload) -> None:
    client, _ = _csrf_client()
    page = image_viewer_path(locked.image)
    forged = client.post(page, {"content-password": ALBUM_PASSWORD, "auth_token": "x" * 32})
    assert forged.status_code == 403 and "Password required" not in forged.content.decode()
    missing = client.post(page, {"content-password": ALBUM_PASSWORD})
    assert missing.status_code == 403
    assert "Password required" in client.get(page).content.decode()


def test_a_new_album_password_locks_out_sessions_that_used_the_old_one(locked: Upload) -> None:
    client, token = _csrf_client()
    page = image_viewer_path(locked.image)
    client.post(page, {"content-password": ALBUM_PASSWORD, "auth_token": token})
    assert locked.image.path in client.get(page).content.decode()
    album_set_password(album=locked.image.album, password="a-new-secret")
    assert "Password required" in client.get(page).content.decode()


def test_the_gate_comes_before_the_slug_redirect_so_the_title_does_not_leak(
    locked: Upload,
) -> None:
    response = Client().get(f"/image/wrong-slug.{encode_id(locked.image.pk)}")
    assert response.status_code == 200 and "Password required" in response.content.decode()
    assert TITLE not in response.content.decode()


def test_the_album_password_is_stored_as_a_slow_hash(user: User) -> None:
    album = Album.objects.create(owner=user, name="Family", privacy=Album.Privacy.PASSWORD)
    album_set_password(album=album, password=ALBUM_PASSWORD)
    album.refresh_from_db()
    assert ALBUM_PASSWORD not in album.password_hash
    assert album.password_hash.startswith(("pbkdf2_", "argon2", "bcrypt", "scrypt"))
    with pytest.raises(ValueError):
        album_set_password(album=album, password="")


def test_a_password_album_without_a_password_opens_for_no_one(user: User) -> None:
    album = Album.objects.create(owner=user, name="Unset", privacy=Album.Privacy.PASSWORD)
    upload = make_upload(owner=user, album=album)
    client, token = _csrf_client()
    page = image_viewer_path(upload.image)
    response = client.post(page, {"content-password": "", "auth_token": token})
    assert response.status_code == 403


# --- Album selectors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("privacy", "reachable", "listed"),
    [
        (Album.Privacy.PUBLIC, True, True),
        (Album.Privacy.PRIVATE_BUT_LINK, True, False),
        (Album.Privacy.PASSWORD, False, False),
        (Album.Privacy.PRIVATE, False, False),
    ],
)
def test_albums_are_reachable_and_listed_by_their_privacy(
    user: User, other_user: User, admin_user: User, privacy: str, reachable: bool, listed: bool
) -> None:
    album = Album.objects.create(owner=user, name="A", privacy=privacy)
    stranger = viewer_for_user(user=other_user)
    assert album_visible_to(viewer=stranger, album=album) is reachable
    assert album_visible_to(viewer=GUEST, album=album) is reachable
    assert album_listed_for(viewer=stranger, album=album) is listed
    assert albums_visible_to(viewer=stranger).filter(pk=album.pk).exists() is listed
    for insider in (viewer_for_user(user=user), viewer_for_user(user=admin_user)):
        assert album_visible_to(viewer=insider, album=album)
        assert albums_visible_to(viewer=insider).filter(pk=album.pk).exists()


def test_a_private_profile_s_public_album_is_reachable_by_link_but_listed_only_for_insiders(
    user: User, other_user: User, admin_user: User
) -> None:
    album = Album.objects.create(owner=user, name="A", privacy=Album.Privacy.PUBLIC)
    User.objects.filter(pk=user.pk).update(is_private=True)
    album = Album.objects.select_related("owner").get(pk=album.pk)
    stranger = viewer_for_user(user=other_user)
    assert album_visible_to(viewer=stranger, album=album)
    assert not album_listed_for(viewer=stranger, album=album)
    assert not albums_visible_to(viewer=stranger).filter(pk=album.pk).exists()
    for insider in (viewer_for_user(user=user), viewer_for_user(user=admin_user)):
        assert album_listed_for(viewer=insider, album=album)
        assert albums_visible_to(viewer=insider).filter(pk=album.pk).exists()


def test_the_albums_of_a_banned_owner_are_gone_for_others(user: User, other_user: User) -> None:
    album = Album.objects.create(owner=user, name="A", privacy=Album.Privacy.PUBLIC)
    User.objects.filter(pk=user.pk).update(is_active=False)
    album = Album.objects.select_related("owner").get(pk=album.pk)
    stranger = viewer_for_user(user=other_user)
    assert not album_visible_to(viewer=stranger, album=album)
    assert not albums_visible_to(viewer=stranger).filter(pk=album.pk).exists()


def test_a_banned_user_is_a_guest_to_the_selectors(user: User) -> None:
    user.is_active = False
    assert viewer_for_user(user=user) == GUEST


def test_a_public_file_is_answered_without_reading_the_session(user: User, client: Client) -> None:
    upload = make_upload(owner=user)
    response = client.get(file_url(upload, "image"))
    assert "Cookie" not in response.get("Vary", "")
    assert image_file_visible_to(viewer=GUEST, image=_fresh(upload.image))
    assert image_visible_to(viewer=GUEST, image=_fresh(upload.image))

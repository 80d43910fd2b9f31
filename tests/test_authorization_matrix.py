"""The authorization matrix: every page and every API operation, asked by a guest, the owner,
another user and staff, about the owner's things in every state, answers what the table says.

The routes are discovered, not listed: the root URLconf is walked (the dashboard through its
model admins), and the API operations are read from the OpenAPI schema. A route or an
operation without a row fails `test_every_route_and_operation_has_a_row`, and so does a row
whose route is gone. The tables:
- PAGES: web pages and file URLs, in each content state (tests/authz_fixtures.World);
- ACCOUNT_PAGES: pages about the caller alone (no owner's thing on them), in one state;
- API_STATES: the API operations that show or act on the owner's things, in each state;
  every API V4 operation's answer per role is tests/api_v4/test_permissions.OPERATIONS
  (user routes) and tests/api_v4/test_admin_permissions (admin routes, staff only);
- API_V1: `/api/1/upload` and its aliases;
- the dashboard: changelist, add, change, delete and history of every model admin.

Expected outcomes come from the upload visibility table (tests/uploads/test_visibility.py):
one rule, read here for every surface.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from chevereto.core.bans import ip_ban_create
from chevereto.core.encoding import encode_id
from tests import samples
from tests.api_v4.test_admin_permissions import admin_operations
from tests.api_v4.test_permissions import NOT_WALKED, OPERATIONS
from tests.authz_expectations import (
    ABSENT,
    BANNED,
    ELSEWHERE,
    GATE,
    LOGIN,
    OK,
    SEEN,
    album_in_listing,
    album_open,
    album_tools,
    always,
    api_follow,
    api_like_album,
    api_like_image,
    api_mine,
    by_key,
    cover_in_listing,
    delete_link,
    embeddable,
    guests_only,
    image_in_album,
    image_tools,
    insider_sees_image,
    listing,
    members_only,
    members_post_only,
    page,
    parent_status,
    reportable,
    served,
    tag_page,
    unless_expired,
    web_follow,
    web_like_album,
    web_like_image,
)
from tests.authz_fixtures import ROLES, STATES, World, admin_object, arrange
from tests.uploads.test_visibility import _routes as routes_of

pytestmark = pytest.mark.django_db

# --- Rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    """One request of a row: where, how, and which outcome each (role, state) gets."""

    url: Callable[[World], str]
    expect: Callable[[str, str], str]
    thing: str = "image"  # what SEEN/ABSENT look for: image, video or album
    method: str = "GET"
    data: Callable[[World], dict] | None = None
    follow: bool = False
    json: bool = False  # ask for JSON (the like and follow buttons' script does)


def liking(kind: str) -> Callable[[World], dict]:
    """The like button's form for the owner's image or album."""
    return lambda w: {
        "kind": kind,
        "id": w.image_id if kind == "image" else w.album_id,
        "action": "like",
    }


def _parent_id(w: World) -> str:
    return encode_id(w.parent.pk)


# Web pages and files, by URL name (or pattern when unnamed): each asked in every state.
PAGES: dict[str, tuple[Ask, ...]] = {
    "image-viewer": (
        Ask(lambda w: w.viewer_path(), page("viewer")),
        Ask(lambda w: w.short_path(), page("short"), follow=True),
        Ask(lambda w: w.viewer_path(video=True), page("viewer"), thing="video"),
    ),
    "image-file": (
        Ask(lambda w: w.file_path("image"), served),
        Ask(lambda w: w.file_path("thumb"), served),
        Ask(lambda w: w.file_path("medium"), served),
        Ask(lambda w: w.file_path("image", video=True), served),
        Ask(lambda w: w.file_path("thumb", video=True), served),
        Ask(lambda w: w.file_path("frame", video=True), served),
    ),
    "image-delete": (
        Ask(lambda w: w.delete_path(), delete_link),
        Ask(lambda w: w.delete_path(video=True), delete_link),
    ),
    "oembed": (
        Ask(lambda w: f"/oembed?url=http://testserver{w.viewer_path()}", embeddable),
        Ask(lambda w: f"/oembed?url=http://testserver{w.viewer_path(video=True)}", embeddable),
    ),
    "image-report": (
        Ask(lambda w: f"/image/{w.image_id}/report", reportable),
        Ask(
            lambda w: f"/image/{w.image_id}/report",
            lambda r, s: OK if reportable(r, s) == SEEN else "404",
            method="POST",
            data=lambda w: {"reason": "spam"},
        ),
    ),
    "image-edit": (Ask(lambda w: f"/image/{w.image_id}/edit", image_tools),),
    "image-remove": (Ask(lambda w: f"/image/{w.image_id}/remove", image_tools),),
    "upload-done": (Ask(lambda w: f"/upload/done/{w.image_id}", always("404")),),
    "album": (
        Ask(lambda w: w.album_page(), album_open, thing="album"),
        Ask(lambda w: w.album_page(), image_in_album),
        Ask(lambda w: w.parent_page(), album_in_listing(profile=True), thing="album"),
        Ask(lambda w: w.parent_page(), cover_in_listing(profile=True)),
    ),
    "album-sub": (
        Ask(lambda w: f"/album/{w.album_id}/sub", album_open, thing="album"),
        Ask(lambda w: f"/album/{_parent_id(w)}/sub", album_in_listing(profile=True), thing="album"),
        Ask(lambda w: f"/album/{_parent_id(w)}/sub", cover_in_listing(profile=True)),
    ),
    "album-edit": (Ask(lambda w: f"/album/{w.album_id}/edit", album_tools, thing="album"),),
    "album-delete": (Ask(lambda w: f"/album/{w.album_id}/delete", album_tools, thing="album"),),
    "album-add": (Ask(lambda w: f"/album/{w.album_id}/add", album_tools, thing="album"),),
    "home": (Ask(lambda w: "/", listing("home")),),
    "explore": (Ask(lambda w: "/explore", listing()),),
    "explore-section": (Ask(lambda w: "/explore/recent", listing()),),
    "category": (Ask(lambda w: f"/category/{w.category.slug}", listing()),),
    "tag": (Ask(lambda w: f"/tag/{w.tag.name}", tag_page),),
    "search": (
        Ask(lambda w: "/search?q=zephyrqx", listing()),
        Ask(lambda w: "/search?q=zephyrqx&type=albums", album_in_listing(), thing="album"),
        Ask(lambda w: "/search?q=zephyrqx&type=albums", cover_in_listing()),
    ),
    "profile": (Ask(lambda w: "/alice", listing(profile=True)),),
    "profile-albums": (
        Ask(lambda w: "/alice/albums", album_in_listing(profile=True), thing="album"),
        Ask(lambda w: "/alice/albums", cover_in_listing(profile=True)),
    ),
    "profile-liked": (Ask(lambda w: "/alice/liked", listing(profile=True)),),
    "profile-followers": (Ask(lambda w: "/alice/followers", parent_status),),
    "profile-following": (Ask(lambda w: "/alice/following", parent_status),),
    "like": (
        Ask(lambda w: "/like", web_like_image, method="POST", data=liking("image"), json=True),
        Ask(lambda w: "/like", web_like_album, method="POST", data=liking("album"), json=True),
    ),
    "follow": (
        Ask(
            lambda w: "/follow",
            web_follow,
            method="POST",
            data=lambda w: {"username": "alice", "action": "follow"},
            json=True,
        ),
    ),
}


def at(path: str, expect: Callable[[str, str], str]) -> tuple[Ask, ...]:
    return (Ask(lambda w: path, expect),)


# Pages about the caller alone: no owner's thing on them, so one state is enough.
ACCOUNT_PAGES: dict[str, tuple[Ask, ...]] = {
    "login": at("/login", guests_only),
    "signup": at("/signup", guests_only),
    "signup-confirm": at("/signup/confirm/not-a-token", always("404")),
    "logout": at("/logout", lambda r, s: ELSEWHERE if r == "guest" else OK),
    "password-reset": at("/password-reset", always(OK)),
    "password-reset-done": at("/password-reset/sent", always(OK)),
    "password-reset-confirm": at("/password-reset/MQ/bad-token", always(OK)),
    "password-reset-complete": at("/password-reset/complete", always(OK)),
    "settings-password": at("/settings/password", members_only),
    "settings-api": at("/settings/api", members_only),
    "settings-api-sharex": at("/settings/api/sharex", members_post_only),
    "settings": at("/settings", members_only),
    "settings-profile": at("/settings/profile", members_post_only),
    "settings-account": at("/settings/account", members_post_only),
    "settings-preferences": at("/settings/preferences", members_post_only),
    "settings-avatar": at("/settings/avatar", members_post_only),
    "settings-background": at("/settings/background", members_post_only),
    "settings-export": at("/settings/export", members_only),
    "notifications": at("/notifications", members_only),
    "notification-read": at("/notifications/read", members_post_only),
    "notifications-read-all": at("/notifications/read-all", members_post_only),
    "upload": at("/upload", always(OK)),
    "upload-json": at("/upload/json", always("405")),
    "upload-album": at("/upload/album", members_post_only),
    "album-create": at("/albums/new", members_only),
    "api-v1-docs": at("/api-v1", always(OK)),
    "api-schema": at("/api/4/schema/", always(OK)),
    "api-v4-docs": at("/api/4/docs/", always(OK)),
    "api-not-found": at("/api/nothing-here", always("404")),
    "profile-file": at(f"/profiles/avatars/{'0' * 32}.png", always("404")),
}


# --- API rows that depend on the state of the owner's things ------------------------------


API = "/api/4/"
# (method, schema path) -> the asks; the path's parameters are the owner's things.
API_STATES: dict[tuple[str, str], tuple[Ask, ...]] = {
    ("GET", API + "user/images/{id}/"): (
        Ask(lambda w: f"{API}user/images/{w.image_id}/", api_mine(unless_expired)),
    ),
    ("GET", API + "user/albums/{id}/"): (
        Ask(lambda w: f"{API}user/albums/{w.album_id}/", api_mine(always(SEEN)), thing="album"),
    ),
    ("GET", API + "user/albums/{id}/contents/"): (
        Ask(lambda w: f"{API}user/albums/{w.album_id}/contents/", api_mine(insider_sees_image)),
    ),
    ("POST", API + "user/images/{id}/like/"): (
        Ask(
            lambda w: f"{API}user/images/{w.image_id}/like/",
            by_key(api_like_image),
            method="POST",
        ),
    ),
    ("POST", API + "user/albums/{id}/like/"): (
        Ask(
            lambda w: f"{API}user/albums/{w.album_id}/like/",
            by_key(api_like_album),
            thing="album",
            method="POST",
        ),
    ),
    ("POST", API + "users/{username}/follow/"): (
        Ask(lambda w: f"{API}users/alice/follow/", by_key(api_follow), method="POST"),
    ),
    ("GET", API + "users/{username}/"): (
        Ask(lambda w: f"{API}users/alice/", by_key(parent_status)),
    ),
    ("GET", API + "users/{username}/images/"): (
        Ask(lambda w: f"{API}users/alice/images/", by_key(listing(profile=True))),
    ),
    ("GET", API + "users/{username}/albums/"): (
        Ask(
            lambda w: f"{API}users/alice/albums/",
            by_key(album_in_listing(profile=True)),
            thing="album",
        ),
        Ask(lambda w: f"{API}users/alice/albums/", by_key(cover_in_listing(profile=True))),
    ),
    ("GET", API + "users/{username}/followers/"): (
        Ask(lambda w: f"{API}users/alice/followers/", by_key(parent_status)),
    ),
    ("GET", API + "explore/"): (Ask(lambda w: f"{API}explore/", by_key(listing())),),
    ("GET", API + "search/"): (
        Ask(lambda w: f"{API}search/?q=zephyrqx", by_key(listing())),
        Ask(
            lambda w: f"{API}search/?q=zephyrqx&type=albums",
            by_key(album_in_listing()),
            thing="album",
        ),
        Ask(lambda w: f"{API}search/?q=zephyrqx&type=albums", by_key(cover_in_listing())),
    ),
}


def _png() -> SimpleUploadedFile:
    return SimpleUploadedFile("walk.png", samples.png_bytes(), content_type="image/png")


# /api/1/upload (and its aliases): an upload with the role's key.
V1_UPLOAD_PATHS = ("/api/1/upload", "/api/1/upload/", "/1/upload", "/1/upload/")
API_V1: dict[tuple[str, str], tuple[Ask, ...]] = {
    ("POST", "/api/1/upload"): tuple(
        Ask(
            lambda w, p=path: p,
            by_key(lambda r, s: "401" if r == "guest" else OK),
            method="POST",
            data=lambda w: {"source": _png()},
        )
        for path in V1_UPLOAD_PATHS
    ),
}


# --- Asking --------------------------------------------------------------------------------


def _body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


def _shows(world: World, thing: str, text: str) -> bool:
    if thing == "album":
        return world.shows_album(text)
    image = world.video if thing == "video" else world.image
    # The random file name of the upload: in its page, its cards and its API answers.
    return image.path.rsplit("/", 1)[-1].rsplit(".", 1)[0] in text


# Each role asks from its own address, so one role's refused key never slows another's.
ADDRESSES = {role: f"198.51.100.{n}" for n, role in enumerate(ROLES, start=10)}


def _ask(world: World, ask: Ask, role: str, *, api: bool) -> str:
    # API calls carry a key and no session (the web clients' sessions hold album unlocks).
    client = Client() if api else world.client(role)
    headers: dict[str, str] = {"REMOTE_ADDR": ADDRESSES[role]}
    if api:
        headers.update(world.api_headers(role))
    if ask.json:
        headers["HTTP_ACCEPT"] = "application/json"
    url = ask.url(world)
    if ask.method == "GET":
        response = client.get(url, follow=ask.follow, **headers)
    else:
        response = client.post(url, ask.data(world) if ask.data else {}, **headers)
    return _outcome(world, ask, response)


def _outcome(world: World, ask: Ask, response) -> str:
    status = response.status_code
    if status in {301, 302, 303}:
        return LOGIN if response["Location"].startswith("/login") else ELSEWHERE
    if status != 200:
        return str(status)
    text = _body(response)
    shown = _shows(world, ask.thing, text)
    if "Password required" in text and 'name="content-password"' in text:
        assert not shown, "a password form must not show what it guards"
        return GATE
    return SEEN if shown else ABSENT


def _check(world: World, asks: tuple[Ask, ...], *, api: bool) -> list[str]:
    wrong = []
    for role in ROLES:
        for ask in asks:
            want = ask.expect(role, world.state)
            got = _ask(world, ask, role, api=api)
            # A page whose content the row does not look at: any 200 is the 200 it wants.
            if want == OK and got in {SEEN, ABSENT}:
                got = OK
            if got != want:
                wrong.append(f"{ask.method} {ask.url(world)} as {role}: {got}, want {want}")
    return wrong


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("route", sorted(PAGES))
def test_each_page_answers_each_role_in_each_state_as_the_table_says(
    route: str, state: str
) -> None:
    world = arrange(state)
    assert _check(world, PAGES[route], api=False) == []


@pytest.mark.parametrize("route", sorted(ACCOUNT_PAGES))
def test_each_account_page_answers_each_role_as_the_table_says(route: str) -> None:
    world = arrange("public")
    assert _check(world, ACCOUNT_PAGES[route], api=False) == []


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize(
    "operation", sorted(API_STATES), ids=[f"{m} {p}" for m, p in sorted(API_STATES)]
)
def test_each_api_operation_answers_each_role_in_each_state_as_the_table_says(
    operation: tuple[str, str], state: str
) -> None:
    world = arrange(state)
    assert _check(world, API_STATES[operation], api=True) == []


@pytest.mark.parametrize("state", ["public", BANNED])
def test_api_v1_upload_answers_each_role_as_the_table_says(state: str) -> None:
    world = arrange(state)
    assert _check(world, API_V1[("POST", "/api/1/upload")], api=True) == []


# A banned address is refused everywhere, before sessions and keys are read.
BANNED_ADDRESS = "203.0.113.66"
FROM_A_BANNED_ADDRESS = (
    ("GET", lambda w: w.viewer_path()),
    ("GET", lambda w: w.file_path("image")),
    ("GET", lambda w: "/login"),
    ("GET", lambda w: f"{API}explore/"),
    ("POST", lambda w: "/api/1/upload"),
)


@pytest.mark.parametrize("role", ROLES)
def test_a_banned_address_is_refused_whoever_asks(role: str) -> None:
    world = arrange("public")
    ip_ban_create(ip=BANNED_ADDRESS)
    client = world.client(role)
    headers = {"REMOTE_ADDR": BANNED_ADDRESS, **world.api_headers(role)}
    for method, url in FROM_A_BANNED_ADDRESS:
        if method == "GET":
            response = client.get(url(world), **headers)
        else:
            response = client.post(url(world), {"source": _png()}, **headers)
        assert response.status_code == 403, (method, url(world), response.status_code)
        assert world.image.path not in _body(response)


# --- The dashboard: every model admin's views ------------------------------------------------

ADMIN_VIEWS = ("changelist", "add", "change", "delete", "history")
# The site settings are one row: their list sends staff straight to it.
ADMIN_SINGLETONS = {("chevereto.SiteSettings", "changelist")}


def for_staff(path: str, *, staff: str = OK) -> tuple[str, dict[str, str]]:
    """A dashboard page: guests and users are sent to the dashboard's login."""
    return path, {"guest": LOGIN, "user": LOGIN, "staff": staff}


# Dashboard routes that are not a model admin's view, and what they answer.
ADMIN_EXTRA: dict[str, tuple[str, dict[str, str]]] = {
    "index": for_staff("/dashboard/"),
    "login": ("/dashboard/login/", {"guest": OK, "user": OK, "staff": ELSEWHERE}),
    # Logging out takes a POST; a GET is sent on.
    "logout": ("/dashboard/logout/", {"guest": ELSEWHERE, "user": ELSEWHERE, "staff": "405"}),
    "password_change": for_staff("/dashboard/password_change/"),
    "password_change_done": for_staff("/dashboard/password_change/done/"),
    "autocomplete": for_staff("/dashboard/autocomplete/", staff="403"),
    "jsi18n": for_staff("/dashboard/jsi18n/"),
    "view_on_site": for_staff("/dashboard/r/1/1/", staff="404"),
    "app_list": for_staff("/dashboard/uploads/"),
    "dashboard/(?P<url>.*)$": for_staff("/dashboard/no-such-page/", staff="404"),
    "auth_user_password_change": for_staff("/dashboard/accounts/user/{alice}/password/"),
    "accounts_user_export": for_staff("/dashboard/accounts/user/{alice}/export/"),
}


def _admin_login_outcome(response) -> str:
    if response.status_code in {301, 302, 303}:
        target = response["Location"]
        return LOGIN if target.startswith(("/dashboard/login/", "/login")) else ELSEWHERE
    return str(response.status_code)


def _an_object_of(model: type, world: World):
    row = model._default_manager.order_by("pk").first()
    return row if row is not None else admin_object(model, world)


def _staff_may(model_admin, view: str, request, obj) -> bool:
    if view in {"changelist", "history"}:
        return model_admin.has_view_or_change_permission(
            request, obj if view == "history" else None
        )
    if view == "add":
        return model_admin.has_add_permission(request)
    if view == "change":
        return model_admin.has_view_or_change_permission(request, obj)
    return model_admin.has_delete_permission(request, obj)


def test_every_dashboard_view_is_for_staff_only() -> None:
    from django.test import RequestFactory

    world = arrange("public")
    clients = {"guest": world.client("guest"), "user": world.client("another user")}
    clients["staff"] = world.client("staff")
    request = RequestFactory().get("/dashboard/")
    request.user = world.staff
    wrong = []
    for model, model_admin in admin.site._registry.items():
        obj = _an_object_of(model, world)
        meta = model._meta
        for url, view in _model_admin_urls(model, obj):
            may = _staff_may(model_admin, view, request, obj)
            want = {"guest": LOGIN, "user": LOGIN, "staff": OK if may else "403"}
            if (meta.label, view) in ADMIN_SINGLETONS:
                want["staff"] = ELSEWHERE
            for who, client in clients.items():
                got = _admin_login_outcome(client.get(url))
                if got != want[who]:
                    wrong.append(f"{meta.label} {view} ({url}) as {who}: {got}, want {want[who]}")
    for name, (url, want) in ADMIN_EXTRA.items():
        url = url.replace("{alice}", str(world.owner.pk))
        for who, client in clients.items():
            got = _admin_login_outcome(client.get(url))
            if got != want[who]:
                wrong.append(f"{name} ({url}) as {who}: {got}, want {want[who]}")
    assert wrong == [], "\n".join(wrong)


def _model_admin_urls(model: type, obj) -> Iterator[tuple[str, str]]:
    meta = model._meta
    base = f"/dashboard/{meta.app_label}/{meta.model_name}/"
    urls = {
        "changelist": base,
        "add": base + "add/",
        "change": f"{base}{obj.pk}/change/",
        "delete": f"{base}{obj.pk}/delete/",
        "history": f"{base}{obj.pk}/history/",
    }
    for view in ADMIN_VIEWS:
        yield urls[view], view


# --- Coverage: a route or an operation without a row fails, and so does a stale row -------


def _schema_path(pattern: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)


def _schema_operations(client: Client) -> set[tuple[str, str]]:
    schema = client.get("/api/4/schema/?format=json").json()
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path not in NOT_WALKED
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def _v4_route_patterns(patterns: list, prefix: str = "") -> Iterator[tuple[str, str]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _v4_route_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and (entry.name or "").startswith("api-v4-"):
            yield entry.name, prefix + str(entry.pattern)


def test_every_route_and_operation_has_a_row(client: Client) -> None:
    operations = _schema_operations(client)
    admin_ops = set(admin_operations())
    walked_ops = set(OPERATIONS) | admin_ops | set(API_V1)
    problems = [f"operation without a row: {op}" for op in sorted(operations - walked_ops)]
    problems += [f"row without an operation: {op}" for op in sorted(walked_ops - operations)]
    problems += [
        f"state row for an operation the role walk lacks: {op}"
        for op in sorted(set(API_STATES) - set(OPERATIONS))
    ]
    # Every API V4 route is an operation of the schema, so the walks above reach it.
    v4_paths = {path for _, path in operations}
    problems += [
        f"api-v4 route missing from the schema: {name}"
        for name, pattern in _v4_route_patterns(get_resolver().url_patterns)
        if name != "api-v4-docs" and _schema_path(pattern) not in v4_paths
    ]
    rows = set(PAGES) | set(ACCOUNT_PAGES)
    # The named route and its unnamed aliases (keyed by their patterns).
    v1_aliases = {"api-v1-upload"} | {p.lstrip("/") for p in V1_UPLOAD_PATHS[1:]}
    routes = set()
    admin_routes = set()
    for key, namespace in routes_of(get_resolver().url_patterns):
        if namespace == "admin":
            admin_routes.add(key)
        elif not key.startswith("api-v4-") or key == "api-v4-docs":
            routes.add(key)
    problems += [f"route without a row: {key}" for key in sorted(routes - rows - v1_aliases)]
    problems += [f"row without a route: {key}" for key in sorted(rows - routes)]
    problems += [f"V1 alias without a route: {key}" for key in sorted(v1_aliases - routes)]
    # The dashboard: model admin views, their object redirects, and the site's own views.
    covered = set(ADMIN_EXTRA)
    for model in admin.site._registry:
        meta = model._meta
        covered |= {f"{meta.app_label}_{meta.model_name}_{view}" for view in ADMIN_VIEWS}
        # The bare object URL only redirects to the change view.
        covered.add(f"dashboard/{meta.app_label}/{meta.model_name}/<path:object_id>/")
    problems += [f"dashboard route without a row: {k}" for k in sorted(admin_routes - covered)]
    problems += [f"dashboard row without a route: {k}" for k in sorted(covered - admin_routes)]
    assert problems == [], "\n".join(problems)

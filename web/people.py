"""Web pages: people. A profile (`/{username}`) and its tabs: albums, liked, followers and
following.

Every tab opens with the same header (banner, avatar, name, bio, website, counts, the follow
button). Who may see the profile is asked of `accounts.selectors.user_profile_for`: a
banned user, or someone else's private profile, is the same 404 as a name nobody has. What
each tab lists is asked of the listing selectors with the request's viewer, so the rules
of `uploads.selectors` and `albums.selectors` hold here as on every other surface.

These routes come last in `web/urls.py`: `/{username}` matches any first path segment the
site does not use (reserved usernames keep the site's own segments out of reach).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import URLPattern, re_path, reverse
from django.views.decorators.http import require_safe

from accounts.models import User
from accounts.selectors import user_profile_for
from albums.selectors import Viewer, albums_visible_to, viewer_from_request
from chevereto.core.keyset import Sort
from social.selectors import followers_of, following_of, follows, likes_of_user
from uploads.selectors import images_visible_to
from web import paging
from web.cards import (
    ALBUM_RELATED,
    IMAGE_RELATED,
    album_cards,
    image_cards,
    user_cards,
    viewer_shows_nsfw,
)

# Read at call time (not bound as a default), so tests can page with a handful of rows.
PER_PAGE = paging.PER_PAGE

# Usernames are 3 to 16 letters, digits and underscores (accounts.models).
USERNAME = r"(?P<username>[A-Za-z0-9_]{3,16})"

IMAGE_SORTS = {
    "newest": Sort.of("-created_at", "-id"),
    "oldest": Sort.of("created_at", "id"),
    "most-viewed": Sort.of("-views", "-id"),
    "most-liked": Sort.of("-likes", "-id"),
}
IMAGE_SORT_LABELS = {
    "newest": "Newest",
    "oldest": "Oldest",
    "most-viewed": "Most viewed",
    "most-liked": "Most liked",
}
ALBUM_SORTS = {
    "newest": Sort.of("-created_at", "-id"),
    "oldest": Sort.of("created_at", "id"),
    "name": Sort.of("name", "id"),
}
ALBUM_SORT_LABELS = {"newest": "Newest", "oldest": "Oldest", "name": "Name"}
# Likes and follows are listed newest first, on their (user, created_at, id) indexes.
RECENT = {"newest": Sort.of("-created_at", "-id")}

# A tab's builder: (request, profile, viewer) -> (template, what its listing adds).
Tab = Callable[[HttpRequest, User, Viewer], tuple[str, dict[str, Any]]]

TABS = (
    ("profile", "Uploads"),
    ("profile-albums", "Albums"),
    ("profile-liked", "Liked"),
    ("profile-followers", "Followers"),
    ("profile-following", "Following"),
)


def _canonical_redirect(request: HttpRequest, person: User, route: str) -> HttpResponse:
    """A 301 to the URL spelling the username as its owner does (usernames match in any
    case), keeping the query string."""
    target = reverse(route, kwargs={"username": person.username})
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(target + ("?" + query if query else ""))


def _website(person: User) -> str | None:
    # The services only store http(s) URLs; anything else is not made a link.
    website = person.website
    return website if website.lower().startswith(("http://", "https://")) else None


def _header(request: HttpRequest, person: User, viewer: Viewer, route: str) -> dict[str, Any]:
    """What every tab shows above its listing."""
    me = request.user
    is_own = viewer.owns(person.pk)
    website = _website(person)
    return {
        "person": person,
        "is_own": is_own,
        "is_following": (
            follows(follower=me, followed=person) if me.is_authenticated and not is_own else False
        ),
        "website": website,
        "website_label": website.split("://", 1)[1].rstrip("/") if website else "",
        "banner": "/" + person.background if person.background else None,
        "avatar": "/" + person.avatar if person.avatar else None,
        "initial": (person.display_name or person.username)[:1].upper(),
        "profile_url": reverse("profile", kwargs={"username": person.username}),
        "tabs": [
            {
                "label": label,
                "href": reverse(name, kwargs={"username": person.username}),
                "current": name == route,
            }
            for name, label in TABS
        ],
        "tab": route,
    }


def _page(request: HttpRequest, username: str, route: str, build: Tab) -> HttpResponse:
    viewer = viewer_from_request(request)
    person = user_profile_for(
        username=username, viewer_user_id=viewer.user_id, viewer_is_staff=viewer.is_staff
    )
    if person is None:
        raise Http404("No such profile")
    # After the visibility check, so the redirect tells nothing about a hidden profile.
    if person.username != username:
        return _canonical_redirect(request, person, route)
    context = _header(request, person, viewer, route)
    template, extra = build(request, person, viewer)
    context.update(extra)
    return render(request, template, context)


def _empty(person: User, viewer: Viewer, own: str, others: str) -> str:
    return own if viewer.owns(person.pk) else others


def _uploads(request: HttpRequest, person: User, viewer: Viewer) -> tuple[str, dict[str, Any]]:
    images = images_visible_to(viewer=viewer).filter(user=person).select_related(*IMAGE_RELATED)
    page = paging.page_of(request, images, sorts=IMAGE_SORTS, default="newest", per_page=PER_PAGE)
    return "web/people/uploads.html", {
        "page": page,
        "cards": image_cards(page.items, show_nsfw=viewer_shows_nsfw(request.user)),
        "sorts": paging.sort_links(request, IMAGE_SORT_LABELS, page.sort),
        "empty": _empty(person, viewer, "You have not uploaded anything yet.", "No uploads yet."),
    }


def _albums(request: HttpRequest, person: User, viewer: Viewer) -> tuple[str, dict[str, Any]]:
    # The owner (and staff) get every album, private ones with their privacy badge; others
    # only the listed (public) ones: link-only and password albums are never listed.
    albums = albums_visible_to(viewer=viewer).filter(owner=person).select_related(*ALBUM_RELATED)
    page = paging.page_of(request, albums, sorts=ALBUM_SORTS, default="newest", per_page=PER_PAGE)
    return "web/people/albums.html", {
        "page": page,
        "album_cards": album_cards(
            page.items, viewer=viewer, show_nsfw=viewer_shows_nsfw(request.user)
        ),
        "sorts": paging.sort_links(request, ALBUM_SORT_LABELS, page.sort),
        "albums_empty": _empty(person, viewer, "You have no albums yet.", "No albums yet."),
    }


def _liked(request: HttpRequest, person: User, viewer: Viewer) -> tuple[str, dict[str, Any]]:
    likes = likes_of_user(user=person, viewer=viewer).select_related(
        *(f"image__{related}" for related in IMAGE_RELATED)
    )
    page = paging.page_of(request, likes, sorts=RECENT, default="newest", per_page=PER_PAGE)
    images = [like.image for like in page.items]
    return "web/people/liked.html", {
        "page": page,
        "cards": image_cards(images, show_nsfw=viewer_shows_nsfw(request.user)),
        "empty": _empty(person, viewer, "You have not liked anything yet.", "No likes yet."),
    }


def _followers(request: HttpRequest, person: User, viewer: Viewer) -> tuple[str, dict[str, Any]]:
    rows = followers_of(user=person, viewer_user_id=viewer.user_id, viewer_is_staff=viewer.is_staff)
    page = paging.page_of(request, rows, sorts=RECENT, default="newest", per_page=PER_PAGE)
    return "web/people/people.html", {
        "page": page,
        "user_cards": user_cards(row.follower for row in page.items),
        "users_empty": _empty(person, viewer, "Nobody follows you yet.", "No followers yet."),
    }


def _following(request: HttpRequest, person: User, viewer: Viewer) -> tuple[str, dict[str, Any]]:
    rows = following_of(user=person, viewer_user_id=viewer.user_id, viewer_is_staff=viewer.is_staff)
    page = paging.page_of(request, rows, sorts=RECENT, default="newest", per_page=PER_PAGE)
    return "web/people/people.html", {
        "page": page,
        "user_cards": user_cards(row.followed for row in page.items),
        "users_empty": _empty(
            person, viewer, "You do not follow anyone yet.", "Not following anyone yet."
        ),
    }


@require_safe
def profile(request: HttpRequest, username: str) -> HttpResponse:
    """`/{username}`: the profile and its uploads (Chevereto's listing markup)."""
    return _page(request, username, "profile", _uploads)


@require_safe
def profile_albums(request: HttpRequest, username: str) -> HttpResponse:
    return _page(request, username, "profile-albums", _albums)


@require_safe
def profile_liked(request: HttpRequest, username: str) -> HttpResponse:
    return _page(request, username, "profile-liked", _liked)


@require_safe
def profile_followers(request: HttpRequest, username: str) -> HttpResponse:
    return _page(request, username, "profile-followers", _followers)


@require_safe
def profile_following(request: HttpRequest, username: str) -> HttpResponse:
    return _page(request, username, "profile-following", _following)


urlpatterns: list[URLPattern] = [
    re_path(rf"^{USERNAME}/?$", profile, name="profile"),
    re_path(rf"^{USERNAME}/albums/?$", profile_albums, name="profile-albums"),
    re_path(rf"^{USERNAME}/liked/?$", profile_liked, name="profile-liked"),
    re_path(rf"^{USERNAME}/followers/?$", profile_followers, name="profile-followers"),
    re_path(rf"^{USERNAME}/following/?$", profile_following, name="profile-following"),
]

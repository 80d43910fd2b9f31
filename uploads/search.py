"""Discovery reads: search over uploads, albums and people, and the explore listing.

Everything here starts from the listing selectors (`images_visible_to`,
`albums_visible_to`, `users_listed`), so search and explore never show what a listing
would not: the visibility rule is asked, never re-derived. On top of it, listings hide
uploads marked NSFW unless the viewer turned `show_nsfw` on.

Text matching: on PostgreSQL, titles and descriptions are matched by full-text search
(the `simple` configuration: no stemming, whatever the language of the text); elsewhere
(SQLite, the embedded default) by a case-insensitive substring. Tag names, album names
and usernames are short and matched by substring on every database.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import users_listed
from albums.models import Album
from albums.selectors import Viewer, albums_visible_to
from uploads.models import Image, Tag
from uploads.selectors import images_visible_to

SEARCH_TYPES = ("images", "albums", "users")
QUERY_MAX = 100
# "Trending" is what people liked and looked at lately: uploads of this many days.
TRENDING_WINDOW = timedelta(days=7)
MEDIA_TYPES = ("image", "video", "animated")


def _full_text(vendor: str | None) -> bool:
    return (vendor or connection.vendor) == "postgresql"


def images_media_filter(media: str | None) -> Q:
    """`type`: image (pictures, animated ones included), video, or animated pictures."""
    if media is None:
        return Q()
    if media == "animated":
        return Q(kind=Image.Kind.IMAGE, is_animated=True)
    if media in ("image", "video"):
        return Q(kind=media)
    raise ValueError(f"unknown media type {media!r}")


def images_listed(*, viewer: Viewer, show_nsfw: bool) -> QuerySet[Image]:
    """The uploads a public listing shows this viewer, NSFW ones only if they asked."""
    images = images_visible_to(viewer=viewer)
    return images if show_nsfw else images.filter(nsfw=False)


def images_explore(
    *, viewer: Viewer, show_nsfw: bool, sort: str, media: str | None = None
) -> QuerySet[Image]:
    """Explore: every listed upload (`recent`, `popular`), or the last TRENDING_WINDOW of
    them (`trending`, ordered by likes then views, which the caller's sort does)."""
    images = images_listed(viewer=viewer, show_nsfw=show_nsfw).filter(images_media_filter(media))
    if sort == "trending":
        images = images.filter(created_at__gte=timezone.now() - TRENDING_WINDOW)
    return images


def _image_text(q: str, vendor: str | None) -> Q:
    tagged = Image.tags.through.objects.filter(tag__name__icontains=q).values("image_id")
    if _full_text(vendor):
        return Q(search=_search_query(q)) | Q(pk__in=tagged)
    return Q(title__icontains=q) | Q(description__icontains=q) | Q(pk__in=tagged)


def _search_query(q: str) -> Any:
    from django.contrib.postgres.search import SearchQuery

    return SearchQuery(q, search_type="websearch", config="simple")


def _with_vector(images: QuerySet[Image], vendor: str | None) -> QuerySet[Image]:
    if not _full_text(vendor):
        return images
    from django.contrib.postgres.search import SearchVector

    return images.annotate(search=SearchVector("title", "description", config="simple"))


def images_search(
    *, viewer: Viewer, show_nsfw: bool, q: str, vendor: str | None = None
) -> QuerySet[Image]:
    """Listed uploads whose title, description or a tag matches `q`."""
    images = _with_vector(images_listed(viewer=viewer, show_nsfw=show_nsfw), vendor)
    return images.filter(_image_text(q, vendor))


def albums_search(*, viewer: Viewer, q: str, vendor: str | None = None) -> QuerySet[Album]:
    """Listed albums whose name or description matches `q`; a private profile's albums
    hang off the profile, so they are found only by those who may see it."""
    owners = users_listed(viewer_user_id=viewer.user_id, viewer_is_staff=viewer.is_staff)
    albums = (
        albums_visible_to(viewer=viewer)
        .filter(owner_id__in=owners.values("pk"))
        .select_related("parent", "cover")
    )
    if _full_text(vendor):
        from django.contrib.postgres.search import SearchVector

        albums = albums.annotate(search=SearchVector("name", "description", config="simple"))
        return albums.filter(Q(name__icontains=q) | Q(search=_search_query(q)))
    return albums.filter(Q(name__icontains=q) | Q(description__icontains=q))


def users_search(*, viewer: Viewer, q: str) -> QuerySet[User]:
    """Listed people whose username or name contains `q`."""
    people = users_listed(viewer_user_id=viewer.user_id, viewer_is_staff=viewer.is_staff)
    return people.filter(Q(username__icontains=q) | Q(name__icontains=q))


def search(
    *, viewer: Viewer, show_nsfw: bool, q: str, kind: str, vendor: str | None = None
) -> QuerySet[Any]:
    """The one search: `kind` is one of SEARCH_TYPES; `q` is 1 to QUERY_MAX characters."""
    q = q.strip()
    if not 1 <= len(q) <= QUERY_MAX:
        raise ValueError(f"the query must be 1 to {QUERY_MAX} characters")
    if kind == "images":
        return images_search(viewer=viewer, show_nsfw=show_nsfw, q=q, vendor=vendor)
    if kind == "albums":
        return albums_search(viewer=viewer, q=q, vendor=vendor)
    if kind == "users":
        return users_search(viewer=viewer, q=q)
    raise ValueError(f"unknown search type {kind!r}")


def tags_listed(*, viewer: Viewer, q: str | None = None) -> QuerySet[Tag]:
    """Tags of at least one upload a listing shows this viewer: a tag used only on hidden
    uploads would tell strangers what those are about."""
    used = Image.tags.through.objects.filter(
        image__in=images_visible_to(viewer=viewer).values("pk")
    ).values("tag_id")
    tags = Tag.objects.filter(pk__in=used)
    return tags.filter(name__icontains=q) if q else tags

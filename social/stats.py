"""Site figures for the dashboard and `GET /api/4/admin/stats/`, and the rebuild of every
stored counter from the rows it counts (`POST /api/4/admin/stats/rebuild/`).

The counters (`User.image_count`, `album_count`, `followers_count`, `following_count`,
`Album.image_count`, `Image.likes`, `Album.likes`) are kept by the services with atomic
updates; a crash between a row write and its count, a manual SQL fix or an import that
wrote rows directly can still leave one wrong. The rebuild is one UPDATE per counter that
touches only the rows whose stored value differs, so it is cheap to run on a healthy site
and safe to run twice or while the site runs (each row is set from a subquery, not from a
value read earlier in Python).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, IntegerField, Model, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from accounts.models import User
from albums.models import Album
from social.models import Follow, Like
from uploads.models import Category, Image


def _count_of(model: type[Model], field: str) -> Coalesce:
    """`(SELECT COUNT(*) FROM model WHERE field = outer.pk)`, 0 when there is none."""
    rows = (
        model._default_manager.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


@dataclass(frozen=True)
class _Counter:
    model: type[Model]
    field: str
    counted: type[Model]
    by: str

    @property
    def label(self) -> str:
        return f"{self.model._meta.model_name}.{self.field}"


COUNTERS = (
    _Counter(User, "image_count", Image, "user"),
    _Counter(User, "album_count", Album, "owner"),
    _Counter(User, "followers_count", Follow, "followed"),
    _Counter(User, "following_count", Follow, "follower"),
    _Counter(Album, "image_count", Image, "album"),
    _Counter(Album, "likes", Like, "album"),
    _Counter(Image, "likes", Like, "image"),
)


def counters_rebuild(
    *,
    user_ids: Iterable[int] | None = None,
    album_ids: Iterable[int] | None = None,
    image_ids: Iterable[int] | None = None,
) -> dict[str, int]:
    """Set every counter to the number of rows it counts; returns how many rows each
    counter fixed (`{"user.image_count": 2, ...}`).

    With ids, only those users, albums or images are recounted (a model without ids given
    is skipped when any ids are given): the fix-up after a change that moved many counts at
    once, such as deleting an account that liked and followed.
    """
    scoped = any(ids is not None for ids in (user_ids, album_ids, image_ids))
    scope: dict[type[Model], list[int] | None] = {
        User: list(user_ids) if user_ids is not None else None,
        Album: list(album_ids) if album_ids is not None else None,
        Image: list(image_ids) if image_ids is not None else None,
    }
    fixed: dict[str, int] = {}
    for counter in COUNTERS:
        ids = scope[counter.model]
        if scoped and ids is None:
            continue
        rows: QuerySet[Model] = counter.model._default_manager.all()
        if ids is not None:
            if not ids:
                fixed[counter.label] = 0
                continue
            rows = rows.filter(pk__in=ids)
        expected = _count_of(counter.counted, counter.by)
        with transaction.atomic():
            fixed[counter.label] = rows.exclude(**{counter.field: expected}).update(
                **{counter.field: expected}
            )
    return fixed


def site_counts() -> dict[str, int]:
    """What the site holds: the dashboard's head figures and `admin/stats/`."""
    by_kind = dict(
        Image.objects.order_by().values_list("kind").annotate(n=Count("*")).values_list("kind", "n")
    )
    stored = Image.objects.aggregate(
        originals=Coalesce(Sum("size"), 0),
        derivatives=Coalesce(Sum("thumb_size"), 0)
        + Coalesce(Sum("medium_size"), 0)
        + Coalesce(Sum("frame_size"), 0),
    )
    return {
        "users": User.objects.count(),
        "users_banned": User.objects.filter(is_active=False).count(),
        "images": by_kind.get(Image.Kind.IMAGE, 0),
        "videos": by_kind.get(Image.Kind.VIDEO, 0),
        "albums": Album.objects.count(),
        "awaiting_approval": Image.objects.filter(is_approved=False).count(),
        "categories": Category.objects.count(),
        "likes": Like.objects.count(),
        "follows": Follow.objects.count(),
        "storage_bytes": int(stored["originals"]) + int(stored["derivatives"]),
        "storage_originals_bytes": int(stored["originals"]),
    }

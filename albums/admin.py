from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from albums.models import Album
from albums.services import album_tree_delete


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    """Albums for staff: names and descriptions editable, the rest shown.

    Where an album sits (owner, parent), what it shows (privacy, cover) and its counters
    are kept by the album services (no cycles, the depth limit, random file names, counts
    by atomic updates), which a plain admin form would bypass: staff change those through
    API V4's user routes, where staff may act on any album. Albums are made the same way.
    """

    list_display = ("name", "owner", "privacy", "image_count", "parent", "created_at")
    list_filter = ("privacy", "created_at")
    list_select_related = ("owner", "parent")
    search_fields = ("name", "description", "owner__username")
    exclude = ("password_hash",)
    readonly_fields = (
        "owner",
        "parent",
        "privacy",
        "cover",
        "image_count",
        "likes",
        "views",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Album) -> None:
        # The uploads stay, outside any album; the owner's album count follows.
        album_tree_delete(album=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Album]) -> None:
        for album in queryset:
            # A sub-album in the selection may have gone with its parent already.
            if Album.objects.filter(pk=album.pk).exists():
                album_tree_delete(album=album)

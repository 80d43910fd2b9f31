"""Albums in the dashboard: cover thumbnails, filters and search; delete keeping the uploads
(albums.services.album_tree_delete) or with them (uploads.album_services.album_delete).

It lives here, above the domain apps, because the cover thumbnail and deleting the uploads
are the uploads app's, which the albums app may not import.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from albums.models import Album
from albums.services import album_tree_delete
from chevereto.core.audit import audit_request
from uploads.album_services import album_delete
from uploads.files import variant_file


class AlbumAdmin(admin.ModelAdmin):
    """Albums for staff: names and descriptions editable, the rest shown.

    Where an album sits (owner, parent), what it shows (privacy, cover) and its counters
    are kept by the album services (no cycles, the depth limit, random file names, counts
    by atomic updates), which a plain admin form would bypass: staff change those through
    API V4's user routes, where staff may act on any album. Albums are made the same way.
    """

    list_display = (
        "cover_thumb",
        "name",
        "owner",
        "privacy",
        "image_count",
        "parent",
        "created_at",
    )
    list_display_links = ("cover_thumb", "name")
    list_filter = ("privacy", "created_at", ("parent", admin.EmptyFieldListFilter))
    list_select_related = ("owner", "parent", "cover")
    search_fields = ("name", "description", "owner__username")
    date_hierarchy = "created_at"
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
    actions = ["delete_with_uploads"]

    class Media:
        css = {"all": ("dashboard/dashboard.css",)}

    @admin.display(description="")
    def cover_thumb(self, obj: Album) -> str:
        thumb = variant_file(obj.cover, "thumb") if obj.cover is not None else None
        if thumb is None:
            return ""
        return format_html(
            '<img class="dash-list-thumb" src="/{}" alt="" width="40" height="40">', thumb.name
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

    @admin.action(description="Delete selected albums with their uploads")
    def delete_with_uploads(self, request: HttpRequest, queryset: QuerySet[Album]) -> None:
        if not self.has_delete_permission(request):
            raise PermissionDenied
        albums = 0
        for album in queryset.select_related("owner"):
            count = album.image_count
            deleted = album_delete(album=album, with_images=True)
            if deleted:
                albums += deleted
                audit_request(
                    request,
                    action="album.delete",
                    target=album,
                    details={"with_images": True, "albums": deleted, "images": count},
                )
        self.message_user(
            request, f"{albums} album(s) deleted with their uploads.", messages.SUCCESS
        )

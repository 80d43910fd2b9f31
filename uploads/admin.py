from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from uploads import admin_storages  # noqa: F401 - registers the Storage admin
from uploads.files import variant_file
from uploads.models import Category, Image, Tag
from uploads.selectors import image_viewer_path
from uploads.services import image_delete


class ImageAdmin(admin.ModelAdmin):
    """The upload list with thumbnails, filters and search. Registered by moderation/admin.py
    with the moderation actions (approve, reject, NSFW, bans, purges): moderation sits above
    uploads in the layers, so the actions that call its services live there."""

    list_display = (
        "preview",
        "title",
        "kind",
        "user",
        "size",
        "created_at",
        "expires_at",
        "is_approved",
        "nsfw",
    )
    list_filter = (
        "kind",
        "is_approved",
        "nsfw",
        "is_animated",
        "mime",
        "created_at",
        ("expires_at", admin.EmptyFieldListFilter),
    )
    search_fields = (
        "title",
        "description",
        "original_filename",
        "path",
        "md5",
        "user__username",
        "uploader_ip",
    )
    date_hierarchy = "created_at"
    raw_id_fields = ("user", "album")
    list_select_related = ("user",)
    exclude = ("delete_token_digest",)
    readonly_fields = (
        "path",
        "mime",
        "size",
        "width",
        "height",
        "md5",
        "source_md5",
        "chain",
        "exif",
        "uploader_ip",
        "view_link",
    )

    @admin.display(description="")
    def preview(self, obj: Image) -> str:
        thumb = variant_file(obj, "thumb")
        if thumb is None:
            return ""
        return format_html(
            '<img src="/{}" width="64" height="64" style="object-fit:cover" alt="">', thumb.name
        )

    @admin.display(description="Viewer")
    def view_link(self, obj: Image) -> str:
        path = image_viewer_path(obj)
        return format_html('<a href="{}">{}</a>', path, path)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Uploads come in through the upload pipeline (files, derivatives, counters); a row
        # typed into a form would have no file behind it.
        return False

    def delete_model(self, request: HttpRequest, obj: Image) -> None:
        image_delete(image=obj)

    def get_actions(self, request: HttpRequest) -> dict[str, object]:
        actions = super().get_actions(request)
        # The stock bulk delete would leave the files behind.
        actions.pop("delete_selected", None)
        return actions


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "description")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)

from __future__ import annotations

from django.contrib import admin

from albums.models import Album


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "privacy", "created_at")
    list_filter = ("privacy", "created_at")
    search_fields = ("name", "description", "owner__username")
    raw_id_fields = ("owner",)
    exclude = ("password_hash",)

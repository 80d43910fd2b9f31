"""Likes, follows and notifications in the dashboard, to look at.

Likes and follows are read-only here: adding or deleting one by hand would bypass the
services that keep `likes`, `followers_count` and `following_count` in step with the rows.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from social.models import Follow, Like, Notification


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Like)
class LikeAdmin(_ReadOnly):
    list_display = ("user", "image", "album", "created_at")
    list_select_related = ("user", "image", "album")
    search_fields = ("user__username",)
    date_hierarchy = "created_at"


@admin.register(Follow)
class FollowAdmin(_ReadOnly):
    list_display = ("follower", "followed", "created_at")
    list_select_related = ("follower", "followed")
    search_fields = ("follower__username", "followed__username")
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "actor", "image", "album", "is_read", "created_at")
    list_filter = ("kind", "is_read")
    list_select_related = ("recipient", "actor", "image", "album")
    search_fields = ("recipient__username", "actor__username")
    raw_id_fields = ("recipient", "actor", "image", "album")
    date_hierarchy = "created_at"

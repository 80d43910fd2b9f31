"""OpenAPI links: which answer gives the id that another operation takes.

drf-spectacular emits no links, so a client (or a fuzzer's stateful phase, which follows
links to chain calls: create an album, then read, edit, like and delete *that* album)
cannot tell that `album.id_encoded` in one answer is the `{id}` of another path. This
postprocessing hook adds them from one table, by operationId and JSON pointer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_METHODS = ("get", "put", "post", "patch", "delete")


@dataclass(frozen=True)
class Resource:
    """A thing some answers name and other operations take in their path."""

    # (operationId, status, JSON pointer in the answer's body) of each answer naming one.
    sources: tuple[tuple[str, str, str], ...]
    # The operations taking it, and the name of their path parameter.
    targets: tuple[str, ...]
    parameter: str = "id"


_ALBUM_TARGETS = (
    "user_albums_retrieve",
    "user_albums_partial_update",
    "user_albums_contents",
    "user_album_like",
    "user_album_unlike",
    "user_albums_destroy",
)
_IMAGE_TARGETS = (
    "user_image_get",
    "user_image_edit",
    "user_image_like",
    "user_image_unlike",
    "user_image_delete",
)
_IMPORT_TARGETS = (
    "admin_imports_get",
    "admin_imports_edit",
    "admin_imports_pause",
    "admin_imports_resume",
    "admin_imports_process",
    "admin_imports_reset",
    "admin_imports_cancel",
    "admin_imports_delete",
)

RESOURCES: tuple[Resource, ...] = (
    Resource(
        sources=(
            ("user_albums_create", "201", "/album/id_encoded"),
            ("user_albums_retrieve", "200", "/album/id_encoded"),
            ("user_albums_partial_update", "200", "/album/id_encoded"),
            ("user_albums_list", "200", "/albums/0/id_encoded"),
            ("user_albums_contents", "200", "/albums/0/id_encoded"),
        ),
        targets=_ALBUM_TARGETS,
    ),
    Resource(
        sources=(
            ("user_images_upload", "200", "/image/id_encoded"),
            ("api_v1_upload", "200", "/image/id_encoded"),
            ("user_image_get", "200", "/image/id_encoded"),
            ("user_image_edit", "200", "/image/id_encoded"),
            ("user_images_list", "200", "/images/0/id_encoded"),
            ("user_albums_contents", "200", "/images/0/id_encoded"),
        ),
        targets=_IMAGE_TARGETS,
    ),
    Resource(
        sources=(("user_notifications_social", "200", "/notifications/0/id"),),
        targets=("user_notification_social_update",),
    ),
    Resource(
        sources=(
            ("api_v4_users_list", "200", "/users/0/username"),
            ("user_followers", "200", "/users/0/username"),
            ("user_following", "200", "/users/0/username"),
        ),
        targets=(
            "api_v4_users_show",
            "api_v4_users_images",
            "api_v4_users_albums",
            "user_followers",
            "user_following",
            "user_follow",
            "user_unfollow",
        ),
        parameter="username",
    ),
    Resource(
        sources=(
            ("admin_categories_create", "201", "/category/id"),
            ("admin_categories_list", "200", "/categories/0/id"),
        ),
        targets=("admin_category_edit", "admin_category_delete"),
    ),
    Resource(
        sources=(
            ("admin_users_create", "201", "/user/id_encoded"),
            ("admin_users_list", "200", "/users/0/id_encoded"),
        ),
        targets=("admin_user_get", "admin_user_edit", "admin_user_export", "admin_user_delete"),
    ),
    Resource(
        sources=(
            ("admin_imports_create", "201", "/import/id"),
            ("admin_imports_list", "200", "/imports/0/id"),
        ),
        targets=_IMPORT_TARGETS,
    ),
    Resource(
        sources=(
            ("admin_storages_create", "201", "/storage/id"),
            ("admin_storages_list", "200", "/storages/0/id"),
        ),
        targets=("admin_storages_edit", "admin_storages_stats_regen", "admin_storages_migrate"),
    ),
    Resource(
        sources=(
            ("admin_ip_bans_create", "201", "/ban/ip"),
            ("admin_ip_bans_list", "200", "/bans/0/ip"),
        ),
        targets=("admin_ip_ban_edit", "admin_ip_ban_delete"),
        parameter="ip",
    ),
)


def _operations(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for item in result.get("paths", {}).values()
        for method, operation in item.items()
        if method in _METHODS and "operationId" in operation
    }


def add_links_hook(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the links of RESOURCES.

    A source or target the schema does not have (an operation renamed or removed) is
    skipped rather than linked to nothing: the tests check that every row still links.
    """
    operations = _operations(result)
    for resource in RESOURCES:
        targets = [name for name in resource.targets if name in operations]
        for source, status, pointer in resource.sources:
            response = operations.get(source, {}).get("responses", {}).get(status)
            if response is None:
                continue
            links = response.setdefault("links", {})
            for target in targets:
                links[target] = {
                    "operationId": target,
                    "parameters": {resource.parameter: f"$response.body#{pointer}"},
                }
    return result

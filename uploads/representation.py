"""The image object both APIs answer with: Chevereto's `image` fields, and helpers for
ImgBB's shape (file blocks, display file)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from albums.selectors import album_path, viewer_from_request
from chevereto.core.encoding import encode_id
from uploads.files import StoredFile, variant_file
from uploads.models import Image
from uploads.selectors import album_cover_for, image_short_path, image_slug, image_tag_names

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def size_formatted(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            text = f"{value:.1f}".removesuffix(".0")
            return f"{text} {unit}"
    raise AssertionError("unreachable")


def duration_time(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02}:{minutes:02}:{secs:02}" if hours else f"{minutes:02}:{secs:02}"


def _truncate(text: str, length: int = 25) -> str:
    return text if len(text) <= length + 3 else text[:length] + "..."


def _how_long_ago(when: datetime) -> str:
    seconds = (timezone.now() - when).total_seconds()
    if seconds < 60:
        return "moments ago"
    for unit, span in (
        ("year", 31536000),
        ("month", 2592000),
        ("week", 604800),
        ("day", 86400),
        ("hour", 3600),
        ("minute", 60),
    ):
        if seconds >= span:
            count = int(seconds // span)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "moments ago"


class Urls:
    def __init__(self, request: HttpRequest) -> None:
        self.base = request.build_absolute_uri("/").rstrip("/")

    def __call__(self, path: str) -> str:
        return self.base + (path if path.startswith("/") else "/" + path)


def file_block(stored: StoredFile | None, url: Urls, **extra: object) -> dict[str, object]:
    if stored is None:
        return {"filename": None, "name": None, "mime": None, "extension": None, "url": None}
    block: dict[str, object] = {
        "filename": stored.filename,
        "name": stored.stem,
        "mime": stored.mime,
        "extension": stored.extension,
        "url": url(stored.name),
    }
    block.update(extra)
    return block


def image_files(image: Image) -> dict[str, StoredFile | None]:
    return {v: variant_file(image, v) for v in ("image", "thumb", "medium", "frame")}


def display_file(image: Image, files: dict[str, StoredFile | None]) -> tuple[StoredFile, int, int]:
    if image.is_video and files["frame"] is not None:
        return files["frame"], image.width, image.height
    if files["medium"] is not None:
        return files["medium"], image.medium_width, image.medium_height
    assert files["image"] is not None
    return files["image"], image.width, image.height


def delete_path(image: Image, token: str) -> str:
    return f"{image_short_path(image)}/delete/{token}"


def image_representation(
    image: Image,
    request: HttpRequest,
    *,
    delete_token: str | None = None,
    tags: list[str] | None = None,
    urls: Urls | None = None,
) -> dict[str, object]:
    """Every `image` field of Chevereto V4's API V1.1 example (and V1.0's extras): the
    image object of both APIs. A list builds its images with `images_representation`,
    which reads every tag of the page in one query."""
    url = urls or Urls(request)
    files = image_files(image)
    original = files["image"]
    assert original is not None
    display, display_w, display_h = display_file(image, files)
    local = timezone.localtime(image.created_at)
    gmt = image.created_at.astimezone(UTC)
    if tags is None:
        tags = [t.name for t in image.tags.all()] if image.pk else []
    title = image.title or original.stem
    ratio = image.width / image.height if image.height else 0
    thumb_dims = {"width": image.thumb_width, "height": image.thumb_height}
    medium_dims = {"width": image.medium_width, "height": image.medium_height}
    encoded = encode_id(image.pk)
    kind = "video" if image.is_video else "image"
    slug = image_slug(image)
    viewer_path = f"/{kind}/{slug}.{encoded}" if slug else f"/{kind}/{encoded}"
    short_path = f"/{kind}/{encoded}"
    return {
        "name": original.stem,
        "extension": original.extension,
        "size": image.size,
        "width": image.width,
        "height": image.height,
        "date": local.strftime(DATE_FORMAT),
        "date_gmt": gmt.strftime(DATE_FORMAT),
        "title": image.title,
        "tags": tags,
        "description": image.description or None,
        "nsfw": int(image.nsfw),
        "storage_mode": image.storage_mode,
        "storage": image.storage_mode,
        "storage_id": None,
        "md5": image.md5,
        "source_md5": image.source_md5 or None,
        "original_filename": image.original_filename,
        "original_exifdata": json.dumps(image.exif) if image.exif else None,
        "views": image.views,
        "category_id": image.category_id,
        "chain": image.chain,
        "thumb_size": image.thumb_size,
        "medium_size": image.medium_size,
        "frame_size": image.frame_size,
        "expiration_date_gmt": image.expires_at.astimezone(UTC).strftime(DATE_FORMAT)
        if image.expires_at
        else None,
        "likes": image.likes,
        "is_animated": int(image.is_animated),
        "is_approved": int(image.is_approved),
        "is_360": int(image.is_360),
        "duration": round(image.duration) if image.duration is not None else None,
        "type": image.kind,
        "tags_string": ", ".join(tags),
        "file": {"resource": {"type": "url"}},
        "id_encoded": encoded,
        "filename": original.filename,
        "mime": image.mime,
        "url": url(original.name),
        "ratio": ratio,
        "size_formatted": size_formatted(image.size),
        "bits": image.bits,
        "channels": image.channels,
        "frame": file_block(files["frame"], url, size=image.frame_size)
        if image.is_video
        else file_block(None, url),
        "image": file_block(original, url, size=image.size),
        "thumb": file_block(
            files["thumb"], url, size=image.thumb_size, **({} if image.is_video else thumb_dims)
        ),
        "url_frame": url(files["frame"].name) if files["frame"] else None,
        "medium": file_block(files["medium"], url, size=image.medium_size, **medium_dims)
        if files["medium"]
        else file_block(None, url),
        "duration_time": duration_time(image.duration),
        "url_viewer": url(viewer_path),
        "path_viewer": viewer_path,
        "url_short": url(short_path),
        "display_url": url(display.name),
        "display_width": display_w,
        "display_height": display_h,
        "views_label": "view" if image.views == 1 else "views",
        "likes_label": "like" if image.likes == 1 else "likes",
        "how_long_ago": _how_long_ago(image.created_at),
        "date_fixed_peer": gmt.strftime(DATE_FORMAT),
        "title_truncated": _truncate(title),
        "title_truncated_html": _truncate(title),
        "is_use_loader": False,
        "display_title": title,
        "delete_url": url(delete_path(image, delete_token)) if delete_token else None,
    }


def images_representation(images: list[Image], request: HttpRequest) -> list[dict[str, object]]:
    """The image objects of a page of uploads: their tags in one query (no per-upload
    query, and none of the per-row managers a `prefetch_related` builds)."""
    urls = Urls(request)
    tags = image_tag_names(image_ids=[image.pk for image in images])
    return [
        image_representation(image, request, tags=tags.get(image.pk, []), urls=urls)
        for image in images
    ]


def _dates(when: datetime) -> dict[str, str]:
    return {
        "date": timezone.localtime(when).strftime(DATE_FORMAT),
        "date_gmt": when.astimezone(UTC).strftime(DATE_FORMAT),
    }


def _profile_file_url(name: str, url: Urls) -> str | None:
    return url(name) if name else None


def user_representation(user: User, request: HttpRequest) -> dict[str, object]:
    """A user's public profile as the APIs show it (never the email or any secret)."""
    url = Urls(request)
    return {
        "username": user.username,
        "name": user.display_name,
        "bio": user.bio or None,
        "website": user.website or None,
        "url": url(f"/{user.username}"),
        "url_albums": url(f"/{user.username}/albums"),
        "avatar": _profile_file_url(user.avatar, url),
        "background": _profile_file_url(user.background, url),
        "is_private": int(user.is_private),
        "image_count": user.image_count,
        "album_count": user.album_count,
        "followers": user.followers_count,
        "following": user.following_count,
        **_dates(user.date_joined),
    }


def album_representation(album: Album, request: HttpRequest) -> dict[str, object]:
    """An album as the APIs show it. Reads `album.owner`, `album.parent` and `album.cover`:
    listings `select_related("owner", "parent", "cover")` so a page costs no query per
    album. The password hash is never shown; `password` says only whether one is set."""
    url = Urls(request)
    cover = album_cover_for(viewer=viewer_from_request(request), album=album)
    thumb = variant_file(cover, "thumb") if cover is not None else None
    return {
        "id_encoded": encode_id(album.pk),
        "name": album.name,
        "description": album.description or None,
        "privacy": album.privacy,
        "password": album.privacy == Album.Privacy.PASSWORD and bool(album.password_hash),
        "parent_id": encode_id(album.parent_id) if album.parent_id else None,
        "cover_id": encode_id(cover.pk) if cover is not None else None,
        "cover_url": url(thumb.name) if thumb is not None else None,
        "image_count": album.image_count,
        "likes": album.likes,
        "views": album.views,
        "username": album.owner.username,
        "url": url(album_path(album)),
        "url_short": url(f"/album/{encode_id(album.pk)}"),
        **_dates(album.created_at),
    }

"""What a listing shows of each upload, album and person: small dicts for the grid templates.

Built from rows the listing's query already loaded (`select_related` of the owner, the
album cover), so a page of cards costs no query per card. The grids keep Chevereto's
markup (`templates/web/_image_grid.html`), which downloaders written for Chevereto read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from accounts.models import User
from albums.models import Album
from albums.selectors import Viewer, album_path
from uploads.files import variant_file
from uploads.models import Image
from uploads.representation import size_formatted
from uploads.selectors import album_cover_for, image_viewer_path

# What a listing selects beside the image row, so every card is built without a query.
IMAGE_RELATED = ("user",)
ALBUM_RELATED = ("owner", "cover")


def viewer_shows_nsfw(user: Any) -> bool:
    """Whether this visitor asked to see NSFW uploads unblurred (`show_nsfw` on /settings)."""
    return bool(user is not None and user.is_authenticated and user.show_nsfw)


def image_card(image: Image, *, show_nsfw: bool) -> dict[str, object]:
    thumb = variant_file(image, "thumb")
    title = image.title or image.original_filename or "Untitled"
    owner = image.user
    return {
        "id": image.pk,
        "url": image_viewer_path(image),
        "thumb": "/" + thumb.name if thumb else "/" + image.path,
        "title": title,
        "alt": image.title or image.original_filename or "Upload",
        "is_video": image.is_video,
        "is_animated": image.is_animated,
        "blurred": image.nsfw and not show_nsfw,
        "nsfw": image.nsfw,
        "width": image.thumb_width or None,
        "height": image.thumb_height or None,
        "likes": image.likes,
        "views": image.views,
        "size": size_formatted(image.size),
        "owner": owner.username if owner is not None else None,
        "created_at": image.created_at,
    }


def image_cards(images: Iterable[Image], *, show_nsfw: bool) -> list[dict[str, object]]:
    return [image_card(image, show_nsfw=show_nsfw) for image in images]


def album_card(album: Album, *, viewer: Viewer, show_nsfw: bool) -> dict[str, object]:
    cover = album_cover_for(viewer=viewer, album=album)
    thumb = variant_file(cover, "thumb") if cover is not None else None
    return {
        "id": album.pk,
        "url": album_path(album),
        "name": album.name,
        "cover": "/" + thumb.name if thumb else None,
        "blurred": bool(cover is not None and cover.nsfw and not show_nsfw),
        "image_count": album.image_count,
        "privacy": album.privacy,
        "privacy_label": Album.Privacy(album.privacy).label,
        "owner": album.owner.username,
        "likes": album.likes,
    }


def album_cards(
    albums: Iterable[Album], *, viewer: Viewer, show_nsfw: bool
) -> list[dict[str, object]]:
    return [album_card(album, viewer=viewer, show_nsfw=show_nsfw) for album in albums]


def user_card(user: User) -> dict[str, object]:
    return {
        "id": user.pk,
        "url": f"/{user.username}",
        "username": user.username,
        "name": user.display_name,
        "avatar": "/" + user.avatar if user.avatar else None,
        "initial": (user.display_name or user.username)[:1].upper(),
        "image_count": user.image_count,
        "album_count": user.album_count,
        "followers": user.followers_count,
    }


def user_cards(users: Iterable[User]) -> list[dict[str, object]]:
    return [user_card(user) for user in users]

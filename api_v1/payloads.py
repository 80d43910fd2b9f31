"""Response bodies of API V1.1: Chevereto's shape and ImgBB's shape."""

from __future__ import annotations

from django.http import HttpRequest

from chevereto.core.encoding import encode_id
from uploads.models import Image
from uploads.representation import (
    Urls,
    delete_path,
    display_file,
    file_block,
    image_files,
    image_representation,
)
from uploads.selectors import image_viewer_path


def chevereto_success(
    image: Image, request: HttpRequest, *, delete_token: str | None
) -> dict[str, object]:
    noun = "file" if image.is_video else "image"
    return {
        "status_code": 200,
        "success": {"message": f"{noun} uploaded", "code": 200},
        "image": image_representation(image, request, delete_token=delete_token),
        "status_txt": "OK",
    }


def imgbb_success(
    image: Image, request: HttpRequest, *, delete_token: str | None
) -> dict[str, object]:
    """ImgBB's upload response, for clients that sent `image`."""
    url = Urls(request)
    files = image_files(image)
    display, _, _ = display_file(image, files)
    original = files["image"]
    assert original is not None
    expiration = (
        max(0, round((image.expires_at - image.created_at).total_seconds()))
        if image.expires_at
        else 0
    )
    data: dict[str, object] = {
        "id": encode_id(image.pk),
        "title": image.title or original.stem,
        "url_viewer": url(image_viewer_path(image)),
        "url": url(original.name),
        "display_url": url(display.name),
        "width": image.width,
        "height": image.height,
        "size": image.size,
        "time": int(image.created_at.timestamp()),
        "expiration": expiration,
        "image": file_block(original, url),
        "thumb": file_block(files["thumb"], url),
    }
    if files["medium"] is not None:
        data["medium"] = file_block(files["medium"], url)
    data["delete_url"] = url(delete_path(image, delete_token)) if delete_token else None
    return {"data": data, "success": True, "status": 200}


__all__ = ["chevereto_success", "imgbb_success"]

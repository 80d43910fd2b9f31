from __future__ import annotations

from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from PIL import Image

        # Pillow refuses to open images over twice this many pixels; the probe refuses
        # uploads over the limit itself, so Pillow must never be the stricter of the two.
        Image.MAX_IMAGE_PIXELS = settings.UPLOAD_MAX_PIXELS

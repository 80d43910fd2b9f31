from __future__ import annotations

from django.urls import path, re_path

from uploads import serving

# The files; the pages about them are in web/.
urlpatterns = [
    path("images/<path:path>", serving.serve_file, name="image-file"),
    # Only names a profile image can have: /profiles/... stays free for anything else.
    re_path(
        r"^profiles/(?P<path>(?:avatars|backgrounds)/[0-9a-f]{32}\.(?:jpg|png|webp))$",
        serving.serve_profile_file,
        name="profile-file",
    ),
]

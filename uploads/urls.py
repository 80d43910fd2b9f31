from __future__ import annotations

from django.urls import path, re_path

from uploads import serving, views

urlpatterns = [
    path("", views.home, name="home"),
    re_path(
        r"^(?P<kind>image|video)/(?P<encoded>[A-Za-z0-9]+)/delete/(?P<token>[0-9a-f]{48})/?$",
        views.delete,
        name="image-delete",
    ),
    re_path(r"^(?P<kind>image|video)/(?P<token>[^/]+)/?$", views.viewer, name="image-viewer"),
    path("images/<path:path>", serving.serve_file, name="image-file"),
    # Only names a profile image can have: /profiles/... stays free for anything else.
    re_path(
        r"^profiles/(?P<path>(?:avatars|backgrounds)/[0-9a-f]{32}\.(?:jpg|png|webp))$",
        serving.serve_profile_file,
        name="profile-file",
    ),
]

"""Every web page, area by area. The order matters: `/{username}` (people) matches any
first path segment the site does not use, so it comes last (accounts.models keeps those
segments out of usernames)."""

from __future__ import annotations

from django.urls import path

from web import account, albums, discovery, people, social, upload, viewer

urlpatterns = [
    path("like", social.like, name="like"),
    path("follow", social.follow, name="follow"),
    *upload.urlpatterns,
    *viewer.urlpatterns,
    *albums.urlpatterns,
    *discovery.urlpatterns,
    *account.urlpatterns,
    *people.urlpatterns,
]

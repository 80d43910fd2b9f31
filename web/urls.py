"""Every web page, area by area. The order matters: `/{username}` (people) matches any
first path segment the site does not use, so it comes last (accounts.models keeps those
segments out of usernames)."""

from __future__ import annotations

from django.urls import path

from web import (
    account,
    account_export,
    albums,
    discovery,
    people,
    social,
    upload,
    viewer,
    viewer_report,
)

urlpatterns = [
    path("like", social.like, name="like"),
    path("follow", social.follow, name="follow"),
    *upload.urlpatterns,
    *viewer_report.urlpatterns,
    *viewer.urlpatterns,
    *albums.urlpatterns,
    *discovery.urlpatterns,
    *account.urlpatterns,
    *account_export.urlpatterns,
    *people.urlpatterns,
]

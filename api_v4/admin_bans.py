"""API V4 admin routes (staff only): filled by the work on issue 10."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

"""API V4: social routes (see DESIGN.md §7)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

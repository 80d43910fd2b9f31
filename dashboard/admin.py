"""The dashboard's own registrations: accounts and albums, whose admin actions call services
from layers above their apps (see admin_users.py and admin_albums.py)."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import User
from albums.models import Album
from dashboard.admin_albums import AlbumAdmin
from dashboard.admin_users import UserAdmin

admin.site.register(User, UserAdmin)
admin.site.register(Album, AlbumAdmin)

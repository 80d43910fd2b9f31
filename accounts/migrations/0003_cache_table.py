"""The database cache's table (settings.CACHES, when no CACHE_URL names Redis).

Made by `migrate` so that every way of deploying the site gets it, not only `make run`;
createcachetable does nothing for a Redis cache or a table that exists.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: Any, schema_editor: Any) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_profile_and_counters")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]

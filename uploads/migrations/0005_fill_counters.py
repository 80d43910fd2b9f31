"""Fill the new counters of albums and users from the rows that exist already."""

from __future__ import annotations

from django.db import migrations
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def fill(apps, schema_editor) -> None:  # noqa: ANN001
    Image = apps.get_model("uploads", "Image")
    Album = apps.get_model("albums", "Album")
    User = apps.get_model("accounts", "User")

    def count_of(model, field: str) -> Coalesce:  # noqa: ANN001
        rows = (
            model.objects.filter(**{field: OuterRef("pk")})
            .order_by()
            .values(field)
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(rows), 0)

    Album.objects.update(image_count=count_of(Image, "album"))
    User.objects.update(image_count=count_of(Image, "user"), album_count=count_of(Album, "owner"))


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0004_viewhit_keyset_indexes"),
        ("accounts", "0002_profile_and_counters"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]

"""`manage.py import_chevereto --db mysql://USER:PASS@HOST:PORT/DB --media ROOT [--prefix chv_]
[--job ID]` (see imports.chevereto)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from imports.command import ImportCommand
from imports.models import ImportJob


class Command(ImportCommand):
    kind = ImportJob.Kind.CHEVERETO
    noun = "Chevereto"
    unit = "row"
    help = (
        "Import a Chevereto V3/V4 site into this (fresh) one: users with their passwords, "
        "albums, uploads with their files, tags, categories, likes and follows, keeping "
        "every id, so old URLs keep working. The database is only read (a read-only account "
        "is enough). Interrupted? Run it again with --job ID: nothing is imported twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--db", help="the Chevereto database: mysql://USER:PASS@HOST:PORT/DB")
        parser.add_argument("--media", help="the Chevereto folder that holds images/")
        parser.add_argument("--prefix", default="chv_", help="table prefix (default chv_)")
        self.add_job_arguments(parser)

    def job_options(self, options: dict[str, Any]) -> dict[str, Any]:
        if not options["db"] or not options["media"]:
            raise CommandError("Give --db and --media (or --job ID to resume an import).")
        return {"db": options["db"], "media": options["media"], "prefix": options["prefix"]}

    def describe(self, job: ImportJob) -> str:
        return f"Chevereto site from {job.options['media']}"

"""`manage.py import_folder PATH [--user U] [--album A] [--job ID]` (see imports.folder)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from imports.command import ImportCommand
from imports.models import ImportJob


class Command(ImportCommand):
    kind = ImportJob.Kind.FOLDER
    noun = "folder"
    unit = "file"
    help = (
        "Import every file of a folder through the upload pipeline, each subfolder an album "
        "(nested folders make nested albums). The files belong to --user, or to the first "
        "superuser when none is given. Unsupported or corrupt files are reported, the rest "
        "imported. Interrupted? Run it again with --job ID: nothing is imported twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="the folder to import")
        parser.add_argument("--user", help="owner of the uploads (username or id)")
        parser.add_argument(
            "--album",
            help="album (name, made when missing, or numeric id) for the top-level files; "
            "subfolders become its sub-albums",
        )
        self.add_job_arguments(parser)

    def job_options(self, options: dict[str, Any]) -> dict[str, Any]:
        if not options["path"]:
            raise CommandError("Give the folder to import (or --job ID to resume one).")
        album: str | int | None = options["album"]
        if isinstance(album, str) and album.isdigit():
            album = int(album)
        return {"path": options["path"], "user": options["user"], "album": album}

    def describe(self, job: ImportJob) -> str:
        return str(job.options["path"])

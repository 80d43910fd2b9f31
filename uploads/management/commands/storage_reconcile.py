from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from uploads.expiry import storage_reconcile


class Command(BaseCommand):
    help = (
        "Compare storage with the database: list (and with --delete remove) files no upload "
        "owns, and report uploads whose original file is missing."
    )

    def add_arguments(self, parser: object) -> None:
        parser.add_argument("--delete", action="store_true", help="remove the orphan files")  # type: ignore[attr-defined]
        parser.add_argument(  # type: ignore[attr-defined]
            "--grace-minutes",
            type=int,
            default=60,
            help="ignore files younger than this (default 60)",
        )

    def handle(self, *args: object, **options: object) -> None:
        report = storage_reconcile(
            delete=bool(options["delete"]),
            grace=timedelta(minutes=int(options["grace_minutes"])),  # type: ignore[arg-type]
        )
        for name in report.orphan_files:
            self.stdout.write(f"orphan file: {name}")
        for pk, path in report.missing_files:
            self.stdout.write(f"missing file: {path} (upload {pk})")
        verb = "deleted" if options["delete"] else "found"
        self.stdout.write(
            f"{len(report.orphan_files)} orphan files {verb}"
            + (f" ({report.deleted} deleted)" if options["delete"] else "")
            + f", {len(report.missing_files)} uploads without their file"
        )

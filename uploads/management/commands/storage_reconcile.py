from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from uploads.expiry import storage_reconcile


class Command(BaseCommand):
    help = (
        "Compare storage with the database: list (and with --delete remove) files no upload "
        "owns and reservations no upload completed, and report uploads missing a file. "
        "With --check, exit with status 1 when anything is out of place (for monitoring)."
    )

    def add_arguments(self, parser: object) -> None:
        parser.add_argument(  # type: ignore[attr-defined]
            "--delete", action="store_true", help="remove the orphan files and reservations"
        )
        parser.add_argument(  # type: ignore[attr-defined]
            "--check",
            action="store_true",
            help="exit with status 1 when a file, a row or a reservation is out of place",
        )
        parser.add_argument(  # type: ignore[attr-defined]
            "--grace-minutes",
            type=int,
            default=60,
            help="ignore files and reservations younger than this (default 60)",
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
        for pk in report.stale_reservations:
            self.stdout.write(f"unfinished upload reservation: upload {pk}")
        verb = "deleted" if options["delete"] else "found"
        self.stdout.write(
            f"{len(report.orphan_files)} orphan files {verb}"
            + (f" ({report.deleted} deleted)" if options["delete"] else "")
            + f", {len(report.missing_files)} missing files"
            + f", {len(report.stale_reservations)} unfinished reservations"
        )
        # Deleting what was found fixes orphans and reservations, not missing files.
        unresolved = bool(report.missing_files) or (not options["delete"] and not report.clean)
        if options["check"] and unresolved:
            raise CommandError("storage and database disagree (see above)", returncode=1)

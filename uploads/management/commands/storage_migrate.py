from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from chevereto.core.audit import audit_record
from uploads.models import Storage
from uploads.storage_migration import (
    StorageMigrationError,
    storage_label,
    storage_migrate,
    storage_migrate_pending,
    storage_migration_target,
)
from uploads.storage_services import storage_activate, storage_stats_regen


class Command(BaseCommand):
    help = (
        "Move every upload's files to another storage while the site runs: copy, verify the "
        "checksum, switch the row, delete the old copy. New uploads go to the target first. "
        "Interrupted, run it again: it resumes where it stopped."
    )

    def add_arguments(self, parser: object) -> None:
        parser.add_argument("--to", required=True, choices=Storage.Kind.values)  # type: ignore[attr-defined]
        parser.add_argument(  # type: ignore[attr-defined]
            "--storage", type=int, default=None, help="the target storage's id (dashboard)"
        )
        parser.add_argument(  # type: ignore[attr-defined]
            "--batch", type=int, default=200, help="uploads read per query (default 200)"
        )
        parser.add_argument(  # type: ignore[attr-defined]
            "--keep-active",
            action="store_true",
            help="do not send new uploads to the target (they keep going where they go now)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")  # type: ignore[attr-defined]

    def handle(self, *args: object, **options: object) -> None:
        batch = int(options["batch"])  # type: ignore[arg-type]
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        try:
            target_id = storage_migration_target(
                to=str(options["to"]),
                storage_id=options["storage"],  # type: ignore[arg-type]
            )
        except StorageMigrationError as exc:
            raise CommandError(str(exc)) from exc
        label = storage_label(target_id)
        if not options["keep_active"]:
            # First stop new files from landing on the storages being emptied.
            storage_activate(storage=Storage.objects.filter(pk=target_id).first())
            self.stdout.write(f"new uploads now go to {label}")
        pending = storage_migrate_pending(target_id=target_id)
        self.stdout.write(f"moving {pending} uploads to {label}")
        bar = tqdm(
            total=pending,
            unit="upload",
            desc="storage_migrate",
            file=sys.stderr,
            disable=bool(options["no_progress"]),
            dynamic_ncols=True,
        )
        try:
            report, _ = storage_migrate(
                target_id=target_id, batch_size=batch, on_progress=bar.update
            )
        finally:
            bar.close()
        if target_id is not None:
            storage_stats_regen(storage_id=target_id)
        for source in Storage.objects.exclude(pk=target_id).values_list("pk", flat=True):
            storage_stats_regen(storage_id=source)
        audit_record(
            actor=None,
            action="storage.migrate",
            source="command",
            target_type="storage",
            target_id=target_id if target_id is not None else "default",
            target_repr=label,
            details=report.as_dict(),
        )
        self.stdout.write(
            f"{report.moved} moved ({report.files} files, {report.bytes} bytes),"
            f" {report.already} already there, {report.gone} deleted meanwhile,"
            f" {report.busy} busy, {len(report.failed)} failed"
        )
        for image_id, reason in report.failed.items():
            self.stderr.write(f"upload {image_id}: {reason}")
        if report.failed or report.busy:
            raise CommandError("some uploads were not moved: run the command again")

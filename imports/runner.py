"""Running an import job: claim it, hand it to the importer of its kind, record progress.

Every importer (`imports.folder.run`, `imports.chevereto.run`) is a function
`run(ctx: ImportContext) -> None` that walks its source in a stable order and, for each
item, asks `ctx.seen(key)` first (a resumed run skips what is done), then records
`ctx.done(key, target_id)` or `ctx.issue(key, kind, message)`, calling `ctx.tick()`
between batches. `tick` writes the heartbeat and counters and raises `JobStopped` when an
admin paused or cancelled the job meanwhile: the importer just lets it propagate.

Jobs are claimed with a compare-and-swap on their status, so two workers (or a worker and
a command) never run the same job; a RUNNING job whose heartbeat is older than
STALE_AFTER lost its process and may be claimed again, which is how an interrupted import
resumes.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from imports.models import ImportIssue, ImportItem, ImportJob

log = logging.getLogger(__name__)

IMPORTERS: dict[str, str] = {
    ImportJob.Kind.FOLDER: "imports.folder.run",
    ImportJob.Kind.CHEVERETO: "imports.chevereto.run",
}
STALE_AFTER = timedelta(minutes=5)
# A careful run (after a crash) skips the item its process died on this many times.
CRASHES_TO_SKIP = 2
# Issues kept per job: a folder of a million broken files must not make a million rows.
MAX_ISSUES = 10_000


class JobStopped(Exception):
    """The job was paused or cancelled while it ran."""


class SliceEnded(JobStopped):
    """This run used its time budget; the job goes back to the queue for the next slice."""


class ImportContext:
    """What an importer uses to read and record its progress on one job."""

    def __init__(
        self,
        job: ImportJob,
        on_progress: Callable[[ImportJob], None] | None = None,
        *,
        time_budget: float | None = None,
    ) -> None:
        self.job = job
        self.on_progress = on_progress
        self._pending: dict[str, int] = {}
        self._done_later: list[ImportItem] = []
        self._deadline = None if time_budget is None else time.monotonic() + time_budget
        # Set after a crash, until the first tick: see `_after_a_crash`.
        self.careful = False

    @property
    def options(self) -> dict[str, Any]:
        return self.job.options

    @property
    def state(self) -> dict[str, Any]:
        return self.job.state

    def seen(self, key: str) -> bool:
        return ImportItem.objects.filter(job=self.job, key=key[:512]).exists()

    def target_of(self, key: str) -> int | None:
        item = ImportItem.objects.filter(job=self.job, key=key[:512]).first()
        return item.target_id if item is not None else None

    def attempt(self, key: str) -> None:
        """Say which item the importer works on next. Costs nothing, except in a careful run
        (after a crash), which writes it down so the next run knows what it died on."""
        if self.careful:
            self.save_state(current=key[:512])

    def done(self, key: str, target_id: int | None, *, skipped: bool = False) -> bool:
        """Record an imported (or deliberately skipped) item. False when it was recorded
        already (a second worker, or a retry of the same batch): count it once."""
        try:
            with transaction.atomic():
                ImportItem.objects.create(job=self.job, key=key[:512], target_id=target_id)
                self._count_now(processed=1, **{"skipped" if skipped else "imported": 1})
        except IntegrityError:
            return False
        return True

    def done_later(self, key: str, target_id: int | None, *, skipped: bool = False) -> None:
        """`done`, written with the next `tick` in one INSERT (and counted with it): for an
        importer that can tell after a crash which of its last items were made (see
        imports.folder), it saves a commit per item."""
        self._done_later.append(ImportItem(job=self.job, key=key[:512], target_id=target_id))
        self._count("processed")
        self._count("skipped" if skipped else "imported")

    def remember(self, key: str, target_id: int | None) -> None:
        """Record what a helper key became (a folder's album) without counting it as an item
        of the progress. Call inside the transaction that made the target, so a crash leaves
        neither or both."""
        ImportItem.objects.create(job=self.job, key=key[:512], target_id=target_id)

    def forget(self, key: str) -> None:
        ImportItem.objects.filter(job=self.job, key=key[:512]).delete()

    def issue(self, key: str, kind: str, message: str) -> bool:
        """Report an item that could not be imported; the run goes on with the rest.

        The item is recorded with it (no target), in the same transaction: a run resumed
        after a crash skips it instead of reporting and counting it again; `reset` forgets
        both and tries it again. False when the item was recorded already."""
        try:
            with transaction.atomic():
                ImportItem.objects.create(job=self.job, key=key[:512], target_id=None)
                if self.job.failed < MAX_ISSUES:
                    ImportIssue.objects.create(
                        job=self.job, key=key[:512], kind=kind[:16], message=message[:500]
                    )
                self._count_now(processed=1, failed=1)
        except IntegrityError:
            return False
        return True

    def set_total(self, total: int) -> None:
        self.job.total = total
        ImportJob.objects.filter(pk=self.job.pk).update(total=total)

    def save_state(self, **values: Any) -> None:
        self.job.state = {**self.job.state, **values}
        ImportJob.objects.filter(pk=self.job.pk).update(state=self.job.state)

    def tick(self) -> None:
        """Write the items done since the last tick, with their counts, and the heartbeat;
        stop if an admin paused or cancelled the job."""
        updates: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if self.careful:
            # The batch that was in flight at the crash is behind: back to the fast way.
            self.careful = False
            self.job.state = updates["state"] = self._state_settled()
        self._write_done_later(**updates)
        try:
            self.job.refresh_from_db(
                fields=["status", "total", "processed", "imported", "skipped", "failed"]
            )
        except ImportJob.DoesNotExist:
            raise JobStopped("deleted") from None
        if self.on_progress is not None:
            self.on_progress(self.job)
        if self.job.status != ImportJob.Status.RUNNING:
            # Paused, cancelled, reset or deleted by an admin meanwhile.
            raise JobStopped(self.job.status)
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise SliceEnded()

    def _write_done_later(self, **also: Any) -> None:
        """The items of `done_later` and their counts, in one transaction: a crash loses
        both or neither, so the counters always agree with the items."""
        updates: dict[str, Any] = {name: F(name) + n for name, n in self._pending.items()}
        updates.update(also)
        with transaction.atomic():
            if self._done_later:
                ImportItem.objects.bulk_create(self._done_later, ignore_conflicts=True)
            if updates:
                ImportJob.objects.filter(pk=self.job.pk).update(**updates)
        self._done_later = []
        self._pending.clear()

    def _state_settled(self) -> dict[str, Any]:
        """The state without the item a careful run was on: it did not kill the process."""
        return {k: v for k, v in self.job.state.items() if k != "current"}

    def _count(self, name: str) -> None:
        self._pending[name] = self._pending.get(name, 0) + 1

    def _count_now(self, **counts: int) -> None:
        """Count an item recorded at once, in its own transaction (a crash loses both)."""
        ImportJob.objects.filter(pk=self.job.pk).update(
            **{name: F(name) + n for name, n in counts.items()}
        )
        for name, n in counts.items():
            setattr(self.job, name, getattr(self.job, name) + n)


def job_claim(job_id: int) -> ImportJob | None:
    """Take the job for this process: queued, or running with a stale heartbeat."""
    claimed = _claim(job_id)
    return claimed[0] if claimed is not None else None


def _claim(job_id: int) -> tuple[ImportJob, bool] | None:
    """`job_claim`, and whether the job was taken over from a process that died."""
    now = timezone.now()
    jobs = ImportJob.objects.filter(pk=job_id)
    changes = {"status": ImportJob.Status.RUNNING, "heartbeat_at": now, "error": ""}
    taken_over = False
    if not jobs.filter(status=ImportJob.Status.QUEUED).update(**changes):
        stale = Q(status=ImportJob.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
        if not jobs.filter(stale).update(**changes):
            return None
        taken_over = True
    jobs.filter(started_at__isnull=True).update(started_at=now)
    return ImportJob.objects.get(pk=job_id), taken_over


def _after_a_crash(ctx: ImportContext, *, taken_over: bool) -> None:
    """Before a run: when the last one died (its process killed, its job taken over), run
    carefully, and skip the item that killed the process twice.

    A careful run writes the key of each item before working on it (`ImportContext.attempt`)
    until its first tick: the item in flight when the last process died is among those. A
    file that kills the process every time (native code of a decoder crashing on it) is
    found so, reported as an issue and skipped; without this the job would die on it every
    few minutes, for ever, importing nothing after it. Twice, so that a deploy's restart at
    the wrong moment does not make an innocent file an issue.
    """
    state = dict(ctx.job.state)
    current = state.pop("current", None)
    if not (taken_over or current):
        return
    ctx.careful = True
    if current:
        crashes = dict(state.get("crashes", {}))
        crashes[current] = crashes.get(current, 0) + 1
        if crashes[current] >= CRASHES_TO_SKIP:
            del crashes[current]
            if not ctx.seen(current):
                log.warning("import %s: %s skipped, its process died on it", ctx.job.pk, current)
                ctx.issue(
                    current,
                    "crashed",
                    f"The importing process died on it {CRASHES_TO_SKIP} times: skipped "
                    "(the worker's log may say why; a reset tries it again).",
                )
        state["crashes"] = crashes
    ctx.job.state = state
    ImportJob.objects.filter(pk=ctx.job.pk).update(state=state)


def job_run(
    job_id: int,
    *,
    on_progress: Callable[[ImportJob], None] | None = None,
    time_budget: float | None = None,
) -> ImportJob:
    """Run a job to its end (or until paused, cancelled or failed) in this process.

    With a `time_budget` (seconds), the run stops at the first tick past it and puts the job
    back to QUEUED: the caller queues the next slice.
    """
    claimed = _claim(job_id)
    if claimed is None:
        return ImportJob.objects.get(pk=job_id)
    job, taken_over = claimed
    module, _, name = IMPORTERS[job.kind].rpartition(".")
    importer = getattr(importlib.import_module(module), name)
    ctx = ImportContext(job, on_progress, time_budget=time_budget)
    try:
        _after_a_crash(ctx, taken_over=taken_over)
        importer(ctx)
        ctx._deadline = None  # the work is done: the last tick must not end a slice
        ctx.tick()
    except SliceEnded:
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.QUEUED
        )
    except JobStopped:
        pass
    except Exception as exc:
        # The job as a whole could not go on (its database unreachable, its folder gone):
        # keep what was imported and say why; `resume` picks it up again. The item it was
        # on did not kill the process: it is no crash's suspect.
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            state=ctx._state_settled(),
        )
        ctx._write_done_later()
    else:
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.DONE, finished_at=timezone.now()
        )
    try:
        job.refresh_from_db()
    except ImportJob.DoesNotExist:  # deleted by an admin while it ran
        return job
    if on_progress is not None:
        on_progress(job)
    return job

"""Writes for import jobs: create, change, pause, resume, reset, cancel, delete.

Every service here is an admin action and writes one audit entry (`source` says from where:
"api", "dashboard" or "command"). Status changes are compare-and-swap UPDATEs, so an admin
clicking "pause" while a worker finishes the job never resurrects it; a running importer
notices pause and cancel at its next `ctx.tick()` (see imports.runner).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from chevereto.core.audit import audit_record
from imports.models import ImportIssue, ImportItem, ImportJob
from imports.runner import STALE_AFTER

__all__ = [
    "ImportJobConflict",
    "import_job_cancel",
    "import_job_create",
    "import_job_delete",
    "import_job_enqueue",
    "import_job_options_clean",
    "import_job_options_public",
    "import_job_pause",
    "import_job_process",
    "import_job_reset",
    "import_job_resume",
    "import_job_update",
]

S = ImportJob.Status
# A prefix is pasted into SQL identifiers by the Chevereto importer: letters, digits and "_".
_PREFIX = re.compile(r"^[A-Za-z0-9_]{0,32}$")


class ImportJobConflict(Exception):
    """The job is not in a state that allows this action (resume a finished job...)."""


# -- options ------------------------------------------------------------------------------


def _confine(path: str, *, what: str, confined: bool) -> str:
    """The folder, resolved; inside IMPORT_ROOTS when the job comes from the API.

    A staff key is not a shell account: through the API it may read only the folders the
    operator set aside for imports, never any directory of the server (an import reports
    file names, so even refused files would leak what a folder holds).
    """
    real = os.path.realpath(path)
    if not confined:
        return real
    for root in settings.IMPORT_ROOTS:
        base = os.path.realpath(root)
        if real == base or real.startswith(base.rstrip(os.sep) + os.sep):
            return real
    roots = ", ".join(settings.IMPORT_ROOTS) or "none set"
    raise ValidationError(
        f"'{what}' must be inside an import folder of this server (IMPORT_ROOTS: {roots})."
    )


def _folder_options(options: dict[str, Any], *, confined: bool) -> dict[str, Any]:
    unknown = set(options) - {"path", "user", "album"}
    if unknown:
        raise ValidationError(f"Unknown options for a folder import: {', '.join(sorted(unknown))}")
    path = options.get("path")
    if not isinstance(path, str) or not path.strip():
        raise ValidationError("A folder import needs 'path', the folder to import.")
    path = os.path.abspath(path.strip())
    if not os.path.isdir(path):
        raise ValidationError(f"'{path}' is not a folder on this server.")
    path = _confine(path, what="path", confined=confined)
    user_ref = options.get("user")
    if user_ref in (None, ""):
        owner = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if owner is None:
            raise ValidationError("No 'user' given and there is no superuser to own the import.")
    else:
        owner = _user_of(user_ref)
    album = options.get("album")
    if album is not None and (not isinstance(album, str | int) or isinstance(album, bool)):
        raise ValidationError("'album' is an album's name or its numeric id.")
    if isinstance(album, int) and not Album.objects.filter(pk=album, user=owner).exists():
        raise ValidationError(f"Album {album} is not an album of {owner.username}.")
    if isinstance(album, str):
        album = album.strip()[:100] or None
    return {"path": path, "user": owner.pk, "album": album}


def _user_of(ref: object) -> User:
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        raise ValidationError("'user' is a username or a numeric user id.")
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        user = User.objects.filter(pk=int(ref)).first()
    else:
        user = User.objects.filter(username__iexact=ref.strip()).first()
    if user is None:
        raise ValidationError(f"No user '{ref}'.")
    if not user.is_active:
        raise ValidationError(f"User '{user.username}' is not active (banned?).")
    return user


def _chevereto_options(options: dict[str, Any], *, confined: bool) -> dict[str, Any]:
    unknown = set(options) - {"db", "media", "prefix"}
    if unknown:
        raise ValidationError(
            f"Unknown options for a Chevereto import: {', '.join(sorted(unknown))}"
        )
    db = options.get("db")
    if not isinstance(db, str) or urlsplit(db).scheme not in ("mysql", "mariadb"):
        raise ValidationError("'db' is a URL like mysql://USER:PASSWORD@HOST:PORT/DBNAME.")
    parts = urlsplit(db)
    if not parts.hostname or not parts.path.strip("/"):
        raise ValidationError("'db' needs a host and a database name.")
    media = options.get("media")
    if not isinstance(media, str) or not os.path.isdir(media):
        raise ValidationError("'media' is the folder on this server that holds images/.")
    prefix = options.get("prefix", "chv_")
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise ValidationError("'prefix' holds letters, digits and underscores only.")
    media = _confine(os.path.abspath(media), what="media", confined=confined)
    return {"db": db, "media": media, "prefix": prefix}


_CLEANERS = {ImportJob.Kind.FOLDER: _folder_options, ImportJob.Kind.CHEVERETO: _chevereto_options}


def import_job_options_clean(
    *, kind: str, options: object, confined: bool = True
) -> dict[str, Any]:
    """The options, checked and normalized for this kind; ValidationError otherwise.
    `confined`: folders must lie inside IMPORT_ROOTS (everything but a management command,
    whose user has the server's shell anyway)."""
    if kind not in _CLEANERS:
        raise ValidationError(f"Unknown import kind '{kind}' (folder or chevereto).")
    if not isinstance(options, dict):
        raise ValidationError("'options' is an object.")
    return _CLEANERS[kind](options, confined=confined)


def import_job_options_public(job: ImportJob) -> dict[str, Any]:
    """The options as shown to admins: a database password never leaves the server."""
    options = dict(job.options)
    db = options.get("db")
    if isinstance(db, str):
        parts = urlsplit(db)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            options["db"] = parts._replace(netloc=netloc).geturl()
    return options


# -- lifecycle ----------------------------------------------------------------------------


def import_job_enqueue(job: ImportJob) -> None:
    """Queue the job's run once the current transaction commits."""
    from imports.tasks import import_run

    transaction.on_commit(lambda: import_run.delay(job.pk))


def _audit(
    job: ImportJob, *, actor: Any, action: str, source: str, ip: str | None, **details: Any
) -> None:
    audit_record(
        actor=actor,
        action=f"import.{action}",
        target=job,
        ip=ip,
        source=source,
        details={"kind": job.kind, "status": job.status, **details},
    )


def import_job_create(
    *,
    kind: str,
    options: object,
    actor: Any,
    enqueue: bool = True,
    source: str = "command",
    ip: str | None = None,
) -> ImportJob:
    """A new job; queued for a worker unless `enqueue` is False (a command runs it itself)."""
    cleaned = import_job_options_clean(kind=kind, options=options, confined=source != "command")
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            options=cleaned,
            created_by=actor if getattr(actor, "pk", None) is not None else None,
        )
        _audit(job, actor=actor, action="create", source=source, ip=ip)
        if enqueue:
            import_job_enqueue(job)
    return job


def _stale(job: ImportJob) -> bool:
    return job.status == S.RUNNING and (
        job.heartbeat_at is None or job.heartbeat_at < timezone.now() - STALE_AFTER
    )


def _swap(job: ImportJob, *, allowed: Q, **changes: Any) -> bool:
    """Compare-and-swap: apply `changes` only while the job is in an `allowed` state."""
    done = ImportJob.objects.filter(allowed, pk=job.pk).update(**changes)
    job.refresh_from_db()
    return bool(done)


def _not_running() -> Q:
    return ~Q(status=S.RUNNING) | Q(heartbeat_at__lt=timezone.now() - STALE_AFTER)


def import_job_update(
    *, job: ImportJob, options: object, actor: Any, source: str = "api", ip: str | None = None
) -> ImportJob:
    """Change what a job imports, while no process runs it."""
    job.refresh_from_db()
    if job.status == S.RUNNING and not _stale(job):
        raise ImportJobConflict("The job is running: pause it first.")
    if not isinstance(options, dict):
        raise ValidationError("'options' is an object.")
    cleaned = import_job_options_clean(
        kind=job.kind, options={**job.options, **options}, confined=source != "command"
    )
    # Items are keyed by paths relative to the folder: another folder makes them wrong.
    if (
        job.kind == ImportJob.Kind.FOLDER
        and cleaned["path"] != job.options.get("path")
        and ImportItem.objects.filter(job=job).exists()
    ):
        raise ImportJobConflict("A started import's folder cannot change: create a new import.")
    with transaction.atomic():
        if not _swap(job, allowed=_not_running(), options=cleaned):
            raise ImportJobConflict("The job is running: pause it first.")
        _audit(job, actor=actor, action="update", source=source, ip=ip)
    return job


def import_job_pause(
    *, job: ImportJob, actor: Any, source: str = "api", ip: str | None = None
) -> ImportJob:
    """Stop a queued or running job; the importer notices at its next batch."""
    with transaction.atomic():
        if not _swap(job, allowed=Q(status__in=[S.QUEUED, S.RUNNING]), status=S.PAUSED):
            raise ImportJobConflict(f"A {job.status} job cannot be paused.")
        _audit(job, actor=actor, action="pause", source=source, ip=ip)
    return job


def import_job_resume(
    *,
    job: ImportJob,
    actor: Any,
    source: str = "api",
    ip: str | None = None,
    enqueue: bool = True,
) -> ImportJob:
    """Queue a paused or failed job again (or one whose process died): it goes on from its
    items, importing nothing twice."""
    allowed = Q(status__in=[S.PAUSED, S.FAILED]) | Q(
        status=S.RUNNING, heartbeat_at__lt=timezone.now() - STALE_AFTER
    )
    with transaction.atomic():
        if not _swap(job, allowed=allowed, status=S.QUEUED, error="", finished_at=None):
            raise ImportJobConflict(f"A {job.status} job cannot be resumed.")
        _audit(job, actor=actor, action="resume", source=source, ip=ip)
        if enqueue:
            import_job_enqueue(job)
    return job


def import_job_process(
    *, job: ImportJob, actor: Any, source: str = "api", ip: str | None = None
) -> ImportJob:
    """Chevereto's "process": start a job made without a run, or go on with a stopped one."""
    if job.status != S.QUEUED:
        return import_job_resume(job=job, actor=actor, source=source, ip=ip)
    with transaction.atomic():
        _audit(job, actor=actor, action="process", source=source, ip=ip)
        import_job_enqueue(job)
    return job


def import_job_reset(
    *,
    job: ImportJob,
    actor: Any,
    source: str = "api",
    ip: str | None = None,
    enqueue: bool = True,
) -> ImportJob:
    """Start the job over: issues, counters and cursor cleared, everything retried.

    What was imported stays recorded as items, so the new run skips it: resetting an import
    never imports a file twice (delete the uploads first to really import them again).
    """
    job.refresh_from_db()
    with transaction.atomic():
        if job.status == S.RUNNING and not _stale(job):
            raise ImportJobConflict("The job is running: pause it first.")
        # Items reported as issues are tried again: forget them with their issues.
        ImportItem.objects.filter(
            job=job, key__in=ImportIssue.objects.filter(job=job).values("key")
        ).delete()
        ImportIssue.objects.filter(job=job).delete()
        # Items keyed "/..." are a folder's album, not an imported file: not counted.
        items = ImportItem.objects.filter(job=job).exclude(key__startswith="/")
        imported = items.filter(target_id__isnull=False).count()
        skipped = items.filter(target_id__isnull=True).count()
        if not _swap(
            job,
            allowed=_not_running(),
            status=S.QUEUED,
            # The importer's cursor goes; its count of runs stays (imports.folder checks
            # for uploads a dead run made but did not record).
            state={"runs": job.state["runs"]} if "runs" in job.state else {},
            error="",
            total=0,
            processed=imported + skipped,
            imported=imported,
            skipped=skipped,
            failed=0,
            started_at=None,
            finished_at=None,
            heartbeat_at=None,
        ):
            raise ImportJobConflict("The job is running: pause it first.")
        _audit(job, actor=actor, action="reset", source=source, ip=ip)
        if enqueue:
            import_job_enqueue(job)
    return job


def import_job_cancel(
    *, job: ImportJob, actor: Any, source: str = "api", ip: str | None = None
) -> ImportJob:
    """Stop a job for good; what it imported stays."""
    with transaction.atomic():
        if not _swap(
            job,
            allowed=~Q(status__in=[S.DONE, S.CANCELLED]),
            status=S.CANCELLED,
            finished_at=timezone.now(),
        ):
            raise ImportJobConflict(f"A {job.status} job cannot be cancelled.")
        _audit(job, actor=actor, action="cancel", source=source, ip=ip)
    return job


def import_job_delete(
    *, job: ImportJob, actor: Any, source: str = "api", ip: str | None = None
) -> None:
    """Forget a job that no process runs (its items and issues with it); uploads stay."""
    job.refresh_from_db()
    if job.status == S.RUNNING and not _stale(job):
        raise ImportJobConflict("The job is running: pause or cancel it first.")
    with transaction.atomic():
        _audit(job, actor=actor, action="delete", source=source, ip=ip)
        job.delete()

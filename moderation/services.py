"""Moderation services: approving and rejecting uploads, and purges (everything from a user
or an address, deleted by the worker in batches).

Each admin action writes its one audit entry here, so the dashboard, the API and commands
that call these services must not write another for the same action.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.bans import user_ban
from accounts.models import User
from albums.models import Album
from albums.services import album_tree_delete
from chevereto.core.audit import audit_record
from moderation.models import PurgeJob, Report
from social.models import Follow, Like
from uploads.models import Image
from uploads.purge import images_delete_batch, images_delete_now, stored_files_delete

log = logging.getLogger(__name__)

# Rows per batch: one transaction, then up to four files per row deleted after it.
PURGE_BATCH = 200
# Batches per task run: a run stays well inside the task's time limit, then queues the next.
PURGE_BATCHES_PER_RUN = 25
# How long a worker holds a job between two batches; a lapsed lease means the worker died.
PURGE_LEASE = timedelta(minutes=10)


# --- approve / reject ------------------------------------------------------------------------


def images_moderate(
    *,
    actor: Any,
    image_ids: Iterable[int],
    approve: bool,
    source: str,
    ip: str | None = None,
) -> tuple[list[int], list[dict[str, Any]]]:
    """Approve or reject uploads (database ids); returns (edited ids, failures).

    Approving shows the uploads to everyone and dismisses their open reports (an admin looked
    and kept them). Rejecting deletes them with their files, as Chevereto does. A missing or
    expired id is a failure `{"id": pk, "error": ...}`; one audit entry covers the call.
    """
    ids = list(dict.fromkeys(int(pk) for pk in image_ids))
    now = timezone.now()
    live = Image.objects.filter(pk__in=ids).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    found = set(live.values_list("pk", flat=True))
    edited = [pk for pk in ids if pk in found]
    failed = [{"id": pk, "error": "Image not found."} for pk in ids if pk not in found]
    if edited:
        if approve:
            with transaction.atomic():
                Image.objects.filter(pk__in=edited).update(is_approved=True)
                Report.objects.filter(image_id__in=edited, status=Report.Status.OPEN).update(
                    status=Report.Status.DISMISSED,
                    resolved_at=now,
                    resolved_by=_user_or_none(actor),
                )
        else:
            images_delete_now(queryset=Image.objects.filter(pk__in=edited))
        target: dict[str, Any] = {"target_type": "image"}
        if len(edited) == 1:
            target["target_id"] = edited[0]
        audit_record(
            actor=actor,
            action="image.approve" if approve else "image.reject",
            ip=ip,
            source=source,
            details={"image_ids": edited, "count": len(edited)},
            **target,
        )
    return edited, failed


def images_flag_nsfw(
    *, actor: Any, image_ids: Iterable[int], nsfw: bool, source: str, ip: str | None = None
) -> int:
    """Flag (or unflag) uploads as NSFW; returns how many changed. One audit entry."""
    ids = list(dict.fromkeys(int(pk) for pk in image_ids))
    changed = list(Image.objects.filter(pk__in=ids).exclude(nsfw=nsfw).values_list("pk", flat=True))
    if changed:
        Image.objects.filter(pk__in=changed).update(nsfw=nsfw)
        audit_record(
            actor=actor,
            action="image.nsfw" if nsfw else "image.sfw",
            target_type="image",
            target_id=changed[0] if len(changed) == 1 else "",
            ip=ip,
            source=source,
            details={"image_ids": changed, "nsfw": nsfw},
        )
    return len(changed)


def _user_or_none(actor: Any) -> User | None:
    return actor if isinstance(actor, User) and actor.pk is not None else None


# --- purge -----------------------------------------------------------------------------------


def _clean_ip(ip: str | None) -> str | None:
    if ip is None or not str(ip).strip():
        return None
    try:
        return str(ipaddress.ip_address(str(ip).strip()))
    except ValueError:
        raise ValidationError(
            f"{ip!r} is not an IP address (a purge takes one address, not a range)."
        ) from None


def _targets(job: PurgeJob) -> QuerySet[Image]:
    """The uploads a job deletes: the user's and the address's, whatever else they are."""
    match = Q()
    if job.user_id is not None:
        match |= Q(user_id=job.user_id)
    if job.ip:
        match |= Q(uploader_ip=job.ip)
    if not match:
        return Image.objects.none()  # the target went away some other way: nothing to do
    return Image.objects.filter(match)


def _hide(job: PurgeJob, now: Any) -> int:
    """Hide everything the job will delete, at once and on every surface: an expired upload
    is gone for everyone, owner included (and the expiry purge may delete some first: both
    deleters claim rows without overlap, so the counters stay right)."""
    targets = _targets(job)
    total = targets.count()
    targets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).update(expires_at=now)
    return total


def _albums_delete(user_id: int) -> int:
    deleted = 0
    # Top-level albums take their sub-albums with them; their uploads (hidden above) fall
    # out of any album until the worker deletes them.
    for album in Album.objects.filter(owner_id=user_id, parent__isnull=True):
        deleted += album_tree_delete(album=album)
    return deleted


def purge_start(
    *,
    actor: Any,
    user: User | None = None,
    ip: str | None = None,
    delete_user: bool = False,
    source: str = "api",
    actor_ip: str | None = None,
) -> PurgeJob:
    """Delete everything from a user and/or an address: the uploads are hidden at once, the
    user's albums deleted, and the worker deletes the uploads and their files in batches
    (`purge_run`), resuming after a crash; `delete_user` also deletes the account at the end
    (it is deactivated and its API key revoked now).

    Raises ValidationError on a bad target. Starting the same purge again while it runs
    returns the running job (upgraded to delete the account if asked). Writes one audit
    entry ("purge.start").
    """
    address = _clean_ip(ip)
    if user is None and address is None:
        raise ValidationError("A purge needs a user or an IP address.")
    if delete_user and user is None:
        raise ValidationError("Only a purge of a user can delete the account.")
    if user is not None and getattr(actor, "pk", None) == user.pk:
        raise ValidationError("You cannot purge your own account.")
    if delete_user and user is not None:
        # The account is on its way out: no logins, sessions or API keys meanwhile. First,
        # so that an account the actor may not ban (their own, staff) stops the purge.
        user_ban(user=user, actor=actor, reason="deleted with all its content")
    now = timezone.now()
    with transaction.atomic():
        unfinished = PurgeJob.objects.select_for_update().filter(
            user=user, ip=address, status__in=[PurgeJob.Status.PENDING, PurgeJob.Status.RUNNING]
        )
        job = unfinished.first()
        if job is None:
            job = PurgeJob.objects.create(
                user=user,
                username=user.username if user is not None else "",
                ip=address,
                delete_user=delete_user,
                actor=_user_or_none(actor),
                source=source[:16],
            )
        elif delete_user and not job.delete_user:
            job.delete_user = True
            job.save(update_fields=["delete_user"])
        job.images_total = _hide(job, now)
        job.save(update_fields=["images_total"])
        if user is not None:
            job.albums_deleted += _albums_delete(user.pk)
            job.save(update_fields=["albums_deleted"])
        audit_record(
            actor=actor,
            action="purge.start",
            target=user,
            target_type="user" if user is not None else "ip",
            target_id=user.pk if user is not None else (address or ""),
            target_repr=user.username if user is not None else (address or ""),
            ip=actor_ip,
            source=source,
            details={
                "job": job.pk,
                "ip": address,
                "delete_user": job.delete_user,
                "images": job.images_total,
                "albums": job.albums_deleted,
            },
        )
        job_id = job.pk
        transaction.on_commit(lambda: purge_enqueue(job_id=job_id))
    return job


def purge_enqueue(*, job_id: int) -> None:
    """Queue a run of the job; a broker that is down is no failure (the periodic resume
    picks the job up)."""
    from moderation.tasks import purge_run as purge_run_task

    try:
        purge_run_task.delay(job_id)
    except Exception:
        log.warning("could not enqueue purge %s; the periodic resume will", job_id, exc_info=True)


def _claim(job_id: int, now: Any) -> bool:
    lapsed = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    return bool(
        PurgeJob.objects.filter(pk=job_id)
        .filter(status__in=[PurgeJob.Status.PENDING, PurgeJob.Status.RUNNING])
        .filter(lapsed)
        .update(
            status=PurgeJob.Status.RUNNING,
            lease_until=now + PURGE_LEASE,
            started_at=Coalesce(F("started_at"), now),
        )
    )


def _flush_pending(job: PurgeJob) -> None:
    """Delete the files of rows deleted by a run that died before confirming them."""
    if job.pending_files:
        left = stored_files_delete(job.pending_files)
        PurgeJob.objects.filter(pk=job.pk).update(
            files_deleted=F("files_deleted") + len(job.pending_files) - len(left),
            pending_files=left,
        )
        job.pending_files = left


def _likes_and_follows_forget(user_id: int) -> None:
    """Take a leaving user's likes and follows off the counters of what they liked and who
    they followed (the rows themselves go with the account)."""
    for field, model in (("image_id", Image), ("album_id", Album)):
        liked = Counter(
            Like.objects.filter(user_id=user_id, **{f"{field}__isnull": False}).values_list(
                field, flat=True
            )
        )
        _decrement(model, "likes", liked)
    followed = Counter(
        Follow.objects.filter(follower_id=user_id).values_list("followed_id", flat=True)
    )
    _decrement(User, "followers_count", followed)
    followers = Counter(
        Follow.objects.filter(followed_id=user_id).values_list("follower_id", flat=True)
    )
    _decrement(User, "following_count", followers)


def _decrement(model: Any, field: str, changes: Counter[int]) -> None:
    by_amount: dict[int, list[int]] = {}
    for pk, amount in changes.items():
        by_amount.setdefault(amount, []).append(pk)
    for amount, pks in by_amount.items():
        model.objects.filter(pk__in=pks).update(**{field: Greatest(F(field) - amount, 0)})


def _profile_files(user: User) -> list[list[Any]]:
    return [[None, name] for name in (user.avatar, user.background) if name]


def _finish(job: PurgeJob) -> None:
    """Nothing left to delete: the albums made meanwhile, the account if asked, done."""
    files: list[list[Any]] = []
    with transaction.atomic():
        fields: dict[str, Any] = {
            "status": PurgeJob.Status.DONE,
            "finished_at": timezone.now(),
            "lease_until": None,
        }
        if job.user_id is not None:
            fields["albums_deleted"] = F("albums_deleted") + _albums_delete(job.user_id)
            user = User.objects.filter(pk=job.user_id).first()
            if job.delete_user and user is not None and not _targets(job).exists():
                files = _profile_files(user)
                _likes_and_follows_forget(user.pk)
                user.delete()
                fields["user_deleted"] = True
        if job.pending_files:
            fields["last_error"] = f"{len(job.pending_files)} files could not be deleted."
        PurgeJob.objects.filter(pk=job.pk).update(**fields)
    left = stored_files_delete(files)
    if files:
        PurgeJob.objects.filter(pk=job.pk).update(
            files_deleted=F("files_deleted") + len(files) - len(left)
        )


def purge_run(
    *, job_id: int, max_batches: int | None = None, batch_size: int = PURGE_BATCH
) -> PurgeJob | None:
    """Run a purge: batches of `batch_size` rows (each deleted in one transaction, then its
    files), up to `max_batches` (None: to the end). Returns the job as it stands, or None
    when there is nothing to run (gone, done, or held by a live worker).

    Safe to run twice and after a crash: rows are claimed without overlap, the files of a
    batch are recorded in the job with the commit that deletes its rows, and the lease of a
    dead worker lapses.
    """
    if not _claim(job_id, timezone.now()):
        return None
    job = PurgeJob.objects.get(pk=job_id)
    try:
        _flush_pending(job)
        targets = _targets(job)
        batches = 0
        while max_batches is None or batches < max_batches:
            with transaction.atomic():
                count, files = images_delete_batch(queryset=targets, batch_size=batch_size)
                if not count and not files:
                    break
                PurgeJob.objects.filter(pk=job_id).update(
                    images_deleted=F("images_deleted") + count,
                    pending_files=files,
                    lease_until=timezone.now() + PURGE_LEASE,
                )
            job.pending_files = files
            _flush_pending(job)
            batches += 1
        else:
            # The run's share is done; release the job for the next run.
            PurgeJob.objects.filter(pk=job_id).update(lease_until=None)
            job.refresh_from_db()
            return job
        if job.pending_files:
            _flush_pending(job)  # one more try for files a storage hiccup kept
        _finish(job)
    except Exception as exc:
        PurgeJob.objects.filter(pk=job_id).update(lease_until=None, last_error=str(exc)[:2000])
        raise
    job.refresh_from_db()
    return job


def purges_to_resume(*, now: Any = None) -> list[int]:
    """Unfinished jobs no live worker holds (never started, or their worker died)."""
    now = now or timezone.now()
    return list(
        PurgeJob.objects.filter(status__in=[PurgeJob.Status.PENDING, PurgeJob.Status.RUNNING])
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:100]
    )

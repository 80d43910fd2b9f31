"""Beat's sweep queues again the derivatives a lost task never made, but not the ones a
worker already failed to make."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from tests.factories import make_image, make_user
from uploads import services
from uploads.derivatives import image_derivatives_failed, images_derivatives_requeue
from uploads.models import Image

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    ids: list[int] = []
    monkeypatch.setattr(services, "enqueue_derivatives", ids.append)
    return ids


def _lacking_derivatives(owner: User) -> Image:
    return make_image(
        owner=owner,
        chain=Image.CHAIN_IMAGE,
        created_at=timezone.now() - timedelta(minutes=10),
    )


def test_an_upload_without_derivatives_is_queued_again(queued: list[int]) -> None:
    image = _lacking_derivatives(make_user("ann"))
    assert images_derivatives_requeue() == 1
    assert queued == [image.pk]


def test_an_upload_whose_derivatives_failed_is_left_alone(queued: list[int]) -> None:
    owner = make_user("ann")
    failed, lost = _lacking_derivatives(owner), _lacking_derivatives(owner)
    image_derivatives_failed(image_id=failed.pk)
    assert images_derivatives_requeue() == 1
    assert queued == [lost.pk]


def test_a_failing_task_is_remembered(queued: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    from uploads import tasks
    from uploads.derivatives import DerivativeFailed

    image = _lacking_derivatives(make_user("ann"))

    def undecodable(*, image_id: int) -> None:
        raise DerivativeFailed("cannot decode")

    monkeypatch.setattr(tasks, "image_derivatives_generate", undecodable)
    tasks.generate_derivatives.apply(args=[image.pk])
    assert images_derivatives_requeue() == 0
    assert queued == []


@pytest.mark.parametrize("killed", [True, False])
def test_a_run_killed_at_its_hard_time_limit_is_remembered(queued: list[int], killed: bool) -> None:
    from celery.exceptions import TimeLimitExceeded
    from celery.signals import task_failure

    from uploads.tasks import generate_derivatives

    image = _lacking_derivatives(make_user("ann"))
    # What the worker's main process sends when it kills a run (Celery's Request.on_timeout).
    exception = TimeLimitExceeded(300) if killed else ValueError("another task's failure")
    task_failure.send(
        sender=generate_derivatives, task_id="t", exception=exception, args=[image.pk]
    )
    assert images_derivatives_requeue() == (0 if killed else 1)

"""A COMMIT whose answer is lost (the connection drops after the server committed) is looked up
again: an upload that landed is a success with its file kept, one that did not leaves nothing,
and a deletion that landed takes its files along."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import OperationalError, connection

from accounts.models import User
from chevereto.core import dbcommit
from tests import samples
from tests.conftest import files_under
from tests.factories import source_file
from uploads import services
from uploads.models import Image
from uploads.sources import SourceFile

pytestmark = pytest.mark.django_db(transaction=True)


def source(tmp_path: Path, seed: int = 1) -> SourceFile:
    return source_file(
        tmp_path / f"source-{seed}.png", samples.png_bytes(40 + seed, 30), name="harbour.png"
    )


def inside(name: str) -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == name:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def next_commit(monkeypatch: pytest.MonkeyPatch, *, lands: bool, of: str) -> None:
    """The next COMMIT made inside the function named ``of`` raises as a dropped connection
    does, after committing or not."""
    wrapper = connection._connection if hasattr(connection, "_connection") else connection
    real_commit: Callable[[], None] = wrapper._commit
    real_rollback: Callable[[], None] = wrapper._rollback
    state = {"armed": True}

    def commit() -> None:
        if not state["armed"] or not inside(of):
            return real_commit()
        state["armed"] = False
        real_commit() if lands else real_rollback()
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(wrapper, "_commit", commit)


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    ids: list[int] = []
    monkeypatch.setattr(services, "enqueue_derivatives", ids.append)
    return ids


def test_an_upload_whose_commit_landed_is_a_success_with_its_file(
    user: User, tmp_path: Path, media_root: Path, monkeypatch: pytest.MonkeyPatch, queued: list
) -> None:
    next_commit(monkeypatch, lands=True, of="_store_and_record")
    result = services.image_upload(source=source(tmp_path), user=user, ip="10.0.0.1")
    image = Image.objects.get()
    assert result.created and result.image.pk == image.pk
    assert services.image_delete_token_valid(image=image, token=result.delete_token)
    assert hashlib.md5((media_root / image.path).read_bytes()).hexdigest() == image.md5
    assert queued == [image.pk]  # the on-commit work, dropped with the answer, still runs


def test_an_upload_whose_commit_did_not_land_leaves_neither_file_nor_row(
    user: User, tmp_path: Path, media_root: Path, monkeypatch: pytest.MonkeyPatch, queued: list
) -> None:
    next_commit(monkeypatch, lands=False, of="_store_and_record")
    with pytest.raises(OperationalError):
        services.image_upload(source=source(tmp_path), user=user, ip="10.0.0.1")
    assert Image.objects.count() == 0
    assert files_under(media_root) == []
    assert queued == []


def test_an_upload_keeps_its_file_when_the_database_cannot_say(
    user: User, tmp_path: Path, media_root: Path, monkeypatch: pytest.MonkeyPatch, queued: list
) -> None:
    next_commit(monkeypatch, lands=True, of="_store_and_record")
    monkeypatch.setattr(services, "landed", lambda question: None)
    with pytest.raises(OperationalError):
        services.image_upload(source=source(tmp_path), user=user, ip="10.0.0.1")
    # Whatever the row's fate, its file is there: an orphan is repairable, a loss is not.
    image = Image.objects.get()
    assert (media_root / image.path).is_file()


def test_a_deletion_whose_commit_landed_removes_the_files(
    user: User, tmp_path: Path, media_root: Path, monkeypatch: pytest.MonkeyPatch, queued: list
) -> None:
    image = services.image_upload(source=source(tmp_path), user=user, ip="10.0.0.1").image
    assert files_under(media_root)
    next_commit(monkeypatch, lands=True, of="image_delete")
    services.image_delete(image=image)
    assert not Image.objects.filter(pk=image.pk).exists()
    assert files_under(media_root) == []


def test_a_deletion_whose_commit_did_not_land_keeps_row_and_files(
    user: User, tmp_path: Path, media_root: Path, monkeypatch: pytest.MonkeyPatch, queued: list
) -> None:
    image = services.image_upload(source=source(tmp_path), user=user, ip="10.0.0.1").image
    before = files_under(media_root)
    next_commit(monkeypatch, lands=False, of="image_delete")
    with pytest.raises(OperationalError):
        services.image_delete(image=image)
    assert Image.objects.filter(pk=image.pk).exists()
    assert files_under(media_root) == before


def test_landed_asks_again_while_the_database_is_away() -> None:
    answers = iter([OperationalError("refused"), OperationalError("refused"), True])

    def question() -> bool:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert dbcommit.landed(question, within=5) is True


def test_landed_gives_up_when_the_database_stays_away() -> None:
    def question() -> bool:
        raise OperationalError("refused")

    assert dbcommit.landed(question, within=0.3) is None


def test_inside_an_enclosing_transaction_nothing_has_landed_yet() -> None:
    from django.db import transaction

    with transaction.atomic():
        assert dbcommit.landed(lambda: True) is False

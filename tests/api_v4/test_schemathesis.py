"""Schemathesis against the API V4 schema, in-process through the WSGI application.

Every operation of `/api/4/schema/` is called with generated requests (valid and invalid
bodies, query strings and headers) as a user with a key, and every schemathesis check runs
on the answers: no 500, status codes and bodies as documented, invalid input refused,
valid input accepted, auth not ignored, a deleted thing gone afterwards. Path ids are the
fixture user's real image, album and notification, so the generated bodies reach the code
behind the lookup instead of stopping at a 404.

`make test` runs a bounded number of examples per operation; `make fuzz`
(scripts/fuzz.sh) runs many more, also as another user and as a guest, through the
FUZZ_EXAMPLES, FUZZ_AS and FUZZ_SECONDS environment variables.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections
from django.utils import timezone
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from schemathesis.transport.wsgi import WSGITransport

from accounts.models import ApiKey, User
from accounts.services import api_key_create
from albums.models import Album
from chevereto.core.encoding import encode_id
from tests.factories import make_album, make_image, make_user

pytestmark = pytest.mark.django_db

# Examples per operation in the generating phase (the examples and coverage phases add
# their own, bounded by the schema).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# Whose key the requests carry: the fixtures' owner, another user, or none (a guest).
AS = os.environ.get("FUZZ_AS", "owner")
# A time bound for the whole run, for long runs (0: none).
SECONDS = int(os.environ.get("FUZZ_SECONDS", "0"))
# `make fuzz` (scripts/fuzz.sh) sets FUZZ_EXAMPLES; `make test` runs the bounded default.
FUZZING = "FUZZ_EXAMPLES" in os.environ

# Operations schemathesis does not call here, and why.
EXCLUDED_PATHS = (
    # The schema and docs describe the API; they are not operations of it.
    "/api/4/schema/",
    "/api/4/docs/",
)


# Checks on whether the data was accepted or refused, which only JSON bodies can answer:
# in a form or multipart body every value is text, so a null, a boolean or an empty list
# has no spelling of its own ("null", "0", no field at all) and the server's reading of
# it is a convention, not a schema violation. Those checks still run on every JSON body.
_DATA_CHECKS = {"negative_data_rejection", "positive_data_acceptance"}
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _not_a_form_encoding_artefact(
    context: Any, failure: Any, case: schemathesis.Case, response: Any
) -> bool:
    data_check = set(getattr(failure, "checks", ())) & _DATA_CHECKS
    form = (case.media_type or "").startswith(_FORM_TYPES)
    return not (data_check and (form or _only_the_cursor_refused(response)))


def _only_the_cursor_refused(response: Any) -> bool:
    """A cursor is opaque: only one a previous page gave is valid, which no schema can
    say, so a made-up one is rightly a 400 (and the only thing the 400 names)."""
    try:
        fields = response.json()["error"].get("fields") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    return response.status_code == 400 and set(fields) == {"cursor"}


def _sharing_the_test_connection(app: WSGIHandler, key: ApiKey | None) -> Callable[..., Any]:
    """The WSGI app as schemathesis' worker threads call it: on the test's own database
    connection (its data lives in the test's transaction), which the test thread leaves
    alone meanwhile (one worker), like Django's live server does for in-memory SQLite.

    The run's key is made the live one again before each request: schemathesis calls the
    key's rotate and revoke operations too, and the rest of the run would otherwise be
    a string of 401s."""
    shared = {alias: connections[alias] for alias in connections}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        for alias, connection in shared.items():
            connections[alias] = connection
        if key is not None:
            live = ApiKey.objects.filter(user_id=key.user_id, revoked_at__isnull=True)
            live.exclude(pk=key.pk).update(revoked_at=timezone.now())
            ApiKey.objects.filter(pk=key.pk).update(revoked_at=None)
        return app(environ, start_response)

    return wsgi


@pytest.fixture
def _probes_without_socket_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """schemathesis 4.32.5 sends its auth probes (the ignored_auth check) to a WSGI app with
    the socket-level settings of a network session still attached, which werkzeug's client
    refuses (TypeError on `max_redirects`): drop them, as its in-process path does."""
    send = WSGITransport.send

    def send_in_process(self: WSGITransport, case: Any, **kwargs: Any) -> Any:
        if kwargs.get("session") is None:
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return send(self, case, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send_in_process)


@pytest.fixture
def _shared_connection() -> Iterator[None]:
    # Closing the connection at each request's start and end would end the test's
    # transaction: Django's test client skips it the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    for connection in connections.all():
        connection.inc_thread_sharing()
    yield
    for connection in connections.all():
        connection.dec_thread_sharing()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _fixtures(owner: User) -> dict[str, str]:
    """Real things of the owner for the path parameters."""
    from social.models import Notification

    album = make_album(owner=owner, name="Fuzzed", privacy=Album.Privacy.PUBLIC)
    image = make_image(owner=owner, album=album)
    make_image(owner=owner)
    follower = make_user("fuzz-follower")
    notification = Notification.objects.create(
        recipient=owner, actor=follower, kind=Notification.Kind.FOLLOW
    )
    return {
        "image": encode_id(image.pk),
        "album": encode_id(album.pk),
        "notification": encode_id(notification.pk),
        "username": owner.username,
        "follower": follower.username,
    }


def _operations(ids: dict[str, str]) -> list[dict[str, Any]]:
    """Per-path fixed ids: each `{id}` names the thing its path is about."""
    return [
        {
            "include-path-regex": r"/images/\{id\}/",
            "parameters": {"path.id": ids["image"]},
        },
        {
            "include-path-regex": r"/albums/\{id\}/",
            "parameters": {"path.id": ids["album"]},
        },
        {
            "include-path-regex": r"/notifications/social/\{id\}/",
            "parameters": {"path.id": ids["notification"]},
        },
        # Following is of someone else: the owner following themselves is a 400 by rule.
        {
            "include-path": "/api/4/users/{username}/follow/",
            "parameters": {"path.username": ids["follower"]},
        },
        {"include-path": list(EXCLUDED_PATHS), "enabled": False},
        # API V1's upload: a source must be a real image (see below). Its GET form (V1.1
        # allows uploads by GET) is kept out of the schema on purpose, while `Allow`
        # rightly lists GET and a GET is answered as an upload (not a 405).
        {
            "include-path": "/api/1/upload",
            "checks": {
                "positive_data_acceptance": {"enabled": False},
                "allow_header_conformance": {"enabled": False},
                "unsupported_method": {"enabled": False},
            },
        },
        # "Valid data is accepted" cannot hold where validity lies beyond any schema, so
        # that one check is off for these operations only (every other check runs):
        # - a source must *be* an image or video (base64 of one, a reachable URL, a file):
        #   a schema says it is a string; generated strings are rightly refused (400/415);
        # - an album's password is required when its privacy is (or already was) `password`
        #   and refused otherwise: a rule between two fields and the album's stored state.
        *(
            {
                "include-path": path,
                "include-method": method,
                "checks": {"positive_data_acceptance": {"enabled": False}},
            }
            for method, path in (
                ("POST", "/api/4/user/images/"),
                ("POST", "/api/4/user/{username}/assets/avatar/"),
                ("POST", "/api/4/user/{username}/assets/background/"),
                ("POST", "/api/4/user/albums/"),
                ("PATCH", "/api/4/user/albums/{id}/"),
            )
        ),
    ]


def _schema(owner: User, other: User) -> Any:
    ids = _fixtures(owner)
    callers = {"owner": owner, "other": other, "guest": None}
    if AS not in callers:
        raise ValueError(f"FUZZ_AS must be owner, other or guest, not {AS!r}")
    caller = callers[AS]
    made = api_key_create(user=caller) if caller is not None else None
    headers = {"X-API-Key": made.key} if made is not None else {}
    config = SchemathesisConfig.from_dict(
        {
            "seed": 8,
            "workers": 1,
            **({"max-time": SECONDS} if SECONDS else {}),
            "headers": headers,
            "checks": {"enabled": True},
            "generation": {"max-examples": EXAMPLES, "database": "none"},
            # The stateful phase (chains of calls) is `make fuzz`'s: it doubles the time.
            **({} if FUZZING else {"phases": {"stateful": {"enabled": False}}}),
            "parameters": {"path.username": ids["username"]},
            "operations": _operations(ids),
        }
    )
    schema = schemathesis.openapi.from_wsgi(
        "/api/4/schema/?format=json",
        _sharing_the_test_connection(WSGIHandler(), made.api_key if made else None),
        config=config,
    )
    schema.hook("filter_failure")(_not_a_form_encoding_artefact)
    return schema


def _failures(event: events.EngineEvent) -> Iterator[tuple[tuple[str, str], str]]:
    if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
        for case_id, checks in event.recorder.checks.items():
            for check in checks:
                if check.failure_info is None:
                    continue
                failure = check.failure_info.failure
                interaction = event.recorder.interactions.get(case_id)
                answered = (
                    f"{interaction.response.status_code} {interaction.response.content!r:.600}"
                    if interaction is not None and interaction.response is not None
                    else "no response"
                )
                node = event.recorder.cases.get(case_id)
                # Stateful scenarios span operations: a failure belongs to its request's.
                label = node.value.operation.label if node is not None else event.recorder.label
                yield (
                    (label, check.name),
                    f"{label} [{check.name}] {failure.title}: "
                    f"{failure.message}\n  {check.failure_info.code_sample}\n  -> {answered}",
                )
    elif isinstance(event, events.NonFatalError):
        yield (event.label, "error"), f"{event.label}: error {event.info.format()}"
    elif isinstance(event, events.FatalError):
        yield ("", "fatal"), f"fatal: {event.exception!r}"
    elif isinstance(event, events.EngineFinished):
        for f in event.failures:
            yield (str(f.operation), "after_run"), f"{f.operation}: {f.title}: {f.message}"


def test_every_v4_operation_holds_to_its_schema_and_every_check(
    _shared_connection: None, _probes_without_socket_settings: None, user: User, other_user: User
) -> None:
    schema = _schema(user, other_user)
    operations = {op.ok().label for op in schema.get_all_operations()}
    assert operations, "the schema has no operation to test"
    failures: list[str] = []
    scenarios = cases = 0
    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            scenarios += 1
            cases += len(event.recorder.cases)
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    statuses[event.recorder.label][interaction.response.status_code] += 1
        failures.extend(text for _, text in _failures(event))
    # Shown with `pytest -s` (scripts/fuzz.sh): how much was tried, and what it got.
    print(f"\nschemathesis as {AS}: {cases} cases over {len(operations)} operations")
    for label, counts in sorted(statuses.items()):
        print(f"  {label}: " + " ".join(f"{s}x{n}" for s, n in sorted(counts.items())))
    failures = list(dict.fromkeys(failures))
    assert failures == [], f"{len(failures)} failures:\n" + "\n\n".join(failures)
    assert scenarios >= len(operations)

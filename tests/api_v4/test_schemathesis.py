"""Schemathesis against the API V4 schema, in-process through the WSGI application.

Every operation of `/api/4/schema/` is called with generated requests (valid and invalid
bodies, query strings and headers) as a user with a key, and every schemathesis check runs
on the answers: no 500, status codes and bodies as documented, invalid input refused,
valid input accepted, auth not ignored, a deleted thing gone afterwards. Path ids are the
fixture user's real image, album and notification, so the generated bodies reach the code
behind the lookup instead of stopping at a 404.

The run is made as each of three callers: the fixtures' owner, another user and a guest.
After the per-operation phases, the stateful phase chains calls along the schema's links
(api_v4.schema_links): an album or image the run created is then read, edited, liked and
deleted, so the checks reach things that exist instead of ids the fuzzer made up.

`make test` runs a bounded number of examples per operation and a short stateful phase;
`make fuzz` (scripts/fuzz.sh) runs many more, one caller at a time, through the
FUZZ_EXAMPLES, FUZZ_STEPS, FUZZ_AS and FUZZ_SECONDS environment variables. FUZZ_SEED
picks another seed than `make test`'s, to try other inputs.
"""

from __future__ import annotations

import base64
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.conf import LazySettings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections
from django.utils import timezone
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import TestPhase
from schemathesis.transport.wsgi import WSGITransport

from accounts.models import ApiKey, User
from accounts.services import api_key_create
from albums.models import Album
from api_v4.schema_links import RESOURCES
from chevereto.core.encoding import encode_id
from tests import samples
from tests.factories import make_album, make_image, make_user

pytestmark = pytest.mark.django_db

# Whose key the requests carry: the fixtures' owner, another user, or none (a guest).
ROLES = ("owner", "other", "guest")
# `make fuzz` (scripts/fuzz.sh) sets FUZZ_EXAMPLES; `make test` runs the bounded default.
FUZZING = "FUZZ_EXAMPLES" in os.environ
# Examples per operation in the generating phase (the examples and coverage phases add
# their own, bounded by the schema), and in the stateful phase, scenarios of at most
# STEPS chained calls.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
STATEFUL_EXAMPLES = int(
    os.environ.get("FUZZ_STATEFUL_EXAMPLES", str(EXAMPLES) if FUZZING else "20")
)
STEPS = int(os.environ.get("FUZZ_STEPS", "20" if FUZZING else "6"))
# One caller (FUZZ_AS, as scripts/fuzz.sh runs them one at a time), else all three.
AS = os.environ.get("FUZZ_AS")
# A time bound for the whole run, for long runs (0: none).
SECONDS = int(os.environ.get("FUZZ_SECONDS", "0"))
# The generator's seed: fixed, so that `make test` tries the same inputs each time.
SEED = int(os.environ.get("FUZZ_SEED", "8"))

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
def _schemathesis_own_hypothesis_settings() -> Iterator[None]:
    """schemathesis lets a loaded hypothesis profile override its settings: the property
    tests' profile (tests/conftest.py) is not meant for it, so it runs on the defaults."""
    loaded = hypothesis_settings.get_current_profile_name()
    hypothesis_settings.load_profile("default")
    yield
    hypothesis_settings.load_profile(loaded)


@pytest.fixture
def _no_key_lockout(settings: LazySettings) -> None:
    """The ignored_auth check sends wrong keys on purpose: the address's lockout after a few
    (accounts/throttle.py, tested on its own) would answer the rest of the run with 429s
    and leave the code behind the key untested."""
    settings.API_KEY_FAILURES_PER_ADDRESS = 10**9


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


def _pinned_path_parameters(ids: dict[str, str]) -> list[tuple[re.Pattern[str], str, str]]:
    """Which real thing each path's parameter names: (path pattern, parameter, value)."""
    return [
        (re.compile(r"/images/\{id\}/"), "id", ids["image"]),
        (re.compile(r"/albums/\{id\}/"), "id", ids["album"]),
        (re.compile(r"/notifications/social/\{id\}/"), "id", ids["notification"]),
        # Following is of someone else: the owner following themselves is a 403 by rule.
        (re.compile(r"/users/\{username\}/follow/"), "username", ids["follower"]),
        (re.compile(r"\{username\}"), "username", ids["username"]),
    ]


def _real_things_in_the_path(ids: dict[str, str]) -> Callable[..., schemathesis.Case]:
    """A `map_case` hook: outside the stateful phase, a path's id is a real thing's, so the
    generated bodies reach the code behind the lookup instead of stopping at a 404. The
    stateful phase takes its ids from earlier answers along the schema's links, which
    pinning (as the config's `parameters` would) would overwrite."""
    pinned = _pinned_path_parameters(ids)

    def pin(context: Any, case: schemathesis.Case) -> schemathesis.Case:
        if case.meta is not None and case.meta.phase.name == TestPhase.STATEFUL:
            return case
        path = case.operation.path
        for pattern, name, value in pinned:
            if pattern.search(path) and name in (case.path_parameters or {}):
                case.path_parameters = {**case.path_parameters, name: value}
                break
        return case

    return pin


def _operations(role: str) -> list[dict[str, Any]]:
    """What is left out, and the checks that cannot hold for a few operations."""
    return [
        # The coverage phase calls each operation with every boundary value its schema
        # has (hundreds of bodies for the settings), which a key without the staff role
        # never gets past: in `make test` the owner's run leaves it out for the admin
        # operations (the other phases still call them); `make fuzz` runs it everywhere.
        *(
            [{"include-path-regex": "^/api/4/admin/", "phases": {"coverage": {"enabled": False}}}]
            if role == "owner" and not FUZZING
            else []
        ),
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


# The upload operations, whose sources the schema can only call strings.
_UPLOADS = ("POST /api/4/user/images/", "POST /api/1/upload")


def _a_real_upload_now_and_then(context: Any, case: schemathesis.Case) -> Any:
    """Now and then, a valid upload's source is a real picture (a PNG of drawn size, so
    not a duplicate), so that uploads succeed and the stateful phase has images to follow
    the links of. Only valid cases: an invalid one must stay invalid."""
    keep = st.just(case)
    if case.operation.label not in _UPLOADS or not isinstance(case.body, dict):
        return keep
    if case.meta is not None and case.meta.generation.mode != GenerationMode.POSITIVE:
        return keep

    def with_picture(size: tuple[int, int]) -> schemathesis.Case:
        picture = base64.b64encode(samples.png_bytes(*size)).decode()
        case.body = {"source": picture}
        return case

    sizes = st.tuples(st.integers(8, 200), st.integers(8, 200))
    return st.one_of(keep, sizes.map(with_picture))


def _examples(role: str) -> int:
    # Another user and a guest are refused early by most operations: in `make test` they
    # get half the owner's examples.
    return EXAMPLES if FUZZING or role == "owner" else max(1, EXAMPLES // 2)


def _schema(role: str, owner: User, other: User) -> Any:
    ids = _fixtures(owner)
    callers = {"owner": owner, "other": other, "guest": None}
    caller = callers[role]
    made = api_key_create(user=caller) if caller is not None else None
    headers = {"X-API-Key": made.key} if made is not None else {}
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "workers": 1,
            **({"max-time": SECONDS} if SECONDS else {}),
            "headers": headers,
            "checks": {"enabled": True},
            "generation": {"max-examples": _examples(role), "database": "none"},
            # A username path parameter is a plain string, most of whose generated values
            # no path can carry: hypothesis calls that filtering failing health checks
            # (of the generator, not of the API).
            "suppress-health-check": ["filter_too_much", "too_slow"],
            "phases": {
                # Another user and a guest are refused before most bodies are read: in
                # `make test` the coverage phase's boundary values are the owner's alone.
                "coverage": {"enabled": FUZZING or role == "owner"},
                "stateful": {
                    "max-steps": STEPS,
                    "generation": {"max-examples": STATEFUL_EXAMPLES},
                },
            },
            "operations": _operations(role),
        }
    )
    schema = schemathesis.openapi.from_wsgi(
        "/api/4/schema/?format=json",
        _sharing_the_test_connection(WSGIHandler(), made.api_key if made else None),
        config=config,
    )
    schema.hook("filter_failure")(_not_a_form_encoding_artefact)
    schema.hook("map_case")(_real_things_in_the_path(ids))
    schema.hook("flatmap_case")(_a_real_upload_now_and_then)
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


@pytest.mark.parametrize("role", [AS] if AS else ROLES)
def test_every_v4_operation_holds_to_its_schema_and_every_check(
    role: str,
    _schemathesis_own_hypothesis_settings: None,
    _no_key_lockout: None,
    _shared_connection: None,
    _probes_without_socket_settings: None,
    user: User,
    other_user: User,
) -> None:
    if role not in ROLES:
        raise ValueError(f"FUZZ_AS must be one of {ROLES}, not {role!r}")
    schema = _schema(role, user, other_user)
    operations = {op.ok().label for op in schema.get_all_operations()}
    assert operations, "the schema has no operation to test"
    failures: list[str] = []
    scenarios = cases = stateful_cases = 0
    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    # Stateful steps that took a value from an earlier answer, by link (source -> target).
    followed: Counter[str] = Counter()
    phases: dict[str, float] = {}
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.PhaseStarted):
            phases[event.phase.name.value] = phases.get(event.phase.name.value, 0) - event.timestamp
        elif isinstance(event, events.PhaseFinished):
            phases[event.phase.name.value] += event.timestamp
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            scenarios += 1
            cases += len(event.recorder.cases)
            if event.phase.value == "stateful":
                stateful_cases += len(event.recorder.cases)
            for case_id, node in event.recorder.cases.items():
                interaction = event.recorder.interactions.get(case_id)
                if interaction is None or interaction.response is None:
                    continue
                status = interaction.response.status_code
                statuses[node.value.operation.label][status] += 1
                if node.transition is not None and node.is_transition_applied:
                    parent = event.recorder.cases[node.transition.parent_id].value
                    how = " (inferred)" if node.transition.is_inferred else ""
                    link = f"{parent.operation.label} -> {node.value.operation.label}{how}"
                    followed[link] += 1
        failures.extend(text for _, text in _failures(event))
    # Shown with `pytest -s` (scripts/fuzz.sh): how much was tried, and what it got.
    print(f"\nschemathesis as {role}: {cases} cases over {len(operations)} operations")
    for label, counts in sorted(statuses.items()):
        print(f"  {label}: " + " ".join(f"{s}x{n}" for s, n in sorted(counts.items())))
    print("  seconds by phase: " + ", ".join(f"{k} {v:.0f}" for k, v in phases.items()))
    print(f"  stateful: {stateful_cases} cases, {followed.total()} steps along links")
    for link, count in followed.most_common():
        print(f"    {link}: {count}")
    failures = list(dict.fromkeys(failures))
    assert failures == [], f"{len(failures)} failures:\n" + "\n\n".join(failures)
    assert scenarios >= len(operations)
    # The stateful phase ran, and chained calls. Another user and a guest are refused by
    # most operations (404, 401), so their scenarios seldom reach a second call: with some
    # seeds they chain none. The owner's always do.
    assert stateful_cases, "the stateful phase ran no scenario"
    if role == "owner":
        assert followed, "the stateful phase followed no link"


def _field_schema(spec: dict[str, Any], schema: dict[str, Any], pointer: str) -> Any:
    """The schema of the field at `pointer` (a JSON pointer into a body), or None."""
    for part in pointer.strip("/").split("/"):
        while "$ref" in schema or "allOf" in schema:
            if "$ref" in schema:
                schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            else:
                schema = schema["allOf"][0]
        if part.isdigit() and schema.get("type") == "array":
            schema = schema["items"]
        elif "properties" in schema:
            schema = schema["properties"].get(part)
            if schema is None:
                return None
        else:  # a free-form object (API V1's answer): anything may be there
            return {}
    return schema


def test_every_link_joins_operations_the_schema_has_through_a_field_it_documents(
    client: Any,
) -> None:
    spec = client.get("/api/4/schema/?format=json").json()
    operations = {
        operation["operationId"]: operation
        for item in spec["paths"].values()
        for method, operation in item.items()
        if method in {"get", "post", "patch", "put", "delete"}
    }
    for resource in RESOURCES:
        for target in resource.targets:
            path = [
                p["name"] for p in operations[target].get("parameters", []) if p["in"] == "path"
            ]
            assert resource.parameter in path, target
        for source, status, pointer in resource.sources:
            response = operations[source]["responses"][status]
            assert set(resource.targets) <= set(response["links"]), source
            body = response["content"]["application/json"]["schema"]
            assert _field_schema(spec, body, pointer) is not None, f"{source} {pointer}"

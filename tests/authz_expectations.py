"""Who gets what in the authorization matrix (tests/test_authorization_matrix.py).

Each function answers, for a role and a content state, the outcome one kind of request
must get. They are read from the one visibility rule, as tests/uploads/test_visibility.py
writes it down per surface, so the matrix asks every route the same question.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.authz_fixtures import insider
from tests.uploads.test_visibility import HIDDEN, PASSWORD, SHOWN, expected

# Outcomes: a status code as text, or one of these.
SEEN = "shown"  # 200, and the thing is on the page (or the file is served)
ABSENT = "absent"  # 200, and the thing is not on the page
GATE = "password"  # 200, the password form, and the thing is not on the page
LOGIN = "login"  # a redirect to the login page
ELSEWHERE = "redirect"  # a redirect somewhere else
OK = "200"

LOCKED, UNLOCKED = "in password album, locked", "in password album, unlocked"
BANNED = "banned owner"


# --- Expectations, from the one visibility rule --------------------------------------------


def seen(role: str, state: str, surface: str) -> str:
    return expected(role, state)[surface]


def page(surface: str) -> Callable[[str, str], str]:
    """A page about the thing: shown, the password form, or the 404 of a missing one."""
    return lambda role, state: {SHOWN: SEEN, HIDDEN: "404", PASSWORD: GATE}[
        seen(role, state, surface)
    ]


def served(role: str, state: str) -> str:
    """A file URL (original or derivative): served, or a 404."""
    return OK if seen(role, state, "original") == SHOWN else "404"


def gone_for_others(role: str, state: str) -> bool:
    """A banned owner's profile and albums are gone for everyone but staff."""
    return state == BANNED and role != "staff"


def listing(surface: str = "listing", *, profile: bool = False) -> Callable[[str, str], str]:
    def outcome(role: str, state: str) -> str:
        if profile and gone_for_others(role, state):
            return "404"
        return SEEN if seen(role, state, surface) == SHOWN else ABSENT

    return outcome


def album_open(role: str, state: str) -> str:
    """The album's own page: the rule of albums.selectors.album_visible_to."""
    if insider(role, state):
        return SEEN
    if state in {"in private album", BANNED}:
        return "404"
    return GATE if state == LOCKED else SEEN


def album_listed(role: str, state: str) -> bool:
    return insider(role, state) or state in {"public", "awaiting moderation", "expired"}


def album_in_listing(*, profile: bool = False) -> Callable[[str, str], str]:
    def outcome(role: str, state: str) -> str:
        if profile and gone_for_others(role, state):
            return "404"
        return SEEN if album_listed(role, state) else ABSENT

    return outcome


def cover_in_listing(*, profile: bool = False) -> Callable[[str, str], str]:
    """The album card's cover (the image): only where the album is listed and the image's
    files are served to this viewer."""

    def outcome(role: str, state: str) -> str:
        if profile and gone_for_others(role, state):
            return "404"
        listed = album_listed(role, state) and served(role, state) == OK
        return SEEN if listed else ABSENT

    return outcome


def image_in_album(role: str, state: str) -> str:
    opened = album_open(role, state)
    if opened != SEEN:
        return opened
    return SEEN if seen(role, state, "viewer") == SHOWN else ABSENT


def parent_status(role: str, state: str) -> str:
    return "404" if gone_for_others(role, state) else OK


def image_tools(role: str, state: str) -> str:
    """Edit and remove pages: the owner's and staff's; a 404 for others, login for guests."""
    if role == "guest" or (role == "owner" and state == BANNED):
        return LOGIN
    if not insider(role, state) or state == "expired":
        return "404"
    return SEEN


def album_tools(role: str, state: str) -> str:
    return SEEN if insider(role, state) else "404"


def reportable(role: str, state: str) -> str:
    # The report page needs the upload's page to open: a locked album's upload is a 404.
    return SEEN if seen(role, state, "viewer") == SHOWN else "404"


def embeddable(role: str, state: str) -> str:
    # oEmbed answers what a guest's viewer shows, whoever asks: it is fetched by servers,
    # with no session, so an album unlocked in the asker's session stays locked.
    return OK if seen("guest", keyed(state), "viewer") == SHOWN else "404"


def delete_link(role: str, state: str) -> str:
    return OK if seen(role, state, "delete") == SHOWN else "404"


def tag_page(role: str, state: str) -> str:
    # A tag none of whose uploads this viewer may see is a 404, like an unknown tag.
    return SEEN if seen(role, state, "listing") == SHOWN else "404"


def logged_in(role: str, state: str) -> bool:
    return role != "guest" and not (role == "owner" and state == BANNED)


def web_like_image(role: str, state: str) -> str:
    if not logged_in(role, state):
        return LOGIN
    return OK if seen(role, state, "viewer") == SHOWN else "404"


def web_like_album(role: str, state: str) -> str:
    if not logged_in(role, state):
        return LOGIN
    return OK if album_open(role, state) == SEEN else "404"


def web_follow(role: str, state: str) -> str:
    if not logged_in(role, state):
        return LOGIN
    return follow(role, state)


def follow(role: str, state: str) -> str:
    if role == "owner":
        return "403"  # nobody follows themselves
    # Whoever may see the profile may follow it: a banned user's is gone but for staff.
    return "404" if gone_for_others(role, state) else OK


def always(outcome: str) -> Callable[[str, str], str]:
    return lambda role, state: outcome


# --- Pages about the caller alone ----------------------------------------------------------


def members_only(role: str, state: str) -> str:
    return LOGIN if role == "guest" else OK


def members_post_only(role: str, state: str) -> str:
    """A form's target: a guest is sent to log in; a member's GET is not what it takes."""
    return LOGIN if role == "guest" else "405"


def guests_only(role: str, state: str) -> str:
    return OK if role == "guest" else ELSEWHERE


# --- The API: keys, no session ----------------------------------------------------------


def by_key(expect: Callable[[str, str], str]) -> Callable[[str, str], str]:
    """API calls carry the role's key: a banned owner's key is refused before anything."""
    return lambda role, state: "401" if role == "owner" and state == BANNED else expect(role, state)


def api_mine(thing_shown: Callable[[str, str], str]) -> Callable[[str, str], str]:
    """A user route on the owner's thing: 401 for guests, someone else's is a 404."""

    def outcome(role: str, state: str) -> str:
        if role == "guest":
            return "401"
        if not insider(role, state):
            return "404"
        return thing_shown(role, state)

    return by_key(outcome)


def keyed(state: str) -> str:
    # An API key carries no session, so no album is ever unlocked for it.
    return LOCKED if state == UNLOCKED else state


def api_like_image(role: str, state: str) -> str:
    if role == "guest":
        return "401"
    return OK if seen(role, keyed(state), "viewer") == SHOWN else "404"


def api_like_album(role: str, state: str) -> str:
    if role == "guest":
        return "401"
    return OK if album_open(role, keyed(state)) == SEEN else "404"


def api_follow(role: str, state: str) -> str:
    return "401" if role == "guest" else follow(role, state)


def unless_expired(role: str, state: str) -> str:
    return "404" if state == "expired" else SEEN


def insider_sees_image(role: str, state: str) -> str:
    return ABSENT if state == "expired" else SEEN

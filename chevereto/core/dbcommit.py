"""Whether a write whose COMMIT raised landed all the same.

A connection lost during COMMIT (a restart, a failover, a dropped proxy) leaves the outcome
unknown: the server may have committed and only its answer was lost. Code that keeps storage
and the database in step (an upload stores its file before its row commits; a deletion removes
files after its row is gone) must not guess: it asks the database again, on a new connection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)

# The errors of a connection that failed; others (integrity, data, programming) are answers.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


def landed(question: Callable[[], bool], *, within: float = 10.0) -> bool | None:
    """Ask ``question`` (a read saying whether the write is visible) on a new connection,
    again and again while the database cannot be reached, for up to ``within`` seconds.

    True or False is the database's answer; None means it could not be asked in time.
    Inside an enclosing transaction nothing was committed yet: the answer is False.
    """
    if connection.in_atomic_block:
        return False
    deadline = time.monotonic() + within
    pause = 0.1
    while True:
        connection.close()  # the failed connection cannot be trusted; the read opens a new one
        try:
            return question()
        except CONNECTION_ERRORS:
            if time.monotonic() + pause > deadline:
                log.warning("the database could not say whether a commit landed", exc_info=True)
                return None
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

"""Gunicorn's logger with secrets masked in access-log lines (`--logger-class`)."""

from __future__ import annotations

import sys
from typing import Any

from gunicorn.glogging import Logger

from chevereto.core.redact import redact

# Atoms that carry the request line or URL pieces a client chose.
_URL_ATOMS = ("r", "U", "q", "f")


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in _URL_ATOMS:
            value = atoms.get(name)
            if isinstance(value, str):
                atoms[name] = redact(value)
        for name in list(atoms):
            if name.startswith("{") and isinstance(atoms[name], str):
                atoms[name] = redact(atoms[name])
        return atoms

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        # A client that stopped reading is dropped after RESPONSE_SEND_TIMEOUT (a socket
        # timeout): one line, not a traceback per slow client.
        if isinstance(sys.exc_info()[1], TimeoutError):
            self.warning("Dropped a client that stopped reading its response (send timeout)")
            return
        super().exception(msg, *args, **kwargs)

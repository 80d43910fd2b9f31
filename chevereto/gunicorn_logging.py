"""Gunicorn's logger with secrets masked in access-log lines (`--logger-class`)."""

from __future__ import annotations

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

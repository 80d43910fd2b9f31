"""Secrets never reach a log line: delete tokens, API keys and `key=` parameters are masked.

Delete links (`/image/{id}/delete/{48 hex}`) and API keys are bearer capabilities: anyone
who reads a log that holds one can delete an upload or act as its owner.
"""

from __future__ import annotations

import logging
import re

MASK = "[redacted]"
_PATTERNS = (
    # The delete token of a delete link.
    (re.compile(r"(/delete/)[0-9A-Fa-f]{16,}"), r"\1" + MASK),
    # API keys: chv_{encoded id}_{secret}.
    (re.compile(r"\bchv_[A-Za-z0-9]+_[0-9A-Za-z]+"), "chv_" + MASK),
    # `key=` in query strings and form bodies.
    (re.compile(r"([?&;]key=)[^&;\s\"']+", re.IGNORECASE), r"\1" + MASK),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """A logging filter that masks secrets in the final message (arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as it is rather than dropped
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True

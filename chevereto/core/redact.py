"""Secrets never reach a log line: delete tokens, API keys, `key=` parameters, passwords,
session cookies and one-time link tokens are masked.

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
    # `key=` in query strings and form bodies; passwords, should a form body be logged.
    (re.compile(r"([?&;]key=)[^&;\s\"']+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"([?&;](?:new_|old_|current_)?password\d?=)[^&;\s\"']+", re.I), r"\1" + MASK),
    # Session cookies, should a Cookie header be logged (a custom access log format).
    (re.compile(r"(\bsessionid=)[^;,\s\"']+"), r"\1" + MASK),
    # Signup confirmation and password reset links: one-time bearer tokens in the path.
    (re.compile(r"(/signup/confirm/)[^/?#\s\"']+"), r"\1" + MASK),
    (re.compile(r"(/password-reset/[A-Za-z0-9_-]+/)(?!set-password\b)[^/?#\s\"']+"), r"\1" + MASK),
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
        # A traceback quotes values too (a request's repr holds its path): formatters print
        # `exc_text` when it is set, so it is set here, masked.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True

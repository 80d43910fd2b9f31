"""Whether gunicorn's gevent worker has patched a standard module in this process."""

from __future__ import annotations

import sys


def gevent_patched(module: str) -> bool:
    """True once gevent has patched ``module`` ("socket", "threading", ...). Reads only what
    is loaded: a process that never imported gevent pays nothing."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched(module))

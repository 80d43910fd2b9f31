"""The Celery application; tasks are discovered in each app's ``tasks.py``."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_init, worker_process_init
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chevereto.settings")

# `filesystem://` (the embedded default) uses the variant whose messages appear whole.
TRANSPORT_ALIASES["filesystem"] = "chevereto.fsbroker:Transport"

app = Celery("chevereto")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _below_the_web(**_: object) -> None:
    """The worker (and the pool processes it forks, which inherit it) yields the CPU to the
    web processes: uploads and pages are answered first, renders use what is left."""
    from django.conf import settings

    worker_nice(settings.CELERY_WORKER_NICE)


def worker_nice(target: int, *, autogroup: str = "/proc/self/autogroup") -> None:
    """Raise this process's nice value to `target` (never lowers it: that needs root).

    Linux with autogroup (sched_autogroup_enabled) first shares the CPU between sessions
    and only then by nice within each: a worker started in a session of its own (systemd,
    a supervisor, a terminal) took as much CPU as the whole web server whatever its nice,
    and cut a production layout's upload throughput by two thirds. Such a worker gives its
    session the same nice (scripts/run-site.sh starts it that way too). One that shares
    its session with other processes leaves the session alone: that would lower them too.
    """
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if target > current:
        os.nice(target - current)
    if os.getsid(0) != os.getpid():
        return
    try:
        with open(autogroup) as handle:  # "/autogroup-42 nice 0"
            session_nice = int(handle.read().split()[-1])
        if target > session_nice:
            with open(autogroup, "w") as handle:
                handle.write(str(target))
    except (OSError, ValueError, IndexError):
        pass  # no autogroup here (another kernel, a container): nice alone applies


@worker_process_init.connect
def _renders_fit_the_memory_limit(**_: object) -> None:
    """A pool process refuses (before decoding) pictures whose render would take it past
    worker_max_memory_per_child: such a task fails cleanly instead of growing the process
    without bound, and the upload's derivatives are made on demand by the web instead."""
    from django.conf import settings
    from PIL import Image

    from uploads.processing import pixels_within

    limit = settings.CELERY_WORKER_MAX_MEMORY_PER_CHILD
    if limit:
        Image.MAX_IMAGE_PIXELS = min(
            Image.MAX_IMAGE_PIXELS or settings.UPLOAD_MAX_PIXELS, pixels_within(limit)
        )

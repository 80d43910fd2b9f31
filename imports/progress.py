"""A terminal progress bar for import jobs (tqdm), fed by the runner's `on_progress`."""

from __future__ import annotations

import sys
from typing import IO, Any

from tqdm import tqdm

from imports.models import ImportJob


class JobProgress:
    """Callable as `on_progress(job)`: moves a tqdm bar to the job's counters.

    Use as a context manager (or call `close()`) so the bar ends its line.
    """

    def __init__(
        self, *, desc: str = "import", unit: str = "item", file: IO[str] | None = None, **kw: Any
    ) -> None:
        self.bar = tqdm(
            desc=desc,
            unit=unit,
            total=None,
            file=file if file is not None else sys.stderr,
            dynamic_ncols=True,
            **kw,
        )

    def __call__(self, job: ImportJob) -> None:
        if job.total and self.bar.total != job.total:
            self.bar.total = job.total
        self.bar.n = job.processed
        self.bar.set_postfix(
            imported=job.imported, skipped=job.skipped, failed=job.failed, refresh=False
        )
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> JobProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def on_progress(*, desc: str = "import", file: IO[str] | None = None, **kw: Any) -> JobProgress:
    """A progress bar for a management command: pass it to `job_run(..., on_progress=...)`."""
    return JobProgress(desc=desc, file=file, **kw)

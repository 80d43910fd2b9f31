"""Headline figures of the benchmarks, gathered for one summary table (bench/summary.py).

Each benchmark prints its own report and also calls `record` for the few figures that
matter. When BENCH_RESULTS names a file (`make bench` sets it), each call appends one JSON
line to it; otherwise nothing is written, so a benchmark run by hand behaves as before.
"""

from __future__ import annotations

import json
import os


def record(
    bench: str,
    figure: str,
    value: float,
    unit: str = "",
    *,
    target: str = "",
    ok: bool | None = None,
) -> None:
    """Append one figure: `target` says what it must meet ("<= 1.3"), `ok` whether it did."""
    path = os.environ.get("BENCH_RESULTS", "")
    if not path:
        return
    line = {
        "bench": bench,
        "figure": figure,
        "value": value,
        "unit": unit,
        "target": target,
        "ok": ok,
    }
    # One write of one line in append mode: lines from benchmarks never interleave.
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")

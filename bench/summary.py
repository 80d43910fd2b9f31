"""Print one table of every benchmark's headline figures (the lines bench/results.py wrote).

    .venv/bin/python bench/summary.py FILE     (or BENCH_RESULTS=FILE)

A missed target is marked MISSED in the table. Benchmarks named in BENCH_FAILED (the ones
that exited with an error) are listed after it and make this exit 1, so `make bench` fails
after printing the whole table, not at the first bad benchmark.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def _value(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.1f}"


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BENCH_RESULTS", "")
    if not path or not Path(path).exists():
        print("no benchmark results to summarise", file=sys.stderr)
        return 1
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            print(f"{path}:{number}: not a JSON line, skipped", file=sys.stderr)
    failed = [name for name in os.environ.get("BENCH_FAILED", "").split() if name]

    widths = (
        max([len("benchmark"), *(len(r["bench"]) for r in rows)]),
        max([len("figure"), *(len(r["figure"]) for r in rows)]),
    )
    print(f"\n{'benchmark':<{widths[0]}}  {'figure':<{widths[1]}}  {'value':>12}  {'target':<10}")
    print("-" * (widths[0] + widths[1] + 30))
    misses = 0
    for row in rows:
        value = f"{_value(row['value'])} {row.get('unit', '')}".rstrip()
        verdict = {True: "ok", False: "MISSED", None: ""}[row.get("ok")]
        misses += row.get("ok") is False
        target = row.get("target", "")
        print(
            f"{row['bench']:<{widths[0]}}  {row['figure']:<{widths[1]}}  {value:>12}  "
            f"{target:<10}{verdict}".rstrip()
        )
    print(f"\n{len(rows)} figures, {misses} missed target(s)")
    for name in failed:
        print(f"benchmark failed to finish: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: API V4 lists, 100 items a page, first page against a deep one.

`GET /api/4/user/images/list/` over one user's 10,000 and 100,000 uploads, and
`GET /api/4/user/albums/{id}/contents/` over an album of 100,000, on a fresh SQLite
database in a temporary folder. The deep page is page 500 (page 100 of the 10,000: the
last one), reached by following the cursors as a client does. The first and the deep page
are then requested in turn, ROUNDS times each, through Django's test client in-process (no
network, no server process): the figures are the view's own cost, queries included.

Prints p50 per page, queries per request, and deep/first. Targets: a deep page within
1.5x the first, p50 under 50 ms for a 100-item page, the same query count for every page.

Rows are bulk-inserted with their counters set; no files are written, as the image
object only names its files (uploads.representation never opens storage).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import periodic_query  # noqa: E402
from bench.dataset import bulk_images, setup_site  # noqa: E402
from bench.results import record  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
DEEP_PAGE = 500
PER_PAGE = 100


def _get(client: Any, url: str, key: str) -> tuple[dict[str, Any], float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(url, HTTP_X_API_KEY=key)
        elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code} {response.content[:300]!r}")
    queries = [q for q in captured if not periodic_query(q["sql"])]
    return response.json(), elapsed, len(queries)


def _relative(next_url: str) -> str:
    # `next` is absolute (http://127.0.0.1/api/4/...): the test client wants the path.
    return next_url[next_url.index("/api/4/") :]


def _deep_url(client: Any, first_url: str, key: str, page: int) -> tuple[str, int]:
    """The URL of page `page` (or of the last page, if the list is shorter), by cursors."""
    url, reached = first_url, 1
    while reached < page:
        body, _, _ = _get(client, url, key)
        if not body.get("next"):
            break
        url, reached = _relative(body["next"]), reached + 1
    return url, reached


def _p50s(client: Any, urls: list[str], key: str, items: str) -> list[tuple[float, set[int], int]]:
    """p50, query counts and items of each URL, requested in turn round after round, so a
    busy machine slows them alike and the deep/first ratio stays fair."""
    for url in urls:
        _get(client, url, key)  # warm
    times: list[list[float]] = [[] for _ in urls]
    counts: list[set[int]] = [set() for _ in urls]
    lengths = [0 for _ in urls]
    for _ in range(ROUNDS):
        for i, url in enumerate(urls):
            body, elapsed, queries = _get(client, url, key)
            times[i].append(elapsed)
            counts[i].add(queries)
            lengths[i] = len(body[items])
    return [
        (statistics.median(t) * 1000, c, n) for t, c, n in zip(times, counts, lengths, strict=True)
    ]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="chv-bench-listing-") as tmp:
        setup_site(Path(tmp))
        from django.test import Client

        from accounts.models import User
        from accounts.services import api_key_create
        from albums.models import Album
        from chevereto.core.encoding import encode_id

        print("bulk-inserting 110,000 uploads...", flush=True)
        started = time.perf_counter()
        small = User.objects.create_user(username="bench10k", email="a@example.com")
        big = User.objects.create_user(username="bench100k", email="b@example.com")
        album = Album.objects.create(owner=big, name="Everything")
        User.objects.filter(pk=big.pk).update(album_count=1)
        bulk_images(small, 10_000)
        bulk_images(big, 100_000, album=album)
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)

        client = Client(HTTP_HOST="127.0.0.1")
        keys = {small.pk: api_key_create(user=small).key, big.pk: api_key_create(user=big).key}
        datasets = [
            ("user images, 10,000", small, "/api/4/user/images/list/", "images"),
            ("user images, 100,000", big, "/api/4/user/images/list/", "images"),
            (
                "album contents, 100,000",
                big,
                f"/api/4/user/albums/{encode_id(album.pk)}/contents/",
                "images",
            ),
        ]
        rows = []
        for name, owner, path, items in datasets:
            key = keys[owner.pk]
            first_url = f"{path}?per_page={PER_PAGE}"
            deep_url, page = _deep_url(client, first_url, key, DEEP_PAGE)
            (first, first_queries, first_len), (deep, deep_queries, deep_len) = _p50s(
                client, [first_url, deep_url], key, items
            )
            rows.append((name, 1, first, first_queries, first_len, first))
            rows.append((name, page, deep, deep_queries, deep_len, first))

        print(f"\nAPI V4 lists, {PER_PAGE} per page, p50 of {ROUNDS} requests (SQLite)")
        print(
            f"{'dataset':<26}{'page':>6}{'items':>7}{'p50 ms':>9}{'queries':>9}{'deep/first':>12}"
        )
        for name, page, p50, queries, length, first in rows:
            ratio = f"{p50 / first:.2f}" if page > 1 else ""
            counts = ",".join(str(q) for q in sorted(queries))
            print(f"{name:<26}{page:>6}{length:>7}{p50:>9.1f}{counts:>9}{ratio:>12}")
        worst_ratio = max(p50 / first for _, page, p50, _, _, first in rows if page > 1)
        worst_p50 = max(p50 for _, _, p50, _, _, _ in rows)
        # Per list: one query count per page, and no more on the deep page than on the first
        # (the album's first page also reads its sub-albums: one query, first page only).
        constant = all(
            len(rows[i][3]) == len(rows[i + 1][3]) == 1 and max(rows[i + 1][3]) <= max(rows[i][3])
            for i in range(0, len(rows), 2)
        )
        print(
            f"\ntargets: deep/first <= 1.5 (worst {worst_ratio:.2f}), "
            f"p50 < 50 ms (worst {worst_p50:.1f} ms), "
            f"no more queries deep than on the first page: {'yes' if constant else 'NO'}"
        )
        worst_ratio = round(worst_ratio, 2)
        record("listing", "deep / first page", worst_ratio, target="<= 1.5", ok=worst_ratio <= 1.5)
        record("listing", "worst p50", round(worst_p50, 1), "ms", target="< 50", ok=worst_p50 < 50)
        record("listing", "queries constant", int(constant), target="1", ok=constant)


if __name__ == "__main__":
    main()

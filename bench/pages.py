"""Benchmark: the web pages' own server time, over a site of 100,000 uploads.

A fresh SQLite database (the embedded default) in a temporary folder gets 100,000 uploads
of one user, an album of 100 more, and one upload with tags in that album for the viewer.
Each page is then requested ROUNDS times in turn through Django's test client in-process
(no network, no server process), so the figures are the view's cost, queries included:
the upload page (home, logged in), the viewer, the album page (first and a later page),
explore (recent, popular), search (uploads, albums, people) and a profile.

Prints p50 per page and the queries each ran (one number when every request ran the same),
then the home page's own weight: its HTML plus the CSS and JS it links from this site.
Targets (issue 9): the viewer under 20 ms p50; the home page's HTML+CSS+JS under 100 kB.
"""

from __future__ import annotations

import os
import re
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
UPLOADS = int(os.environ.get("BENCH_PAGES_UPLOADS", "100000"))
VIEWER_TARGET_MS = 20.0
HOME_BYTES_TARGET = 100_000


def _get(client: Any, url: str) -> tuple[bytes, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code} {response.content[:300]!r}")
    queries = [q for q in captured if not periodic_query(q["sql"])]
    return response.content, elapsed, len(queries)


def _measure(pages: list[tuple[str, Any, str]]) -> list[tuple[str, float, set[int], int]]:
    """p50, query counts and body size of each page, requested in turn round after round."""
    for _, client, url in pages:
        _get(client, url)  # warm: templates compiled, caches filled
    times: list[list[float]] = [[] for _ in pages]
    counts: list[set[int]] = [set() for _ in pages]
    sizes = [0 for _ in pages]
    for _ in range(ROUNDS):
        for i, (_, client, url) in enumerate(pages):
            body, elapsed, queries = _get(client, url)
            times[i].append(elapsed)
            counts[i].add(queries)
            sizes[i] = len(body)
    return [
        (name, statistics.median(t) * 1000, c, n)
        for (name, _, _), t, c, n in zip(pages, times, counts, sizes, strict=True)
    ]


def _own_assets(html: str) -> dict[str, int]:
    """Sizes of the stylesheets and scripts a page links from this site's static files."""
    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    prefix = static("")
    sizes: dict[str, int] = {}
    for url in re.findall(r'(?:href|src)="([^"]+\.(?:css|js))"', html):
        if not url.startswith(prefix):
            continue
        found = finders.find(url[len(prefix) :])
        if found:
            sizes[url] = Path(found).stat().st_size
    return sizes


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="chv-bench-pages-") as tmp:
        setup_site(Path(tmp))
        from django.test import Client

        from accounts.models import User
        from albums.models import Album
        from albums.selectors import album_path
        from uploads.models import Image, Tag
        from uploads.selectors import image_viewer_path

        print(f"bulk-inserting {UPLOADS:,} uploads...", flush=True)
        started = time.perf_counter()
        owner = User.objects.create_user(username="benchpages", email="p@example.com")
        album = Album.objects.create(owner=owner, name="Harbour days")
        User.objects.filter(pk=owner.pk).update(album_count=1)
        bulk_images(owner, UPLOADS)
        bulk_images(owner, 100, album=album)
        shown = Image.objects.filter(album=album).order_by("-created_at", "-id")[50]
        shown.tags.set([Tag.objects.create(name=n, slug=n) for n in ("harbour", "boats")])
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)

        guest = Client(HTTP_HOST="127.0.0.1")
        member = Client(HTTP_HOST="127.0.0.1")
        member.force_login(owner)
        album_url = album_path(album)
        first_album_page = guest.get(album_url).content.decode()
        later = re.search(r'data-pagination="next" href="([^"]+)"', first_album_page)
        pages: list[tuple[str, Any, str]] = [
            ("home (upload page)", member, "/"),
            ("upload page", member, "/upload"),
            ("viewer", guest, image_viewer_path(shown)),
            ("album, 100 items", guest, album_url),
        ]
        if later:
            pages.append(("album, next page", guest, later.group(1).replace("&amp;", "&")))
        pages += [
            ("explore recent", guest, "/explore"),
            ("explore popular", guest, "/explore/popular"),
            ("search uploads", guest, "/search?q=Photo+4242"),
            ("search albums", guest, "/search?q=harbour&type=albums"),
            ("search people", guest, "/search?q=bench&type=users"),
            ("profile", guest, f"/{owner.username}"),
        ]
        rows = _measure(pages)

        print(f"\nweb pages over {UPLOADS:,} uploads, p50 of {ROUNDS} requests (SQLite)")
        print(f"{'page':<22}{'p50 ms':>9}{'queries':>9}{'HTML kB':>9}")
        for name, p50, queries, size in rows:
            counts = ",".join(str(q) for q in sorted(queries))
            print(f"{name:<22}{p50:>9.1f}{counts:>9}{size / 1000:>9.1f}")

        home_html, _, _ = _get(member, "/")
        assets = _own_assets(home_html.decode())
        total = len(home_html) + sum(assets.values())
        print("\nhome page weight: HTML " + f"{len(home_html):,} B", end="")
        for url, size in assets.items():
            print(f", {url.rsplit('/', 1)[-1]} {size:,} B", end="")
        print(f" = {total:,} B")

        viewer_p50 = next(p50 for name, p50, _, _ in rows if name == "viewer")
        constant = all(len(queries) == 1 for _, _, queries, _ in rows)
        print(
            f"\ntargets: viewer p50 < {VIEWER_TARGET_MS:.0f} ms ({viewer_p50:.1f} ms), "
            f"home HTML+CSS+JS < {HOME_BYTES_TARGET // 1000} kB ({total / 1000:.1f} kB), "
            f"the same queries on every request of a page: {'yes' if constant else 'NO'}"
        )
        record(
            "pages",
            "viewer p50",
            round(viewer_p50, 1),
            "ms",
            target=f"< {VIEWER_TARGET_MS:.0f}",
            ok=viewer_p50 < VIEWER_TARGET_MS,
        )
        worst_name, worst_p50 = max(((name, p50) for name, p50, _, _ in rows), key=lambda r: r[1])
        record("pages", f"slowest page p50 ({worst_name})", round(worst_p50, 1), "ms")
        weight = round(total / 1000, 1)
        fits = total < HOME_BYTES_TARGET
        record("pages", "home HTML+CSS+JS", weight, "kB", target="< 100", ok=fits)
        record("pages", "queries constant", int(constant), target="1", ok=constant)


if __name__ == "__main__":
    main()

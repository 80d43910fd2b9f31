"""Benchmark: the whole site under load, and nothing lost.

Starts the site (real server processes on 127.0.0.1, a free port, a temporary var folder),
then for a bounded time runs N uploaders, each sending ~1 MB JPEGs (every one distinct)
through /api/1/upload with an API key in a loop, and M viewers fetching viewer pages,
listings (explore, the profile, the API V4 list) and the uploaded files. Afterwards every
acknowledged upload is downloaded from the URL the API answered and compared, md5 and
size, with what was sent.

Two layouts:
- embedded: what `make run` starts (scripts/run-site.sh): SQLite, local files, gunicorn
  and one Celery worker running beat on the filesystem broker;
- production: gunicorn with several workers, two Celery workers and a separate beat,
  PostgreSQL, Redis and S3 (SeaweedFS), the servers started by scripts/test-services.sh.

Prints throughput, p50/p95/p99 per kind of request, errors by status, 5xx, lost and
corrupt uploads, the server processes' peak memory and CPU. Targets (16 uploaders, 4
viewers, 60 s, 2 cores): no error, no 5xx, nothing lost or corrupt, upload p99 under 1 s.

    .venv/bin/python bench/load.py --layout embedded --duration 60
    .venv/bin/python bench/load.py --layout production --uploaders 16 --viewers 4
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import os
import random
import statistics
import struct
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from PIL import Image  # noqa: E402

from bench.load_site import USERNAME, EmbeddedSite, ProductionSite, Sampler, Site  # noqa: E402
from bench.results import record  # noqa: E402

UPLOAD_P99_TARGET = 1.0


# --- Test files -------------------------------------------------------------------------------


def make_jpeg(size_mb: float, seed: int) -> bytes:
    """A photo-like JPEG of about `size_mb` (noise over a gradient compresses like one)."""
    width, height = 1400, 1050
    for _ in range(3):
        base = Image.linear_gradient("L").rotate(seed * 37 % 360).resize((width, height))
        noise = Image.effect_noise((width, height), 20 + seed % 7)
        photo = Image.merge("RGB", (Image.blend(base, noise, 0.5), noise, base))
        out = io.BytesIO()
        photo.save(out, "JPEG", quality=88)
        data = out.getvalue()
        scale = (size_mb * 1e6 / len(data)) ** 0.5
        if 0.93 < scale < 1.07:
            break
        width, height = int(width * scale), int(height * scale)
    return data


def variant(jpeg: bytes, tag: str) -> bytes:
    """The JPEG with a comment segment naming it: a distinct file, the same picture."""
    comment = tag.encode()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]


def multipart(data: bytes, name: str) -> tuple[bytes, str]:
    """A multipart body built once, so the client spends no time encoding it."""
    boundary = "----loadbench" + hashlib.md5(name.encode()).hexdigest()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="source"; filename="{name}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


# --- The load ---------------------------------------------------------------------------------


@dataclass
class Uploaded:
    url: str
    viewer: str
    md5: str
    size: int


@dataclass
class Tally:
    """Everything the clients saw; one lock, held only to append."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    uploaded: list[Uploaded] = field(default_factory=list)  # acknowledged in this phase
    pool: list[Uploaded] = field(default_factory=list)  # in every phase: what viewers see
    failures: list[str] = field(default_factory=list)

    def note(self, kind: str, status: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status] += 1

    def fail(self, message: str) -> None:
        with self.lock:
            if len(self.failures) < 10:
                self.failures.append(message)


def _timed(
    tally: Tally, kind: str, call: Callable[[], requests.Response]
) -> requests.Response | None:
    started = time.perf_counter()
    try:
        response = call()
        response.content  # noqa: B018 - the body is part of the time
    except requests.RequestException as exc:
        tally.note(kind, type(exc).__name__, time.perf_counter() - started)
        tally.fail(f"{kind}: {exc!r}")
        return None
    tally.note(kind, str(response.status_code), time.perf_counter() - started)
    if response.status_code != 200:
        tally.fail(f"{kind} {response.request.url}: {response.status_code} {response.text[:200]}")
    return response


def uploader(
    site: Site, bases: list[bytes], counter: itertools.count[int], deadline: float, tally: Tally
) -> None:
    session = requests.Session()
    headers = {"X-API-Key": site.key}
    while time.monotonic() < deadline:
        n = next(counter)
        data = variant(bases[n % len(bases)], f"load bench upload {n} {random.random()}")
        body, content_type = multipart(data, f"load-{n}.jpg")
        md5 = hashlib.md5(data).hexdigest()
        response = _timed(
            tally,
            "upload",
            lambda body=body, content_type=content_type: session.post(
                f"{site.url}/api/1/upload",
                data=body,
                headers={**headers, "Content-Type": content_type},
                timeout=site.args.timeout,
            ),
        )
        if response is None or response.status_code != 200:
            continue
        try:
            image = response.json()["image"]
            done = Uploaded(url=image["url"], viewer=image["url_viewer"], md5=md5, size=len(data))
        except (ValueError, KeyError, TypeError):
            tally.fail(f"upload: an answer without the image: {response.text[:200]}")
            continue
        with tally.lock:
            tally.uploaded.append(done)
            tally.pool.append(done)


def viewer(site: Site, deadline: float, tally: Tally, seed: int) -> None:
    session = requests.Session()
    chooser = random.Random(seed)
    listings = ["/explore", f"/{USERNAME}", "/api/4/user/images/list/"]
    for turn in itertools.count():
        if time.monotonic() >= deadline:
            return
        with tally.lock:
            recent = tally.pool[-50:]
        kind = ("page", "listing", "file")[turn % 3] if recent else "listing"
        if kind == "listing":
            path = listings[turn % len(listings)]
            headers = {"X-API-Key": site.key} if path.startswith("/api/") else {}
            url = f"{site.url}{path}"
        else:
            upload = chooser.choice(recent)
            url = upload.viewer if kind == "page" else upload.url
            headers = {}
        _timed(
            tally,
            kind,
            lambda url=url, headers=headers: session.get(
                url, headers=headers, timeout=site.args.timeout
            ),
        )


def verify(uploaded: list[Uploaded], timeout: float) -> tuple[int, int, list[str]]:
    """Download every acknowledged upload: (lost, corrupt, the first few problems)."""
    local = threading.local()
    problems: list[str] = []

    def check(item: Uploaded) -> str:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        try:
            response = local.session.get(item.url, timeout=timeout)
        except requests.RequestException as exc:
            problems.append(f"{item.url}: {exc!r}")
            return "lost"
        if response.status_code != 200:
            problems.append(f"{item.url}: HTTP {response.status_code}")
            return "lost"
        got = hashlib.md5(response.content).hexdigest()
        if got != item.md5 or len(response.content) != item.size:
            problems.append(f"{item.url}: md5 {got}, {len(response.content)} B, sent {item.md5}")
            return "corrupt"
        return "ok"

    with ThreadPoolExecutor(4) as pool:
        outcome = Counter(pool.map(check, uploaded))
    return outcome["lost"], outcome["corrupt"], problems[:10]


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        one = values[0] if values else 0.0
        return one, one, one
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def report(
    site: Site,
    args: argparse.Namespace,
    tally: Tally,
    elapsed: float,
    sampler: Sampler,
    own_cpu: float,
) -> int:
    bench = f"load {site.name}"
    uploads = len(tally.latencies["upload"])
    views = sum(len(tally.latencies[k]) for k in ("page", "listing", "file"))
    print(
        f"\n{site.describe()}\n{args.uploaders} uploaders of ~{args.size_mb:g} MB JPEGs, "
        f"{args.viewers} viewers, {elapsed:.1f} s, {os.cpu_count()} CPUs"
    )
    print(
        f"throughput: {uploads / elapsed:.2f} uploads/s ({uploads} requests, "
        f"{len(tally.uploaded)} acknowledged, {len(tally.uploaded) * args.size_mb / elapsed:.1f} "
        f"MB/s), {views / elapsed:.2f} views/s ({views} requests)"
    )
    print(
        f"{'kind':<9}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}  statuses"
    )
    for kind in ("upload", "page", "listing", "file"):
        values = tally.latencies.get(kind, [])
        if not values:
            continue
        p50, p95, p99 = percentiles(values)
        statuses = ", ".join(f"{s}: {c}" for s, c in sorted(tally.statuses[kind].items()))
        print(
            f"{kind:<9}{len(values):>9}{p50 * 1000:>9.0f}{p95 * 1000:>9.0f}{p99 * 1000:>9.0f}"
            f"{max(values) * 1000:>9.0f}  {statuses}"
        )
    errors: Counter[str] = Counter()
    for counts in tally.statuses.values():
        for status, count in counts.items():
            if status != "200":
                errors[status] += count
    server_errors = sum(c for s, c in errors.items() if s.startswith("5"))
    print(
        "errors: "
        + (", ".join(f"{s}: {c}" for s, c in sorted(errors.items())) if errors else "none")
        + f"; 5xx: {server_errors}"
    )
    for failure in tally.failures:
        print(f"  {failure}")

    started = time.perf_counter()
    # Warm-up's uploads too: every acknowledged upload must be there.
    lost, corrupt, problems = verify(tally.pool, args.timeout)
    print(
        f"verified all {len(tally.pool)} acknowledged uploads (warm-up's included) in "
        f"{time.perf_counter() - started:.1f} s: {lost} lost, {corrupt} corrupt"
    )
    for problem in problems:
        print(f"  {problem}")

    cpu = sampler.cpu_seconds()
    memory = ", ".join(
        f"{group} {kb / 1024:.0f} MB (largest process {sampler.peak_one_kb[group] / 1024:.0f} MB)"
        for group, kb in sorted(sampler.peak_total_kb.items())
        if group != "other"
    )
    print(f"server peak RSS: {memory}")
    print(
        "CPU seconds during the load: "
        + ", ".join(f"{group} {seconds:.1f}" for group, seconds in sorted(cpu.items()))
        + f", load generator {own_cpu:.1f} (of {elapsed * (os.cpu_count() or 1):.0f} "
        "on the machine)"
    )

    upload_p99 = percentiles(tally.latencies.get("upload", [0.0]))[2]
    misses = [
        name
        for name, missed in (
            ("errors", bool(errors)),
            ("5xx", server_errors > 0),
            ("lost or corrupt uploads", lost + corrupt > 0),
            (f"upload p99 < {UPLOAD_P99_TARGET:g} s", upload_p99 >= UPLOAD_P99_TARGET),
        )
        if missed
    ]
    print("targets: " + ("all met" if not misses else "MISSED: " + ", ".join(misses)))

    record(bench, "uploads/s", round(uploads / elapsed, 2), "/s")
    record(bench, "views/s", round(views / elapsed, 2), "/s")
    for kind in ("upload", "page", "listing", "file"):
        values = tally.latencies.get(kind, [])
        if not values:
            continue
        p50, _, p99 = percentiles(values)
        if kind == "upload":
            record(bench, "upload p50", round(p50 * 1000), "ms")
            target, ok = f"< {UPLOAD_P99_TARGET * 1000:.0f}", p99 < UPLOAD_P99_TARGET
            record(bench, "upload p99", round(p99 * 1000), "ms", target=target, ok=ok)
        else:
            record(bench, f"{kind} p99", round(p99 * 1000), "ms")
    record(bench, "errors", sum(errors.values()), "", target="0", ok=not errors)
    record(bench, "5xx", server_errors, "", target="0", ok=server_errors == 0)
    record(bench, "lost + corrupt", lost + corrupt, "", target="0", ok=lost + corrupt == 0)
    peak = sum(kb for group, kb in sampler.peak_total_kb.items() if group in ("web", "celery"))
    record(bench, "server peak RSS", round(peak / 1024), "MB")
    # Figures that other work on the machine hardly moves: what the site's processes cost,
    # and how much of the machine they got (wall-clock figures are only fair near 100%).
    server_cpu = cpu.get("web", 0.0) + cpu.get("celery", 0.0)
    if uploads:
        record(
            bench, "server CPU per upload (views incl.)", round(server_cpu / uploads * 1000), "ms"
        )
    share = (sum(cpu.values()) + own_cpu) / (elapsed * (os.cpu_count() or 1)) * 100
    record(bench, "CPU share of site, servers + client", round(share), "%")
    # Losing or corrupting an acknowledged upload is a failure, not a slow figure.
    return 1 if lost + corrupt else 0


# Uploads whose thumbnail no worker (and no on-demand request) has made yet.
_COUNT_BACKLOG = """
from django.db.models import F
from uploads.models import Image
print(Image.objects.annotate(t=F("chain").bitand(Image.CHAIN_THUMB)).filter(t=0).count())
"""


def derivative_backlog(site: Site) -> int:
    return int(site.manage("shell", "-c", _COUNT_BACKLOG).strip().splitlines()[-1])


def drain(site: Site, *, since: float, pending: int, limit: float) -> None:
    """How long the workers take, after the load, to make the derivatives still queued."""
    bench = f"load {site.name}"
    print(f"derivatives: {pending} uploads lacked their thumbnail when the load stopped")
    record(bench, "derivative backlog at the end", pending, "uploads")
    while pending and time.monotonic() - since < limit:
        time.sleep(5)
        pending = derivative_backlog(site)
    waited = time.monotonic() - since
    if pending:
        print(f"  {pending} still lacked it {waited:.0f} s after the load (gave up waiting)")
    else:
        print(f"  all made {waited:.0f} s after the load stopped")
        record(bench, "backlog drained after the load", round(waited), "s")


def run_phase(
    site: Site,
    args: argparse.Namespace,
    bases: list[bytes],
    counter: itertools.count[int],
    seconds: float,
    tally: Tally,
) -> float:
    """Uploaders and viewers for `seconds`; returns the time until the last one finished."""
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(target=uploader, args=(site, bases, counter, deadline, tally))
        for _ in range(args.uploaders)
    ] + [
        threading.Thread(target=viewer, args=(site, deadline, tally, n))
        for n in range(args.viewers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layout", choices=("embedded", "production"), default="embedded")
    parser.add_argument("--uploaders", type=int, default=16)
    parser.add_argument("--viewers", type=int, default=4)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="seconds of the same load before, not counted"
    )
    parser.add_argument("--size-mb", type=float, default=1.0, help="size of each JPEG")
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    parser.add_argument("--web-workers", type=int, default=4, help="production: gunicorn's")
    parser.add_argument("--celery-workers", type=int, default=2, help="production")
    parser.add_argument("--celery-concurrency", type=int, default=1, help="production")
    parser.add_argument(
        "--services",
        default="",
        help="production: a folder of servers already started by scripts/test-services.sh "
        "(for quick runs while developing; uploads of earlier runs stay)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the site's processes (repeatable)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=600.0,
        help="seconds to wait, after the load, for the workers to make the queued derivatives",
    )
    args = parser.parse_args()

    bases = [make_jpeg(args.size_mb, seed) for seed in range(4)]
    site: Site = EmbeddedSite(args) if args.layout == "embedded" else ProductionSite(args)
    try:
        site.start()
        print(f"site up at {site.url} ({site.describe()}), JPEGs of {len(bases[0]) / 1e6:.2f} MB")
        pool: list[Uploaded] = []
        counter = itertools.count()
        if args.warmup > 0:
            # Each server thread's first requests pay for imports and clients (boto3's is
            # the slowest): a site that has been up for a while has paid already.
            warm = Tally(pool=pool)
            run_phase(site, args, bases, counter, args.warmup, warm)
            warm_p99 = percentiles(warm.latencies.get("upload", [0.0]))[2]
            warm_errors = sum(
                count for kind in warm.statuses.values() for s, count in kind.items() if s != "200"
            )
            print(
                f"warm-up (not counted): {args.warmup:g} s, {len(warm.uploaded)} uploads, "
                f"upload p99 {warm_p99 * 1000:.0f} ms, {warm_errors} errors"
            )
        tally = Tally(pool=pool)
        sampler = Sampler(site)
        sampler.mark()
        own_before = os.times()
        sampler.start()
        elapsed = run_phase(site, args, bases, counter, args.duration, tally)
        sampler.stopping.set()
        sampler.join()
        sampler.sample()
        own_after = os.times()
        own_cpu = own_after.user + own_after.system - own_before.user - own_before.system
        load_ended = time.monotonic()
        pending = derivative_backlog(site)
        status = report(site, args, tally, elapsed, sampler, own_cpu)
        drain(site, since=load_ended, pending=pending, limit=args.drain_timeout)
        return status
    finally:
        site.stop()
        if args.keep:
            print(f"kept: {site.tmp}")
        else:
            site.cleanup()


if __name__ == "__main__":
    sys.exit(main())

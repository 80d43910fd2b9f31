"""Benchmark: server peak memory for hostile 130 MB upload bodies, on one gunicorn worker.

Each case runs on a fresh worker and prints how much its peak RSS (VmHWM) grew and what
the API answered:
- a 130 MB urlencoded base64 body with no key at all (answer: 401);
- a 130 MB urlencoded base64 body with the guest key in the form, before the source
  (answer: 413 at the 10 MB guest limit), and after the source;
- the same with the guest key in the X-API-Key header (413 from Content-Length alone);
- a 130 MB multipart body whose `source` is a base64 text field, guest key in the form.
"""

from __future__ import annotations

import base64
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from bench.common import BenchSite, peak_rss_kb
from bench.results import record

BODY_MB = 130
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def payload() -> bytes:
    # URL-safe base64 needs no percent-escapes in a form body; random bytes do not compress.
    raw = os.urandom(BODY_MB * 1024 * 1024 * 3 // 4)
    return base64.urlsafe_b64encode(raw)


def multipart(key: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    boundary = "benchBoundary7MA4YWxk"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n{key}\r\n'
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="source"\r\n\r\n'
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def measure(site: BenchSite, label: str, body: bytes, headers: dict[str, str]) -> None:
    site.restart()
    session = requests.Session()
    # A small request first: the reading starts from a worker that has served the API.
    session.post(f"{site.url}/api/1/upload", data=b"source=", headers=FORM)
    worker = site.worker_pids()[0]
    before = peak_rss_kb(worker)
    start = time.perf_counter()
    response = session.post(f"{site.url}/api/1/upload", data=body, headers={**FORM, **headers})
    took = time.perf_counter() - start
    after = peak_rss_kb(worker)
    leftovers = list((site.var / "tmp").glob("*")) if (site.var / "tmp").exists() else []
    print(
        f"{label}: HTTP {response.status_code} in {took:.1f} s; peak RSS "
        f"{before / 1024:.0f} -> {after / 1024:.0f} MB (+{(after - before) / 1024:.0f} MB); "
        f"temp files left: {len(leftovers)}"
    )
    record("upload_bodies", f"{label}: peak RSS +", round((after - before) / 1024), "MB")


def main() -> None:
    data = payload()
    site = BenchSite()
    try:
        site.setup()
        guest = site.manage(
            "shell",
            "-c",
            "from chevereto.core.models import SiteSettings;"
            "print(SiteSettings.load().guest_api_key)",
        ).split()[-1]
        site.start(workers=1)
        print(f"{BODY_MB} MB urlencoded base64 bodies, user limit 100 MB, guest limit 10 MB")
        measure(site, "no key", b"source=" + data, {})
        measure(site, "guest key in the form, first", f"key={guest}&source=".encode() + data, {})
        measure(
            site, "guest key in the form, last", b"source=" + data + f"&key={guest}".encode(), {}
        )
        measure(site, "guest key in the header", b"source=" + data, {"X-API-Key": guest})
        body, headers = multipart(guest, data)
        measure(site, "multipart base64 field, guest key in the form", body, headers)
    finally:
        site.stop()


if __name__ == "__main__":
    main()

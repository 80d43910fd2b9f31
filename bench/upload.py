"""Benchmark: API V1 upload against a minimal receive-and-write view, on one gunicorn.

Prints the median time of each for a 4000x3000 JPEG (~4 MB), their ratio (target: at most
1.3), the cost of API-key authentication, and how much a 200 MB video upload raises the
server's peak memory (target: under 64 MB).
"""

from __future__ import annotations

import io
import os
import statistics
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
from PIL import Image

from bench.common import BenchSite, peak_rss_kb
from bench.results import record

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "25"))


def make_jpeg() -> bytes:
    """A 4000x3000 photo-like JPEG of about 4 MB (noise over gradients compresses like one)."""
    base = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    noise = Image.effect_noise((4000, 3000), 24).convert("RGB")
    photo = Image.blend(base, noise, 0.5)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90)
    return out.getvalue()


def variant(jpeg: bytes, n: int) -> bytes:
    """The same JPEG with a unique comment segment, so each upload is a new file."""
    comment = f"bench upload {n}".encode()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]


def make_video(size_mb: int) -> bytes:
    """A short real MP4 padded with a top-level `free` box to the wanted size."""
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height = 320, 240
        for i in range(20):
            frame = av.VideoFrame.from_image(Image.new("RGB", (320, 240), (i * 10 % 255, 80, 160)))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = out.getvalue()
    pad = size_mb * 1024 * 1024 - len(data)
    return data + struct.pack(">I", pad) + b"free" + b"\0" * (pad - 8)


def make_small() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(out, "JPEG")
    return out.getvalue()


def timed_post(session: requests.Session, url: str, body: bytes, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    response = session.post(
        url, files={"source": ("photo.jpg", body, "image/jpeg")}, headers=headers
    )
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed


def auth_cost(site: BenchSite, key: str) -> float:
    """Microseconds per api_key_authenticate call, measured in a process on the same DB."""
    code = (
        "import time; from accounts.services import api_key_authenticate as a;"
        f"k={key!r}; a(raw=k); n=2000; t=time.perf_counter()\n"
        "for _ in range(n): a(raw=k)\n"
        "print((time.perf_counter()-t)/n*1e6)"
    )
    return float(site.manage("shell", "-c", code).strip().splitlines()[-1])


def main() -> None:
    jpeg = make_jpeg()
    site = BenchSite()
    try:
        key = site.setup(user_max_mb=300)
        site.start(workers=1)
        session = requests.Session()
        headers = {"X-API-Key": key}
        # Warm both paths up (imports, first DB connections) before measuring.
        timed_post(session, f"{site.url}/bench/receive", variant(jpeg, -1), {})
        timed_post(session, f"{site.url}/api/1/upload", variant(jpeg, -2), headers)
        ours: list[float] = []
        base: list[float] = []
        for n in range(ROUNDS):
            body = variant(jpeg, n)
            base.append(timed_post(session, f"{site.url}/bench/receive", body, {}))
            ours.append(timed_post(session, f"{site.url}/api/1/upload", body, headers))
        m_ours, m_base = statistics.median(ours), statistics.median(base)
        size_mb = len(jpeg) / 1e6
        print(f"upload of a 4000x3000 JPEG ({size_mb:.1f} MB), {ROUNDS} rounds, 1 gunicorn worker")
        print(f"  minimal receive-and-write view: median {m_base * 1000:.1f} ms")
        print(f"  /api/1/upload (derivatives left to the worker): median {m_ours * 1000:.1f} ms")
        print(f"  ratio: {m_ours / m_base:.2f} (target <= 1.30)")
        cost = auth_cost(site, key)
        print(f"api key authentication: {cost:.0f} us per call (target well under 1000)")
        record("upload", "4 MB JPEG upload p50", round(m_ours * 1000, 1), "ms")
        ratio = round(m_ours / m_base, 2)
        record("upload", "upload / receive-and-write", ratio, target="<= 1.3", ok=ratio <= 1.3)
        record("upload", "api key auth", round(cost), "us", target="< 1000", ok=cost < 1000)

        video = make_video(200)
        site.restart()
        session = requests.Session()
        # One small upload first: the reading starts from a worker that has served uploads.
        timed_post(session, f"{site.url}/api/1/upload", make_small(), headers)
        worker = site.worker_pids()[0]
        before = peak_rss_kb(worker)
        start = time.perf_counter()
        response = session.post(
            f"{site.url}/api/1/upload",
            files={"source": ("big.mp4", video, "video/mp4")},
            headers=headers,
        )
        response.raise_for_status()
        took = time.perf_counter() - start
        after = peak_rss_kb(worker)
        print(
            f"200 MB video upload: {took:.1f} s; server peak memory {before / 1024:.0f} MB -> "
            f"{after / 1024:.0f} MB, +{(after - before) / 1024:.1f} MB (target < 64 MB)"
        )
        growth = round((after - before) / 1024, 1)
        record("upload", "200 MB video: peak RSS +", growth, "MB", target="< 64", ok=growth < 64)
    finally:
        site.stop()


if __name__ == "__main__":
    main()

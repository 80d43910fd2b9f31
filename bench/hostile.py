"""Benchmark: what the worst files cost. Each file is probed and (if accepted) rendered
into thumb and medium in a fresh process, as the web request and the worker would; the
table gives that process's peak RSS (its VmHWM; wait4's ru_maxrss would also count the
parent's memory copied at fork), above a process that only imported the same code, the
time, and whether the file was refused.

The files: a GIF whose second frame is 14000x14000 on a 100x100 screen (also handed to
the renderer directly, as if the probe had been skipped), a 12240x12240 PNG (1-bit and
RGBA, just under the default 150 megapixel limit), an 8000x6000 JPEG (baseline and
progressive), a GIF of 1000 frames and a 4000x3000 HEIC.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from bench.common import ROOT
from bench.results import record
from tests import samples

CHILD = r"""
import json, os, sys, time
import django
django.setup()
from django.conf import settings
from uploads import probe, processing
path, fmt, mode = sys.argv[1], sys.argv[2], sys.argv[3]
started = time.perf_counter()
result = {"refused": None, "pixels": 0}
try:
    if mode == "idle":
        pass
    elif mode == "render-only":
        processing.render_image_derivatives(path, source_format=fmt)
    else:
        info = probe.probe_file(path, max_pixels=settings.UPLOAD_MAX_PIXELS)
        result["pixels"] = info.width * info.height
        result["probe_s"] = time.perf_counter() - started
        processing.render_image_derivatives(path, source_format=info.format)
except (probe.ProbeError, processing.ProcessingError) as exc:
    result["refused"] = str(exc)
result["seconds"] = time.perf_counter() - started
# This process's own high-water mark: exec gave it a fresh address space.
status = open(f"/proc/{os.getpid()}/status").read()
result["peak_kb"] = int(status.split("VmHWM:")[1].split()[0])
print(json.dumps(result))
"""


def _png(side: int, colour_type: int, bits: int, row: bytes) -> bytes:
    compressor = zlib.compressobj(1)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, bits, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + samples._png_chunk(b"IHDR", header)
        + samples._png_chunk(b"IDAT", body)
        + samples._png_chunk(b"IEND", b"")
    )


def _many_frame_gif(frames: int, width: int, height: int) -> bytes:
    """`frames` full-canvas frames with a delay each; one frame is encoded, then repeated."""
    picture = Image.effect_noise((width, height), 60).convert("P")
    out = io.BytesIO()
    picture.save(out, "GIF")
    data = out.getvalue()
    start = data.index(b"\x2c", 13 + 3 * 256)
    image = data[start:-1]
    control = b"\x21\xf9\x04\x04\x04\x00\x00\x00"  # no disposal, 40 ms
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    return data[:start] + loop + (control + image) * frames + b";"


def make_files(folder: Path) -> list[tuple[str, Path, str, str]]:
    side = 12240
    files = {
        "gif-frame-bomb.gif": samples.gif_frame_bomb_bytes(100, 14000),
        "png-12240-1bit.png": _png(side, 0, 1, b"\0" * (1 + side // 8 + 1)),
        "png-12240-rgba.png": _png(side, 6, 8, b"\0" + b"\x10\x80\xf0\xc0" * side),
        "gif-1000-frames.gif": _many_frame_gif(1000, 320, 240),
    }
    # Noise, scaled up: detail for the encoder at a fraction of the time to make it.
    photo = Image.effect_noise((2000, 1500), 60).convert("RGB").resize((8000, 6000))
    for name, extra in (
        ("jpeg-8000x6000.jpg", {}),
        ("jpeg-8000x6000-progressive.jpg", {"progressive": True}),
    ):
        out = io.BytesIO()
        photo.save(out, "JPEG", quality=85, **extra)
        files[name] = out.getvalue()
    out = io.BytesIO()
    # x265 is slow on noise: a gradient at its fastest preset decodes at the same cost.
    gradient = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    gradient.save(out, "HEIF", quality=50, enc_params={"preset": "ultrafast"})
    files["heic-4000x3000.heic"] = out.getvalue()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    fmt = {"gif": "gif", "png": "png", "jpg": "jpeg", "heic": "heic"}
    cases = [(name, folder / name, fmt[name.rsplit(".", 1)[1]], "probe+render") for name in files]
    cases.insert(1, ("gif-frame-bomb.gif", folder / "gif-frame-bomb.gif", "gif", "render-only"))
    return cases


def run(path: Path, fmt: str, mode: str) -> tuple[dict[str, object], int]:
    """The child's report and its peak RSS in KiB."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chevereto.settings"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), fmt, mode],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    output = child.stdout.read()
    if child.wait() != 0:
        raise RuntimeError(f"{path.name}: the child failed ({child.returncode})")
    result = json.loads(output.strip().splitlines()[-1])
    return result, int(result["peak_kb"])


def main() -> None:
    from django.conf import settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chevereto.settings")
    limit = settings.UPLOAD_MAX_PIXELS
    with tempfile.TemporaryDirectory(prefix="chv-hostile-") as folder:
        started = time.perf_counter()
        cases = make_files(Path(folder))
        print(f"(files made in {time.perf_counter() - started:.1f} s)")
        _, idle_kb = run(cases[0][1], "gif", "idle")
        print(f"hostile files: peak RSS of a fresh process (idle: {idle_kb / 1024:.0f} MB)")
        print(f"  UPLOAD_MAX_PIXELS = {limit}")
        worst: dict[str, float] = {}
        animated_mb = 0.0
        for name, path, fmt, mode in cases:
            result, peak_kb = run(path, fmt, mode)
            above = (peak_kb - idle_kb) / 1024
            refused = result["refused"]
            verdict = f"refused: {refused}" if refused else "rendered"
            pixels = int(result["pixels"] or 0)
            per_pixel = ""
            if "frames" in name and not refused:
                animated_mb = max(animated_mb, above)
            elif pixels and not refused:
                ratio = above * 1024 * 1024 / pixels
                per_pixel = f", {ratio:.1f} B/pixel"
                family = "heic/avif" if fmt in {"heic", "avif"} else "other"
                worst[family] = max(worst.get(family, 0.0), ratio)
            print(
                f"  {name:32} {mode:12} {path.stat().st_size / 1e3:8.0f} KB  "
                f"peak {peak_kb / 1024:6.0f} MB (+{above:5.0f} MB{per_pixel}), "
                f"{float(result['seconds']):5.2f} s, {verdict}"
            )
        for family, ratio in sorted(worst.items()):
            print(
                f"  bound ({family}): {idle_kb / 1024:.0f} MB + {ratio:.1f} bytes per pixel of the"
                f" largest accepted image = {idle_kb / 1024 + ratio * limit / 2**20:.0f} MB at"
                f" UPLOAD_MAX_PIXELS"
            )
        print(f"  animated medium: + {animated_mb:.0f} MB (frames kept within a pixel budget)")
        # Worker processes refuse renders that would not fit CELERY_WORKER_MAX_MEMORY_PER_CHILD
        # from this estimate: it must cover what was measured.
        from uploads.processing import RENDER_BASE_BYTES, RENDER_BYTES_PER_PIXEL

        covered = all(ratio <= RENDER_BYTES_PER_PIXEL for ratio in worst.values())
        covered = covered and idle_kb * 1024 <= RENDER_BASE_BYTES
        print(
            f"  worker render budget: {RENDER_BASE_BYTES / 2**20:.0f} MB +"
            f" {RENDER_BYTES_PER_PIXEL} bytes per pixel: "
            + ("covers every measured render" if covered else "TOO LOW for a measured render")
        )
        for family, ratio in sorted(worst.items()):
            record("hostile", f"{family}: bytes per pixel decoded", round(ratio, 1), "B")
        record("hostile", "animated medium: peak RSS +", round(animated_mb), "MB")


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chevereto.settings")
    django.setup()
    main()

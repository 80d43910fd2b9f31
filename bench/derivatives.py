"""Benchmark: thumb + medium with our Pillow pipeline against libvips (pyvips), same run.

Targets: at most 1.0x libvips on a 4000x3000 JPEG, at most 1.2x on a ~1 MB PNG and on an
animated GIF. Both sides do the same work: decode, a 320x320 centre-cropped thumb and a
500 px wide medium (animated for the GIF), encoded in the original's format.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyvips
from PIL import Image

from bench.results import record
from uploads.processing import render_image_derivatives

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))


def photo(width: int, height: int) -> Image.Image:
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    return Image.blend(base, noise, 0.5)


def make_files(folder: Path) -> dict[str, Path]:
    files = {"jpeg": folder / "photo.jpg", "png": folder / "shot.png", "gif": folder / "anim.gif"}
    photo(4000, 3000).save(files["jpeg"], "JPEG", quality=90)
    # A PNG of about 1 MB: a flat screenshot-like area beside a photo.
    shot = Image.new("RGB", (1600, 1000), (245, 245, 245))
    shot.paste(photo(900, 700), (650, 150))
    shot.save(files["png"], "PNG")
    frames = [photo(640, 480).quantize(64) for _ in range(12)]
    frames[0].save(
        files["gif"], "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0
    )
    return files


def ours(path: Path, fmt: str) -> int:
    result = render_image_derivatives(str(path), source_format=fmt)
    assert result.thumb is not None and result.medium is not None
    return len(result.thumb.data) + len(result.medium.data)


def vips(path: Path, fmt: str) -> int:
    if fmt == "gif":
        thumb = pyvips.Image.thumbnail(str(path), 320, height=320, crop="centre")
        medium = pyvips.Image.thumbnail(str(path) + "[n=-1]", 500)
        return len(thumb.gifsave_buffer()) + len(medium.gifsave_buffer())
    thumb = pyvips.Image.thumbnail(str(path), 320, height=320, crop="centre")
    medium = pyvips.Image.thumbnail(str(path), 500, height=100000)
    if fmt == "jpeg":
        return len(thumb.jpegsave_buffer(Q=88)) + len(medium.jpegsave_buffer(Q=90))
    return len(thumb.pngsave_buffer(compression=3)) + len(medium.pngsave_buffer(compression=3))


def median_ms(work: Callable[[], int]) -> float:
    work()  # warm up (imports, caches)
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    pyvips.cache_set_max(0)  # no result caching across rounds: each round decodes again
    targets = {"jpeg": 1.0, "png": 1.2, "gif": 1.2}
    with tempfile.TemporaryDirectory() as folder:
        files = make_files(Path(folder))
        vips_version = f"{pyvips.version(0)}.{pyvips.version(1)}"
        print(f"thumb 320x320 + medium 500w, median of {ROUNDS} rounds (libvips {vips_version})")
        for fmt, path in files.items():
            with Image.open(path) as im:
                size = f"{im.width}x{im.height}, {getattr(im, 'n_frames', 1)} frame(s)"
            mine = median_ms(lambda path=path, fmt=fmt: ours(path, fmt))
            theirs = median_ms(lambda path=path, fmt=fmt: vips(path, fmt))
            ratio = mine / theirs
            verdict = "ok" if ratio <= targets[fmt] else "OVER TARGET"
            print(
                f"  {fmt:4} ({size}, {path.stat().st_size / 1e6:.2f} MB): ours {mine:.1f} ms, "
                f"libvips {theirs:.1f} ms, ratio {ratio:.2f} (target <= {targets[fmt]}) {verdict}"
            )
            record(
                "derivatives",
                f"{fmt} thumb+medium / libvips",
                round(ratio, 2),
                target=f"<= {targets[fmt]}",
                ok=ratio <= targets[fmt],
            )


if __name__ == "__main__":
    main()

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from tests import samples
from uploads.probe import CorruptFile, TooManyPixels, UnsupportedFormat, probe_file, sniff


def write(tmp_path: Path, data: bytes, name: str = "f") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("factory", "fmt", "mime", "ext"),
    [
        (lambda: samples.jpeg_bytes(64, 48), "jpeg", "image/jpeg", "jpg"),
        (lambda: samples.png_bytes(64, 48), "png", "image/png", "png"),
        (lambda: samples.gif_bytes(64, 48), "gif", "image/gif", "gif"),
        (lambda: samples.webp_bytes(64, 48), "webp", "image/webp", "webp"),
        (lambda: samples.avif_bytes(64, 48), "avif", "image/avif", "avif"),
        (lambda: samples.bmp_bytes(64, 48), "bmp", "image/bmp", "bmp"),
        (lambda: samples.heic_bytes(64, 48), "heic", "image/heic", "heic"),
    ],
)
def test_every_accepted_image_format_is_recognised_by_content(
    tmp_path: Path, factory: Callable[[], bytes], fmt: str, mime: str, ext: str
) -> None:
    info = probe_file(write(tmp_path, factory()))
    assert (info.kind, info.format, info.mime, info.extension) == ("image", fmt, mime, ext)
    assert (info.width, info.height) == (64, 48)


@pytest.mark.parametrize(
    ("factory", "fmt", "mime"),
    [
        (samples.mp4_bytes, "mp4", "video/mp4"),
        (samples.webm_bytes, "webm", "video/webm"),
        (samples.mov_bytes, "mov", "video/quicktime"),
    ],
)
def test_videos_give_their_size_and_duration(
    tmp_path: Path, factory: Callable[..., bytes], fmt: str, mime: str
) -> None:
    info = probe_file(write(tmp_path, factory(96, 64, seconds=2.0)))
    assert (info.kind, info.format, info.mime) == ("video", fmt, mime)
    assert (info.width, info.height) == (96, 64)
    assert info.duration == pytest.approx(2.0, abs=0.15)


def test_animation_is_detected_with_its_frame_count(tmp_path: Path) -> None:
    gif = probe_file(write(tmp_path, samples.gif_bytes(20, 20, frames=4), "a.gif"))
    webp = probe_file(write(tmp_path, samples.webp_bytes(20, 20, frames=3), "a.webp"))
    still = probe_file(write(tmp_path, samples.gif_bytes(20, 20), "s.gif"))
    assert (gif.is_animated, gif.frames) == (True, 4)
    assert (webp.is_animated, webp.frames) == (True, 3)
    assert still.is_animated is False


def test_an_exif_orientation_that_turns_the_picture_swaps_width_and_height(tmp_path: Path) -> None:
    info = probe_file(write(tmp_path, samples.jpeg_bytes(40, 20, exif_orientation=6)))
    assert (info.width, info.height, info.orientation) == (20, 40, 6)


def test_exif_gives_title_description_date_and_json_safe_tags(tmp_path: Path) -> None:
    taken = datetime(2021, 7, 14, 9, 30, 0)
    data = samples.jpeg_bytes(exif_title="Lighthouse", exif_description="Stormy", date_taken=taken)
    info = probe_file(write(tmp_path, data))
    assert (info.title, info.description, info.date_taken) == ("Lighthouse", "Stormy", taken)
    assert info.exif is not None and info.exif["Make"] == "TestCam"
    assert "MakerNote" not in info.exif
    json.dumps(info.exif)


def test_a_360_photo_is_detected_from_its_xmp(tmp_path: Path) -> None:
    assert probe_file(write(tmp_path, samples.jpeg_bytes(xmp_360=True))).is_360 is True
    assert probe_file(write(tmp_path, samples.jpeg_bytes(), "flat")).is_360 is False


@pytest.mark.parametrize(
    "data",
    [
        samples.svg_bytes(),
        samples.html_bytes(),
        b"just some text\n" * 10,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"MZ\x90\x00\x03\x00\x00\x00",
        b"\x7fELF\x02\x01\x01",
    ],
)
def test_anything_that_is_not_an_image_or_video_is_unsupported(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(UnsupportedFormat) as caught:
        probe_file(write(tmp_path, data))
    assert caught.value.code == 613


@pytest.mark.parametrize(
    "data", [b"", samples.truncated_jpeg_bytes(), samples.truncated_png_bytes()]
)
def test_empty_and_truncated_files_are_corrupt(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(CorruptFile) as caught:
        probe_file(write(tmp_path, data))
    assert caught.value.code == 400


def test_a_video_header_with_garbage_after_it_is_corrupt(tmp_path: Path) -> None:
    data = samples.mp4_bytes()[:40] + b"\0garbage" * 50
    with pytest.raises(CorruptFile):
        probe_file(write(tmp_path, data))


def test_a_decompression_bomb_is_refused_without_decoding_it(tmp_path: Path) -> None:
    path = write(tmp_path, samples.png_bomb_bytes())
    started = time.perf_counter()
    with pytest.raises(TooManyPixels):
        probe_file(path, max_pixels=100_000_000)
    assert time.perf_counter() - started < 1.0


def test_sniff_reads_magic_numbers_and_ftyp_brands() -> None:
    assert sniff(b"\xff\xd8\xff\xe0" + b"\0" * 20) == "jpeg"
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "webp"
    assert sniff(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1") == "avif"
    assert sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic") == "heic"
    assert sniff(b"\0\0\0\x14ftypqt  \0\0\0\0qt  ") == "mov"
    assert sniff(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2mp41") == "mp4"
    assert sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81") == "webm"
    assert sniff(b"<svg xmlns=") is None


def test_an_animated_png_is_detected_with_its_frame_count(tmp_path: Path) -> None:
    info = probe_file(write(tmp_path, samples.apng_bytes(30, 20, frames=4)))
    assert (info.format, info.is_animated, info.frames, info.width) == ("png", True, 4, 30)


def test_a_16_bit_png_reports_16_bits(tmp_path: Path) -> None:
    info = probe_file(write(tmp_path, samples.png_mode_bytes(40, 30, mode="I;16")))
    assert (info.bits, info.channels) == (16, 1)


def test_a_jpeg_with_an_appended_gain_map_is_one_still_picture(tmp_path: Path) -> None:
    info = probe_file(write(tmp_path, samples.ultra_hdr_jpeg_bytes(300, 200)))
    assert (info.format, info.is_animated, info.frames, info.width) == ("jpeg", False, 1, 300)

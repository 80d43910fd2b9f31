"""Files made to hurt: cheap to send, expensive to decode, or nosy about the server."""

from __future__ import annotations

import io
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from tests import samples
from uploads import processing
from uploads.probe import CorruptFile, ProbeError, TooManyPixels, probe_file
from uploads.processing import ProcessingError, render_image_derivatives, render_video_frame


def write(tmp_path: Path, data: bytes, name: str = "upload.bin") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_a_gif_whose_second_frame_dwarfs_its_screen_is_refused_from_its_descriptors(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, samples.gif_frame_bomb_bytes(screen=100, frame=14000))
    started = time.perf_counter()
    with pytest.raises(TooManyPixels, match="14000x14000"):
        probe_file(path, max_pixels=150_000_000)
    assert time.perf_counter() - started < 0.5


def test_a_frame_that_overflows_the_screen_is_clipped_in_the_probe_and_the_renderer(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, samples.gif_growing_frame_bytes(screen=600, frame=700))
    info = probe_file(path)
    # Reported as the screen shows it; the whole 700x700 frame was held to the limits.
    assert (info.width, info.height, info.frames) == (600, 600, 2)
    with pytest.raises(TooManyPixels):
        probe_file(path, max_pixels=600 * 600)
    result = render_image_derivatives(path, source_format="gif")
    assert result.medium is not None
    assert (result.medium.width, result.medium.height) == (500, 500)


def test_more_frames_than_the_limit_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, samples.gif_many_frames_bytes(51))
    with pytest.raises(TooManyPixels, match="more than 50 animation frames"):
        probe_file(path, max_frames=50)
    assert probe_file(path, max_frames=51).frames == 51


def test_the_frame_limit_defaults_to_the_setting(
    tmp_path: Path, settings: pytest.FixtureRequest
) -> None:
    settings.UPLOAD_MAX_FRAMES = 20  # type: ignore[attr-defined]
    with pytest.raises(TooManyPixels):
        probe_file(write(tmp_path, samples.gif_many_frames_bytes(21)))


def test_all_frames_together_are_held_to_a_pixel_budget(tmp_path: Path) -> None:
    path = write(tmp_path, samples.gif_many_frames_bytes(40, size=100))
    # Each frame is within the limit, forty of them on a 100x100 canvas are not.
    with pytest.raises(TooManyPixels, match="whole animation"):
        probe_file(path, max_pixels=20_000, max_total_pixels=100 * 100 * 39)
    assert probe_file(path, max_pixels=20_000, max_total_pixels=100 * 100 * 40).frames == 40


def _patch_apng_frame(data: bytes, index: int, width: int, height: int) -> bytes:
    """Rewrite the `index`-th fcTL chunk's size (and its CRC)."""
    import zlib

    pos = -1
    for _ in range(index + 1):
        pos = data.index(b"fcTL", pos + 1)
    payload = bytearray(data[pos + 4 : pos + 4 + 26])
    payload[4:12] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(b"fcTL" + bytes(payload)))
    return data[: pos + 4] + bytes(payload) + crc + data[pos + 4 + 26 + 4 :]


def test_an_apng_frame_larger_than_the_limit_is_refused(tmp_path: Path) -> None:
    data = _patch_apng_frame(samples.apng_bytes(20, 20, frames=3), 2, 20000, 20000)
    with pytest.raises(TooManyPixels, match="20000x20000"):
        probe_file(write(tmp_path, data), max_pixels=100_000_000)


def test_an_apng_declaring_more_frames_than_the_limit_is_refused(tmp_path: Path) -> None:
    import zlib

    data = samples.apng_bytes(20, 20, frames=3)
    pos = data.index(b"acTL")
    payload = struct.pack(">II", 1_000_000, 0)
    crc = struct.pack(">I", zlib.crc32(b"acTL" + payload))
    data = data[: pos + 4] + payload + crc + data[pos + 4 + 8 + 4 :]
    with pytest.raises(TooManyPixels, match="animation frames"):
        probe_file(write(tmp_path, data), max_frames=1000)


def test_an_animated_webp_frame_outside_its_canvas_is_refused(tmp_path: Path) -> None:
    data = bytearray(samples.webp_bytes(20, 20, frames=2))
    frame = data.index(b"ANMF", 12)
    data[frame + 8 + 6 : frame + 8 + 12] = (15999).to_bytes(3, "little") * 2  # 16000x16000
    with pytest.raises(TooManyPixels, match="16000x16000"):
        probe_file(write(tmp_path, bytes(data)), max_pixels=100_000_000)


ANY_IMAGE: dict[str, Callable[[], bytes]] = {
    "jpeg": lambda: samples.jpeg_bytes(exif_orientation=6),
    "png with EXIF after its pixels": samples.png_late_exif_bytes,
    "apng": samples.apng_bytes,
    "gif": lambda: samples.gif_bytes(frames=3),
    "webp": lambda: samples.webp_bytes(frames=3),
    "avif": samples.avif_bytes,
    "heic": samples.heic_bytes,
    "bmp": samples.bmp_bytes,
}


@pytest.mark.parametrize("kind", sorted(ANY_IMAGE))
def test_the_probe_never_decodes_pixels(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, ANY_IMAGE[kind]())

    def no_decoding(self: Image.Image) -> None:
        raise AssertionError("the probe decoded pixels")

    Image.init()  # every plugin imported, so every decoder's `load` is replaced below
    classes: list[type] = [Image.Image]
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        if "load" in vars(cls):
            monkeypatch.setattr(cls, "load", no_decoding)
    info = probe_file(path)
    assert info.width > 0 and info.height > 0


def test_exif_after_the_pixels_of_a_png_is_read_without_decoding(tmp_path: Path) -> None:
    info = probe_file(write(tmp_path, samples.png_late_exif_bytes(64, 48, orientation=6)))
    assert (info.width, info.height, info.orientation) == (48, 64, 6)
    assert info.exif is not None and info.exif["Make"] == "LateCam"


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_a_decompression_bomb_warning_is_an_error_when_rendering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Between Pillow's limit and twice it, Pillow only warns: the renderer refuses, with
    # the warning made an error (as in production) and by its own check before decoding.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 600 * 400 - 1)
    with pytest.raises(ProcessingError, match="limit"):
        render_image_derivatives(samples.png_bytes(600, 400), source_format="png")


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_a_gif_frame_that_grows_the_canvas_past_the_limit_is_not_rendered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50_000)
    data = samples.gif_growing_frame_bytes(screen=10, frame=300)
    with pytest.raises(ProcessingError, match="limit"):
        render_image_derivatives(data, source_format="gif")


def test_a_long_animation_keeps_every_nth_frame_and_its_whole_duration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(processing, "MEDIUM_FRAME_PIXELS", 3 * 200 * 100)
    data = samples.gif_bytes(200, 100, frames=10)
    result = render_image_derivatives(data, source_format="gif")
    assert result.medium is not None
    medium = Image.open(io.BytesIO(result.medium.data))
    assert medium.n_frames <= 3
    total = 0
    for index in range(medium.n_frames):
        medium.seek(index)
        total += medium.info["duration"]
    assert total == 10 * 80


UNDECODABLE: dict[str, Callable[[], bytes]] = {
    "mp4": lambda: b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2mp41" + b"\x13" * 500,
    "gif": lambda: b"GIF89a" + b"\xff" * 40 + b";",
    "heic": lambda: b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\x07" * 300,
    "avif": lambda: b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf" + b"\x07" * 300,
    "webp": lambda: b"RIFF\x20\0\0\0WEBPVP8 \x14\0\0\0" + b"\x07" * 20,
}


@pytest.mark.parametrize("kind", sorted(UNDECODABLE))
def test_errors_about_undecodable_files_never_show_a_server_path(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "var" / "tmp"
    folder.mkdir(parents=True)
    path = write(folder, UNDECODABLE[kind](), f"tmpb4_wd7gn.upload.{kind}")
    with pytest.raises(ProbeError) as caught:
        probe_file(path)
    assert isinstance(caught.value, CorruptFile | TooManyPixels)
    message = caught.value.message
    assert str(tmp_path) not in message and "tmpb4_wd7gn" not in message and "/" not in message


def test_rendering_errors_never_show_a_server_path(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "tmp"
    folder.mkdir(parents=True)
    video = write(folder, UNDECODABLE["mp4"](), "tmpb4_wd7gn.upload.mp4")
    picture = write(folder, samples.truncated_jpeg_bytes()[:200], "tmpb4_wd7gn.upload.jpg")
    messages = []
    for attempt in (
        lambda: render_video_frame(video),
        lambda: render_image_derivatives(picture, source_format="jpeg"),
    ):
        with pytest.raises(ProcessingError) as caught:
            attempt()
        messages.append(str(caught.value))
    for message in messages:
        assert str(tmp_path) not in message and "tmpb4_wd7gn" not in message


def test_an_apng_frame_outside_its_picture_is_corrupt_not_accepted(tmp_path: Path) -> None:
    # Decoders refuse such a frame: the probe must not accept what cannot be rendered.
    data = _patch_apng_frame(samples.apng_bytes(20, 20, frames=3), 1, 40, 40)
    with pytest.raises(CorruptFile, match="outside the picture"):
        probe_file(write(tmp_path, data))
